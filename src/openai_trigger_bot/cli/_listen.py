"""Whether ``trigger-bot serve`` can listen where it is asked to, checked before it starts.

uvicorn reports a port it cannot bind with its own log line (``ERROR: [Errno 98] error while
attempting to bind ...``) and exit status 3, after the server is built; and it takes a port
number above 65535 without a word. :func:`port_problem` and :func:`listen_problem` say the same
in the CLI's error style (:mod:`._errors`) before anything starts.

:func:`listen_problem` binds, then closes, a socket on every address the host resolves to,
the way uvicorn's ``loop.create_server`` will (``SO_REUSEADDR`` on POSIX, IPv6 sockets
IPv6-only), so a port in ``TIME_WAIT`` is not taken for a port in use. Another process can
still take the port between the check and the start; uvicorn then reports it as before.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

from ._errors import CliError

__all__ = ["MAX_PORT", "listen_problem", "port_problem"]

MAX_PORT = 65535
"""The largest TCP port number."""

_REUSE_ADDRESS = os.name == "posix" and sys.platform != "cygwin"  # asyncio's default


def port_problem(port: int) -> CliError | None:
    """What is wrong with ``--port``, if anything (0 asks the system for a free port)."""
    if 0 <= port <= MAX_PORT:
        return None
    return CliError(
        f"--port {port} is not a TCP port number",
        f"pass one from 1 to {MAX_PORT} (the default is 8787), or 0 to let the system pick a "
        "free one (the startup log names it)",
    )


def listen_problem(host: str, port: int) -> CliError | None:
    """Why the server could not listen on ``host``:``port``, or ``None`` when it can.

    Args:
        host: The ``--host`` value (a name or an address; empty means every interface).
        port: The ``--port`` value, already checked by :func:`port_problem`.
    """
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return CliError(
            f"--host {host} is not a name or address this machine can resolve ({exc.strerror})",
            "pass an address of this machine with --host (the default is 127.0.0.1)",
        )
    for family, kind, proto, _, address in dict.fromkeys(infos):
        with socket.socket(family, kind, proto) as sock:
            if _REUSE_ADDRESS:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                return _bind_error(host, port, exc)
    return None


def _bind_error(host: str, port: int, exc: OSError) -> CliError:
    where = f"port {port} on {host or 'every interface'}"
    if exc.errno == errno.EADDRINUSE:
        return CliError(f"{where} is in use", "stop the other server or pass another --port")
    if exc.errno == errno.EACCES:
        fix = "pass another --port"
        if 0 < port < 1024:
            fix = "ports below 1024 need privileges; pass one above 1023 with --port"
        return CliError(f"no permission to listen on {where}", fix)
    if exc.errno == errno.EADDRNOTAVAIL:
        return CliError(
            f"--host {host} is not an address of this machine",
            "pass one of its addresses with --host (the default is 127.0.0.1)",
        )
    reason = (exc.strerror or str(exc)).lower()
    return CliError(f"cannot listen on {where} ({reason})", "pass another --host or --port")
