"""``trigger-bot serve``: a decision server that serves local policy files over HTTP.

It speaks the project's own JSON protocol (``openai-trigger-bot.decision/v1``, described in
``openapi/decision-service.yaml``) and OpenID AuthZEN 1.0, requires a token on every endpoint
but health and discovery, stores outcome reports once per idempotency key in SQLite, and
reloads the policies when their files change.

- :mod:`.app`: :func:`create_app`, the ASGI app (needs the ``serve`` extra: starlette, uvicorn).
- :mod:`.native` and :mod:`.authzen`: the two protocols as pure functions.
- :mod:`.policies`: the reloading policy holder and the health answer.
- :mod:`.reports`: the report record and its SQLite store.
- :mod:`.approvals` and :mod:`.resumer`: with a run store, the approvals and runs over HTTP
  (wire shapes, vote bodies, errors) and the worker that resumes runs once they are decided.
- :mod:`.limits`: :class:`ServerLimits` (read deadlines, connection bounds) and the uvicorn
  options that apply them (:mod:`._read_guard` enforces the read deadlines).
- :mod:`.threaded`: :func:`serve_in_thread`, for tests.

Every name here is imported on first use (see :mod:`openai_trigger_bot._lazy`): only
:mod:`.app` and :mod:`.threaded` import starlette / uvicorn, so the pure modules work without
the extra, and ``trigger-bot serve --help`` loads only :mod:`.limits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .app import create_app
    from .limits import ServerLimits, uvicorn_options
    from .native import PROTOCOL, ProtocolError
    from .policies import PolicyHolder, PolicyState
    from .reports import IngestResult, OutcomeReport, ReportStore
    from .threaded import serve_in_thread

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        ".app": ("create_app",),
        ".limits": ("ServerLimits", "uvicorn_options"),
        ".native": ("PROTOCOL", "ProtocolError"),
        ".policies": ("PolicyHolder", "PolicyState"),
        ".reports": ("IngestResult", "OutcomeReport", "ReportStore"),
        ".threaded": ("serve_in_thread",),
    },
)

__all__ = [
    "PROTOCOL",
    "IngestResult",
    "OutcomeReport",
    "PolicyHolder",
    "PolicyState",
    "ProtocolError",
    "ReportStore",
    "ServerLimits",
    "create_app",
    "serve_in_thread",
    "uvicorn_options",
]
