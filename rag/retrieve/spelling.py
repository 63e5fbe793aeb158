"""Is a word, or a slip of it, in the corpus? Misspellings of names the corpus knows ("Rantzev", "Chowdhury")."""

from __future__ import annotations

from itertools import pairwise

from rag.index.keyword import tokens


def known(term: str, vocabulary: set[str]) -> bool:
    """The term, or a misspelling of it, occurs in the corpus.

    A misspelling is one slip in a word of up to 7 letters, two in a longer one ("Rantzev", "Chowdhury"); a
    near word that is another word ("refuge" beside "refus", "border" beside "order") does not count.
    """
    words = tokens(term)
    if not words:
        return True
    for word in words:
        if word in vocabulary:
            continue
        slips = 1 if len(word) <= 7 else 2
        shapes = _shapes(vocabulary)
        near = (v for n in range(len(word) - slips, len(word) + slips + 1) for v in shapes.get((word[0], n), ()))
        # Each slip breaks at most two of the word's letter pairs: a cheap filter before the edit distance.
        pairs = set(pairwise(word))
        need = len(pairs) - 2 * slips
        if len(word) >= 5 and any(
            len(pairs & set(pairwise(v))) >= need and distance(word, v, slips) <= slips for v in near
        ):
            continue
        return False
    return True


_SHAPE_CACHE: dict[int, tuple[set[str], dict[tuple[str, int], list[str]]]] = {}


def _shapes(vocabulary: set[str]) -> dict[tuple[str, int], list[str]]:
    """The vocabulary's words by first letter and length, built once per vocabulary (held, so its id is unique)."""
    held = _SHAPE_CACHE.get(id(vocabulary))
    if held is None or held[0] is not vocabulary:
        index: dict[tuple[str, int], list[str]] = {}
        for v in vocabulary:
            if v:
                index.setdefault((v[0], len(v)), []).append(v)
        if len(_SHAPE_CACHE) >= 4:
            _SHAPE_CACHE.pop(next(iter(_SHAPE_CACHE)))
        held = _SHAPE_CACHE[id(vocabulary)] = (vocabulary, index)
    return held[1]


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent transpositions, stopping once it exceeds limit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]
