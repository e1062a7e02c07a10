"""The ``store`` fixture: every behaviour test runs against each RunStore implementation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openai_trigger_bot.runs import RunStore

from ._helpers import KINDS, make_store


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    with make_store(request.param, tmp_path) as opened:
        yield opened
