"""CLI tables fit the width, wrap instead of cutting, and stay plain when not on a terminal.

When the output is not a terminal no word is ever split: a line may pass the width only with
the end of one word too long for its column, so ``grep`` finds every word.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from openai_trigger_bot import RunResult, cli
from openai_trigger_bot._json import dumps
from openai_trigger_bot.cli import _load_example, main
from openai_trigger_bot.cli._console import emit, make_console, table
from openai_trigger_bot.cli.report import print_run
from openai_trigger_bot.governance.rules.testing import run_policy_tests

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


def _is_rule(line: str) -> bool:
    return bool(line.strip()) and set(line) <= {"-", " "}


def _spans(rule: str) -> list[tuple[int, int]]:
    """The columns of a table: the runs of ``-`` in the line under its header."""
    spans, start = [], None
    for pos, char in enumerate(rule + " "):
        if char == "-" and start is None:
            start = pos
        elif char != "-" and start is not None:
            spans.append((start, pos))
            start = None
    return spans


def _tables(out: str) -> Iterator[tuple[str, list[str]]]:
    """Each table's rule line and the lines below it (to the next table)."""
    lines = out.splitlines()
    rules = [i for i, line in enumerate(lines) if _is_rule(line)]
    assert rules, out
    for n, i in enumerate(rules):
        yield lines[i], lines[i + 1 : rules[n + 1] if n + 1 < len(rules) else len(lines)]


def _columns(out: str) -> Iterator[str]:
    """Each table column's text, read top to bottom with whitespace removed.

    Everything below a table's rule (to the next table) is cut into its columns' spans, so a
    cell wrapped over several lines reads back whole. The last column runs to the end of the
    line: a word too long for it sticks out past the rule.
    """
    for rule, body in _tables(out):
        spans = _spans(rule)
        for n, (a, b) in enumerate(spans):
            end = b + 1 if n + 1 < len(spans) else None  # the gap holds the right padding
            yield _squeeze("".join(line[a:end] for line in body))


def _plain_checks(out: str, width: int) -> None:
    """Plain text, no trailing spaces, and nothing past the width but what words force.

    A table is wider than the width only when one of its columns (but the last) is exactly as
    wide as a word in it; past the table's width (or the width) a line holds at most the end
    of one word, with no space: a word too long for the last column, on a line of its own.
    """
    lines = out.splitlines()
    assert "…" not in out
    assert "\x1b" not in out
    assert [line for line in lines if line != line.rstrip()] == []
    assert not any(char in out for char in "─━│┃┏┡└┌"), "box drawing in plain output"
    for rule, body in _tables(out):
        if len(rule) > width:
            spans = _spans(rule)[:-1]
            words = [{len(w) for line in body for w in line[a:b].split()} for a, b in spans]
            assert any(b - a in lengths for (a, b), lengths in zip(spans, words, strict=True)), rule
        limit = max(width, len(rule))
        assert [line for line in body if " " in line[limit:]] == [], out


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


def test_a_long_word_stays_whole_when_piped() -> None:
    word = "x" * 150 + "END"
    buf = io.StringIO()
    console = make_console(buf, width=40)
    emit(console, table(console, ["name", "value"], [["a", word], ["b", "short words " * 5]]))
    out = buf.getvalue()
    _plain_checks(out, 40)
    lines = out.splitlines()
    assert any(line.endswith(f"   {word}") for line in lines), out  # whole, on one line
    assert all(len(line) <= 40 for line in lines if word not in line), out
    assert _squeeze(word) in "\n".join(_columns(out))


def test_a_word_too_long_for_a_middle_column_widens_the_table_when_piped() -> None:
    path = "/srv/" + "very-long-directory-name/" * 3 + "deny.yaml:12"
    why = "the amount is over 500 and the customer is new"
    buf = io.StringIO()
    console = make_console(buf, width=60)
    emit(console, table(console, ["result", "where", "why"], [["MATCH", path, why]]))
    out = buf.getvalue()
    _plain_checks(out, 60)
    lines = out.splitlines()
    assert re.fullmatch(rf"MATCH +{re.escape(path)} +the amount is", lines[2]), out
    start = lines[2].index("the amount")
    assert [line[start:] for line in lines[2:]] == [
        "the amount is",
        "over 500 and the",
        "customer is new",
    ]


def test_a_long_word_folds_on_a_terminal() -> None:
    word = "x" * 150 + "END"
    buf = io.StringIO()
    console = Console(file=buf, width=40, force_terminal=True, color_system="standard")
    emit(console, table(console, ["name", "value"], [["a", word], ["b", "short"]]))
    lines = re.sub(r"\x1b\[[0-9;]*m", "", buf.getvalue()).splitlines()
    assert max(map(len, lines)) <= 40
    assert "…" not in "".join(lines) and _squeeze(word) in _squeeze("".join(lines))


def _words_by_section(result: RunResult) -> dict[str, list[str]]:
    """Every word the demo report must show, by the section (table) that shows it."""
    model_calls = [m.response_id or "" for m in result.model_calls]
    model_calls += [name for m in result.model_calls for name in m.tool_calls]
    tool_calls = [v for v in _demo_values(result) if v not in model_calls]
    return {
        "Model calls": [w for v in model_calls for w in v.split()],
        "Tool calls": [w for v in tool_calls for w in v.split()],
    }


@pytest.mark.parametrize("width", (40, 60, 72, 80, 100, 200))
def test_piped_demo_is_greppable_for_every_tool_name_and_value_word(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    printed: list[RunResult] = []

    def recording_print_run(result: RunResult, console: Console | None = None) -> None:
        printed.append(result)
        print_run(result, console)

    monkeypatch.setattr(cli.report, "print_run", recording_print_run)  # demo imports it late
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["demo"]) == 0  # captured: not a terminal, as in `trigger-bot demo | grep`
    out = capsys.readouterr().out
    _plain_checks(out, width)
    _, model_calls = out.split("\nModel calls\n", 1)
    model_calls, tool_calls = model_calls.split("\nTool calls (", 1)
    sections = {"Model calls": model_calls, "Tool calls": tool_calls}
    (result,) = printed  # the suspended run (the resumed one is printed as records)
    for name, words in _words_by_section(result).items():
        lines = sections[name].splitlines()
        missing = [w for w in words if not any(w in line for line in lines)]  # grep -F w
        assert missing == [], f"{name} at width {width}:\n{sections[name]}"
    assert any("rotate_credentials" in line for line in model_calls.splitlines())


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


@pytest.mark.parametrize("width", (40, 60, 80))
def test_piped_policy_test_is_greppable_for_every_word(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = ROOT / "policies"
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["policy", "test", str(policies)]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = run_policy_tests(policies)
    words = [w for r in report.results for w in (*r.name.split(), f"{r.path}:{r.line}")]
    assert [w for w in words if not any(w in line for line in lines)] == []


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
