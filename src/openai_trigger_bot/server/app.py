"""The decision server's ASGI application: :func:`create_app` wires the parts together.

Needs the ``serve`` extra (starlette and uvicorn): ``pip install 'openai-trigger-bot[serve]'``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from starlette.applications import Starlette
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the decision server needs starlette and uvicorn: pip install 'openai-trigger-bot[serve]'"
    ) from exc

from ..exceptions import ConfigurationError
from ..governance.rules import HistoryProvider, InMemoryHistory
from . import authzen
from ._approval_routes import ApprovalRoutes
from ._handlers import DecisionService
from .policies import PolicyHolder
from .reports import ReportStore

if TYPE_CHECKING:
    from ..runs.store import RunStore

__all__ = ["HISTORY_REPLAY_SECONDS", "create_app"]

HISTORY_REPLAY_SECONDS = 7 * 86400.0
"""At start, outcomes reported in this many past seconds are replayed into the history."""


def create_app(
    policy_dir: str | Path,
    *,
    token: str,
    db_path: str | Path,
    reload_interval: float | None = 1.0,
    history: HistoryProvider | None = None,
    public_url: str | None = None,
    run_store: RunStore | str | os.PathLike[str] | None = None,
    bot: Any = None,
) -> Starlette:
    """Build the decision server.

    The policies are loaded now (a broken directory does not raise: the server starts, answers
    503 on health and decisions, and becomes ready when the files are fixed); the report
    database is created now (an unusable path raises). While the app runs, a background task
    reloads the policies when their files change.

    Args:
        policy_dir: The directory of policy files (``*.yaml`` / ``*.yml``).
        token: The token clients send as ``Authorization: Bearer`` or ``X-API-Key``.
        db_path: The SQLite file for outcome reports.
        reload_interval: Seconds between checks of the policy files; ``None`` or ``0`` turns
            reloading off.
        history: Where ``history`` counts come from; newly reported outcomes are recorded into
            it, and outcomes of the last :data:`HISTORY_REPLAY_SECONDS` in the database are
            replayed into it now (default: a new :class:`InMemoryHistory`).
        public_url: The base URL clients reach the server at (``https://pdp.example.com``,
            with a path prefix if a proxy adds one), published in the AuthZEN discovery
            document. Default: the local address each connection arrived on. The request's
            ``Host`` header is never used.
        run_store: A run store, or the path of a SQLite one (opened now, closed when the app
            shuts down): approvals and runs are served (``/v1/approvals``, ``/v1/runs``).
        bot: A ``Bot`` (or ``GovernedClient``) whose runs the server resumes once their
            approvals are decided, in a worker thread the app stops when it shuts down (see
            :mod:`.resumer`). It must keep its runs in ``run_store``'s file. The app does not
            close it.

    Returns:
        The ASGI app; ``app.state.policies`` is the :class:`~.policies.PolicyHolder`,
        ``app.state.reports`` the :class:`~.reports.ReportStore`, ``app.state.run_store``
        the run store (or ``None``) and ``app.state.resumer`` the
        :class:`~.resumer.Resumer` (or ``None``).

    Raises:
        ConfigurationError: The token is empty, ``reload_interval`` is negative, or
            ``public_url`` is not an absolute http(s) URL; or ``bot`` is given without a
            run store, has no ``resume``, or keeps its runs elsewhere.
        sqlite3.Error: The report database cannot be opened.
        RunStoreError: The run store's file cannot be used.
    """
    if not token or not token.strip():
        raise ConfigurationError("the decision server needs a non-empty token")
    if reload_interval is not None and reload_interval < 0:
        raise ConfigurationError("reload_interval must be None, 0 (off) or a positive number")
    if public_url is not None:
        try:
            public_url = authzen.check_public_url(public_url)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
    if history is None:
        history = InMemoryHistory()
    store = ReportStore(db_path)
    try:
        runs = _approvals(run_store, bot)
    except BaseException:
        store.close()
        raise
    store.replay(history, since=time.time() - HISTORY_REPLAY_SECONDS)
    holder = PolicyHolder(Path(policy_dir), history=history)
    holder.refresh()
    retry_after = math.ceil(reload_interval) if reload_interval else None
    service = DecisionService(
        holder,
        store,
        token=token,
        history=history,
        retry_after=retry_after,
        public_url=public_url,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = None
        if reload_interval:
            watcher = asyncio.create_task(holder.watch(reload_interval))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            store.close()
            if runs is not None:
                # Off the loop: the resumer waits for a resume in progress (a model call).
                await asyncio.to_thread(runs.close)

    routes = [
        Route("/health", service.endpoint(service.health, protected=False), methods=["GET"]),
        Route("/v1/decisions", service.endpoint(service.decide), methods=["POST"]),
        Route("/v1/decisions:batch", service.endpoint(service.decide_batch), methods=["POST"]),
        Route("/v1/reports", service.endpoint(service.ingest_reports), methods=["POST"]),
        Route("/v1/reports", service.endpoint(service.list_reports), methods=["GET"]),
        Route(
            "/access/v1/evaluation",
            service.endpoint(service.authzen_evaluation),
            methods=["POST"],
        ),
        Route(
            "/access/v1/evaluations",
            service.endpoint(service.authzen_evaluations),
            methods=["POST"],
        ),
        Route(
            "/.well-known/authzen-configuration",
            service.endpoint(service.authzen_discovery, protected=False),
            methods=["GET"],
        ),
    ]
    if runs is not None:
        routes += runs.routes(service.endpoint)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.policies = holder
    app.state.reports = store
    app.state.run_store = runs.service.store if runs is not None else None
    app.state.resumer = runs.service.resumer if runs is not None else None
    return app


def _approvals(run_store: Any, bot: Any) -> ApprovalRoutes | None:
    if run_store is None:
        if bot is not None:
            raise ConfigurationError("resuming runs needs the run store: pass run_store too")
        return None
    return ApprovalRoutes.open(run_store, bot)
