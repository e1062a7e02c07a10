"""``trigger-bot approvals list|show|approve|deny``: the people's side of approvals.

Each sub-command reads the run store named by ``--store PATH`` or ``$TRIGGER_BOT_RUN_STORE``
(see :mod:`._run_store`). Deciding an approval records the vote in the store; the run goes on
when it is resumed (``trigger-bot runs resume``, or the bot's ``resume``). The run store,
pydantic and rich are imported by the command that runs, not while the parser is built.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from ._errors import CliError
from ._run_store import (
    add_store_argument,
    approval_votes,
    brief_arguments,
    compact,
    expiry,
    open_store,
    timestamp,
)

if TYPE_CHECKING:
    from ..runs import ApprovalRow

__all__ = ["add_approvals_commands"]

_EXIT = "Exit status: 0 done; 2 could not run (no store, unknown id, decided or expired)."


def _list(args: argparse.Namespace) -> int:
    from ._console import emit, make_console, table

    with open_store(args) as store:
        rows = store.list_approvals(
            status=None if args.all else "pending", bot=args.bot, limit=args.limit
        )
    console = make_console()
    if not rows:
        which = "approvals" if args.all else "pending approvals"
        emit(console, f"No {which}" + (f" for bot {args.bot}." if args.bot else "."))
        return 0
    now = time.time()
    headers = ["id", "run", "action", "arguments", "status", "votes", "expires"]
    cells = [
        [
            row.id,
            row.run_id,
            row.action,
            brief_arguments(row.arguments),
            row.status,
            approval_votes(row),
            expiry(row, now),
        ]
        for row in rows
    ]
    emit(console, table(console, headers, cells), "", f"{len(rows)} approval(s)")
    return 0


def _decision_rows(data: dict[str, Any]) -> list[list[str]]:
    decision = data.get("decision")
    if not isinstance(decision, dict):
        return []
    found: list[list[str]] = []
    for key in ("recommendation", "risk", "reason"):
        if decision.get(key) is not None:
            found.append([key, str(decision[key])])
    policy = decision.get("policy_id")
    if policy is not None:
        version = decision.get("policy_version")
        found.append(["policy", f"{policy} (version {version})" if version else str(policy)])
    if decision.get("better_action") is not None:
        found.append(["better action", compact(decision["better_action"])])
    return found


def _show(args: argparse.Namespace) -> int:
    from ._console import emit, make_console, table

    with open_store(args) as store:
        row = store.get_approval(args.id)
    console = make_console()
    fields = [
        ["id", row.id],
        ["status", row.status],
        ["run", row.run_id],
        ["bot", row.bot],
        ["call", row.call_id],
        ["action", row.action],
        ["arguments", compact(row.arguments)],
        ["votes", approval_votes(row)],
        ["created", timestamp(row.created_at)],
        ["expires", f"{timestamp(row.expires_at)} ({expiry(row, time.time())})"],
        ["decided", timestamp(row.decided_at)],
        *_decision_rows(row.data),
    ]
    parts: list[Any] = [table(console, ["field", "value"], fields)]
    if row.votes:
        votes = [
            [
                "approve" if v.approved else "deny",
                v.approver or "-",
                timestamp(v.at),
                v.comment or "",
                compact(v.arguments) if v.arguments is not None else "",
            ]
            for v in row.votes
        ]
        parts += ["", table(console, ["vote", "approver", "at", "comment", "edit"], votes)]
    emit(console, *parts)
    return 0


def _approver(raw: str | None) -> str:
    import getpass

    if raw is not None:
        if not raw.strip():
            raise CliError("--approver is empty", "give the approver's name")
        return raw
    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:  # no user name in the environment or passwd
        raise CliError(
            "cannot tell who is deciding (no user name for this process)",
            "pass --approver NAME",
        ) from exc


def _decide(args: argparse.Namespace, approved: bool) -> int:
    from ..runs import ApprovalVote
    from ._console import emit, make_console

    now = time.time()
    vote = ApprovalVote(
        approved=approved, approver=_approver(args.approver), comment=args.comment, at=now
    )
    with open_store(args) as store:
        row = store.decide(args.id, vote, now=now)
    emit(make_console(), _outcome(row))
    return 0


def _outcome(row: ApprovalRow) -> str:
    resume = f"trigger-bot runs resume {row.run_id} --bot module:attribute"
    if row.status == "pending":
        missing = row.approvals_required - sum(1 for v in row.votes if v.approved)
        return (
            f"Approval {row.id}: {approval_votes(row)} approvals; {missing} more distinct "
            "approver(s) needed before the call can run."
        )
    return (
        f"Approval {row.id} is {row.status} ({row.action} in run {row.run_id}). "
        f"The run goes on when it is resumed: {resume}"
    )


def _approve(args: argparse.Namespace) -> int:
    return _decide(args, True)


def _deny(args: argparse.Namespace) -> int:
    return _decide(args, False)


def add_approvals_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``approvals list``, ``approvals show``, ``approvals approve``, ``approvals deny``."""
    approvals = sub.add_parser(
        "approvals",
        help="list, show, approve and deny the approvals suspended runs wait for",
        description="Work with the approvals in a run store (--store PATH or "
        "$TRIGGER_BOT_RUN_STORE).",
    )
    cmds = approvals.add_subparsers(dest="approvals_command", required=True)

    listing = cmds.add_parser(
        "list",
        help="list pending approvals",
        description="List pending approvals, newest first (all of them with --all).",
        epilog=_EXIT,
    )
    listing.add_argument("--all", action="store_true", help="every status, not just pending")
    listing.add_argument("--bot", metavar="NAME", help="only this bot's approvals")
    listing.add_argument(
        "--limit", type=int, default=100, help="at most this many (default: %(default)s)"
    )
    add_store_argument(listing)
    listing.set_defaults(func=_list, prog=listing.prog)

    show = cmds.add_parser(
        "show",
        help="show one approval: the call, the policy's decision, the votes",
        description="Show one approval in full.",
        epilog=_EXIT,
    )
    show.add_argument("id", help="the approval's id (from approvals list)")
    add_store_argument(show)
    show.set_defaults(func=_show, prog=show.prog)

    for name, func, verb in (("approve", _approve, "approve"), ("deny", _deny, "deny")):
        cmd = cmds.add_parser(
            name,
            help=f"{verb} a pending approval",
            description=f"{verb.capitalize()} a pending approval (once: an approval is "
            "single-use). The run goes on when it is resumed.",
            epilog=_EXIT,
        )
        cmd.add_argument("id", help="the approval's id (from approvals list)")
        cmd.add_argument("--comment", metavar="TEXT", help="why, recorded with the vote")
        cmd.add_argument(
            "--approver",
            metavar="NAME",
            help="who decides (default: this OS user's name)",
        )
        add_store_argument(cmd)
        cmd.set_defaults(func=func, prog=cmd.prog)
