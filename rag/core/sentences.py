"""Sentence splitting that respects legal abbreviations (Art., para., No., U.S.C., v.)."""

from __future__ import annotations

import itertools
import re

_CANDIDATE = re.compile(r"[.!?][\"”’)]?\s+(?=[\"“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = {
    "art",
    "arts",
    "para",
    "paras",
    "no",
    "nos",
    "v",
    "s",
    "ss",
    "sch",
    "u.s.c",
    "e.g",
    "i.e",
    "cf",
    "al",
    "oj",
    "pub",
    "p",
    "pp",
    "dec",
    "res",
    "doc",
    "app",
    "apps",
    "ch",
    "mr",
    "ms",
    "dr",
    "st",
    "vol",
    "op",
}
_BLOCKS = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.|\([a-z0-9]+\))\s)")


_WORD_BEFORE = re.compile(r"[\w.]+\Z")
_LOOK_BACK = 24  # longer than any abbreviation ("u.s.c", "e.g", "paras"): a longer word is not one


def _is_abbreviation(text: str, dot: int) -> bool:
    # Only the last few characters are looked at: searching all the text before every full stop made
    # splitting quadratic (a 40,000-character title took seconds on every question that found it).
    start = max(0, dot - _LOOK_BACK)
    word = _WORD_BEFORE.search(text, start, dot)
    if not word or (word.start() == start and start > 0 and _WORD_BEFORE.match(text[start - 1])):
        return False
    token = word.group(0).lower().strip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()) or bool(re.fullmatch(r"(\w\.)+\w", token))


def split(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in text; bullet lines and paragraphs stand alone."""
    spans: list[tuple[int, int]] = []
    bounds = [0] + [m.end() for m in _BLOCKS.finditer(text)] + [len(text)]
    for block_start, block_end in itertools.pairwise(bounds):
        start = block_start
        for m in _CANDIDATE.finditer(text, block_start, block_end):
            if text[m.start()] == "." and _is_abbreviation(text, m.start()):
                continue
            end = m.start() + 1 + (1 if text[m.start() + 1] in '"”’)' else 0)
            spans.append((start, end))
            start = m.end()
        spans.append((start, block_end))
    cleaned = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a and re.search(r"\w", text[a:b]):
            cleaned.append((a, b))
    return cleaned


_MARK = re.compile(r"^\s*(?:[-*•]|#+)\s*")
_EMPHASIS = re.compile(r"\*\*|__|`")
SHORTEST = 25  # characters: a shorter piece is a heading or a fragment, not a sentence to quote


def _clean(sentence: str) -> str | None:
    text = _MARK.sub("", sentence).strip()
    text = " ".join(_EMPHASIS.sub("", text).split())  # a hard-wrapped official text reads as one line
    if text.startswith("|") or len(text) < SHORTEST:
        return None
    return text


def quotable(text: str) -> list[str]:
    """The sentences of a passage an answer may quote: markup stripped, lines joined, table rows left out.

    The extractive engine scores these at every question, and ingest embeds them ahead, so both must agree.
    """
    return [s for a, b in split(text) if (s := _clean(text[a:b]))]
