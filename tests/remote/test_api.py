"""The remote package's public surface, its failure kinds, and its TLS settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import pytest

from openai_trigger_bot.exceptions import ConfigurationError
from openai_trigger_bot.governance.errors import EvaluatorError
from openai_trigger_bot.governance.remote import (
    FAILURE_KINDS,
    CircuitOpenError,
    MalformedAnswerError,
    NoDecisionError,
    RemoteEvaluator,
    RemoteEvaluatorError,
    RemoteHTTPError,
    RemoteTimeoutError,
    RemoteTransportError,
)
from openai_trigger_bot.governance.remote import __all__ as exported
from openai_trigger_bot.governance.remote._http import client_settings, ssl_verify


def test_exports_are_sorted_and_importable() -> None:
    import openai_trigger_bot.governance.remote as remote

    assert len(set(exported)) == len(exported)  # the order is ruff's (RUF022)
    assert all(hasattr(remote, name) for name in exported)


def test_one_error_class_per_failure_kind() -> None:
    classes: list[type[RemoteEvaluatorError]] = [
        RemoteTimeoutError,
        RemoteTransportError,
        RemoteHTTPError,
        MalformedAnswerError,
        CircuitOpenError,
        NoDecisionError,
    ]
    assert tuple(c.failure for c in classes) == FAILURE_KINDS
    assert len(set(FAILURE_KINDS)) == 6 and "evaluator_error" not in FAILURE_KINDS
    assert all(issubclass(c, EvaluatorError) for c in classes)


@pytest.mark.parametrize(
    ("status", "counts"),
    [(500, True), (502, True), (503, True), (408, True), (429, True), (400, False), (401, False)],
)
def test_which_http_errors_count_for_the_breaker(status: int, counts: bool) -> None:
    assert RemoteHTTPError("x", status_code=status).counts_for_breaker is counts


def test_tls_verification_settings() -> None:
    context = ssl.create_default_context()
    assert ssl_verify(True) is True and ssl_verify(False) is False
    assert ssl_verify(context) is context
    for path in (certifi.where(), Path(certifi.where())):
        loaded = ssl_verify(path)
        assert isinstance(loaded, ssl.SSLContext)
        assert loaded.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ConfigurationError, match="CA bundle"):
        ssl_verify("/nonexistent/ca.pem")


def test_client_settings_carry_auth_and_never_follow_redirects() -> None:
    settings = client_settings(
        "https://pdp.example.com/",
        token="t",
        api_key="k",
        api_key_header="X-Key",
        headers={"X-Tenant": "a"},
        verify=False,
        trust_env=False,
        max_connections=4,
        connect_timeout=0.1,
        read_timeout=0.2,
    )
    headers = httpx.Headers(settings["headers"])
    assert (headers["authorization"], headers["x-key"], headers["x-tenant"]) == (
        "Bearer t",
        "k",
        "a",
    )
    assert settings["base_url"] == "https://pdp.example.com"
    assert settings["follow_redirects"] is False and settings["trust_env"] is False
    assert settings["verify"] is False


def test_repr_names_the_service_and_protocol() -> None:
    evaluator = RemoteEvaluator("https://pdp.example.com", protocol="authzen")
    assert repr(evaluator) == (
        "RemoteEvaluator('https://pdp.example.com', protocol='authzen', name='remote-authzen')"
    )
    assert evaluator.name == "remote-authzen" and evaluator.breaker_state == "closed"
