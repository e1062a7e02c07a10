"""The app in-process: body limits, unexpected failures, and the optional-extra boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from openai_trigger_bot.server import create_app
from openai_trigger_bot.server._handlers import MAX_BODY_BYTES

from .conftest import PROTOCOL, SHIPPED_POLICIES, TOKEN

HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def test_create_app_needs_a_token(tmp_path: Path) -> None:
    from openai_trigger_bot.exceptions import ConfigurationError

    for token in ("", "   "):
        with pytest.raises(ConfigurationError, match="token"):
            create_app(SHIPPED_POLICIES, token=token, db_path=tmp_path / "r.db")
    with pytest.raises(ConfigurationError, match="reload_interval"):
        create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "r.db", reload_interval=-1)


async def test_oversized_body_is_413(tmp_path: Path) -> None:
    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "r.db")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as http:
        big = b'{"protocol": "x", "pad": "' + b"a" * MAX_BODY_BYTES + b'"}'
        response = await http.post("/v1/decisions", content=big)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"


async def test_unexpected_failure_is_a_bare_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "r.db"
    app = create_app(SHIPPED_POLICIES, token=TOKEN, db_path=db)
    app.state.reports.close()
    for leftover in tmp_path.glob("r.db*"):
        leftover.unlink()
    db.mkdir()  # the database can no longer be opened
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as http:
        response = await http.get("/v1/reports", headers={"X-Request-Id": "boom-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "boom-1"
    error = response.json()["error"]
    assert error["code"] == "internal_error" and "sqlite" not in error["message"].lower()
    assert any("GET /v1/reports failed" in record.message for record in caplog.records)
    body = {"protocol": PROTOCOL, "proposal": {"action": "revoke_access"}}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=HEADERS) as http:
        assert (await http.post("/v1/decisions", json=body)).status_code == 200  # unaffected


def test_pure_modules_do_not_import_the_web_stack() -> None:
    code = (
        "import sys\n"
        "import openai_trigger_bot.server as s\n"
        "from openai_trigger_bot.server import authzen, native, policies, reports\n"
        "assert 'starlette' not in sys.modules and 'uvicorn' not in sys.modules\n"
        "s.create_app\n"
        "assert 'starlette' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
