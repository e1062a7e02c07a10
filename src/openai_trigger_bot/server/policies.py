"""The policies a server decides with, reloaded when their files change.

:class:`PolicyHolder` keeps a :class:`PolicyState`: the last good
:class:`~openai_trigger_bot.governance.rules.LocalRulesEvaluator` and the problems of the policy
directory as it is now. :meth:`PolicyHolder.refresh` stats the entries the loader reads (named
``*.yaml`` / ``*.yml`` in any case: name, size, mtime, inode) and reloads only when that
fingerprint changed; :meth:`PolicyHolder.watch` calls it every ``interval`` seconds.

Reload semantics:

- A reload builds a whole new evaluator and swaps it in with one assignment, so a request sees
  either the old policy set or the new one, never a mix.
- A broken edit (or a deleted directory, or an entry that cannot be read: a dangling symlink,
  a symlink loop, a directory named ``*.yaml``, a file without read permission) keeps the last
  good evaluator in service and records the problems, each with its path (and line): decisions
  go on from the last good policies, and the health check answers 503 with those problems
  until the files are fixed.
- A server that never loaded a good policy set has no evaluator: it answers decisions with 503.
- The fingerprint is taken before the files are read, so a write that races a reload is
  picked up by the next poll. The history provider is shared by every evaluator, so a reload
  keeps rate-limit counts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import PolicyError
from ..governance.errors import PolicyLoadError, PolicyProblem
from ..governance.rules import HistoryProvider, InMemoryHistory, LocalRulesEvaluator
from ..governance.rules.loader import is_policy_file_name

__all__ = ["PolicyHolder", "PolicyState", "directory_fingerprint", "health"]

logger = logging.getLogger("openai_trigger_bot.server")

Fingerprint = tuple[tuple[str, int, int, int, int], ...] | str


def directory_fingerprint(directory: Path) -> Fingerprint:
    """What changes when a policy file in ``directory`` is added, removed, edited or broken.

    Every entry the loader reads counts (named ``*.yaml`` / ``*.yml`` in any case, see
    :func:`~openai_trigger_bot.governance.rules.loader.is_policy_file_name`), whatever it is:
    one that cannot be read (a dangling symlink, a loop, a directory) is a load error, so its
    appearing, vanishing or being repaired must trigger a reload too. The mode is included so
    that fixing a file's permissions is picked up.

    Returns:
        ``(name, size, mtime_ns, inode, mode)`` for each such entry (symlinks followed;
        ``(name, -1, -1, -1, errno)`` when it cannot be followed), sorted by name; or a string
        describing why the directory cannot be listed.
    """
    try:
        entries = []
        with os.scandir(directory) as found:
            for entry in found:
                if not is_policy_file_name(entry.name):
                    continue
                try:
                    stat = entry.stat()  # follows symlinks (Kubernetes ConfigMap volumes)
                except OSError as exc:
                    entries.append((entry.name, -1, -1, -1, exc.errno or -1))
                    continue
                entries.append(
                    (entry.name, stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_mode)
                )
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    return tuple(sorted(entries))


@dataclass(frozen=True)
class PolicyState:
    """What the server decides with, and what is wrong with the files on disk.

    Attributes:
        evaluator: The last good policy set (``None`` when none ever loaded).
        problems: The problems of the directory as it is now (empty: the evaluator is what is
            on disk).
        loaded_at: When ``evaluator`` was loaded (epoch seconds).
        checked_at: When the files were last read.
    """

    evaluator: LocalRulesEvaluator | None = None
    problems: tuple[PolicyProblem, ...] = ()
    loaded_at: float | None = None
    checked_at: float | None = None

    @property
    def ready(self) -> bool:
        """A policy set is loaded and the files on disk are that set."""
        return self.evaluator is not None and not self.problems

    def summary(self) -> dict[str, Any] | None:
        """The loaded policy set for the health check (``None`` when none is loaded)."""
        if self.evaluator is None:
            return None
        return {
            "policies": [policy.id for policy in self.evaluator.policies],
            "policy_versions": {p.id: p.version for p in self.evaluator.policies},
            "rules": len(self.evaluator.rules),
            "loaded_at": self.loaded_at,
        }


@dataclass
class PolicyHolder:
    """Loads a policy directory and reloads it when its files change.

    Args:
        directory: The directory of policy files.
        history: Shared by every evaluator the holder builds (default: a new
            :class:`InMemoryHistory`).
        clock: Epoch seconds, for the timestamps and the evaluators.
    """

    directory: Path
    history: HistoryProvider = field(default_factory=InMemoryHistory)
    clock: Callable[[], float] = time.time
    _state: PolicyState = field(default_factory=PolicyState, init=False)
    _fingerprint: Fingerprint | None = field(default=None, init=False)

    @property
    def state(self) -> PolicyState:
        """The current state (read it once per request: it is replaced, never mutated)."""
        return self._state

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the policies if their files changed since the last load (blocking).

        Args:
            force: Reload even when the fingerprint did not change.

        Returns:
            Whether the files were read again.
        """
        fingerprint = directory_fingerprint(self.directory)
        if not force and fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        now = self.clock()
        old = self._state
        try:
            evaluator = LocalRulesEvaluator.from_directory(
                self.directory, history=self.history, clock=self.clock, name="decision-server"
            )
        except PolicyLoadError as exc:
            self._state = PolicyState(old.evaluator, exc.problems, old.loaded_at, now)
        except (PolicyError, OSError, ValueError) as exc:
            problem = PolicyProblem(str(self.directory), None, f"cannot load policies: {exc}")
            self._state = PolicyState(old.evaluator, (problem,), old.loaded_at, now)
        else:
            self._state = PolicyState(evaluator, (), now, now)
            logger.info(
                "loaded %d policies (%d rules) from %s",
                len(evaluator.policies),
                len(evaluator.rules),
                self.directory,
            )
            return True
        kept = "keeping the last good policies" if old.evaluator else "no policies loaded"
        logger.warning(
            "policy directory %s is broken (%s):\n%s",
            self.directory,
            kept,
            "\n".join(f"  {problem}" for problem in self._state.problems),
        )
        return True

    async def watch(self, interval: float) -> None:
        """Call :meth:`refresh` every ``interval`` seconds, in a worker thread, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # keep watching whatever a reload does
                logger.exception("policy reload failed")


def health(state: PolicyState, *, version: str, protocol: str) -> tuple[int, dict[str, Any]]:
    """The health answer for a state: 200 when ready, 503 with the problems otherwise."""
    summary = state.summary()
    if state.ready and summary is not None:
        return 200, {"status": "ok", "version": version, "protocol": protocol, **summary}
    problems = list(state.problems) or [
        PolicyProblem("<policies>", None, "no policy set has been loaded")
    ]
    return 503, {
        "status": "unavailable",
        "version": version,
        "protocol": protocol,
        "problems": [
            {"path": p.path, "line": p.line, "message": p.message, "text": str(p)} for p in problems
        ],
        "serving": summary,
    }
