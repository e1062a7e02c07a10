"""Wiring of the approval endpoints: the run store, the resumer, the routes, and closing them.

:func:`~.app.create_app` calls :meth:`ApprovalRoutes.open` when it is given a run store and
closes what it opened when the app shuts down: the resumer first (a resume in progress ends),
then the store, if the app opened it from a path.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import ConfigurationError
from ._approval_handlers import ApprovalService
from ._handlers import Handler
from .resumer import Resumer

__all__ = ["ApprovalRoutes"]

Wrap = Callable[[Handler], Callable[[Request], Awaitable[Response]]]


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_bot(bot: Any, path: str | None) -> None:
    """Refuse a bot that cannot resume the runs of this store."""
    if not callable(getattr(bot, "resume", None)):
        raise ConfigurationError(
            f"the bot ({type(bot).__name__}) has no resume method; pass a Bot or GovernedClient"
        )
    bot_path = getattr(getattr(bot, "run_store", None), "path", None)
    if path is not None and (not isinstance(bot_path, str) or not _same_file(bot_path, path)):
        where = f"in {bot_path}" if isinstance(bot_path, str) else "in memory"
        raise ConfigurationError(
            f"the bot keeps its runs {where}, not in the run store {path}; "
            f"give the bot run_store={path!r}, or serve the file it uses"
        )


@dataclass
class ApprovalRoutes:
    """The approval endpoints and what they own.

    Attributes:
        service: The handlers (with the store and the resumer).
        own_store: Whether the store was opened here (and is closed by :meth:`close`).
    """

    service: ApprovalService
    own_store: bool

    @classmethod
    def open(cls, run_store: Any, bot: Any) -> ApprovalRoutes:
        """Open the store (a path) or take it (a store), and start a resumer for ``bot``.

        Raises:
            ConfigurationError: ``bot`` cannot resume this store's runs.
            RunStoreError: The store's file cannot be used.
        """
        own = isinstance(run_store, (str, os.PathLike))
        path = os.fspath(run_store) if own else getattr(run_store, "path", None)
        if bot is not None:
            _check_bot(bot, path if isinstance(path, str) else None)
        if own:
            from ..runs.sqlite import SQLiteRunStore

            run_store = SQLiteRunStore(run_store)
        resumer = Resumer(bot) if bot is not None else None
        return cls(ApprovalService(run_store, resumer=resumer), own)

    def routes(self, wrap: Wrap) -> list[Route]:
        """The routes, each handler wrapped by ``wrap`` (the token check, error bodies)."""
        s = self.service
        return [
            Route("/v1/approvals", wrap(s.list_approvals), methods=["GET"]),
            Route("/v1/approvals/{id}", wrap(s.show_approval), methods=["GET"]),
            Route("/v1/approvals/{id}/approve", wrap(s.approve), methods=["POST"]),
            Route("/v1/approvals/{id}/deny", wrap(s.deny), methods=["POST"]),
            Route("/v1/runs", wrap(s.list_runs), methods=["GET"]),
            Route("/v1/runs/{id}", wrap(s.show_run), methods=["GET"]),
        ]

    def close(self) -> None:
        """Stop the resumer (waiting for a resume in progress), then close an owned store."""
        if self.service.resumer is not None:
            self.service.resumer.close()
        if self.own_store:
            self.service.store.close()
