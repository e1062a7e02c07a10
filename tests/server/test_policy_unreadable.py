"""``serve`` and an unreadable policy entry: refused at start, last good set kept on a reload.

The reload is triggered by calling the app's holder (what the watcher calls), so nothing here
waits on a timer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
from starlette.applications import Starlette

from openai_trigger_bot.server import PROTOCOL, PolicyHolder, create_app, serve_in_thread
from openai_trigger_bot.server.policies import directory_fingerprint

from .._policy_dirs import DENY, policy_dir
from .conftest import TOKEN, authed_client


@contextlib.contextmanager
def serving(folder: Path, tmp_path: Path) -> Iterator[tuple[Starlette, httpx.Client]]:
    app = create_app(folder, token=TOKEN, db_path=tmp_path / "reports.db", reload_interval=None)
    with serve_in_thread(app) as url, authed_client(url) as http:
        yield app, http


def drop(http: httpx.Client) -> httpx.Response:
    body = {"protocol": PROTOCOL, "proposal": {"action": "drop_database"}}
    return http.post("/v1/decisions", json=body)


def test_a_dangling_symlink_at_start_means_no_policies_and_503(tmp_path: Path) -> None:
    folder, link, target = policy_dir(tmp_path)
    target.unlink()
    with serving(folder, tmp_path) as (_, http):
        health = http.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["serving"] is None
        assert [p["path"] for p in body["problems"]] == [str(link)]
        assert "dangling symlink" in body["problems"][0]["message"]
        assert drop(http).status_code == 503  # never decided by allow.yaml alone


def test_a_reload_that_finds_a_dangling_symlink_keeps_the_last_good_set(tmp_path: Path) -> None:
    folder, link, target = policy_dir(tmp_path)
    with serving(folder, tmp_path) as (app, http):
        holder: PolicyHolder = app.state.policies
        assert http.get("/health").status_code == 200
        assert drop(http).json()["decision"]["recommendation"] == "do_not_proceed"

        target.unlink()  # the ConfigMap swap leaves deny.yaml dangling
        assert holder.refresh() is True  # what the watcher does on its next tick

        health = http.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["serving"]["policies"] == ["allow", "deny"]  # the last good set
        (problem,) = body["problems"]
        assert problem["path"] == str(link)
        assert "dangling symlink" in problem["message"]
        decision = drop(http).json()["decision"]
        assert decision["recommendation"] == "do_not_proceed"  # deny still applies

        target.write_text(DENY)  # repaired: ready again
        assert holder.refresh() is True
        assert http.get("/health").status_code == 200


def test_a_directory_or_loop_named_yaml_on_reload_keeps_the_last_good_set(
    tmp_path: Path,
) -> None:
    folder, _, _ = policy_dir(tmp_path)
    holder = PolicyHolder(folder)
    holder.refresh()
    good = holder.state.evaluator
    assert good is not None and holder.state.ready
    (folder / "extra.yaml").mkdir()
    (folder / "loop.yml").symlink_to(folder / "loop.yml")
    assert holder.refresh() is True
    assert holder.state.evaluator is good
    assert sorted(Path(p.path).name for p in holder.state.problems) == ["extra.yaml", "loop.yml"]


def test_the_fingerprint_sees_entries_that_cannot_be_followed(tmp_path: Path) -> None:
    folder, _, target = policy_dir(tmp_path)
    before = directory_fingerprint(folder)
    target.unlink()
    after = directory_fingerprint(folder)
    assert before != after
    assert isinstance(after, tuple) and [entry[0] for entry in after] == [
        "allow.yaml",
        "deny.yaml",
    ]
    (folder / "allow.yaml").chmod(0o200)  # a permission change alone triggers a reload too
    assert directory_fingerprint(folder) != after
