"""``prompt_cache_key`` values the API accepts: at most 64 characters.

The API refuses a longer key with a 400 ("Invalid 'prompt_cache_key': string too long"), so
every request of the trigger would fail. The default key stays readable (``"{bot}:{trigger}"``)
when it fits; a longer one becomes a stable shortened form: its first characters, ``~``, and
16 hex digits of its SHA-256, 64 characters in all (same names, same key, in every process).
A key the user gives is never shortened: over 64 characters it is a configuration error.
"""

from __future__ import annotations

import hashlib

from .exceptions import ConfigurationError

__all__ = ["MAX_PROMPT_CACHE_KEY", "check_cache_key", "default_cache_key"]

#: The API's limit on ``prompt_cache_key`` (characters).
MAX_PROMPT_CACHE_KEY = 64
_DIGEST = 16


def default_cache_key(*parts: str) -> str:
    """``":".join(parts)`` if it fits in 64 characters, else a stable 64-character form.

    >>> default_cache_key("bot", "trigger")
    'bot:trigger'
    >>> len(default_cache_key("customer-support-escalations", "summarise-and-route-inbound"
    ...                       "-ticket-to-queue"))
    64
    """
    key = ":".join(parts)
    if len(key) <= MAX_PROMPT_CACHE_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    return f"{key[: MAX_PROMPT_CACHE_KEY - _DIGEST - 1]}~{digest}"


def check_cache_key(key: object, where: str) -> None:
    """Refuse a user-given key the API would refuse.

    Args:
        key: The key (``None``: none given).
        where: Where it was given, for the message (``"BotSettings.prompt_cache_key"``).

    Raises:
        ConfigurationError: Not a string, or longer than 64 characters.
    """
    if key is None:
        return
    if not isinstance(key, str):
        raise ConfigurationError(f"{where} must be a string, got {type(key).__name__}")
    if len(key) > MAX_PROMPT_CACHE_KEY:
        raise ConfigurationError(
            f"{where} is {len(key)} characters long; the API accepts at most "
            f"{MAX_PROMPT_CACHE_KEY}: use a shorter key, or leave it unset for the default "
            "(shortened automatically when the bot and trigger names are long)"
        )
