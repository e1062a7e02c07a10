"""The ``trigger-bot`` command."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from .policy import add_policy_commands
from .report import render
from .serve import add_serve_command

__all__ = ["main"]


def _load_example(name: str) -> ModuleType:
    """Load an example module shipped with the project (repo checkout or wheel)."""
    here = Path(__file__).resolve().parent.parent
    candidates = [here / "_examples" / f"{name}.py", here.parents[1] / "examples" / f"{name}.py"]
    for path in candidates:
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"_trigger_bot_example_{name}", path)
            if spec is None or spec.loader is None:  # pragma: no cover - defensive
                break
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # pydantic resolves annotations through it
            spec.loader.exec_module(module)
            return module
    raise SystemExit(f"example {name!r} not found (looked in {', '.join(map(str, candidates))})")


def _demo(args: argparse.Namespace) -> int:
    example = _load_example("access_requests")
    client = None
    if args.live:
        if not os.environ.get("OPENAI_API_KEY"):
            print("--live needs OPENAI_API_KEY in the environment", file=sys.stderr)
            return 2
        import openai

        client = openai.OpenAI()
        print(f"Running the access-request bot against the OpenAI API ({args.model})...\n")
    else:
        print("Running the access-request bot offline against the scripted Responses model...\n")
    result = example.run_demo(client, model=args.model)
    print(render(result))
    return 0 if result.status in ("completed", "approval_required") else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``trigger-bot``."""
    parser = argparse.ArgumentParser(
        prog="trigger-bot", description="Bots that act only through governed tool calls."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the example access-request bot and show what it did")
    demo.add_argument("--live", action="store_true", help="use the real API (OPENAI_API_KEY)")
    demo.add_argument("--model", default="gpt-5.2", help="model for --live (default gpt-5.2)")
    demo.set_defaults(func=_demo)
    add_policy_commands(sub)
    add_serve_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trigger-bot`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))
