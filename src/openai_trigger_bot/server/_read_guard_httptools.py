"""uvicorn's httptools protocol with the read deadlines of :mod:`._read_guard`.

A module of its own because importing it needs httptools (the ``serve`` extra installs it).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ._read_guard import _ReadGuard

__all__ = ["GuardedHttpToolsProtocol"]


class GuardedHttpToolsProtocol(_ReadGuard, HttpToolsProtocol):
    """uvicorn's httptools protocol with read deadlines."""
