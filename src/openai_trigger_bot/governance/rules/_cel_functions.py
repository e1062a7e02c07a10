"""Which functions a ``when:`` condition may call: those the installed ``cel`` package runs.

The ``cel`` package compiles a call to any name (``args.l.sort()``, ``"A".lowerAscii()``) and
fails only when the program runs, so a condition calling a function it does not provide passed
``policy check`` and then failed on every decision. The engine refuses such a condition at load
instead, like an unknown variable.

The allowed set is not a list written from the CEL specification: it is probed from the
installed package. Each probe is a small expression that calls one function (or uses one
operator) correctly; every probe that compiles and runs adds the functions and operators it
references (``program.references()["functions"]``). A newer ``cel`` that adds ``sort`` makes
``sort`` allowed without a change here; one that drops a function makes it a load error rather
than a runtime failure. A name missing from the probes is refused (a clear load error), never
let through.
"""

from __future__ import annotations

import functools
import re
from typing import Final

import cel

from ._cel_scan import STEP_FUNCTION

__all__ = ["PROBES", "call_line", "is_operator", "supported_functions"]

_T: Final = 'timestamp("2020-01-02T03:04:05Z")'
_D: Final = 'duration("3723s")'

PROBES: Final[tuple[str, ...]] = (
    # operators (what the parser emits for them) and the macros' expansions
    "1 + 1 == 2",
    "2 - 1 != 0",
    "2 * 2 < 5",
    "4 / 2 <= 2",
    "5 % 2 > 0",
    "1 >= 1",
    "-(1) < 0",
    "!false",
    "true && true",
    "false || true",
    "true ? true : false",
    "[1][0] == 1",
    '{"a": 1}["a"] == 1',
    "1 in [1]",
    "[1].exists(x, x == 1)",
    "[1].all(x, x == 1)",
    "[1].exists_one(x, x == 1)",
    "[1].existsOne(x, x == 1)",
    "[1].map(x, x).size() == 1",
    "[1].map(x, x > 0, x).size() == 1",
    "[1].filter(x, x == 1).size() == 1",
    # the CEL standard library
    'size("a") == 1',
    '"a".size() == 1',
    '"ab".contains("a")',
    '"ab".startsWith("a")',
    '"ab".endsWith("b")',
    '"ab".matches("a")',
    'matches("ab", "a")',
    'int("1") == 1',
    "uint(1) == 1u",
    "double(1) == 1.0",
    'string(1) == "1"',
    'bytes("a") == b"a"',
    'bool("true")',
    "dyn(1) == 1",
    "type(1) == type(2)",
    f'{_D} > duration("1s")',
    f'{_T} > timestamp("2019-01-01T00:00:00Z")',
    *(
        f"{_T}.{getter}() >= 0"
        for getter in (
            "getFullYear",
            "getMonth",
            "getDayOfYear",
            "getDayOfMonth",
            "getDate",
            "getDayOfWeek",
            "getHours",
            "getMinutes",
            "getSeconds",
            "getMilliseconds",
        )
    ),
    *(
        f"{_D}.{getter}() >= 0"
        for getter in ("getHours", "getMinutes", "getSeconds", "getMilliseconds")
    ),
    # extensions other CEL implementations ship (cel-go's strings and lists, Kubernetes')
    '"ab".charAt(0) == "a"',
    '"ab".indexOf("b") == 1',
    '"ab".lastIndexOf("b") == 1',
    '"A".lowerAscii() == "a"',
    '"a".upperAscii() == "A"',
    '"ab".replace("a", "b") == "bb"',
    '"a,b".split(",").size() == 2',
    '"ab".substring(1) == "b"',
    '" a ".trim() == "a"',
    '["a"].join(",") == "a"',
    '"ab".reverse() == "ba"',
    '"%s".format(["a"]) == "a"',
    "[2, 1].sort() == [1, 2]",
    "[1, 1].distinct() == [1]",
    "[[1]].flatten() == [1]",
    "[1, 2].slice(0, 1) == [1]",
    "[1].reverse() == [1]",
    "[1].isSorted()",
    "[1, 2].max() == 2",
    "[1, 2].min() == 1",
    "[1, 2].sum() == 3",
    "max(1, 2) == 2",
    "min(1, 2) == 1",
)
"""One correct call of each candidate function or operator.

Optional values (``optional.of(x).orValue(y)``) are left out: a condition cannot reach them
(``optional`` is not one of its variables, and ``cel`` does not parse ``a.?b``), so their
methods (``value()``, ``or()``...) would only let a wrong call through to run time."""

_OPERATOR: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def supported_functions() -> frozenset[str]:
    """Every function and operator name the installed ``cel`` package runs, plus the cost
    counter ``_budget_step`` the engine itself supplies to instrumented conditions."""
    found = {STEP_FUNCTION}
    for probe in PROBES:
        try:
            program = cel.compile(probe)
            program.execute(cel.Context())
        except Exception:  # not provided (or not working): leave its names out
            continue
        found.update(program.references()["functions"])
    return frozenset(found)


def is_operator(name: str) -> bool:
    """Whether a referenced name is an operator (``_+_``, ``@in``...) rather than a function."""
    return _OPERATOR.match(name) is None


def call_line(source: str, name: str) -> int:
    """The 1-based line of the expression where ``name(`` is first called (1 if not found)."""
    found = re.search(rf"(?<![\w$]){re.escape(name)}\s*\(", source)
    return source.count("\n", 0, found.start()) + 1 if found else 1
