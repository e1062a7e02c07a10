"""Ranking without I/O: exact top-k over cached matrices, the recency shares and the mix."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from ._cache import ScopeSnapshot
from .records import FloatMatrix, Memory

__all__ = ["distinct", "interleave", "normalised", "recent_shares", "top_k"]

_BLAS_MIN_ELEMENTS = 1 << 22
"""Below this many matrix elements (~11k rows at 384-d) scores come from a single-threaded
``einsum`` loop instead of BLAS. A multi-threaded BLAS call wins on big matrices, but its
worker threads keep spinning after the call: on a small machine under load they take the core
from the caller and turn a 0.3 ms select into a 10 ms one at p99."""


def top_k(
    snapshots: Sequence[ScopeSnapshot],
    query: FloatMatrix,
    k: int,
    *,
    now: float,
    exclude: Collection[int] = (),
    min_score: float = 0.0,
) -> list[tuple[float, int]]:
    """The ``k`` best ``(cosine, id)`` pairs over all snapshots, best first.

    Exact brute force: one matrix-vector product per scope and ``np.argpartition`` for the
    top rows, so the cost is one pass over the scopes' vectors. Expired rows and ``exclude``
    (the memories the recency leg already picked) are skipped; scores must exceed
    ``min_score``.
    """
    if k <= 0:
        return []
    want = k + len(exclude)
    found: list[tuple[float, int]] = []
    for snap in snapshots:
        n = len(snap.ids)
        if n == 0 or snap.vectors.shape[1] != query.shape[0]:
            continue
        if snap.vectors.size >= _BLAS_MIN_ELEMENTS:
            scores = snap.vectors @ query
        else:
            scores = np.einsum("ij,j->i", snap.vectors, query)
        if snap.next_expiry <= now:
            scores[snap.expires <= now] = -np.inf
        top = np.argpartition(scores, n - want)[n - want :] if n > want else np.arange(n)
        found += zip(scores[top].tolist(), snap.ids[top].tolist(), strict=True)
    found.sort(reverse=True)
    skip = set(exclude)
    return [(s, i) for s, i in found if s > min_score and i not in skip][:k]


def distinct(memories: Sequence[Memory], seen: Collection[str] = ()) -> list[Memory]:
    """``memories`` in order without a text seen before (in ``seen`` or earlier in the list).

    Texts are compared exactly: the same outcome captured by three runs, or one fact kept in
    two scopes, is shown once (the first, i.e. newest or most relevant, copy).
    """
    texts = set(seen)
    out: list[Memory] = []
    for memory in memories:
        if memory.text not in texts:
            texts.add(memory.text)
            out.append(memory)
    return out


def recent_shares(
    kept: Sequence[Memory], captured: Sequence[Memory], limit: int, share: int
) -> list[Memory]:
    """The recency leg: ``limit`` newest memories, captures taking at most ``share`` slots
    while kept memories are left, newest first.

    Args:
        kept: The newest kept memories (facts...), newest first, distinct.
        captured: The newest automatic captures, newest first, distinct.
        limit: The request's ``recent_limit``.
        share: The slots captures may take while kept memories compete (slots a share
            leaves unused go to the other one).
    """
    n_captured = min(len(captured), max(share, limit - len(kept)))
    n_kept = min(len(kept), limit - n_captured)
    chosen = [*kept[:n_kept], *captured[:n_captured]]
    chosen.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return chosen


def interleave(recent: Sequence[Memory], relevant: Sequence[Memory]) -> list[Memory]:
    """Both legs in priority order (newest, most relevant, 2nd newest, ...), without a memory
    or a text twice."""
    out: list[Memory] = []
    seen: set[int] = set()
    texts: set[str] = set()
    for i in range(max(len(recent), len(relevant))):
        for leg in (recent, relevant):
            if i < len(leg) and leg[i].id not in seen and leg[i].text not in texts:
                seen.add(leg[i].id)
                texts.add(leg[i].text)
                out.append(leg[i])
    return out


def normalised(vectors: FloatMatrix, n: int) -> FloatMatrix:
    """An embedder's answer for ``n`` texts as L2-normalised float32 rows (zero rows stay zero).

    Raises:
        ValueError: The answer does not have one row per text.
    """
    vectors = np.asarray(vectors, np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"embedder returned shape {vectors.shape} for {n} texts")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: FloatMatrix = np.zeros_like(vectors)
    np.divide(vectors, norms, out=out, where=norms > 0)
    return out
