"""Deeply nested JSON bodies: every JSON endpoint answers 400 ``too_deep`` and stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from openai_trigger_bot.governance import ExecutionEvent
from openai_trigger_bot.server import create_app
from openai_trigger_bot.server.native import MAX_JSON_DEPTH, ProtocolError, parse_json

from .conftest import PROTOCOL, SHIPPED_POLICIES, TOKEN


def nested(depth: int) -> str:
    """A JSON value that is ``depth`` levels deep: ``[[...]]`` around ``{"k": 1}``."""
    return "[" * (depth - 1) + '{"k": 1}' + "]" * (depth - 1)


def _event(key: str, value: str) -> str:
    event = ExecutionEvent(tool="issue_refund", call_id=key, status="executed")
    data = event.model_dump(mode="json", exclude={"arguments"})
    return json.dumps(data)[:-1] + f', "arguments": {{"x": {value}}}}}'


# Each endpoint's body with the nested value where a client's data goes, and the nesting the
# envelope adds above that value.
BODIES: dict[str, tuple[int, Callable[[str], str]]] = {
    "/v1/decisions": (
        3,
        lambda v: (
            f'{{"protocol": "{PROTOCOL}", "proposal": '
            f'{{"action": "issue_refund", "arguments": {{"x": {v}}}}}}}'
        ),
    ),
    "/v1/decisions:batch": (
        4,
        lambda v: (
            f'{{"protocol": "{PROTOCOL}", "proposals": '
            f'[{{"action": "issue_refund", "arguments": {{"x": {v}}}}}]}}'
        ),
    ),
    "/v1/reports": (
        5,
        lambda v: (
            f'{{"protocol": "{PROTOCOL}", "reports": '
            f'[{{"idempotency_key": "k-1", "event": {_event("k-1", v)}}}]}}'
        ),
    ),
    "/access/v1/evaluation": (
        4,
        lambda v: (
            f'{{"action": {{"name": "issue_refund", "properties": {{"arguments": {{"x": {v}}}}}}}}}'
        ),
    ),
    "/access/v1/evaluations": (
        6,
        lambda v: (
            '{"evaluations": [{"action": {"name": "issue_refund", "properties": '
            f'{{"arguments": {{"x": {v}}}}}}}}}]}}'
        ),
    ),
}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "r.db", reload_interval=0)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


def test_every_json_endpoint_is_covered(tmp_path: Path) -> None:
    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "r.db", reload_interval=0)
    posts = {r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ())}
    assert posts == set(BODIES)


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 100_000])
async def test_too_deep_is_400_and_nothing_is_stored(
    http: httpx.AsyncClient, path: str, depth: int
) -> None:
    envelope, body = BODIES[path]
    response = await http.post(path, content=body(nested(depth - envelope)))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "too_deep"
    assert str(MAX_JSON_DEPTH) in error["message"] and len(error["message"]) < 120
    assert http.app.state.reports.count() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", sorted(BODIES))
async def test_the_deepest_allowed_body_is_answered(http: httpx.AsyncClient, path: str) -> None:
    envelope, body = BODIES[path]
    response = await http.post(path, content=body(nested(MAX_JSON_DEPTH - envelope)))
    assert response.status_code == 200, response.text


def test_parse_json_measures_depth_without_recursion() -> None:
    assert parse_json(b'{"a": ' + nested(MAX_JSON_DEPTH - 1).encode() + b"}") is not None
    for raw in (nested(MAX_JSON_DEPTH + 1), '{"a": ' + "[" * 10**6 + "]" * 10**6 + "}"):
        with pytest.raises(ProtocolError) as caught:
            parse_json(("{" + '"a": ' + raw + "}").encode())
        assert (caught.value.status, caught.value.code) == (400, "too_deep")
    # Brackets inside strings do not count.
    text: Any = parse_json(json.dumps({"s": "[" * 1000}).encode())
    assert text == {"s": "[" * 1000}
