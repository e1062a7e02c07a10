"""``trigger-bot policy check|test|explain|init``: validate, test, explain and start policy files.

Every sub-command takes the policy directory (or one file) as ``path``, default ``policies``,
and words a missing one the same way (see :mod:`._errors` for the error style).

The rules engine, pydantic and rich are imported by the command that runs, not while the
parser is built (``trigger-bot --help`` loads none of them).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import PolicyError
from ._errors import CliError, describe_validation_error

if TYPE_CHECKING:
    from ..governance.decision import EnforcementMode, ProposedAction

__all__ = ["add_policy_commands"]

DEFAULT_PATH = "policies"


def _exit_status(ok: str, found: str | None, cannot: str) -> str:
    found_part = f"; 1 {found}" if found else ""
    return f"Exit status: 0 {ok}{found_part}; 2 could not run ({cannot})."


_PROPOSAL_EXAMPLE = '{"action": "issue_refund", "args": {"amount": 40}, "value": 40}'


class _EnforcementModes(Sequence[str]):
    """``--enforcement``'s choices, read from governance when argparse first looks at them."""

    @staticmethod
    def _modes() -> tuple[EnforcementMode, ...]:
        from ..governance.decision import ENFORCEMENT_MODES

        return ENFORCEMENT_MODES

    def __getitem__(self, index: Any) -> Any:
        return self._modes()[index]

    def __len__(self) -> int:
        return len(self._modes())


def _policy_path(raw: str) -> Path:
    """The policy path given on the command line, which must exist."""
    path = Path(raw)
    if not path.exists() and not path.is_symlink():
        raise CliError(
            f"the policy directory or file {raw} does not exist",
            f"pass one (the default is {DEFAULT_PATH}), "
            f"or create it with: trigger-bot policy init {raw}",
        )
    return path


def _load_failed(path: Path, exc: PolicyError) -> CliError:
    problems = [str(problem) for problem in getattr(exc, "problems", ())] or [str(exc)]
    return CliError(
        f"the policies in {path} do not load ({len(problems)} problem(s))",
        f"fix them, then run again (trigger-bot policy check {path} lists them too)",
        problems,
    )


def _check(args: argparse.Namespace) -> int:
    from ..governance.rules import check_policies
    from ._console import emit, make_console

    path = _policy_path(args.path)
    problems = check_policies(path)
    console = make_console()
    if problems:
        emit(console, *map(str, problems), "", f"{len(problems)} problem(s) found in {path}")
        return 1
    emit(console, f"OK: {path} is valid")
    return 0


def _test(args: argparse.Namespace) -> int:
    from ..governance.rules import run_policy_tests
    from ._console import emit, make_console, table

    path = _policy_path(args.path)
    try:
        report = run_policy_tests(path)
    except PolicyError as exc:
        raise _load_failed(path, exc) from exc
    console = make_console()
    headers = ["result", "test", "where"]
    rows = [
        ["PASS" if r.passed else "FAIL", r.name, f"{r.path}:{r.line}", "; ".join(r.failures)]
        for r in report.results
    ]
    if report.ok:  # no failure to explain: no empty column
        rows = [row[:3] for row in rows]
    else:
        headers.append("why it failed")
    emit(
        console,
        table(console, headers, rows),
        "",
        f"{report.passed} passed, {len(report.failed)} failed",
    )
    return 0 if report.ok else 1


def _read_proposal(raw: str) -> ProposedAction:
    from pydantic import ValidationError

    from ..governance.rules.testing import proposal_from_dict

    fix = f"write a JSON object such as {_PROPOSAL_EXAMPLE}"
    try:
        data = json.loads(Path(raw).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read the proposal file {raw}: {exc.strerror or exc}", fix) from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"the proposal file {raw} is not UTF-8 text", fix) from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise CliError(f"the proposal file {raw} is not JSON ({exc.msg} at {where})", fix) from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise CliError(f"the proposal file {raw} is not usable JSON ({exc})", fix) from exc
    if not isinstance(data, dict):
        raise CliError(f"the proposal file {raw} holds a JSON {type(data).__name__}", fix)
    try:
        return proposal_from_dict(data)
    except ValidationError as exc:
        reason = describe_validation_error(exc, rename={"arguments": "args"})
        raise CliError(
            f"the proposal in {raw} is not valid: {reason}",
            f"{fix} (keys: trigger-bot policy explain --help)",
        ) from exc


def _explain(args: argparse.Namespace) -> int:
    from ..governance.enforcement import outcome_for
    from ..governance.rules import LocalRulesEvaluator
    from ._console import emit, make_console, table

    path = _policy_path(args.path)
    proposal = _read_proposal(args.proposal)
    try:
        evaluator = LocalRulesEvaluator.from_directory(path)
    except PolicyError as exc:
        raise _load_failed(path, exc) from exc
    explanation = evaluator.explain(proposal, all_rules=args.all)
    console = make_console()
    rows = [
        [
            ("ERROR" if check.error else "MATCH" if check.matched else "no")
            + (" (decides)" if check.decisive else ""),
            check.rule_id,
            f"{check.path}:{check.line}",
            check.reason,
        ]
        for check in explanation.checks
    ]
    parts: list[Any] = [
        f"proposal: {proposal.action} {json.dumps(proposal.arguments, default=str)}",
        table(console, ["result", "rule", "where", "why"], rows),
    ]
    if explanation.unrelated:
        parts.append(f"({explanation.unrelated} other rule(s) do not name this action)")
    if explanation.error is not None:
        parts.append(f"error: {explanation.error}")
        parts.append(
            "outcome: blocked (the condition fails on this proposal; it runs only if the bot's "
            "fail_modes names this failure kind 'open')"
        )
    elif explanation.decision is not None:
        d = explanation.decision
        source = "default of policy" if explanation.used_default else "policy"
        parts.append(
            f"decision: {d.recommendation} (mode {d.mode}, risk {d.risk}) from {source} "
            f"{d.policy_id}@{d.policy_version}: {d.reason}"
        )
        parts.append(f"outcome ({args.enforcement}): {outcome_for(d, args.enforcement)}")
    emit(console, *parts)
    return 0


def _init(args: argparse.Namespace) -> int:
    from ._console import emit, make_console
    from ._policy_init import init_policies

    target = Path(args.dir)
    written = init_policies(target, force=args.force)
    emit(
        make_console(),
        *(f"wrote {path}" for path in written),
        "",
        f"{len(written)} file(s) written. Edit them, then run: trigger-bot policy test {target}",
    )
    return 0


def _path_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_PATH,
        help="policy directory (its *.yaml and *.yml files) or one file (default: %(default)s)",
    )


def add_policy_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy check``, ``policy test``, ``policy explain`` and ``policy init``."""
    policy = sub.add_parser(
        "policy",
        help="check, test, explain and start local policy files",
        description="Work with local policy files (YAML rules with CEL conditions).",
    )
    cmds = policy.add_subparsers(dest="policy_command", required=True)

    check = cmds.add_parser(
        "check",
        help="validate policy files (file:line for every problem)",
        description="Validate policy files; print every problem as file:line: what to fix.",
        epilog=_exit_status("all valid", "problems found", "no such path"),
    )
    _path_argument(check)
    check.set_defaults(func=_check, prog=check.prog)

    test = cmds.add_parser(
        "test",
        help="run the tests: blocks of policy files",
        description="Run the tests: block of every policy file against that file.",
        epilog=_exit_status(
            "every test passed", "a test failed", "no such path, or the policies do not load"
        ),
    )
    _path_argument(test)
    test.set_defaults(func=_test, prog=test.prog)

    explain = cmds.add_parser(
        "explain",
        help="show which rules match a proposal, and why",
        description="Show which rules match a proposed call, which do not and why, the "
        "decision and its outcome. The proposal is a JSON file: "
        f"{_PROPOSAL_EXAMPLE}; keys: action (required), args, metadata "
        "(system, risk, environment, tags), trigger, value, target, extra, bot, actor, domain.",
        epilog=_exit_status(
            "explained", None, "no such path, a bad proposal file, or the policies do not load"
        ),
    )
    _path_argument(explain)
    explain.add_argument("proposal", help="JSON file describing the proposed call")
    explain.add_argument(
        "--all", action="store_true", help="list every rule, not only those naming the action"
    )
    explain.add_argument(
        "--enforcement",
        default="enforced",
        choices=_EnforcementModes(),
        metavar="MODE",
        help="enforcement mode for the outcome: %(choices)s (default: %(default)s)",
    )
    explain.set_defaults(func=_explain, prog=explain.prog)

    init = cmds.add_parser(
        "init",
        help="copy the shipped policy library (with its tests) into a folder to edit",
        description="Copy the policy library that ships with openai-trigger-bot (access, "
        "deploy, terraform, scaling, credentials, refunds; each file with its tests: block) "
        "and its README into DIR. Existing files are never overwritten without --force.",
        epilog=_exit_status(
            "written", None, "a file exists and --force is not given, or DIR cannot be written"
        ),
    )
    init.add_argument(
        "dir", nargs="?", default=DEFAULT_PATH, metavar="DIR", help="folder (default: %(default)s)"
    )
    init.add_argument("--force", action="store_true", help="overwrite files of the same name")
    init.set_defaults(func=_init, prog=init.prog)
