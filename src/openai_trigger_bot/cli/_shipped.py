"""Files that ship with the project: the example bots and the policy library.

In a wheel they sit inside the package (``openai_trigger_bot/_examples`` and
``openai_trigger_bot/_policies``, put there by the ``force-include`` table of
``pyproject.toml``); in a source checkout (an editable install) they are the repository's own
``examples/`` and ``policies/`` folders, which stay the source of truth.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["shipped_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path | None:
    """The folder of shipped files called ``name`` (``examples`` or ``policies``).

    Returns:
        The folder inside the installed package, else the checkout's folder, else ``None``.
    """
    candidates = [_PACKAGE / f"_{name}"]
    if _PACKAGE.parent.name == "src":  # a checkout: <repo>/src/openai_trigger_bot
        candidates.append(_PACKAGE.parents[1] / name)
    return next((folder for folder in candidates if folder.is_dir()), None)
