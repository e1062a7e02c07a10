"""``trigger-bot runs list|show|cancel|resume``: the suspended runs in a run store.

``list``, ``show`` and ``cancel`` read the run store named by ``--store PATH`` or
``$TRIGGER_BOT_RUN_STORE`` (see :mod:`._run_store`). ``resume`` imports the bot definition
from ``module:attribute`` (as ASGI servers import an app) and calls its ``resume``: the bot
knows its own run store.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Any

from ._errors import CliError
from ._run_store import (
    add_store_argument,
    approval_votes,
    brief_arguments,
    expiry,
    open_store,
    relative,
    timestamp,
)

__all__ = ["add_runs_commands", "import_bot"]

_EXIT = "Exit status: 0 done; 2 could not run (no store, unknown run, already finished)."


def _lease(owner: str | None, until: float | None, now: float) -> str:
    from ..runs._rules import owner_alive

    if owner is None or until is None or until <= now:
        return "-"
    if not owner_alive(owner):  # its process is gone: the next resume takes the lease at once
        return f"{owner} (process gone; free)"
    return f"{owner} (for {relative(until - now)})"


def _list(args: argparse.Namespace) -> int:
    from ._console import emit, make_console, table

    with open_store(args) as store:
        runs = store.list_runs(status=args.status, bot=args.bot, limit=args.limit)
        pending: dict[str, int] = {}
        for row in store.list_approvals(status="pending", limit=100_000):
            pending[row.run_id] = pending.get(row.run_id, 0) + 1
    console = make_console()
    if not runs:
        emit(console, "No runs" + (f" with status {args.status}." if args.status else "."))
        return 0
    now = time.time()
    headers = ["run", "bot", "trigger", "status", "pending", "updated", "lease"]
    cells = [
        [
            r.run_id,
            r.bot,
            r.trigger,
            r.status,
            str(pending.get(r.run_id, 0)),
            f"{relative(now - r.updated_at)} ago",
            _lease(r.lease_owner, r.lease_until, now),
        ]
        for r in runs
    ]
    emit(console, table(console, headers, cells), "", f"{len(runs)} run(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ._console import emit, make_console, table

    with open_store(args) as store:
        run = store.load(args.run_id)
        approvals = store.list_approvals(status=None, run_id=args.run_id, limit=100_000)
        ledger = store.ledger_for_run(args.run_id)
    console = make_console()
    now = time.time()
    fields = [
        ["run", run.run_id],
        ["bot", run.bot],
        ["trigger", run.trigger],
        ["status", run.status],
        ["version", str(run.version)],
        ["created", timestamp(run.created_at)],
        ["updated", timestamp(run.updated_at)],
        ["lease", _lease(run.lease_owner, run.lease_until, now)],
    ]
    parts: list[Any] = [table(console, ["field", "value"], fields)]
    if approvals:
        rows = [
            [
                a.id,
                a.action,
                brief_arguments(a.arguments),
                a.status,
                approval_votes(a),
                expiry(a, now),
            ]
            for a in reversed(approvals)
        ]
        headers = ["approval", "action", "arguments", "status", "votes", "expires"]
        parts += ["", "Approvals", table(console, headers, rows)]
    if ledger:
        rows = [
            [
                e.action,
                e.call_id,
                # A started entry whose process is gone has an unknown outcome: never re-run.
                "finished" if e.status == "finished" else "started (unknown if interrupted)",
                timestamp(e.started_at),
                timestamp(e.finished_at),
            ]
            for e in ledger
        ]
        headers = ["action", "call", "execution", "started", "finished"]
        parts += ["", "Executions", table(console, headers, rows)]
    emit(console, *parts)
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from ._console import emit, make_console

    with open_store(args) as store:
        closing = store.list_approvals(status="pending", run_id=args.run_id, limit=100_000)
        run = store.cancel(args.run_id, now=time.time())
    emit(
        make_console(),
        f"Cancelled run {run.run_id}; {len(closing)} pending approval(s) closed.",
    )
    return 0


def import_bot(spec: str) -> Any:
    """The object ``module:attribute`` names (the current directory is importable).

    Raises:
        CliError: The spec is malformed, the module does not import, or it has no such
            attribute.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CliError(
            f"--bot {spec} is not module:attribute", "name the bot as, for example, mybots:bot"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(
            f"cannot import {module_name} for --bot {spec} ({exc})",
            "run from the directory that holds it, or set PYTHONPATH",
        ) from exc
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise CliError(
                f"{module_name} has no attribute {attribute}",
                "name the Bot (or GovernedClient) object defined there",
            )
        target = getattr(target, part)
    return target


def _resume(args: argparse.Namespace) -> int:
    from ..exceptions import TriggerBotError

    bot = import_bot(args.bot)
    resume = getattr(bot, "resume", None)
    if not callable(resume):
        raise CliError(
            f"{args.bot} ({type(bot).__name__}) has no resume method",
            "name a Bot or GovernedClient; resuming needs a release that supports it",
        )
    try:
        result = resume(args.run_id, {})
    except TriggerBotError as exc:
        what, _, fix = str(exc).partition("; ")
        raise CliError(what, fix or "see trigger-bot runs show " + args.run_id) from exc
    from ..result import RunResult

    if not isinstance(result, RunResult):
        from ._console import emit, make_console

        emit(make_console(), f"Resumed run {args.run_id}: {result!r}")
        return 0
    from .report import print_run

    print_run(result)
    return 0 if result.status in ("completed", "approval_required") else 1


def add_runs_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``runs list``, ``runs show``, ``runs cancel`` and ``runs resume``."""
    runs = sub.add_parser(
        "runs",
        help="list, show, cancel and resume suspended runs",
        description="Work with the runs in a run store (--store PATH or $TRIGGER_BOT_RUN_STORE).",
    )
    cmds = runs.add_subparsers(dest="runs_command", required=True)

    listing = cmds.add_parser(
        "list",
        help="list runs, newest first",
        description="List runs, newest first.",
        epilog=_EXIT,
    )
    listing.add_argument(
        "--status", metavar="S", help="only runs of this status (suspended, completed, ...)"
    )
    listing.add_argument("--bot", metavar="NAME", help="only this bot's runs")
    listing.add_argument(
        "--limit", type=int, default=100, help="at most this many (default: %(default)s)"
    )
    add_store_argument(listing)
    listing.set_defaults(func=_list, prog=listing.prog)

    show = cmds.add_parser(
        "show",
        help="show one run: its approvals and its executions",
        description="Show one run, its approvals and its ledger of executions.",
        epilog=_EXIT,
    )
    show.add_argument("run_id", help="the run's id (from runs list)")
    add_store_argument(show)
    show.set_defaults(func=_show, prog=show.prog)

    cancel = cmds.add_parser(
        "cancel",
        help="end a suspended run (its approvals can no longer be decided)",
        description="Cancel a suspended run: status cancelled, its pending approvals too.",
        epilog=_EXIT,
    )
    cancel.add_argument("run_id", help="the run's id (from runs list)")
    add_store_argument(cancel)
    cancel.set_defaults(func=_cancel, prog=cancel.prog)

    resume = cmds.add_parser(
        "resume",
        help="continue a suspended run once its approvals are decided",
        description="Import the bot from module:attribute and resume the run with the "
        "decisions recorded in its run store.",
        epilog="Exit status: 0 the run completed or waits for approvals again; 1 it ended "
        "otherwise; 2 could not run.",
    )
    resume.add_argument("run_id", help="the run's id (from runs list)")
    resume.add_argument(
        "--bot",
        required=True,
        metavar="MODULE:ATTRIBUTE",
        help="the bot definition, imported as ASGI servers import an app (mybots:bot)",
    )
    resume.set_defaults(func=_resume, prog=resume.prog)
