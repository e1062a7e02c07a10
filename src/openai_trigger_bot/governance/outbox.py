"""Outcome reports that are never lost: a durable SQLite outbox and a background sender.

Every outcome of a governed call is written to the outbox (one row per outcome, keyed by an
idempotency key) before the run moves on; a background thread delivers pending rows to the
decision service's ``POST /v1/reports`` in batches, with exponential backoff while the service is
down, and marks them delivered only after a 2xx. A crash between sending and marking resends the
batch later; the service ingests by idempotency key, so a report is never duplicated there.
Reports left pending when a process stops are delivered by the next process that opens the
same file.

A run is held up only by one local SQLite insert per governed call (WAL, ``synchronous=NORMAL``:
no fsync per commit, typically well under a millisecond); the network is only touched by the
sender thread.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import RetryCallState, wait_exponential_jitter

from .._sqlite import connect, migrate
from .decision import ExecutionEvent, ProposedAction

__all__ = ["REPORTS_PROTOCOL", "OutboxStats", "OutcomeOutbox"]

log = logging.getLogger("openai_trigger_bot.outbox")

REPORTS_PROTOCOL = "openai-trigger-bot.decision/v1"
_APPLICATION_ID = 0x54424F58  # "TBOX": marks a file as an openai-trigger-bot outbox
# IF NOT EXISTS: step 0 may also adopt a file of this layout that has no version yet.
_V1 = (
    "CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, body TEXT NOT NULL,"
    " created_at REAL NOT NULL, delivered_at REAL, failed_at REAL, error TEXT)",
    "CREATE INDEX IF NOT EXISTS reports_pending ON reports (created_at)"
    " WHERE delivered_at IS NULL AND failed_at IS NULL",
)
STEPS: tuple[tuple[str, ...], ...] = (_V1,)
"""``STEPS[n]`` migrates a version ``n`` outbox file to ``n + 1`` (see ``_sqlite.migrate``).

Append a step for every schema change; never edit a released one."""
SCHEMA_VERSION = len(STEPS)
_MAX_BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class OutboxStats:
    """Counts of the outbox file.

    Attributes:
        pending: Reports not yet delivered.
        delivered: Reports delivered (and not yet pruned).
        last_error: Why the last delivery attempt failed, if it did.
        failed: Reports the service refused for good (4xx), set aside with its answer.
    """

    pending: int
    delivered: int
    last_error: str | None
    failed: int = 0


class OutcomeOutbox:
    """A durable outbox of outcome reports for a decision service.

    Args:
        path: The SQLite file (created if missing; shared safely by several processes).
        url: The decision service's base URL (reports go to ``{url}/v1/reports``); ``None``
            keeps reports in the file only (deliver later with another outbox).
        token: Bearer token for the service.
        headers: Further headers (for example an API-key header instead of the token).
        batch_size: Reports per request.
        timeout: Seconds per delivery request.
        backoff_initial: First retry delay after a failed delivery, in seconds.
        backoff_max: Longest retry delay, in seconds (the sender never gives up).
        transport: An ``httpx`` transport (tests).
        start: Start the sender thread now (otherwise call :meth:`start`).
        add_timeout: The longest :meth:`add` waits for the file's write lock (seconds).

    Raises:
        StorePathError: The path cannot hold the file (its directory does not exist, a
            directory is in its place, no permission); nothing is created.
        sqlite3.DatabaseError: A ``StoreSchemaError``: the file is corrupt, another
            application's database, or of a newer schema version (a newer release wrote it);
            it is left untouched.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        url: str | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        batch_size: int = 100,
        timeout: float = 5.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        start: bool = True,
        add_timeout: float = 0.05,
    ) -> None:
        self.path = Path(path)
        self._db = connect(self.path, "outbox", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()  # the sender's connection (also used by stats/flush)
        try:
            self._init_schema()
        except BaseException:
            self._db.close()  # a refused file keeps no connection (nor -wal/-shm files) open
            raise
        # The runs' connection: short busy timeout, so a locked file never holds a run up.
        self._writer = connect(self.path, "outbox", check_same_thread=False, isolation_level=None)
        self._writer.execute(f"PRAGMA busy_timeout = {int(add_timeout * 1000)}")
        self._writer_lock = threading.Lock()
        self._backlog: list[tuple[str, str, float]] = []
        self._backlog_lock = threading.Lock()
        self._url = url.rstrip("/") + "/v1/reports" if url else None
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self._client = (
            httpx.Client(headers=all_headers, timeout=timeout, transport=transport)
            if self._url
            else None
        )
        self._batch_size = batch_size
        # tenacity computes the backoff; the loop below owns the waiting (so close() can wake it).
        self._wait = wait_exponential_jitter(
            multiplier=backoff_initial, max=backoff_max, jitter=backoff_initial
        )
        self._failures = 0
        self._last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if start and self._client is not None:
            self.start()

    # -- writing ---------------------------------------------------------------------------

    def add(self, event: ExecutionEvent, proposal: ProposedAction | None, *, bot: str) -> str:
        """Store the report of one outcome (idempotent) and wake the sender.

        The insert waits at most ``add_timeout`` for another writer (another process may hold
        the file's write lock); after that the report is kept in memory and the sender thread
        writes it to the file, so a locked file never holds a run up and never loses a report
        (only a process killed in that window loses it).

        Returns:
            The report's idempotency key: the proposal's key (else the call and its start
            time) and the outcome's status.
        """
        base = (
            proposal.idempotency_key
            if proposal is not None
            else (f"{bot}:{event.call_id}:{event.started_at}")
        )
        key = f"{base}:{event.status}"
        now = time.time()
        report = {
            "idempotency_key": key,
            "event": event.model_dump(mode="json"),
            "proposal": proposal.model_dump(mode="json") if proposal is not None else None,
            "bot": bot,
            "run_id": proposal.run_id if proposal is not None else None,
            "reported_at": now,
        }
        row = (key, json.dumps(report, separators=(",", ":"), default=str), now)
        try:
            with self._writer_lock:
                _insert(self._writer, [row])
        except sqlite3.Error as exc:
            log.warning("outcome report kept in memory until the outbox file is writable: %r", exc)
            with self._backlog_lock:
                self._backlog.append(row)
        self._wake.set()
        return key

    # -- delivering ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background sender (a daemon thread) if it is not running."""
        if self._client is None or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"trigger-bot-outbox:{self.path.name}", daemon=True
        )
        self._thread.start()

    def deliver_pending(self) -> int:
        """Send pending reports now, batch by batch, until none is left or a send fails.

        Returns:
            How many reports were delivered.

        Raises:
            httpx.HTTPError: The service could not be reached or refused the batch.
        """
        self._save_backlog()
        if self._client is None or self._url is None:
            return 0
        sent = 0
        while True:
            batch = self._pending(self._batch_size)
            if not batch:
                return sent
            sent += self._send(batch)

    def _send(self, batch: list[tuple[str, str]]) -> int:
        """Deliver one batch; isolate and set aside reports the service refuses for good.

        A 413 (too large) or another 4xx on a batch resends its reports one by one; a single
        report refused with a 4xx (other than 408/429) is set aside as ``failed`` with the
        service's answer, so one bad report never blocks the queue. Other failures raise and
        the sender backs off.

        Raises:
            httpx.HTTPError: The service could not be reached or failed (5xx, 408, 429).
        """
        assert self._client is not None and self._url is not None
        payload = {"protocol": REPORTS_PROTOCOL, "reports": [json.loads(b) for _, b in batch]}
        response = self._client.post(self._url, json=payload)
        status = response.status_code
        if 400 <= status < 500 and status not in (408, 429):
            if len(batch) > 1:
                return sum(self._send([row]) for row in batch)
            self._mark_failed(batch[0][0], f"{status}: {response.text[:200]}")
            return 0
        response.raise_for_status()
        self._mark_delivered([key for key, _ in batch])
        return len(batch)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_pending()
            except (httpx.HTTPError, sqlite3.Error) as exc:
                self._failures += 1
                self._last_error = f"{type(exc).__name__}: {exc}"[:300]
                delay = self._wait(_attempt_state(self._failures))
                log.warning("outcome reports not delivered (%s); retry in %.1fs", exc, delay)
                self._stop.wait(delay)
                continue
            self._failures = 0
            self._last_error = None
            self._wake.wait(timeout=1.0)
            self._wake.clear()

    # -- inspection and shutdown -----------------------------------------------------------

    def stats(self) -> OutboxStats:
        """Pending and delivered counts, and the last delivery error."""
        with self._lock:
            pending, delivered, failed = self._db.execute(
                "SELECT SUM(delivered_at IS NULL AND failed_at IS NULL),"
                " SUM(delivered_at IS NOT NULL), SUM(failed_at IS NOT NULL) FROM reports"
            ).fetchone()
        with self._backlog_lock:
            pending = int(pending or 0) + len(self._backlog)
        return OutboxStats(pending, int(delivered or 0), self._last_error, int(failed or 0))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every report is delivered (or ``timeout`` passes); True when all were."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while time.monotonic() < deadline:
            if self.stats().pending == 0:
                return True
            time.sleep(0.01)
        return self.stats().pending == 0

    def close(self, *, flush_timeout: float = 0.0) -> None:
        """Stop the sender (after trying to deliver for ``flush_timeout`` seconds) and close.

        Undelivered reports stay in the file for the next outbox on it.
        """
        if flush_timeout > 0:
            self.flush(flush_timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._client is not None:
            self._client.close()
        try:
            self._save_backlog()
        except sqlite3.Error as exc:  # pragma: no cover - the file stayed locked to the end
            log.error("%d outcome reports could not be written: %r", len(self._backlog), exc)
        with self._writer_lock:
            self._writer.close()
        with self._lock:
            self._db.close()

    def __enter__(self) -> OutcomeOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- SQLite ----------------------------------------------------------------------------

    def _init_schema(self) -> None:
        with self._lock:
            db = self._db
            db.execute("PRAGMA busy_timeout = 5000")
            # The header is checked (and the file migrated) before anything else is written:
            # switching to WAL rewrites it, and a newer file must stay byte for byte as it is.
            migrate(db, application_id=_APPLICATION_ID, steps=STEPS, path=self.path, what="outbox")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")

    def _save_backlog(self) -> None:
        """Write the reports that :meth:`add` could not (the file was locked) to the file.

        They stay in the backlog until the insert committed, so they are counted as pending
        (and kept) whatever happens meanwhile.
        """
        with self._backlog_lock:
            rows = list(self._backlog)
        if not rows:
            return
        with self._lock:
            _insert(self._db, rows)
        with self._backlog_lock:
            del self._backlog[: len(rows)]

    def _pending(self, limit: int) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, body FROM reports WHERE delivered_at IS NULL AND failed_at IS NULL"
                " ORDER BY created_at LIMIT ?",
                (limit,),
            ).fetchall()
        batch: list[tuple[str, str]] = []
        size = 0
        for key, body in rows:  # at most ~_MAX_BATCH_BYTES per request (at least one report)
            size += len(body)
            if batch and size > _MAX_BATCH_BYTES:
                break
            batch.append((str(key), str(body)))
        return batch

    def _mark_failed(self, key: str, error: str) -> None:
        log.error("outcome report %s refused by the service, set aside: %s", key, error)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE reports SET failed_at = ?, error = ? WHERE key = ?",
                    (time.time(), error, key),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _mark_delivered(self, keys: list[str]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE reports SET delivered_at = ? WHERE key = ?", [(now, k) for k in keys]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise


def _attempt_state(attempt: int) -> RetryCallState:
    """A tenacity call state for ``attempt`` (its wait strategies read ``attempt_number``)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return state


def _insert(db: sqlite3.Connection, rows: list[tuple[str, str, float]]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT OR IGNORE INTO reports (key, body, created_at) VALUES (?, ?, ?)", rows
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
