"""CLI tables fit the width, wrap instead of cutting, and stay plain when not on a terminal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from openai_trigger_bot import RunResult
from openai_trigger_bot._json import dumps
from openai_trigger_bot.cli import _load_example, main
from openai_trigger_bot.cli._console import emit, make_console, table
from openai_trigger_bot.cli.report import print_run

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (60, 100, 200)


@pytest.fixture(scope="module")
def demo_result() -> RunResult:
    result: RunResult = _load_example("access_requests").run_demo()
    return result


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _columns(out: str) -> Iterator[str]:
    """Each table column's text, read top to bottom with whitespace removed.

    A table's columns are the runs of ``-`` in the line under its header; everything below
    that line (to the next table) is cut into those spans, so a cell wrapped over several
    lines reads back whole.
    """
    lines = out.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() and set(line) <= {"-", " "}]
    assert rules, out
    for n, i in enumerate(rules):
        body = lines[i + 1 : rules[n + 1] if n + 1 < len(rules) else len(lines)]
        spans, start = [], None
        for pos, char in enumerate(lines[i] + " "):
            if char == "-" and start is None:
                start = pos
            elif char != "-" and start is not None:
                spans.append((start, pos + 1))  # the gap holds the cell's right padding
                start = None
        for a, b in spans:
            yield _squeeze("".join(line[a:b] for line in body))


def _plain_checks(out: str, width: int) -> None:
    lines = out.splitlines()
    assert max(map(len, lines)) <= width
    assert "…" not in out
    assert "\x1b" not in out
    assert [line for line in lines if line != line.rstrip()] == []
    assert not any(char in out for char in "─━│┃┏┡└┌"), "box drawing in plain output"


def _demo_values(result: RunResult) -> list[str]:
    values = []
    for e in result.events:
        d = e.decision
        values += [e.tool, e.status, e.message_to_model, dumps(e.arguments) if e.arguments else ""]
        if d is not None:
            values += [d.recommendation, *d.matched_rules, d.reason]
    for m in result.model_calls:
        values += [m.response_id or "", *m.tool_calls]
    return [v for v in values if v]


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_report_fits_wraps_and_keeps_every_value(demo_result: RunResult, width: int) -> None:
    buf = io.StringIO()
    print_run(demo_result, make_console(buf, width=width))
    out = buf.getvalue()
    _plain_checks(out, width)
    columns = "\n".join(_columns(out))
    missing = [v for v in _demo_values(demo_result) if _squeeze(v) not in columns]
    assert missing == [], out


def test_demo_follows_columns_when_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    _plain_checks(out, 72)
    assert "approval_required" in out


def test_a_long_word_folds_instead_of_being_cut() -> None:
    word = "x" * 150 + "END"
    buf = io.StringIO()
    console = make_console(buf, width=40)
    emit(console, table(console, ["name", "value"], [["a", word], ["b", "short"]]))
    out = buf.getvalue()
    _plain_checks(out, 40)
    assert _squeeze(word) in "\n".join(_columns(out))


def test_on_a_terminal_there_is_style_but_no_trailing_space() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=80, force_terminal=True, color_system="standard")
    emit(console, table(console, ["tool", "outcome"], [["lookup_user", "executed"]]))
    out = buf.getvalue()
    assert "\x1b[" in out  # bold header on a terminal
    assert all(not line.endswith(" ") for line in out.splitlines())


@pytest.mark.parametrize("width", WIDTHS)
def test_policy_test_and_explain_fit_the_width(
    width: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["policy", "test", str(ROOT / "policies")]) == 0
    out = capsys.readouterr().out
    _plain_checks(out, width)
    columns = "\n".join(_columns(out))
    assert _squeeze("an 800 EUR refund needs review") in columns
    assert _squeeze(f"{ROOT / 'policies' / 'refunds.yaml'}:") in columns

    proposal = tmp_path / "p.json"
    proposal.write_text('{"action": "issue_refund", "value": 800, "target": "cus-1"}')
    assert main(["policy", "explain", str(ROOT / "policies"), str(proposal), "--all"]) == 0
    out = capsys.readouterr().out
    _plain_checks(out, width)
    assert _squeeze("value != null && value > 500") in "\n".join(_columns(out))


def test_text_lines_wrap_at_spaces_and_never_split_a_path() -> None:
    import io

    from openai_trigger_bot.cli._console import emit, make_console

    out = io.StringIO()
    path = "/srv/" + "very-long-directory-name/" * 4 + "deny.yaml"
    console = make_console(out, width=40)
    emit(console, f"{path}:3: dangling symlink: it points to nothing at all", "  indented line")
    lines = out.getvalue().splitlines()
    assert f"{path}:3:" in lines  # whole, on a line of its own, though longer than 40
    assert all(len(line) <= 40 for line in lines if path not in line)
    assert (
        " ".join(lines[:-1]).split()
        == f"{path}:3: dangling symlink: it points to nothing at all".split()
    )
    assert lines[-1] == "  indented line"
    assert not any(line.endswith(" ") for line in lines)
