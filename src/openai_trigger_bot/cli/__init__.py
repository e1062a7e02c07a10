"""The ``trigger-bot`` command (reference: ``docs/cli.md``).

Exit status: 0 when the command did what was asked; 1 when it ran and found something wrong
(a failed policy test, a problem in a policy file, a run that failed); 2 when it could not run
(a wrong command line, a missing file, a broken policy set), with one line on standard error
in the style of :mod:`._errors`: ``<command>: error: <what is wrong>; <what to do>``.

Building the parser imports none of the library's heavy parts (rich, pydantic, CEL, the
server): each command imports what it needs when it runs, so ``trigger-bot --help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from ._errors import CliError, print_error
from ._shipped import shipped_dir
from .approvals import add_approvals_commands
from .policy import add_policy_commands
from .runs import add_runs_commands
from .serve import add_serve_command

__all__ = ["build_parser", "main"]


def _load_example(name: str) -> ModuleType:
    """Load an example module shipped with the project (repo checkout or wheel)."""
    folder = shipped_dir("examples")
    path = folder / f"{name}.py" if folder is not None else None
    if path is None or not path.is_file():
        raise CliError(
            f"the example {name!r} is not part of this installation",
            "reinstall the package (pip install --force-reinstall openai-trigger-bot)",
        )
    spec = importlib.util.spec_from_file_location(f"_trigger_bot_example_{name}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - defensive
        raise CliError(f"cannot import the example {path}", "reinstall the package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves annotations through it
    spec.loader.exec_module(module)
    return module


def _demo(args: argparse.Namespace) -> int:
    client = None
    if args.live and not os.environ.get("OPENAI_API_KEY"):
        raise CliError(
            "--live needs OPENAI_API_KEY in the environment",
            "set it to your OpenAI API key, or run `trigger-bot demo` offline",
        )
    from ._console import emit, make_console
    from .report import print_resumed, print_run

    example = _load_example("access_requests")
    console = make_console()
    if args.live:
        import openai

        client = openai.OpenAI()
        emit(
            console, f"Running the access-request bot against the OpenAI API ({args.model})...", ""
        )
    else:
        emit(
            console,
            "Running the access-request bot offline against the scripted Responses model...",
            "",
        )
    result, resumed = example.run_demo_reviewed(client, model=args.model)
    print_run(result, console)
    if resumed is not None:
        reviewer = example.REVIEWER
        emit(
            console,
            "",
            f"A reviewer ({reviewer.approver}) approves the waiting call: "
            f'"{reviewer.comment}". The run resumes from the stored response; the calls of '
            "that round settle once, and the model is not asked that round again:",
            "",
        )
        waited = {p.call_id for p in result.pending_approvals}
        print_resumed(resumed, waited, console)
        result = resumed
    return 0 if result.status in ("completed", "approval_required") else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``trigger-bot``."""
    parser = argparse.ArgumentParser(
        prog="trigger-bot",
        description="Bots that act only through governed tool calls.",
        epilog="Exit status: 0 done; 1 ran and found something wrong; 2 could not run.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the example access-request bot and show what it did",
        description="Run the example access-request bot (offline unless --live) and print "
        "every model call and every proposed tool call with its decision and outcome.",
    )
    demo.add_argument("--live", action="store_true", help="use the real API (needs OPENAI_API_KEY)")
    demo.add_argument("--model", default="gpt-5.2", help="model for --live (default: %(default)s)")
    demo.set_defaults(func=_demo, prog=demo.prog)
    add_policy_commands(sub)
    add_serve_command(sub)
    add_approvals_commands(sub)
    add_runs_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trigger-bot`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        return print_error(getattr(args, "prog", "trigger-bot"), exc)
