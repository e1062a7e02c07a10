"""Memory: what triggers recall and what runs leave behind."""

from .request import MemoryRequest

__all__ = ["MemoryRequest"]
