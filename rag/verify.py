"""Citation verification: every [n] must name a retrieved passage that supports its sentence."""

from __future__ import annotations

import re

from rag.keyword import tokens
from rag.records import Answer
from rag.retrieve import Retrieval

SUPPORT_THRESHOLD = 0.75  # share of a sentence's content words found in the cited passage
_MARK = re.compile(r"\s*\[(\d+)\]")


def support(sentence: str, passage: str) -> float:
    """How much of the sentence the passage contains (1.0 for a verbatim quote)."""
    words = set(tokens(sentence))
    if not words:
        return 1.0
    return len(words & set(tokens(passage))) / len(words)


def verify(answer: Answer, retrieval: Retrieval) -> Answer:
    """Mark unsupported citations, drop invented numbers, and report 'N of M citations verified'."""
    if answer.refused:
        return answer
    by_n = {c.n: c for c in answer.citations}
    checked = supported = 0
    verdict: dict[int, bool] = {}
    for line in answer.answer.splitlines():
        for sentence_marks in re.finditer(r"[^\[\]]*?((?:\s*\[\d+\])+)", line):
            text = sentence_marks.group(0)
            sentence = _MARK.sub("", text).split(": ", 1)[-1].strip()
            for m in _MARK.finditer(sentence_marks.group(1)):
                n = int(m.group(1))
                checked += 1
                if n not in by_n:
                    answer.warnings.append(f"citation [{n}] names no retrieved passage and was removed")
                    continue
                ok = support(sentence, by_n[n].quote) >= SUPPORT_THRESHOLD
                verdict[n] = verdict.get(n, True) and ok
                supported += ok
    invented = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} - set(by_n)
    for n in invented:
        answer.answer = answer.answer.replace(f"[{n}]", "")
    for n, ok in verdict.items():
        by_n[n].verified = ok
        if not ok:
            answer.warnings.append(f"citation [{n}] is not supported by its passage")
    answer.verification = f"{supported} of {checked} citations verified"
    return answer
