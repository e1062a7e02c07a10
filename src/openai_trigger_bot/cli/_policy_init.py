"""``trigger-bot policy init [DIR]``: copy the shipped policy library into a folder to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

from ._errors import CliError
from ._shipped import shipped_dir

__all__ = ["LIBRARY_SUFFIXES", "init_policies", "library_files"]

LIBRARY_SUFFIXES = (".yaml", ".yml", ".md")
"""The files of the policy library: the policy files (with their ``tests:``) and the README."""


def library_files() -> list[Path]:
    """The shipped policy library's files, sorted by name.

    Raises:
        CliError: This installation carries no policy library.
    """
    folder = shipped_dir("policies")
    files = (
        sorted(p for p in folder.iterdir() if p.suffix in LIBRARY_SUFFIXES and p.is_file())
        if folder is not None
        else []
    )
    if not files:
        raise CliError(
            "this installation of openai-trigger-bot carries no policy library",
            "reinstall the package (pip install --force-reinstall openai-trigger-bot)",
        )
    return files


def init_policies(target: Path, *, force: bool = False) -> list[Path]:
    """Copy the shipped policy library into ``target`` (created if missing).

    Nothing is written when a file would be overwritten and ``force`` is false: every clash
    is reported at once, and the folder stays as it was.

    Args:
        target: The folder to fill.
        force: Overwrite files of the same name.

    Returns:
        The files written, in order.

    Raises:
        CliError: ``target`` is not a folder, a file exists (without ``force``), or a file
            cannot be written.
    """
    files = library_files()
    if target.exists() and not target.is_dir():
        raise CliError(f"{target} exists and is not a directory", "choose another DIR")
    if target.is_dir() and target.resolve() == files[0].parent.resolve():
        raise CliError(
            f"{target} is the shipped policy library itself", "choose another DIR to copy it to"
        )
    clashes = [target / f.name for f in files if (target / f.name).exists()]
    if clashes and not force:
        raise CliError(
            f"{len(clashes)} file(s) already exist in {target}, nothing was written",
            "pass --force to overwrite them, or choose another DIR",
            [str(path) for path in clashes],
        )
    written = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for source in files:
            destination = target / source.name
            shutil.copyfile(source, destination)
            written.append(destination)
    except OSError as exc:
        done = f" ({len(written)} file(s) were written before)" if written else ""
        raise CliError(
            f"cannot write the policy library into {target}: {exc.strerror or exc}{done}",
            "check the folder's permissions, or choose another DIR",
            [str(path) for path in written],
        ) from exc
    return written
