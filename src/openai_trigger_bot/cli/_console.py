"""Terminal output of the ``trigger-bot`` command: rich tables that fit the width and wrap.

Every table the CLI prints is built by :func:`table` and written by :func:`emit`:

- it fits the console's width (the terminal's; when the output is not a terminal, ``COLUMNS``
  or 80), and a cell too long for its column wraps at spaces — it is never cut, and no ``…``
  ever replaces text;
- a word longer than its column folds onto the next line on a terminal; when the output is not
  a terminal (a pipe, a file) no word is ever split, so ``grep`` finds every word: columns are
  made at least as wide as their longest word (lines get longer than the width when these do
  not fit), and a word longer than the last column stays whole on a line of its own, past the
  width;
- on a terminal the header is bold and underlined with a rule; when the output is not a
  terminal there are no ANSI codes (rich turns colour off) and the only drawing is a line of
  ``-`` under the header, so ``grep`` sees the cells and nothing else;
- no line ends with spaces (rich pads cells to their column; :func:`emit` trims that padding);
- lines of text outside tables (problems, summaries) wrap at spaces only, never inside a word.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import IO

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Column, Table
from rich.text import Text

__all__ = ["emit", "make_console", "table"]

# No drawing at all: the plain (non-terminal) table draws its rule as a row of '-'.
_PLAIN = box.Box("    \n    \n    \n    \n    \n    \n    \n    \n", ascii=True)

SHORT_COLUMN = 30
"""Columns whose longest cell is at most this wide are narrowed last."""

MIN_LONG_COLUMN = 16
"""Below this width for each long column, a table is printed as records."""

_GAP = 3
"""Characters between two columns: the right padding, the separator, the left padding."""

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


def _grid(columns: Sequence[Column]) -> Table:
    """A terminal table: bold header, a rule under it, rich fits it to the width."""
    return Table(
        *columns,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold",
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
    empty line between records (a two-column table, so values still wrap). When the console is
    not a terminal no word is split (see :func:`_plain_table`).

    Args:
        console: The console it will be printed on (its width and whether it is a terminal
            decide the layout and the style).
        headers: Column titles.
        rows: Cell texts, one sequence per row (as many cells as headers). Runs of
            whitespace, newlines included, become one space.
    """
    cells = [[" ".join(str(cell).split()) for cell in row] for row in rows]
    if not console.is_terminal:
        return _plain_table(console, headers, cells)
    texts = [[Text(cell) for cell in row] for row in cells]
    naturals = [
        max([len(header), *(row[i].cell_len for row in texts)]) for i, header in enumerate(headers)
    ]
    if _fits_as_table(naturals, console.width):
        grid = _grid([_column(h, n) for h, n in zip(headers, naturals, strict=True)])
        for row in texts:
            grid.add_row(*row)
        return grid
    label = max(len(header) for header in headers)
    records = _grid([_column("field", label), _column("value", console.width)])
    for index, row in enumerate(texts):
        if index:
            records.add_row("", "")
        for header, cell in zip(headers, row, strict=True):
            records.add_row(Text(header), cell)
    return records


def _fits_as_table(naturals: Sequence[int], width: int) -> bool:
    """Whether short columns keep their width and long ones get :data:`MIN_LONG_COLUMN`."""
    needed = sum(n if n <= SHORT_COLUMN else MIN_LONG_COLUMN for n in naturals)
    return needed + 2 * (len(naturals) - 1) <= width


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _share(room: int, lows: Sequence[int], highs: Sequence[int]) -> list[int]:
    """Widths between ``lows`` and ``highs``, as even as possible, summing to at most ``room``.

    Water-filling: every width is ``level`` clamped to its bounds, for the largest level that
    fits; what is left goes one character at a time to the first widths still below their
    high. When even the lows do not fit, the lows are returned.
    """
    if sum(highs) <= room:
        return list(highs)

    def at(level: int) -> list[int]:
        return [min(max(level, low), high) for low, high in zip(lows, highs, strict=True)]

    low_level, high_level = 0, max(highs)
    while low_level < high_level:
        middle = (low_level + high_level + 1) // 2
        if sum(at(middle)) <= room:
            low_level = middle
        else:
            high_level = middle - 1
    widths = at(low_level)
    spare = room - sum(widths)
    for i, high in enumerate(highs):
        if spare > 0 and widths[i] < high:
            widths[i] += 1
            spare -= 1
    return widths


def _plain_table(console: Console, headers: Sequence[str], rows: list[list[str]]) -> Table:
    """The table for output that is not a terminal: words are never split.

    The layout (table or records) is chosen as on a terminal. Short columns keep their width;
    long ones share the rest, as evenly as possible, each at least as wide as its longest word
    — except the last, which gets at least :data:`MIN_LONG_COLUMN` (or its natural width) and
    whose longer words stick out past the width on lines of their own. When the columns'
    longest words do not fit the width, the table is as wide as they need: lines get longer
    than the width, and a row still starts on one line. Cells are wrapped here, at spaces only.
    """
    width = console.width
    naturals = [
        max([cell_len(h), *(cell_len(row[i]) for row in rows)]) for i, h in enumerate(headers)
    ]
    if not _fits_as_table(naturals, width):
        label = max(cell_len(header) for header in headers)
        records: list[list[str]] = []
        for index, row in enumerate(rows):
            if index:
                records.append(["", ""])
            records += [[header, cell] for header, cell in zip(headers, row, strict=True)]
        value = max(1, width - label - _GAP)
        return _wrapped_grid(["field", "value"], records, [label, value])
    long = [i for i, natural in enumerate(naturals) if natural > SHORT_COLUMN]
    lows = [
        max([_longest_word(headers[i]), *(_longest_word(row[i]) for row in rows)]) for i in long
    ]
    if long and long[-1] == len(headers) - 1:
        lows[-1] = min(naturals[-1], MIN_LONG_COLUMN)
    room = width - _GAP * (len(headers) - 1) - sum(naturals) + sum(naturals[i] for i in long)
    widths = list(naturals)
    for i, share in zip(long, _share(room, lows, [naturals[i] for i in long]), strict=True):
        widths[i] = share
    return _wrapped_grid(headers, rows, widths)


def _wrapped_grid(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: list[int]
) -> Table:
    """A plain table whose cells are wrapped at ``widths``, at spaces only.

    Each column is as wide as its widest line, so rich neither wraps, folds nor crops. The
    rule under the header is drawn as a row of ``-`` as wide as the lines that fit ``widths``:
    a long word sticking out of the last column does not lengthen it.
    """

    def wrap(text: str, width: int) -> list[str]:
        return textwrap.wrap(text, max(1, width), break_long_words=False, break_on_hyphens=False)

    head = [wrap(h, w) for h, w in zip(headers, widths, strict=True)]
    body = [[wrap(cell, w) for cell, w in zip(row, widths, strict=True)] for row in rows]
    lines = [
        [cell_len(line) for cell in [head[i], *(row[i] for row in body)] for line in cell]
        for i in range(len(headers))
    ]
    actual = [max(column, default=1) for column in lines]
    rules = [
        max((n for n in column if n <= w), default=w)
        for column, w in zip(lines, widths, strict=True)
    ]
    grid = Table(
        *(Column(width=w, no_wrap=True, overflow="ignore") for w in actual),
        box=_PLAIN,
        show_header=False,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
    )
    grid.width = sum(actual) + _GAP * (len(actual) - 1)
    for row in [head, [["-" * n] for n in rules], *body]:
        grid.add_row(*(Text("\n".join(cell)) for cell in row))
    return grid


def emit(console: Console, *renderables: RenderableType | str) -> None:
    """Print renderables without spaces at the ends of lines.

    Strings are printed as plain text that wraps at spaces only: a word longer than the line
    (a path in ``file:line: problem``) stays whole, so ``grep`` finds it. Tables wrap their
    cells to the width; when the output is not a terminal nothing is cropped at the width
    either (a table's long word may stick out, see :func:`table`).
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
                console.print(item, crop=console.is_terminal)
    text = _LINE_TAIL.sub(lambda m: "".join(_SGR.findall(m.group())), capture.get())
    console.file.write(text)
    console.file.flush()
