"""Policy files (YAML) → :class:`~.model.Policy` objects, or every problem with file and line.

The format is described in :mod:`openai_trigger_bot.governance.rules` and ``policies/README.md``.
Loading checks everything that can be checked before a proposal arrives: unknown or duplicate
keys, wrong types, bad action globs, CEL syntax and unknown CEL variables, a ``history`` window
for conditions that count history, duplicate rule ids (across files too), the required
``default:``, and ``tests:`` entries. Every problem names the file and line and says what to fix.

Nothing is skipped: an entry of a policy directory that cannot be read (a dangling symlink, a
symlink loop, a directory or FIFO named ``*.yaml``, a file without read permission) is a
problem naming its path, so a policy set never loads with one of its files silently missing.
A policy file is an entry directly in the directory whose name ends in ``.yaml`` or ``.yml`` in
any case (``deny.YAML`` too: an editor or a Windows share may upper-case it, and skipping it
could drop the file that denies a call); subdirectories are not read (so a Kubernetes
ConfigMap's ``..data`` directory is not loaded twice).
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable
from pathlib import Path

from ..errors import PolicyLoadError, PolicyProblem
from ._parse import PolicyReader
from ._read import read_policy_text
from ._yaml import compose
from .model import Policy

__all__ = [
    "POLICY_SUFFIXES",
    "check_policies",
    "is_policy_file_name",
    "load_policies",
    "load_policy_file",
    "load_policy_string",
    "policy_files",
    "read_policies",
    "read_policy_text",
]

PathLike = str | Path

POLICY_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
"""A policy file's name ends in one of these, in any case."""


def is_policy_file_name(name: str) -> bool:
    """Whether a directory entry's name makes it a policy file (``.yaml``/``.yml``, any case)."""
    return name.lower().endswith(POLICY_SUFFIXES)


@dataclasses.dataclass(frozen=True)
class _Read:
    """One source read: its policy (``None`` when broken), problems and declared ids."""

    path: str
    policy: Policy | None
    problems: list[PolicyProblem]
    policy_id: str | None = None
    rule_ids: tuple[tuple[str, int], ...] = ()


def _read_text(text: str, path: str) -> _Read:
    root, problem = compose(text, path)
    if problem is not None:
        return _Read(path, None, [problem])
    reader = PolicyReader(path)
    policy = reader.policy(root)
    return _Read(
        path,
        policy if not reader.problems else None,
        reader.problems,
        reader.policy_id,
        tuple(reader.rule_ids),
    )


def _clashes(reads: Iterable[_Read]) -> list[PolicyProblem]:
    """Policy and rule ids used by more than one file, broken files included."""
    problems: list[PolicyProblem] = []
    policy_paths: dict[str, str] = {}
    rule_places: dict[str, str] = {}
    for read in reads:
        if read.policy_id is not None:
            if read.policy_id in policy_paths:
                problems.append(
                    PolicyProblem(
                        read.path,
                        1,
                        f"policy id {read.policy_id!r} is also used by "
                        f"{policy_paths[read.policy_id]}: give each policy file its own id",
                    )
                )
            policy_paths.setdefault(read.policy_id, read.path)
        for rule_id, line in read.rule_ids:
            if rule_id in rule_places:
                problems.append(
                    PolicyProblem(
                        read.path,
                        line,
                        f"rule id {rule_id!r} is already used at {rule_places[rule_id]}: "
                        "rule ids must be unique across the loaded files",
                    )
                )
            rule_places.setdefault(rule_id, f"{read.path}:{line}")
    return problems


def load_policy_string(text: str, *, source: str = "<string>") -> Policy:
    """Load one policy from YAML text.

    Args:
        text: The YAML.
        source: The name used in error messages (a file name, ``<string>``...).

    Raises:
        PolicyLoadError: The policy is broken (every problem is listed).
    """
    return load_policies([(source, text)])[0]


def load_policy_file(path: PathLike) -> Policy:
    """Load one policy file.

    Raises:
        PolicyLoadError: The file is unreadable or broken (every problem is listed).
    """
    return load_policies([path])[0]


def policy_files(directory: PathLike) -> list[Path]:
    """Every entry named ``*.yaml`` or ``*.yml`` (any case) directly inside a directory, sorted
    by name. Subdirectories are not searched.

    Entries are listed whatever they are: a dangling symlink, a symlink loop, a directory or a
    FIFO with such a name is returned too, so that loading it fails with its path instead of
    the policy set silently losing a file (see :func:`read_policy_text`).

    Raises:
        PolicyLoadError: The directory does not exist, cannot be listed, or holds no entry
            with such a name.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise PolicyLoadError([PolicyProblem(str(folder), None, _not_a_directory(folder))])
    try:
        files = sorted(p for p in folder.iterdir() if is_policy_file_name(p.name))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise PolicyLoadError(
            [PolicyProblem(str(folder), None, f"cannot list the directory: {reason}")]
        ) from exc
    if not files:
        raise PolicyLoadError(
            [PolicyProblem(str(folder), None, "no policy files (*.yaml, *.yml) in this directory")]
        )
    return files


def _not_a_directory(folder: Path) -> str:
    """Why a policy path given as a directory is not one, and what to do (as the CLI says)."""
    if folder.exists():
        what = "is a file, not a directory" if folder.is_file() else "is not a directory"
        return (
            f"{what}; pass the directory that holds the policy files "
            "(LocalRulesEvaluator.from_files loads chosen files)"
        )
    return (
        "the policy directory does not exist; create it with "
        f"`trigger-bot policy init {shlex.quote(str(folder))}` or pass another path"
    )


def read_policies(
    sources: Iterable[PathLike | tuple[str, str]],
) -> tuple[tuple[Policy, ...], list[PolicyProblem]]:
    """Read policies and collect every problem instead of raising.

    Args:
        sources: File paths, or ``(name, yaml_text)`` pairs.

    Returns:
        The policies that loaded (rules numbered in load order) and the problems found,
        including rule and policy ids used twice across files.
    """
    reads: list[_Read] = []
    problems: list[PolicyProblem] = []
    for source in sources:
        if isinstance(source, tuple):
            name, text = source
        else:
            name = str(source)
            read = read_policy_text(Path(source))
            if isinstance(read, PolicyProblem):
                problems.append(read)
                continue
            text = read
        reads.append(_read_text(text, name))
        problems.extend(reads[-1].problems)
    problems.extend(_clashes(reads))
    order = 0
    numbered: list[Policy] = []
    for policy in (read.policy for read in reads if read.policy is not None):
        rules = []
        for rule in policy.rules:
            rules.append(dataclasses.replace(rule, order=order))
            order += 1
        numbered.append(dataclasses.replace(policy, rules=tuple(rules)))
    return tuple(numbered), problems


def load_policies(sources: Iterable[PathLike | tuple[str, str]]) -> tuple[Policy, ...]:
    """Load several policies (a policy set), checking ids across them.

    Args:
        sources: File paths, or ``(name, yaml_text)`` pairs.

    Raises:
        PolicyLoadError: Any file is broken (every problem in every file is listed).
    """
    policies, problems = read_policies(sources)
    if problems:
        raise PolicyLoadError(problems)
    if not policies:
        raise PolicyLoadError([PolicyProblem("<policies>", None, "no policy was given")])
    return policies


def check_policies(path: PathLike) -> list[PolicyProblem]:
    """Validate a policy file or a directory of them; an empty list means all is well.

    This is what ``trigger-bot policy check`` prints.
    """
    target = Path(path)
    try:
        files = policy_files(target) if target.is_dir() else [target]
    except PolicyLoadError as exc:
        return list(exc.problems)
    return read_policies(files)[1]
