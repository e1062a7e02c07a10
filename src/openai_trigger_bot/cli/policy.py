"""``trigger-bot policy check|test|explain``: validate, test and explain local policy files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import ValidationError

from ..exceptions import PolicyError
from ..governance.decision import ENFORCEMENT_MODES
from ..governance.enforcement import outcome_for
from ..governance.rules import LocalRulesEvaluator, check_policies, run_policy_tests
from ..governance.rules.testing import proposal_from_dict

__all__ = ["add_policy_commands"]


def _check(args: argparse.Namespace) -> int:
    problems = check_policies(args.path)
    if problems:
        for problem in problems:
            print(problem)
        print(f"\n{len(problems)} problem(s) found")
        return 1
    print(f"OK: {args.path} is valid")
    return 0


def _test(args: argparse.Namespace) -> int:
    try:
        report = run_policy_tests(args.path)
    except PolicyError as exc:
        print(f"cannot load policies: {exc}")
        return 2
    print(report.format())
    return 0 if report.ok else 1


def _explain(args: argparse.Namespace) -> int:
    try:
        evaluator = LocalRulesEvaluator.from_directory(args.path)
    except PolicyError as exc:
        print(f"cannot load policies: {exc}")
        return 2
    try:
        raw = json.loads(Path(args.proposal).read_text(encoding="utf-8"))
        proposal = proposal_from_dict(raw)
    except (OSError, ValueError, ValidationError, TypeError) as exc:
        print(f"cannot read the proposal {args.proposal}: {exc}")
        return 2
    explanation = evaluator.explain(proposal, all_rules=args.all)
    print(explanation.format())
    if explanation.decision is not None:
        print(
            f"outcome ({args.enforcement}): {outcome_for(explanation.decision, args.enforcement)}"
        )
    return 0


def add_policy_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy check``, ``policy test`` and ``policy explain`` to the CLI."""
    policy = sub.add_parser("policy", help="check, test and explain local policy files")
    cmds = policy.add_subparsers(dest="policy_command", required=True)

    check = cmds.add_parser("check", help="validate policy files (file:line for every problem)")
    check.add_argument("path", nargs="?", default="policies", help="directory or file")
    check.set_defaults(func=_check)

    test = cmds.add_parser("test", help="run the tests: blocks of policy files")
    test.add_argument("path", nargs="?", default="policies", help="directory or file")
    test.set_defaults(func=_test)

    explain = cmds.add_parser("explain", help="show which rules match a proposal, and why")
    explain.add_argument("path", help="policy directory")
    explain.add_argument("proposal", help="JSON file: {action, args, metadata, value, ...}")
    explain.add_argument("--all", action="store_true", help="list every rule, not only related")
    explain.add_argument(
        "--enforcement", default="enforced", choices=ENFORCEMENT_MODES, help="for the outcome"
    )
    explain.set_defaults(func=_explain)
