"""Lazy package exports (PEP 562): a package names its public API without importing it.

A package ``__init__`` lists where each exported name lives and hands its module
``__getattr__`` and ``__dir__`` to :func:`lazy_exports`; the defining module is imported on
the first access of one of its names, and the value is then cached in the package's namespace
(so later accesses are plain attribute lookups). Type checkers see the same names through
``if TYPE_CHECKING:`` imports beside the table::

    if TYPE_CHECKING:
        from .bot import Bot

    __getattr__, __dir__ = lazy_exports(__name__, globals(), {".bot": ("Bot",)})

This keeps ``import openai_trigger_bot`` (and ``trigger-bot --help``) from loading numpy, CEL,
the HTTP server or the remote-evaluator stack for users who never touch them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` that import each exported name on first use.

    Args:
        package: The package's ``__name__`` (relative module names resolve against it).
        namespace: The package's ``globals()``; a resolved name is stored there.
        exports: Defining module (``".bot"``, relative or absolute) → the names it exports.

    Raises:
        ValueError: A name is listed under two modules.
    """
    where: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is listed under {where[name]} and {module}")
            where[name] = module

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
