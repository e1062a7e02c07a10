"""A real decision server on 127.0.0.1 for tests: ``running_server`` and shared fixtures.

Other test packages reuse it::

    from tests.server.conftest import running_server

    with running_server(policy_dir, token="secret") as base_url:
        ...  # talk to base_url with httpx
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.governance.rules import HistoryProvider
from openai_trigger_bot.server import PROTOCOL, create_app, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_POLICIES = ROOT / "policies"
TOKEN = "test-token-0123456789abcdef"

CONDITION_POLICY = """
policy: payments
version: "7"
default: {recommendation: do_not_proceed, reason: unknown payment}
rules:
  - id: small-payment
    actions: [pay]
    when: 'args.amount < 10'
    decision: proceed
"""
"""A policy whose condition fails (500 ``evaluation_error``) when ``args.amount`` is missing."""

__all__ = [
    "CONDITION_POLICY",
    "PROTOCOL",
    "SHIPPED_POLICIES",
    "TOKEN",
    "authed_client",
    "running_server",
]


@contextlib.contextmanager
def running_server(
    policy_dir: str | Path,
    *,
    token: str = TOKEN,
    db_path: str | Path | None = None,
    reload_interval: float | None = 1.0,
    history: HistoryProvider | None = None,
    public_url: str | None = None,
) -> Iterator[str]:
    """Start ``trigger-bot serve``'s app with uvicorn on an ephemeral 127.0.0.1 port.

    Args:
        policy_dir: The policy directory to serve.
        token: The token clients must send.
        db_path: The report database (default: a file in a temporary directory, removed after).
        reload_interval: Seconds between policy file checks (``None``: no reloading).
        history: Passed to :func:`~openai_trigger_bot.server.create_app`.
        public_url: Passed to :func:`~openai_trigger_bot.server.create_app`.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``; the server stops when the block ends.
    """
    with contextlib.ExitStack() as stack:
        if db_path is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="trigger-bot-"))
            db_path = Path(folder) / "reports.db"
        app = create_app(
            policy_dir,
            token=token,
            db_path=db_path,
            reload_interval=reload_interval,
            history=history,
            public_url=public_url,
        )
        yield stack.enter_context(serve_in_thread(app))


def authed_client(base_url: str, token: str = TOKEN, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` for ``base_url`` that sends the token as a bearer token."""
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10.0, **kwargs)


@pytest.fixture(scope="module")
def shipped_url() -> Iterator[str]:
    """A server on the shipped ``policies/`` directory, shared by one test module."""
    with running_server(SHIPPED_POLICIES, reload_interval=None) as base_url:
        yield base_url


@pytest.fixture
def client(shipped_url: str) -> Iterator[httpx.Client]:
    """An authenticated client of the shipped-policies server."""
    with authed_client(shipped_url) as http:
        yield http
