"""What ``trigger-bot approvals`` and ``trigger-bot runs`` share: the store and the formats.

The store is the file given by ``--store PATH`` (after the sub-command) or by the environment
variable :data:`STORE_ENV`. It must exist: a command never creates an empty store in place of
a mistyped path. The run store's errors (an unknown id, an expired or decided approval, a busy
or newer file) become :class:`~._errors.CliError` s: one line, status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._errors import CliError

if TYPE_CHECKING:
    from ..runs import ApprovalRow, SQLiteRunStore

__all__ = [
    "BUSY_TIMEOUT",
    "STORE_ENV",
    "add_store_argument",
    "approval_votes",
    "brief_arguments",
    "compact",
    "expiry",
    "open_store",
    "relative",
    "timestamp",
]

STORE_ENV = "TRIGGER_BOT_RUN_STORE"
"""The environment variable naming the run store when ``--store`` is not given."""

BUSY_TIMEOUT = 10.0
"""Seconds a command waits for another process's write lock on the store."""

_ARGUMENTS_WIDTH = 60


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--store PATH`` to a sub-command."""
    parser.add_argument(
        "--store",
        metavar="PATH",
        help=f"the run store file (the bot's run_store=; default: ${STORE_ENV})",
    )


def _error(exc: Exception) -> CliError:
    what, _, fix = str(exc).partition("; ")
    return CliError(what, fix or "check the run store and try again")


@contextlib.contextmanager
def open_store(args: argparse.Namespace) -> Iterator[SQLiteRunStore]:
    """The run store the command line names, closed when the block ends.

    Raises:
        CliError: No store given, no such file, or the store refused the operation.
    """
    path = getattr(args, "store", None) or os.environ.get(STORE_ENV)
    if not path:
        raise CliError(
            "no run store given",
            f"pass --store PATH after the command, or set {STORE_ENV} to the file your bot's "
            "run_store= names",
        )
    if not os.path.exists(path):
        raise CliError(
            f"the run store {path} does not exist",
            f"pass the file your bot's run_store= names (--store PATH or {STORE_ENV})",
        )
    from ..runs import RunError, SQLiteRunStore

    try:
        store = SQLiteRunStore(path, busy_timeout=BUSY_TIMEOUT)
    except RunError as exc:
        raise _error(exc) from exc
    try:
        yield store
    except RunError as exc:
        raise _error(exc) from exc
    finally:
        store.close()


def relative(seconds: float) -> str:
    """``90`` → ``"1m"``: a duration, rounded down to its largest unit."""
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= 2 * size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def expiry(row: ApprovalRow, now: float) -> str:
    """When a pending approval expires (``in 59m``, ``expired 2h ago``); ``-`` once decided."""
    if row.status != "pending":
        return "-"
    left = row.expires_at - now
    return f"in {relative(left)}" if left >= 0 else f"expired {relative(left)} ago"


def timestamp(at: float | None) -> str:
    """Epoch seconds as local time, ``2026-12-02 18:06:18``; ``-`` for none."""
    if at is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def approval_votes(row: ApprovalRow) -> str:
    """``1/2``: approvals given out of approvals required."""
    given = sum(1 for vote in row.votes if vote.approved)
    return f"{given}/{row.approvals_required}"


def compact(value: Any) -> str:
    """JSON data on one line, with spaces after separators so a table can wrap it."""
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def brief_arguments(arguments: dict[str, Any]) -> str:
    """The (already redacted) arguments on one line, shortened for a table."""
    text = compact(arguments)
    if len(text) <= _ARGUMENTS_WIDTH:
        return text
    return text[: _ARGUMENTS_WIDTH - 3] + "..."
