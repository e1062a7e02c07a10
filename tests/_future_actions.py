"""Actions in a module using ``from __future__ import annotations`` (all hints are strings)."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from decimal import Decimal


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


@dataclass
class Window:
    start: datetime.datetime
    minutes: int = 30


class Reminder(BaseModel):
    text: str
    tags: dict[str, int] = {}
    window: Window | None = None


def schedule(
    reminder: Reminder,
    priority: Priority,
    when: datetime.date,
    mode: Literal["once", "daily"] = "once",
    note: Annotated[str | None, Field(description="Free text note.")] = None,
) -> None:
    """Schedule a reminder.

    Args:
        reminder: What to remind about.
        priority: How urgent it is.
        when: The day.
        mode: How often.
    """


def uses_type_checking_only(amount: Decimal) -> None:
    """Refer to a name imported only under TYPE_CHECKING (cannot be resolved at runtime)."""
