"""Child processes the crash tests stop at a precise point, then kill or let go.

A :class:`Child` runs ``python -m tests.runs._crash_child ...`` (a fresh interpreter: nothing
is inherited from the test process but the environment) with two pipes: it writes the name of
each pause point it reaches to the *ready* pipe and then blocks reading the *go* pipe (see
``_crash_bot.pause``). The test reads the point, then sends SIGKILL or lets it go on. No
sleeps: every wait is on a pipe or a process, under a generous guard against hangs.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUARD_S = 120.0
"""Only against hangs: how long a child may take to reach a point or to exit."""


def crash_env(base_url: str, tmp: Path) -> dict[str, str]:
    """The environment every process of one test builds its bot from."""
    env = dict(os.environ)
    env.update(
        CRASH_BASE_URL=base_url,
        CRASH_STORE=str(tmp / "runs.db"),
        CRASH_EFFECTS=str(tmp / "effects.log"),
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    env.pop("CRASH_PAUSE", None)
    return env


def effects(tmp: Path) -> list[str]:
    """The side effects written so far, one line per execution, in order."""
    path = tmp / "effects.log"
    return path.read_text().splitlines() if path.exists() else []


class Child:
    """One child process (see the module docstring).

    Args:
        argv: Arguments after ``python -m``; the module is ``tests.runs._crash_child`` unless
            ``argv`` names another.
        env: Its environment (:func:`crash_env`).
        tmp: Where its stdout/stderr files go.
        name: Names those files and error messages.
        pause: The points it stops at.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        tmp: Path,
        name: str,
        pause: Sequence[str] = (),
    ) -> None:
        self.name = name
        self._tmp = tmp
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        env = {**env, "CRASH_PAUSE": ",".join(pause)}
        env.update(CRASH_READY_FD=str(ready_w), CRASH_GO_FD=str(go_r))
        with (
            open(tmp / f"{name}.out", "wb") as out,
            open(tmp / f"{name}.err", "wb") as err,
        ):
            self.proc = subprocess.Popen(
                [sys.executable, *argv],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(ready_w, go_r),
            )
        os.close(ready_w)  # the child holds the only write end: EOF when it exits
        os.close(go_r)
        self._ready = os.fdopen(ready_r, "rb", buffering=0)
        self._go = go_w
        self._buffer = b""

    @property
    def ready_fd(self) -> int:
        """The pipe the child writes its points to (for ``select`` over several children)."""
        return self._ready.fileno()

    def output(self) -> str:
        """What the child wrote to stdout and stderr (for failure messages)."""
        out = (self._tmp / f"{self.name}.out").read_text(errors="replace")
        err = (self._tmp / f"{self.name}.err").read_text(errors="replace")
        return f"--- {self.name} stdout\n{out}\n--- {self.name} stderr\n{err}"

    def next_point(self) -> str | None:
        """The next point the child reached, or ``None`` when it exited first."""
        while b"\n" not in self._buffer:
            readable, _, _ = select.select([self._ready], [], [], GUARD_S)
            if not readable:
                self.kill()
                raise AssertionError(f"{self.name} hung\n{self.output()}")
            chunk = self._ready.read(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def reach(self, point: str) -> None:
        """Wait until the child stops at ``point``."""
        got = self.next_point()
        assert got == point, f"{self.name} reached {got!r}, not {point!r}\n{self.output()}"

    def go(self) -> None:
        """Let the child go on from the point it stopped at."""
        os.write(self._go, b"g")

    def kill(self) -> None:
        """SIGKILL the child and reap it (a zombie's pid would still look alive)."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(GUARD_S)
        self.close()

    def finish(self) -> int:
        """Wait for the child to exit (it must not stop at another point); its exit status."""
        self.close_go()
        try:
            status = self.proc.wait(GUARD_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit\n{self.output()}") from None
        self.close()
        return status

    def close_go(self) -> None:
        """Close the go pipe: a later pause point does not block (the read sees EOF)."""
        if self._go >= 0:
            os.close(self._go)
            self._go = -1

    def close(self) -> None:
        """Close the parent's ends of the pipes."""
        self.close_go()
        self._ready.close()


CHILD = ("-m", "tests.runs._crash_child")


def child_argv(tmp: Path, name: str, *args: str) -> list[str]:
    """``_crash_child``'s arguments: the command, then its OUT file ``<name>.json``, then
    ``args``."""
    command, *rest = args
    return [*CHILD, command, str(tmp / f"{name}.json"), *rest]


def outcome(tmp: Path, name: str) -> dict[str, Any]:
    """What the child ``name`` wrote to its OUT file."""
    data: dict[str, Any] = json.loads((tmp / f"{name}.json").read_text())
    return data
