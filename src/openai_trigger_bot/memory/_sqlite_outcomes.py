"""Outcomes in SQLite, counted over a window in O(log n): ranks instead of ``count(*)``.

SQLite's ``count(*)`` over an index range visits every entry of the range, so "how many
refunds for this customer in the last 24 h" would cost as much as the window holds. Instead
each row carries its **rank** within its key, in time order:

- ``rank_action``: 1, 2, 3... among the rows of its ``(action, status)``;
- ``rank_target``: the same among the rows of its ``(action, status, target)``.

Ranks are consecutive in ``(at, insertion)`` order, so the rows of a key at or after ``since``
are exactly the ranks from the first such row's to the key's newest row's, and their number
is ``last - first + 1``. ``outcome_keys`` holds each key's newest rank, so a count is one
primary-key range read (the statuses of the action, or of the action and target) plus one seek
per status into ``outcomes_action_rank`` / ``outcomes_target_rank`` for the first rank in the
window, whatever the window holds; all in one statement, so one consistent read.

Writes (in the writer's ``BEGIN IMMEDIATE`` transaction, never a decision's): an insert takes
the rank after the newest row of its key at or before its time; the rare row older than the
newest shifts the ranks of the rows after it by one. Its keys' newest ranks are then set from
the index. Pruning deletes the oldest ranks of every key, which keeps the rest consecutive,
and drops the keys left without rows. A row with no target counts for its action, and has no
per-target key (no count asks for "the calls without a target").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .records import OutcomeRecord

__all__ = ["MIGRATE_V1", "OUTCOME_SCHEMA", "count_outcomes", "insert_outcomes", "prune_outcomes"]

OUTCOME_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    action TEXT NOT NULL,
    at REAL NOT NULL,
    status TEXT NOT NULL,
    target TEXT,
    rank_action INTEGER NOT NULL,
    rank_target INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_action_rank ON outcomes (action, status, at, rank_action);
CREATE INDEX IF NOT EXISTS outcomes_target_rank
    ON outcomes (action, status, target, at, rank_target);
CREATE INDEX IF NOT EXISTS outcomes_at ON outcomes (at);
CREATE TABLE IF NOT EXISTS outcome_keys (
    action TEXT NOT NULL,
    per_target INTEGER NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    last_rank INTEGER NOT NULL,
    PRIMARY KEY (action, per_target, target, status)
) WITHOUT ROWID;
"""
"""The outcome tables of schema version 2 (``outcome_keys.target`` is ``''`` for an action's
keys, ``per_target = 0``)."""

MIGRATE_V1 = (
    """
ALTER TABLE outcomes RENAME TO outcomes_v1;
DROP INDEX IF EXISTS outcomes_window;
"""
    + OUTCOME_SCHEMA
    + """
INSERT INTO outcomes (action, at, status, target, rank_action, rank_target)
SELECT action, at, status, target,
    row_number() OVER (PARTITION BY action, status ORDER BY at, rowid),
    row_number() OVER (PARTITION BY action, status, target ORDER BY at, rowid)
FROM outcomes_v1;
DROP TABLE outcomes_v1;
INSERT INTO outcome_keys (action, per_target, target, status, last_rank)
SELECT action, 0, '', status, max(rank_action) FROM outcomes GROUP BY action, status;
INSERT INTO outcome_keys (action, per_target, target, status, last_rank)
SELECT action, 1, target, status, max(rank_target) FROM outcomes WHERE target IS NOT NULL
GROUP BY action, status, target;
"""
)
"""Schema version 1 to 2: the same rows, ranked (run inside the upgrade's transaction)."""

# The newest row of a key at or before a time, and the first at or after one. ``target IS ?``
# matches NULL targets too and still searches the index by equality.
_ACTION_LAST_BEFORE = (
    "SELECT rank_action FROM outcomes WHERE action = ? AND status = ? AND at <= ? "
    "ORDER BY at DESC, rank_action DESC LIMIT 1"
)
_ACTION_FIRST = (
    "SELECT rank_action FROM outcomes WHERE action = ? AND status = ? AND at >= ? "
    "ORDER BY at, rank_action LIMIT 1"
)
_TARGET_LAST_BEFORE = (
    "SELECT rank_target FROM outcomes WHERE action = ? AND status = ? AND target IS ? "
    "AND at <= ? ORDER BY at DESC, rank_target DESC LIMIT 1"
)
_TARGET_FIRST = (
    "SELECT rank_target FROM outcomes WHERE action = ? AND status = ? AND target IS ? "
    "AND at >= ? ORDER BY at, rank_target LIMIT 1"
)
# A key's newest rank, read back from the index after an insert.
_SET_ACTION_KEY = """
INSERT INTO outcome_keys (action, per_target, target, status, last_rank)
VALUES (?1, 0, '', ?2, (
    SELECT rank_action FROM outcomes WHERE action = ?1 AND status = ?2
    ORDER BY at DESC, rank_action DESC LIMIT 1
))
ON CONFLICT DO UPDATE SET last_rank = excluded.last_rank
"""
_SET_TARGET_KEY = """
INSERT INTO outcome_keys (action, per_target, target, status, last_rank)
VALUES (?1, 1, ?3, ?2, (
    SELECT rank_target FROM outcomes WHERE action = ?1 AND status = ?2 AND target = ?3
    ORDER BY at DESC, rank_target DESC LIMIT 1
))
ON CONFLICT DO UPDATE SET last_rank = excluded.last_rank
"""


def _one(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


def _rank_before(
    conn: sqlite3.Connection, last_before: str, first: str, params: tuple[object, ...]
) -> int:
    """The rank a new row at ``params[-1]`` comes after (0: it is its key's first)."""
    before = _one(conn, last_before, params)
    if before is not None:
        return before
    after = _one(conn, first, params)  # older than every row of the key (or the key is empty)
    return 0 if after is None else after - 1


def insert_outcomes(conn: sqlite3.Connection, outcomes: Sequence[OutcomeRecord]) -> None:
    """Insert outcomes with their ranks (inside the caller's write transaction)."""
    for action, status, target, at in outcomes:
        key = (action, status)
        target_key = (action, status, target)
        before = _rank_before(conn, _ACTION_LAST_BEFORE, _ACTION_FIRST, (*key, at))
        target_before = _rank_before(conn, _TARGET_LAST_BEFORE, _TARGET_FIRST, (*target_key, at))
        # Rows after this time move up one rank (none when outcomes arrive in time order).
        conn.execute(
            "UPDATE outcomes SET rank_action = rank_action + 1 "
            "WHERE action = ? AND status = ? AND at > ?",
            (*key, at),
        )
        conn.execute(
            "UPDATE outcomes SET rank_target = rank_target + 1 "
            "WHERE action = ? AND status = ? AND target IS ? AND at > ?",
            (*target_key, at),
        )
        conn.execute(
            "INSERT INTO outcomes (action, at, status, target, rank_action, rank_target) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (action, at, status, target, before + 1, target_before + 1),
        )
        conn.execute(_SET_ACTION_KEY, key)
        if target is not None:
            conn.execute(_SET_TARGET_KEY, target_key)


def prune_outcomes(conn: sqlite3.Connection, *, before: float) -> int:
    """Delete outcomes older than ``before`` and the keys left empty (in a write transaction)."""
    pruned = conn.execute("DELETE FROM outcomes WHERE at < ?", (before,)).rowcount
    if pruned:
        conn.execute(
            "DELETE FROM outcome_keys WHERE per_target = 0 AND NOT EXISTS (SELECT 1 FROM"
            " outcomes o WHERE o.action = outcome_keys.action AND o.status = outcome_keys.status)"
        )
        conn.execute(
            "DELETE FROM outcome_keys WHERE per_target = 1 AND NOT EXISTS (SELECT 1 FROM"
            " outcomes o WHERE o.action = outcome_keys.action AND o.status = outcome_keys.status"
            " AND o.target = outcome_keys.target)"
        )
    return int(pruned)


# Per key of the action (or of the action and target): its newest rank minus the first rank
# in the window, plus one; NULL when no row is in the window. One seek per key.
_COUNT = """
SELECT k.status, k.last_rank - (
    SELECT o.{rank} FROM outcomes o WHERE o.action = k.action AND o.status = k.status{target}
    AND o.at >= ?1 ORDER BY o.at, o.{rank} LIMIT 1
) + 1
FROM outcome_keys k WHERE k.action = ?2 AND k.per_target = ?3 AND k.target = ?4
"""
_COUNT_ACTION = _COUNT.format(rank="rank_action", target="")
_COUNT_TARGET = _COUNT.format(rank="rank_target", target=" AND o.target = k.target")


def count_outcomes(
    conn: sqlite3.Connection, action: str, *, since: float, target: str | None = None
) -> dict[str, int]:
    """Outcomes of ``action`` at or after ``since`` per status (``target``: only those).

    One statement: a primary-key range read of the keys, then one index seek per key,
    whatever the window holds. ``target=None`` counts every target.
    """
    if target is None:
        rows = conn.execute(_COUNT_ACTION, (since, action, 0, ""))
    else:
        rows = conn.execute(_COUNT_TARGET, (since, action, 1, target))
    return {status: int(n) for status, n in rows if n}
