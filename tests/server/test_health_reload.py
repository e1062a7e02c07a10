"""Health readiness, and reloading the policies when their files change."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from openai_trigger_bot import __version__
from openai_trigger_bot.server import PolicyHolder
from openai_trigger_bot.server.policies import directory_fingerprint

from .conftest import PROTOCOL, authed_client, running_server

POLICY = """
policy: payments
version: "{version}"
default: {{recommendation: do_not_proceed, reason: unknown payment}}
rules:
  - id: small-payment
    actions: [pay]
    when: 'value < {limit}'
    decision: proceed
"""


def write_policy(folder: Path, *, version: str = "1", limit: int = 10) -> None:
    path = folder / "payments.yaml"
    path.write_text(POLICY.format(version=version, limit=limit))
    stamp = time.time_ns() + 10**9  # a new mtime even on a coarse-clock file system
    os.utime(path, ns=(stamp, stamp))


def pay(http: httpx.Client, value: float) -> httpx.Response:
    body = {"protocol": PROTOCOL, "proposal": {"action": "pay", "value": value}}
    return http.post("/v1/decisions", json=body)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition``; the generous bound only trips when the server is stuck."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in 30 s: the server is stuck"
        time.sleep(0.02)


def test_health_ok_when_policies_load(shipped_url: str) -> None:
    response = httpx.get(f"{shipped_url}/health")  # no token needed
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__ and body["protocol"] == PROTOCOL
    assert "billing-refunds" in body["policies"] and "infra-access" in body["policies"]
    assert body["policy_versions"]["billing-refunds"] == "2026-11-24"
    assert body["rules"] > 10


def test_broken_directory_at_start_is_503_everywhere(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("policy: p\nversion: '1'\nrules: []\n")  # no default
    with running_server(tmp_path, reload_interval=0.05) as url, authed_client(url) as http:
        health = http.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unavailable" and body["serving"] is None
        assert any("bad.yaml" in problem["text"] for problem in body["problems"])
        decision = pay(http, 1)
        assert decision.status_code == 503
        assert decision.json()["error"]["code"] == "policies_unavailable"
        assert decision.headers["Retry-After"] == "1"  # the reload interval, rounded up
        assert (
            http.post("/access/v1/evaluation", json={"action": {"name": "pay"}}).status_code == 503
        )

        (tmp_path / "bad.yaml").unlink()  # fixing the files makes the server ready
        write_policy(tmp_path)
        wait_for(lambda: http.get("/health").status_code == 200)
        assert http.get("/health").json()["policies"] == ["payments"]
        assert pay(http, 1).json()["decision"]["recommendation"] == "proceed"


def test_missing_directory_is_503(tmp_path: Path) -> None:
    with running_server(tmp_path / "nope", reload_interval=None) as url:
        body = httpx.get(f"{url}/health").json()
        assert body["status"] == "unavailable"
        assert body["problems"][0]["message"].startswith("the policy directory does not exist")


def test_reload_on_change_and_broken_edit_keeps_last_good(tmp_path: Path) -> None:
    write_policy(tmp_path, version="1", limit=10)
    with running_server(tmp_path, reload_interval=0.05) as url, authed_client(url) as http:
        assert pay(http, 50).json()["decision"]["recommendation"] == "do_not_proceed"

        write_policy(tmp_path, version="2", limit=100)
        wait_for(lambda: pay(http, 50).json()["decision"]["policy_version"] == "2")
        assert pay(http, 50).json()["decision"]["recommendation"] == "proceed"
        assert http.get("/health").status_code == 200

        (tmp_path / "payments.yaml").write_text(POLICY.format(version="3", limit="<"))
        wait_for(lambda: http.get("/health").status_code == 503)
        health = http.get("/health").json()
        assert health["serving"]["policy_versions"] == {"payments": "2"}
        assert health["problems"][0]["path"].endswith("payments.yaml")
        assert health["problems"][0]["line"] is not None
        decision = pay(http, 50).json()["decision"]  # still decided by the last good version
        assert (decision["policy_version"], decision["recommendation"]) == ("2", "proceed")

        write_policy(tmp_path, version="4", limit=10)
        wait_for(lambda: http.get("/health").status_code == 200)
        assert pay(http, 50).json()["decision"]["recommendation"] == "do_not_proceed"


def test_holder_reloads_only_on_change(tmp_path: Path) -> None:
    write_policy(tmp_path)
    holder = PolicyHolder(tmp_path)
    assert holder.refresh() is True and holder.state.ready
    first = holder.state
    assert holder.refresh() is False and holder.state is first
    (tmp_path / "notes.txt").write_text("not a policy")
    assert holder.refresh() is False  # only *.yaml / *.yml count
    (tmp_path / "payments.yaml").unlink()
    assert holder.refresh() is True
    assert not holder.state.ready and holder.state.evaluator is first.evaluator
    assert holder.refresh(force=True) is True
    assert directory_fingerprint(tmp_path / "missing").startswith("unreadable")
