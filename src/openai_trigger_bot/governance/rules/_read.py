"""Reading one policy file's text, or the reason it cannot be read (never a silent skip).

A policy set that loads without one of its files can allow what that file denied (a dangling
``deny.yaml`` symlink during a Kubernetes ConfigMap swap is the classic case), so every entry
that cannot be read is a :class:`~openai_trigger_bot.governance.errors.PolicyProblem` naming
its path, worded by kind: a dangling symlink, a symlink loop, a directory, something that is not
a regular file (a FIFO, a socket, a device), a permission problem, text that is not UTF-8.

The file is opened once, without blocking (``O_NONBLOCK``: opening a FIFO for reading would
otherwise wait for a writer forever), and checked with ``fstat`` on the open descriptor, so an
entry swapped between a check and the read cannot slip through.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import PolicyProblem

__all__ = ["read_policy_text"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_FIX = "fix or remove it (every *.yaml / *.yml entry of a policy directory is loaded, any case)"


def _open_problem(path: Path, exc: OSError) -> str:
    """Why ``open`` failed, worded by kind."""
    if exc.errno == errno.ENOENT:
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"dangling symlink: it points to {target}, which does not exist; {_FIX}"
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return f"symlink loop: following its links never reaches a file; {_FIX}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot read the file: permission denied; grant read permission, or {_FIX}"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):  # a socket (ENXIO), a directory on some systems (EISDIR)...
        return f"{_kind(mode)}; {_FIX}"
    reason = (exc.strerror or str(exc)).lower()
    return f"cannot read the file: {reason}; {_FIX}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a policy file"
    what = {
        stat.S_ISFIFO(mode): "a FIFO",
        stat.S_ISSOCK(mode): "a socket",
        stat.S_ISCHR(mode) or stat.S_ISBLK(mode): "a device",
    }.get(True, "something else")
    return f"is not a regular file ({what})"


def read_policy_text(path: Path) -> str | PolicyProblem:
    """The UTF-8 text of a policy file, or the problem that prevents reading it.

    Args:
        path: The file (symlinks are followed).

    Returns:
        The text, or a problem whose ``path`` is ``str(path)`` and whose message says what
        the entry is and what to do.
    """
    name = str(path)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        return PolicyProblem(name, None, _open_problem(path, exc))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return PolicyProblem(name, None, f"{_kind(mode)}; {_FIX}")
        with os.fdopen(fd, "rb", closefd=True) as handle:
            fd = -1  # closed by the file object from here on
            data = handle.read()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        return PolicyProblem(name, None, f"cannot read the file: {reason}; {_FIX}")
    finally:
        if fd >= 0:
            os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return PolicyProblem(
            name, None, f"cannot read the file: byte {exc.start} is not UTF-8; save it as UTF-8"
        )
