"""Lazy imports: what ``import openai_trigger_bot``, a plain bot and ``trigger-bot --help`` load.

Each check runs a fresh interpreter (``sys.executable -c ...``) and reads its ``sys.modules``;
nothing here is timed (the times are in ``benchmarks/import_time.py``).
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import openai_trigger_bot
from openai_trigger_bot._lazy import lazy_exports

SRC = Path(openai_trigger_bot.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}

# What a plain bot (Bot + @action, run on a model of its own) does not use.
HEAVY = (
    "numpy",  # memory's vectors
    "cel",  # policy rule conditions
    "yaml",  # policy files
    "prompt_toolkit",  # comes with cel
    "starlette",  # the decision server
    "uvicorn",
    "rich",  # the CLI's tables
    "httpx",  # the remote evaluator and the outbox (the OpenAI SDK uses httpx2)
    "pybreaker",
    "sqlite3",
    "openai_trigger_bot.memory.manager",
    "openai_trigger_bot.memory.records",
    "openai_trigger_bot.governance.rules.engine",
    "openai_trigger_bot.governance.rules.cel",
    "openai_trigger_bot.governance.remote",
    "openai_trigger_bot.governance.outbox",
    "openai_trigger_bot.governed_client",
    "openai_trigger_bot.server.app",
    "openai_trigger_bot.server.policies",
    "openai_trigger_bot.server.reports",
)
# Nor does the CLI's parser, nor the OpenAI SDK: commands import what they need when they run.
HEAVY_FOR_HELP = (*HEAVY, "openai", "tenacity", "docstring_parser")

_REPORT = "\nimport json, sys\nprint('MODULES ' + json.dumps(sorted(sys.modules)))\n"


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code + _REPORT],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line[len("MODULES ") :]))


def _heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in names))


def test_import_loads_only_the_package_itself() -> None:
    modules = _modules_after("import openai_trigger_bot")
    assert "openai_trigger_bot" in modules
    assert _heavy(modules, (*HEAVY_FOR_HELP, "pydantic")) == []
    ours = sorted(m for m in modules if m.startswith("openai_trigger_bot."))
    assert ours == ["openai_trigger_bot._lazy", "openai_trigger_bot.exceptions"]


PLAIN_BOT = '''
import json
from openai_trigger_bot import Bot, action
from openai_trigger_bot.models.base import parse_response


@action
def lookup_order(order_id: str) -> str:
    """Look up an order.

    Args:
        order_id: The order.
    """
    return "shipped"


class Model:
    """Proposes one lookup_order call, then answers."""

    def __init__(self):
        self.calls = 0

    async def create(self, body, *, timeout):
        self.calls += 1
        if self.calls == 1:
            call = {"type": "function_call", "call_id": "c1", "name": "lookup_order",
                    "arguments": json.dumps({"order_id": "o-1"})}
            return parse_response({"id": "r1", "output": [call]})
        text = {"type": "output_text", "text": "it has shipped"}
        return parse_response({"id": "r2", "output": [{"type": "message", "content": [text]}]})


bot = Bot("support", model=Model())


@bot.trigger("order_question", prompt="Answer the question", default_action=lookup_order)
def order_question(order_id: str) -> dict:
    return {"order_id": order_id}


result = bot.run(order_question("o-1"))
assert result.status == "completed", result.status
assert [(e.tool, e.status) for e in result.events] == [("lookup_order", "executed")], result
'''


def test_a_plain_governed_bot_runs_without_the_heavy_parts() -> None:
    """Bot + @action, governed by the default policy, one tool round: nothing heavy loads."""
    modules = _modules_after(PLAIN_BOT)
    assert "openai_trigger_bot.bot" in modules
    assert "openai_trigger_bot.governance.gate" in modules  # the call was governed
    assert _heavy(modules, (*HEAVY, "openai_trigger_bot.cli", "openai_trigger_bot.testing")) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["policy", "--help"],
        ["policy", "test", "--help"],
        ["policy", "explain", "--help"],
        ["serve", "--help"],
        ["demo", "--help"],
    ],
)
def test_cli_help_loads_no_heavy_module(argv: list[str]) -> None:
    code = (
        "import contextlib, io\n"
        "from openai_trigger_bot.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "assert out.getvalue().startswith('usage: trigger-bot'), out.getvalue()\n"
    )
    modules = _modules_after(code)
    # explain's --enforcement choices come from governance.decision (pydantic) when shown
    extra = () if "explain" in argv else ("pydantic", "openai_trigger_bot.governance")
    assert _heavy(modules, (*HEAVY_FOR_HELP, *extra)) == []


def test_explain_enforcement_choices_are_still_checked_and_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from openai_trigger_bot.cli import build_parser, main

    parser = build_parser()
    args = parser.parse_args(["policy", "explain", "p", "x.json", "--enforcement", "shadow"])
    assert args.enforcement == "shadow"
    with pytest.raises(SystemExit):
        parser.parse_args(["policy", "explain", "p", "x.json", "--enforcement", "loose"])
    assert "invalid choice: 'loose'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["policy", "explain", "--help"])
    assert "advisory, review, enforced, shadow" in " ".join(capsys.readouterr().out.split())


def _packages() -> list[str]:
    found = ["openai_trigger_bot"]
    for info in pkgutil.walk_packages(openai_trigger_bot.__path__, "openai_trigger_bot."):
        if info.ispkg:
            found.append(info.name)
    return found


CHECK_EXPORTS = """
import importlib, json, sys
names = json.loads(sys.argv[1])
packages = {name: importlib.import_module(name) for name in names}
# before anything is resolved: the names a package offers lazily are dir() minus its globals
lazy = {name: set(dir(p)) - set(vars(p)) for name, p in packages.items()}
problems = []
for name, package in packages.items():
    exported = getattr(package, "__all__", None)
    if exported is None:
        if not name.rsplit(".", 1)[-1].startswith("_"):  # private packages need none
            problems.append(f"{name}: no __all__")
        continue
    if len(set(exported)) != len(exported):
        problems.append(f"{name}: a name is listed twice in __all__")
    for missing in sorted(lazy[name] - set(exported)):
        problems.append(f"{name}.{missing}: offered lazily but not in __all__")
    for export in exported:
        if export not in dir(package):
            problems.append(f"{name}.{export}: not in dir()")
        try:
            getattr(package, export)
        except Exception as exc:
            problems.append(f"{name}.{export}: {type(exc).__name__}: {exc}")
print("PROBLEMS " + json.dumps(problems))
"""


def test_every_name_in_all_of_every_package_resolves_in_a_fresh_interpreter() -> None:
    packages = _packages()
    assert {"openai_trigger_bot.governance.rules", "openai_trigger_bot.server"} <= set(packages)
    done = subprocess.run(
        [sys.executable, "-c", CHECK_EXPORTS, json.dumps(packages)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBLEMS "))
    assert json.loads(line[len("PROBLEMS ") :]) == []


def test_a_lazy_name_is_the_defining_modules_object() -> None:
    from openai_trigger_bot import bot, governance
    from openai_trigger_bot.governance import gate

    assert openai_trigger_bot.Bot is bot.Bot
    assert governance.Governance is gate.Governance
    assert "Bot" in vars(openai_trigger_bot)  # cached: later lookups skip __getattr__


def test_an_unknown_name_is_an_attribute_error_and_an_import_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        openai_trigger_bot.Nope  # noqa: B018
    with pytest.raises(ImportError, match="Nope"):
        exec("from openai_trigger_bot import Nope", {})


def test_a_name_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'X' is listed under \.a and \.b"):
        lazy_exports("pkg", {}, {".a": ("X",), ".b": ("X",)})
