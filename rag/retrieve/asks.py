"""What a question asks: its salient words, terms of art, named things and figures, each weighted by rarity.

One weighting for every kind: a word common in plain English ("wait", "time", "post") carries little
weight, a rare or unknown one ("vacatur", "extradition", "Eurostat") much. The coverage judgement
(rag.retrieve.coverage) then asks, for each ask, whether the retrieved passages or the store hold it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rag.index.keyword import tokens

# Zipf frequency (log10 of occurrences per billion words) at and above which a word is plain English
# and carries no weight; a word this much rarer carries full weight.
COMMON_ZIPF = 5.5
ZIPF_SPAN = 2.5
# Words that frame a question rather than say what it is about.
_FRAME_WORDS = """
what which who whom whose when where why how whether please tell explain describe say says said does
do did is are was were be been being has have had can could would should must may might shall will
there their they them this these those that it its any some all each every very much many more most
also about under within between against upon onto into over after before during since until than
then yet ever never not no nor whats what's or and but if so as of on in at by for from to with the
a an my our your his her we us you i me he she him one ones other another same such own give list
mean means meaning apply applies applied use used need needs get got make made
"""
_FRAME = set(_FRAME_WORDS.split())
_WORD = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]", re.UNICODE)
_COUNT = re.compile(r"\b(?:how many|how much|how long|number of|how often|what share|what percentage)\b", re.I)


@dataclass(frozen=True)
class Ask:
    """One thing a question asks about, as the user wrote it."""

    text: str
    kind: str  # "term" (a content word), "phrase" (a term of art), "count" (a figure asked for)
    weight: float  # 0..1: how much the question rests on it
    start: int = 0  # where it stands in the question


@lru_cache(maxsize=4096)
def zipf(word: str, lang: str = "en") -> float:
    """How common the word is in plain language (wordfreq's Zipf scale, 0 when unknown)."""
    from rag.retrieve import zipf_table

    if (figure := zipf_table.zipf(word, lang)) is not None:
        return figure
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - a dependency; without it every word weighs the same
        return 0.0
    return float(zipf_frequency(word, lang))


def rarity(word: str, lang: str = "en") -> float:
    """0 for plain words and slips of them ('wich', 'aply'), 1 for rare and unknown ones."""
    folded = word.casefold().strip(".'’-")
    value = max(0.0, min(1.0, (COMMON_ZIPF - zipf(folded, lang)) / ZIPF_SPAN))
    if value > 0.8 and folded.isalpha() and not word.isupper() and _slip_of_plain(folded, lang):
        return 0.0
    return value


PLAIN_ZIPF = 4.0  # a one-letter slip of a word at least this common is that word misspelt


def _slip_of_plain(word: str, lang: str) -> bool:
    """One deletion, insertion, swap or change away from a common word ('departmant', 'thre', 'reprot')."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(word)
    return any(zipf(e, lang) >= PLAIN_ZIPF for e in edits)


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    content: bool


def _words(question: str) -> list[_Word]:
    out = []
    for m in _WORD.finditer(question):
        text = m.group(0)
        content = text.casefold() not in _FRAME and bool(tokens(text) or (len(text) == 1 and text.isupper()))
        out.append(_Word(text, m.start(), m.end(), content))
    return out


def runs(question: str) -> list[list[_Word]]:
    """Runs of content words with nothing but spaces or hyphens between them ('just satisfaction')."""
    found: list[list[_Word]] = []
    current: list[_Word] = []
    for word in _words(question):
        joined = current and question[current[-1].end : word.start] in (" ", "-")
        if word.content and (not current or joined):
            current.append(word)
            continue
        if current:
            found.append(current)
        current = [word] if word.content else []
    if current:
        found.append(current)
    return found


def asking_part(question: str) -> tuple[int, str]:
    """Where the question asks, past the facts it tells: 'Client picked up at a car wash. Can he rely on s.45?'
    asks only its last sentence. A question of one sentence asks all of it."""
    starts = [0] + [m.end() for m in re.finditer(r"[.?!]\s+(?=[A-Z\"“(])", question)]
    asking = next((s for s, e in zip(starts, [*starts[1:], len(question)], strict=True) if "?" in question[s:e]), 0)
    return asking, question[asking:]


def extract(question: str, lang: str = "en") -> list[Ask]:
    """The content words, two-word terms of art and figures asked for, weighted by rarity."""
    found: list[Ask] = []
    offset, _ = asking_part(question)
    for run in runs(question):
        if run[0].start < offset:
            continue
        for word in run:
            if any(c.isdigit() for c in word.text):
                continue  # numbers, years and references ('s45', 'P029') are judged as named things
            found.append(Ask(word.text, "term", rarity(word.text, lang), word.start))
        for a, b in itertools.pairwise(run):
            if any(c.isdigit() for c in a.text + b.text) or len(a.text) == 1 or a.text.isupper() or b.text.isupper():
                continue
            # A term of art: two words neither of them plain ("preliminary ruling", not "prosecutor wait").
            weight = min(rarity(a.text, lang), rarity(b.text, lang))
            found.append(Ask(question[a.start : b.end], "phrase", weight, a.start))
    for m in _COUNT.finditer(question, offset):
        tail = re.split(r"[,;:?]| and | or ", question[m.end() :], maxsplit=1)[0]
        words: list[str] = []
        for written in tail.split():
            words.append(written)
            if sum(w.casefold() not in _FRAME for w in words) == 3:
                break
        while words and words[-1].casefold() in _FRAME:
            words.pop()
        if words:
            found.append(Ask(f"{m.group(0).lower()} {' '.join(words)}", "count", 1.0, m.start()))
    return found


def span(question: str, start: int, keep: Callable[[str], bool] | None = None) -> str:
    """The words around a position, as the user wrote them ('T visa', 'just satisfaction'): its run of content
    words, or only the neighbours `keep` accepts ('resist extradition', not 'trafficking victim resist ...')."""
    for run in runs(question):
        if run[0].start <= start < run[-1].end:
            at = next(i for i, w in enumerate(run) if w.start <= start < w.end)
            first = last = at
            while keep is not None and first > 0 and keep(run[first - 1].text):
                first -= 1
            while keep is not None and last < len(run) - 1 and keep(run[last + 1].text):
                last += 1
            if keep is None:
                first, last = 0, len(run) - 1
            return question[run[first].start : run[last].end]
    return question[start:].split()[0] if question[start:].split() else ""
