"""The AuthZEN discovery document names the configured public URL, never the ``Host`` header."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from openai_trigger_bot.exceptions import ConfigurationError
from openai_trigger_bot.governance.remote import RemoteEvaluator
from openai_trigger_bot.server import create_app

from .conftest import SHIPPED_POLICIES, TOKEN, running_server

DISCOVERY = "/.well-known/authzen-configuration"


def raw_get(base_url: str, path: str, host_header: str) -> bytes:
    """A hand-written request, so the ``Host`` header is exactly what an attacker sends."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_forged_host_header_is_never_echoed() -> None:
    with running_server(SHIPPED_POLICIES, reload_interval=None) as base_url:
        answer = raw_get(base_url, DISCOVERY, "evil.example:666")
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"evil" not in answer
        document = httpx.get(base_url + DISCOVERY, headers={"Host": "evil.example:666"}).json()
    assert document == {
        "policy_decision_point": base_url,
        "access_evaluation_endpoint": f"{base_url}/access/v1/evaluation",
        "access_evaluations_endpoint": f"{base_url}/access/v1/evaluations",
    }


def test_the_configured_public_url_is_advertised() -> None:
    public = "https://pdp.example.com/authz/"
    with running_server(SHIPPED_POLICIES, reload_interval=None, public_url=public) as base_url:
        answer = raw_get(base_url, DISCOVERY, "evil.example:666")
        assert b"evil" not in answer
        document = httpx.get(base_url + DISCOVERY, headers={"Host": "evil.example"}).json()
    assert document == {
        "policy_decision_point": "https://pdp.example.com/authz",
        "access_evaluation_endpoint": "https://pdp.example.com/authz/access/v1/evaluation",
        "access_evaluations_endpoint": "https://pdp.example.com/authz/access/v1/evaluations",
    }


async def test_a_client_discovers_the_server_at_its_public_url() -> None:
    with running_server(SHIPPED_POLICIES, reload_interval=None) as base_url:
        evaluator = await RemoteEvaluator.discover(base_url, api_key=TOKEN)
        await evaluator.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "pdp.example.com",
        "ftp://pdp.example.com",
        "https://",
        "https://pdp.example.com/?tenant=1",
        "https://pdp.example.com/#x",
        "https://user:pw@pdp.example.com",
    ],
)
def test_a_bad_public_url_is_refused_at_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError, match="public_url"):
        create_app(SHIPPED_POLICIES, token=TOKEN, db_path=tmp_path / "r.db", public_url=url)
