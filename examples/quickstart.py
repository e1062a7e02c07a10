"""The DESIGN quickstart, as written: a support bot with memory, one global and one hidden action.

Runs offline against the scripted Responses API, which also answers embeddings with lexical
vectors (texts that share words are close), so recall by relevance works offline too. Pass
``--live`` with ``OPENAI_API_KEY`` set to use the real API.

Memories persist in ``bot-memory.json`` in the current directory: run it twice and the second
run recalls what the first one remembered. Beside it stays ``bot-memory.json.lock``, the empty
file writers lock so that several processes can share the memory file; it is meant to stay
(deleting it while a process writes would let two writers in at once) and is safe to delete
when no bot runs. Both are in the project's ``.gitignore``.
"""

from __future__ import annotations

import os
import sys

import openai

from openai_trigger_bot import (
    Bot,
    BotSettings,
    FileMemoryStore,
    MemoryManager,
    MemoryRequest,
    OpenAIEmbedder,
    action,
)
from openai_trigger_bot.testing import ScriptedResponses, function_call, message

if "--live" in sys.argv:
    if not os.environ.get("OPENAI_API_KEY"):  # as `trigger-bot demo --live` says it
        print(
            "quickstart.py: error: --live needs OPENAI_API_KEY in the environment; set it to "
            "your OpenAI API key, or run `python examples/quickstart.py` offline",
            file=sys.stderr,
        )
        raise SystemExit(2)
    client: openai.OpenAI = openai.OpenAI()
else:
    client = ScriptedResponses(
        [
            [
                function_call("remember_fact", {"fact": "Alice asked for help with her order."}),
                function_call(
                    "send_message",
                    {"chat_id": "support", "text": "Of course! What do you need help with?"},
                ),
            ],
            [message("Answered Alice.")],
        ]
    ).client()

memory = MemoryManager(store=FileMemoryStore("bot-memory.json"), embedder=OpenAIEmbedder(client))


@action(global_action=True)
def send_message(chat_id: str, text: str) -> dict[str, str]:
    """Send a chat message.

    Args:
        chat_id: The destination chat identifier.
        text: The message body to deliver.
    """
    print(f"[{chat_id}] {text}")
    return {"status": "sent", "chat_id": chat_id}


@action
def remember_fact(fact: str) -> str:
    """Remember a fact about this user for later conversations.

    Args:
        fact: The fact, in one sentence.
    """
    memory.remember(fact, scope="user:alice", kind="fact", source="remember_fact")
    return "remembered"


bot = Bot(
    name="support-bot",
    client=client,
    settings=BotSettings(
        model="gpt-5.2", system_prompt="You are a friendly support bot.", max_model_calls=6
    ),
    memory=memory,
)
bot.register_actions(send_message, remember_fact)


@bot.trigger(
    "reply-to-chat",
    prompt="Reply to the latest message in the chat.",
    default_action=send_message,
    hidden_actions=[remember_fact],
    memory_request=MemoryRequest(
        scopes=("global", "chat:support", "user:alice"),
        # no `query=`: the trigger's data (the chat) is what relevant memories are found by
        recent_limit=4,
        semantic_limit=6,
    ),
)
def reply_to_chat(chat_id: str, messages: list[dict[str, str]]) -> dict[str, object]:
    return {"chat_id": chat_id, "messages": messages}


if __name__ == "__main__":
    result = bot.run(reply_to_chat("support", [{"role": "user", "content": "Can you help me?"}]))
    print(f"status: {result.status}")
    print(f"model calls: {[(m.response_id, m.tool_calls) for m in result.model_calls]}")
    print(f"action calls: {[(a.name, a.arguments, a.output) for a in result.action_calls]}")
    request = reply_to_chat.memory_request or MemoryRequest()
    print(f"memory now holds:\n{memory.recall(request)}")
    question = "What did Alice need help with?"
    relevant = MemoryRequest(scopes=request.scopes, recent_limit=0, semantic_limit=1)
    for found in memory.select(relevant, query=question):
        print(f"recalled for {question!r}: {found.text}")
    memory.close()
