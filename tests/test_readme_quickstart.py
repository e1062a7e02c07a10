"""The README's quickstart runs as written, offline (the client swapped for the scripted API)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from openai_trigger_bot.testing import ScriptedResponses, function_call, message

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-quickstart-secret-1"


def quickstart_code() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the Quickstart section has no python block"
    code = block.group(1)
    assert "client=openai.OpenAI()" in code
    return code.replace("client=openai.OpenAI()", "client=scripted.client()")


def test_the_readme_quickstart_runs_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    scripted = ScriptedResponses(
        [
            [
                function_call("issue_refund", {"order_id": "42", "amount": 800, "api_key": SECRET}),
                function_call("issue_refund", {"order_id": "43", "amount": 10, "api_key": SECRET}),
            ],
            [message("Done.")],
        ]
    )
    namespace: dict[str, Any] = {"scripted": scripted}
    exec(compile(quickstart_code(), "README.md#quickstart", "exec"), namespace)
    result = namespace["result"]
    namespace["bot"].memory.close()
    assert result.status == "completed"
    # The 800 EUR refund needs review and the handler denies it; the 10 EUR one runs.
    assert [e.status for e in result.events] == ["denied", "executed"]
    assert result.events[0].error == "denied by a reviewer: not today"
    assert SECRET not in result.model_dump_json()
    assert SECRET not in str(scripted.requests)
    assert "issue_refund denied review_recommended" in capsys.readouterr().out
