"""Terminal output of the ``trigger-bot`` command: rich tables that fit the width and wrap.

Every table the CLI prints is built by :func:`table` and written by :func:`emit`:

- it fits the console's width (the terminal's; when the output is not a terminal, ``COLUMNS``
  or 80), and a cell too long for its column wraps at spaces, or folds inside a long word — it
  is never cut, and no ``…`` ever replaces text;
- on a terminal the header is bold and underlined with a rule; when the output is not a
  terminal (a pipe, a file) there are no ANSI codes (rich turns colour off) and the only
  drawing is a line of ``-`` under the header, so ``grep`` sees the cells and nothing else;
- no line ends with spaces (rich pads cells to their column; :func:`emit` trims that padding);
- lines of text outside tables (problems, summaries) wrap at spaces only, never inside a word.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import IO

from rich import box
from rich.console import Console, RenderableType
from rich.table import Column, Table
from rich.text import Text

__all__ = ["emit", "make_console", "table"]

# The head row drawn with ASCII '-' only, no verticals: the plain (non-terminal) table style.
_PLAIN = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)

SHORT_COLUMN = 30
"""Columns whose longest cell is at most this wide are narrowed last."""

MIN_LONG_COLUMN = 16
"""Below this width for each long column, a table is printed as records."""

_SGR = re.compile(r"\x1b\[[0-9;]*m")
_LINE_TAIL = re.compile(r"(?:\x1b\[[0-9;]*m| )+$", re.MULTILINE)


def make_console(file: IO[str] | None = None, *, width: int | None = None) -> Console:
    """A console for CLI output.

    Args:
        file: Where to write (default: ``sys.stdout``, looked up at each write).
        width: Columns to fit (default: the terminal's width; ``COLUMNS`` or 80 when the output
            is not a terminal).
    """
    return Console(
        file=file,
        width=width,
        highlight=False,  # no guessed colours on numbers and paths
        markup=False,  # user text such as "[rule-a, rule-b]" is text, not markup
        emoji=False,
        soft_wrap=False,
    )


def _grid(console: Console, columns: Sequence[Column]) -> Table:
    terminal = console.is_terminal
    return Table(
        *columns,
        box=box.SIMPLE_HEAD if terminal else _PLAIN,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold" if terminal else None,
    )


def _column(header: str, natural: int) -> Column:
    return Column(
        header,
        # A short column (a name, a status, a number) keeps its width while the long ones
        # wrap; rich narrows it only when nothing else is left to narrow.
        width=natural if natural <= SHORT_COLUMN else None,
        overflow="fold",  # a word longer than its column folds onto the next line
        no_wrap=False,
    )


def table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table of plain text cells that wraps (never cuts) to the console's width.

    When the console is too narrow to give every long column :data:`MIN_LONG_COLUMN`
    characters, each row becomes a record instead: one ``header  value`` line per cell and an
    empty line between records (a two-column table, so values still wrap).

    Args:
        console: The console it will be printed on (its width and whether it is a terminal
            decide the layout and the style).
        headers: Column titles.
        rows: Cell texts, one sequence per row (as many cells as headers). Runs of
            whitespace, newlines included, become one space.
    """
    texts = [[Text(" ".join(str(cell).split())) for cell in row] for row in rows]
    naturals = [
        max([len(header), *(row[i].cell_len for row in texts)]) for i, header in enumerate(headers)
    ]
    needed = sum(n if n <= SHORT_COLUMN else MIN_LONG_COLUMN for n in naturals)
    if needed + 2 * (len(headers) - 1) <= console.width:
        grid = _grid(console, [_column(h, n) for h, n in zip(headers, naturals, strict=True)])
        for row in texts:
            grid.add_row(*row)
        return grid
    label = max(len(header) for header in headers)
    records = _grid(console, [_column("field", label), _column("value", console.width)])
    for index, row in enumerate(texts):
        if index:
            records.add_row("", "")
        for header, cell in zip(headers, row, strict=True):
            records.add_row(Text(header), cell)
    return records


def emit(console: Console, *renderables: RenderableType | str) -> None:
    """Print renderables without spaces at the ends of lines.

    Strings are printed as plain text that wraps at spaces only: a word longer than the line
    (a path in ``file:line: problem``) stays whole, so ``grep`` finds it. Tables wrap their
    cells to the width.
    """
    with console.capture() as capture:
        for item in renderables:
            if isinstance(item, str):  # rich folds long words; textwrap can leave them whole
                for line in item.splitlines() or [""]:
                    wrapped = textwrap.wrap(
                        line, console.width, break_long_words=False, break_on_hyphens=False
                    )
                    console.print(Text("\n".join(wrapped or [""])), soft_wrap=True)
            else:
                console.print(item)
    text = _LINE_TAIL.sub(lambda m: "".join(_SGR.findall(m.group())), capture.get())
    console.file.write(text)
    console.file.flush()
