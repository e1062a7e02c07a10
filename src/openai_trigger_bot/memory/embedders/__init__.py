"""Embedders: the :class:`Embedder` protocol, the offline default and OpenAI embeddings."""

from .base import Embedder
from .hashing import HashingEmbedder
from .openai import OpenAIEmbedder

__all__ = ["Embedder", "HashingEmbedder", "OpenAIEmbedder"]
