"""The one error style of the ``trigger-bot`` command.

A command that cannot do what it was asked prints one line on standard error and exits with
status 2, the status argparse uses for a wrong command line::

    trigger-bot policy test: error: the policy directory or file policies does not exist; pass
    one (the default is policies), or create it with: trigger-bot policy init policies

that is ``<command>: error: <what is wrong>; <what to do>``, the same shape as argparse's own
usage errors. Details that cannot fit one line (the problems of a broken policy file, each as
``file:line: what``) follow it, indented. Status 1 is kept for a command that ran and found
something wrong (a failed policy test, a problem in a policy file).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["EXIT_ERROR", "CliError", "describe_validation_error", "print_error"]

EXIT_ERROR = 2
"""The exit status of a command that could not run."""


class CliError(Exception):
    """A command cannot run: what is wrong and what to do about it.

    Args:
        what: What is wrong, naming the path or value concerned.
        fix: What the user can do about it.
        details: Further lines (for example ``file:line: problem``), printed indented.
    """

    def __init__(self, what: str, fix: str, details: Sequence[str] = ()) -> None:
        super().__init__(f"{what}; {fix}")
        self.what = what
        self.fix = fix
        self.details = tuple(details)


def print_error(prog: str, error: CliError, file: TextIO | None = None) -> int:
    """Print ``error`` in the CLI's error style and return :data:`EXIT_ERROR`.

    Args:
        prog: The command, as argparse names it (``trigger-bot policy test``).
        error: What went wrong.
        file: Where to print (default: ``sys.stderr``).
    """
    out = file if file is not None else sys.stderr
    print(f"{prog}: error: {error.what}; {error.fix}", file=out)
    for line in error.details:
        print(f"  {line}", file=out)
    return EXIT_ERROR


def describe_validation_error(exc: ValidationError, *, rename: dict[str, str] | None = None) -> str:
    """A pydantic error as one short line, without its input dump and documentation URL.

    Args:
        exc: The error.
        rename: Field names to show under another name (the model's ``arguments`` is the
            file's ``args``, for example).

    Returns:
        For example ``action: field required; value: input should be a valid number``.
    """
    names = rename or {}
    parts = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(names.get(str(p), str(p)) for p in err["loc"]) or "(the whole value)"
        message = err["msg"][:1].lower() + err["msg"][1:]
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
