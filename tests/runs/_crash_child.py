"""A child process of the crash tests: start or resume a run of ``_crash_bot``'s bot.

``python -m tests.runs._crash_child start OUT`` runs the trigger;
``python -m tests.runs._crash_child resume OUT RUN_ID [APPROVAL_ID]`` resumes the run (approving
``APPROVAL_ID`` as "ann", if given). OUT receives ``{"result": <RunResult>}``, or ``{"error":
<exception class>, "message": <text>}`` when the library refused (exit status 3).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from openai_trigger_bot import Approval
from openai_trigger_bot.exceptions import TriggerBotError

from ._crash_bot import bot


def main(argv: list[str]) -> int:
    assert bot is not None, "CRASH_STORE is not set"
    command, path, *rest = argv
    out: dict[str, Any]
    status = 0
    with bot:
        try:
            if command == "start":
                result = bot.run(bot.triggers["invoice"]())
            else:
                run_id, *approval = rest
                decisions = {a: Approval(approved=True, approver="ann") for a in approval}
                result = bot.resume(run_id, decisions)
            out = {"result": result.model_dump(mode="json")}
        except TriggerBotError as exc:
            out = {"error": type(exc).__name__, "message": str(exc)}
            status = 3
    bot.run_store.close()  # passed in, so the bot does not own it
    with open(path, "w", encoding="utf-8") as file:
        json.dump(out, file)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
