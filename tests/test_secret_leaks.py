"""A value marked secret never appears in anything a run emits, in any form (issue 8, items 2–4).

Each test gathers everything a run emits — the RunResult (JSON and repr), every output sent to
the model, every ``on_decision`` event, every proposal an evaluator saw, every outbox report —
and searches it for each form the secret can take.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from openai_trigger_bot import Bot, BotSettings, action
from openai_trigger_bot.governance import Decision, ExecutionEvent, ProposedAction
from openai_trigger_bot.governance.redaction import REDACTED, SecretValues, leaves, text_forms
from openai_trigger_bot.result import RunResult
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

PASSWORD = "hunter2-Pässwörd-çà-0xDEADBEEF"
"""A non-ASCII secret: its ASCII-escaped JSON form (``\\u00e7``) differs from the raw one."""


class Seen:
    """Everything the run handed to the outside world."""

    def __init__(self) -> None:
        self.events: list[ExecutionEvent] = []
        self.proposals: list[ProposedAction] = []

    def evaluate(self, proposal: ProposedAction) -> Decision:
        self.proposals.append(proposal)
        return Decision(recommendation="proceed")

    def on_decision(self, event: ExecutionEvent) -> None:
        self.events.append(event)


def run(steps: list[Any], actions: list[Any], **bot_kwargs: Any) -> tuple[RunResult, str]:
    """Run the script; return the result and one text holding everything the run emitted.

    ``bot_kwargs`` go to ``Bot`` (``policy=`` replaces the recording evaluator).
    """
    seen = Seen()
    scripted = ScriptedResponses([*steps, [message("done")]])
    bot_kwargs.setdefault("policy", seen)
    bot = Bot(
        name="b",
        client=scripted.client(),
        settings=BotSettings(),
        on_decision=seen.on_decision,
        **bot_kwargs,
    )
    bot.register_actions(*actions)

    @bot.trigger("t", prompt="p", hidden_actions=actions)
    def t() -> dict[str, str]:
        return {}

    result = bot.run(t())
    emitted = [
        result.model_dump_json(),
        repr(result),
        json.dumps(scripted.requests, ensure_ascii=False),
        json.dumps(scripted.requests),
        *(e.model_dump_json() for e in seen.events),
        *(repr(e) for e in seen.events),
        *(p.model_dump_json() for p in seen.proposals),
        *(repr(p) for p in seen.proposals),
    ]
    return result, "\n".join(emitted)


def assert_absent(secret: str, emitted: str) -> None:
    for form in sorted(text_forms(secret)):
        assert form not in emitted, f"secret form {form!r} leaked"


def test_every_leaf_of_a_secret_dict_is_secret() -> None:
    """Item 2: a password inside ``creds: dict[str, str]`` raised in an exception text."""

    @action(secret=["creds"])
    def login(user: str, creds: dict[str, str]) -> str:
        """Log in.

        Args:
            user: Who.
            creds: Credentials.
        """
        raise RuntimeError("login refused for " + creds["password"])

    creds = [{"key": "password", "value": PASSWORD}, {"key": "otp", "value": "918273"}]
    result, emitted = run([[function_call("login", {"user": "ann", "creds": creds})]], [login])
    assert result.events[0].status == "tool_error"
    assert REDACTED in (result.events[0].error or "")
    assert_absent(PASSWORD, emitted)
    assert "918273" not in emitted


class Credentials(BaseModel):
    username: str
    password: str
    pin: int


def test_every_leaf_of_a_secret_model_is_secret_numbers_included() -> None:
    @action(secret=["creds"])
    def connect(host: str, creds: Credentials) -> dict[str, object]:
        """Connect.

        Args:
            host: Where.
            creds: Credentials.
        """
        raise RuntimeError(f"{creds.username} / {creds.password} / pin {creds.pin} refused")

    creds = {"username": "svc-deployer", "password": PASSWORD, "pin": 402913}
    result, emitted = run([[function_call("connect", {"host": "h", "creds": creds})]], [connect])
    assert result.events[0].status == "tool_error"
    for value in ("svc-deployer", "402913"):
        assert value not in emitted
    assert_absent(PASSWORD, emitted)


def test_short_leaves_are_redacted_in_fields_but_not_searched_in_text() -> None:
    values = SecretValues()
    values.learn({"creds": {"a": "ab7", "b": "long-enough"}}, ["creds"])
    assert values.data({"x": "ab7", "y": ["ab7"], "z": "xab7x"}) == {
        "x": REDACTED,
        "y": [REDACTED],
        "z": "xab7x",
    }
    assert values.text("grab7 things") == "grab7 things"  # too short to search for
    assert values.text("it was long-enough!") == f"it was {REDACTED}!"


def test_escaped_forms_in_outputs_and_exceptions_never_leak() -> None:
    """Item 3: ``json.dumps({"key": secret})`` (ASCII-escaped) in an output and an exception."""

    @action(secret=["token"])
    def rotate(token: str, mode: str) -> dict[str, str]:
        """Rotate a credential.

        Args:
            token: The current token.
            mode: ``out`` returns it, ``raise`` raises it.
        """
        if mode == "raise":
            raise RuntimeError(json.dumps({"key": token}) + repr({"key": token}))
        return {
            "ascii": json.dumps({"key": token}),
            "unicode": json.dumps({"key": token}, ensure_ascii=False),
            "repr": repr({"key": token}),
            "nested": json.dumps({"inner": json.dumps({"key": token})}),
        }

    result, emitted = run(
        [
            [
                function_call("rotate", {"token": PASSWORD, "mode": "out"}),
                function_call("rotate", {"token": PASSWORD, "mode": "raise"}),
            ]
        ],
        [rotate],
    )
    assert [e.status for e in result.events] == ["executed", "tool_error"]
    assert "\\u00e7" in json.dumps(PASSWORD)  # the ASCII-escaped form really differs
    assert_absent(PASSWORD, emitted)


def test_a_secret_repeated_under_another_key_is_scrubbed_everywhere() -> None:
    """Item 4: ``{"api_key": S, "api_key_copy": S}`` is invalid; S is recorded nowhere."""

    @action(secret=["api_key"])
    def call_api(api_key: str, path: str) -> str:
        """Call an API.

        Args:
            api_key: The key.
            path: The path.
        """
        return "ok"

    secret = "sk-live-3f9a8b7c6d5e4f3a2b1c"
    result, emitted = run(
        [
            [
                function_call("call_api", {"api_key": secret, "api_key_copy": secret}),
                function_call("call_api", {"api_key": "other-key-123456", "path": secret}),
            ]
        ],
        [call_api],
    )
    assert [e.status for e in result.events] == ["invalid", "executed"]
    assert result.events[0].arguments == {"api_key": REDACTED, "api_key_copy": REDACTED}
    assert_absent(secret, emitted)


def test_a_secret_learned_in_a_later_round_is_scrubbed_from_earlier_records() -> None:
    @action
    def note(text: str) -> str:
        """Take a note.

        Args:
            text: The note.
        """
        return "noted: " + text

    @action(secret=["api_key"])
    def call_api(api_key: str) -> str:
        """Call an API.

        Args:
            api_key: The key.
        """
        return "ok"

    secret = "sk-live-aaaabbbbccccdddd"
    result, _ = run(
        [
            [function_call("note", {"text": secret})],
            [function_call("call_api", {"api_key": secret})],
        ],
        [note, call_api],
    )
    assert [e.status for e in result.events] == ["executed", "executed"]
    assert secret not in result.model_dump_json()


def test_leaves_walks_nested_values_and_stays_bounded() -> None:
    assert sorted(leaves({"a": ["x", {"b": 12}], "c": (True, None, 1.5)})) == ["1.5", "12", "x"]
    assert sum(1 for _ in leaves([["v"] * 100] * 1000)) == 10_000


def test_a_secret_parameters_default_is_never_published_in_the_tool_schema() -> None:
    @action(secret=["api_key"])
    def call_api(query: str, api_key: str = PASSWORD, limit: int = 7) -> str:
        """Call the API.

        Args:
            query: What to ask.
            api_key: The key.
            limit: How many.
        """
        return "ok"

    tool = call_api.tool
    assert "Defaults to 7" in json.dumps(tool)  # other defaults are still shown
    result, emitted = run(
        [[function_call("call_api", {"query": "q", "api_key": None})]], [call_api]
    )
    assert [e.status for e in result.events] == ["executed"]
    assert_absent(PASSWORD, json.dumps(tool) + emitted)


def test_a_repr_that_escapes_the_quote_inside_a_secret_is_scrubbed() -> None:
    secret = "it's-Sekr3t-välue"

    @action(secret=["password"])
    def login(user: str, password: str) -> str:
        """Log in.

        Args:
            user: Who.
            password: The password.
        """
        raise KeyError(f'no "user" for {password}')  # KeyError's str() is a repr: \' inside

    result, emitted = run([[function_call("login", {"user": "bob", "password": secret})]], [login])
    assert result.events[0].status == "tool_error"
    assert "Sekr3t" not in emitted
    assert_absent(secret, emitted)


def test_bytes_and_url_forms_are_scrubbed() -> None:
    @action(secret=["password"])
    def login(password: str) -> str:
        """Log in.

        Args:
            password: The password.
        """
        from urllib.parse import quote_plus

        raise RuntimeError(f"body={password.encode()!r} url=https://x/?pw={quote_plus(password)}")

    result, emitted = run([[function_call("login", {"password": PASSWORD})]], [login])
    error = result.events[0].error or ""
    assert error.count(REDACTED) == 2, error
    assert_absent(PASSWORD, emitted)


def test_a_long_validator_message_is_scrubbed_before_it_is_cut() -> None:
    from typing import Annotated

    from pydantic import AfterValidator

    secret = "ZZZZ-very-long-secret-token-value-ABCDEFGHIJKLMNOP"

    def revoked(value: str) -> str:
        raise ValueError(
            "the identity provider rejected the token: revoked or expired " * 2 + value
        )

    @action(secret=["token"])
    def use(token: Annotated[str, AfterValidator(revoked)]) -> str:
        """Use a token.

        Args:
            token: The token.
        """
        return "x"

    result, emitted = run([[function_call("use", {"token": secret})]], [use])
    assert result.events[0].status == "invalid"
    assert "ZZZZ" not in emitted  # not even a prefix of it survives the cut


def test_an_evaluator_error_is_scrubbed_before_it_is_cut() -> None:
    class Echo:
        """A (careless) evaluator that puts the call's raw text in its error."""

        name = "echo"

        def evaluate(self, proposal: ProposedAction) -> Decision:
            raise RuntimeError("x" * 262 + " " + PASSWORD)  # cut after "hunter"

    @action(secret=["password"])
    def login(password: str) -> str:
        """Log in.

        Args:
            password: The password.
        """
        return "ok"

    result, _ = run([[function_call("login", {"password": PASSWORD})]], [login], policy=Echo())
    assert result.events[0].failure == "evaluator_error"
    assert "hunter" not in result.model_dump_json()


def test_a_reviewers_comment_is_scrubbed_of_the_runs_secrets() -> None:
    from openai_trigger_bot import Approval

    @action(risk="high", secret=["password"])
    def rotate(password: str) -> str:
        """Rotate a credential.

        Args:
            password: The new password.
        """
        return "rotated"

    def handler(request: Any) -> Approval:
        return Approval(approved=False, comment=f"never reuse {PASSWORD}", approver="ops")

    result, emitted = run(
        [[function_call("rotate", {"password": PASSWORD})]],
        [rotate],
        policy=None,  # decide by declared risk: a high-risk call asks the handler
        approval_handler=handler,
    )
    event = result.events[0]
    assert event.status == "denied" and event.approval is not None
    assert event.approval.comment == f"never reuse {REDACTED}"
    assert_absent(PASSWORD, emitted)
