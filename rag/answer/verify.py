"""Citation verification: every [n] must name a retrieved passage that supports its sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answer.citations import markers, plain
from rag.core import sentences
from rag.core.language import say
from rag.core.records import Answer, Citation
from rag.index.keyword import tokens
from rag.retrieve.hybrid import Retrieval

if TYPE_CHECKING:
    from rag.index.embed import Embedder

# Calibrated on tests/data/support_labels.jsonl (see tests/test_verify.py): a claim is supported when
# LEXICAL_WEIGHT * containment + (1 - LEXICAL_WEIGHT) * similarity - NEGATION_PENALTY * polarity flip
# reaches SUPPORT_THRESHOLD; a number the passage lacks (an article, a year, a period) rules it out.
SUPPORT_THRESHOLD = 0.60
LEXICAL_WEIGHT = 0.7
NEGATION_PENALTY = 0.2
CONTRIBUTION = 0.3  # share of a jointly cited claim one passage must contain to count as supporting it
_MARKS = re.compile(r"(?:\s*(?<!\\)\[\d+\])+")  # the engine's markers, never an escaped \[n] of the text
_LINE_END = re.compile(r"(?<!\\)\[\d+\]$")
_ESCAPED_NUMBER = re.compile(r"\\\[\d+\]")
_LIST_ITEM = re.compile(r"^(?:[-*•]|\d{1,2}[.)]|\([a-z0-9]{1,3}\))(?:\s+|$)")
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|neither|none|nothing|cannot|without)\b|n't\b|\bnon-(?!punishment|prosecution)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """A stretch of answer text and the passage numbers cited for it."""

    text: str
    cited: tuple[int, ...]


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def evidence(c: Citation) -> str:
    """What a citation vouches for: its passage and the source's own name for it."""
    return " ".join(x for x in (c.pinpoint, c.title, c.citation, c.quote) if x)


def _blocks(text: str) -> list[str]:
    """The text cut after every line that ends in a marker (the extractive engine's one line per source)."""
    out, at = [], 0
    for m in re.finditer(r"[ \t]*\n", text):
        if _LINE_END.search(text, at, m.start()):
            out.append(text[at : m.start()])
            at = m.end()
    return [*out, text[at:]]


def claims(text: str) -> list[Claim]:
    """The answer's sentences with their [n] markers; a marker opening a sentence belongs to the one before.

    Only the engine's markers count: a bracketed number of the quoted text is escaped (\\[12]) and is text.
    """
    found: list[Claim] = []
    # Other line breaks may fall inside a quoted sentence.
    for block in _blocks(text):
        merged: list[str] = []
        # An escaped number splits sentences as the bare one would; the spans are then read from the block.
        masked = _ESCAPED_NUMBER.sub(lambda m: "0" * len(m.group(0)), block)
        for a, b in sentences.split(masked):
            piece = block[a:b]
            lead = _MARKS.match(piece)
            if lead and merged:
                merged[-1] += lead.group(0)
                piece = piece[lead.end() :]
            if piece.strip():
                merged.append(piece)
        for sentence in merged:
            cited = tuple(markers(sentence))
            bare = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(plain(_MARKS.sub(" ", sentence)).split()))
            bare = _LIST_ITEM.sub("", bare)  # "2." numbering a list item is not a number the passage must hold
            if bare or cited:
                found.append(Claim(bare, cited))
    return found


def verbatim(claim: str, c: Citation) -> bool:
    """The claim quotes the passage (ignoring case and punctuation), perhaps after a label the source bears."""
    passage, whole = _norm(c.quote), _norm(claim)
    if len(whole) >= 12 and whole in passage:
        return True
    label, sep, body = claim.partition(": ")
    quoted = _norm(body)
    return bool(sep) and len(quoted) >= 12 and quoted in passage and containment(label, evidence(c)) == 1.0


def containment(claim: str, evidence_text: str) -> float:
    """The share of the claim's content words found in the evidence."""
    words = set(tokens(claim))
    return len(words & set(tokens(evidence_text))) / len(words) if words else 0.0


@dataclass(frozen=True)
class Support:
    """The signals behind one support score."""

    quoted: bool = False  # a verbatim quotation of the passage
    missing: tuple[str, ...] = ()  # numbers in the claim the passage lacks
    lexical: float = 0.0  # share of the claim's content words in the passage and its source's name
    similarity: float = 0.0  # embedding cosine with the closest sentence of the passage
    flipped: bool = False  # negated where that sentence is not, or the reverse

    @property
    def score(self) -> float:
        if self.quoted:
            return 1.0
        if self.missing:
            return 0.0
        raw = LEXICAL_WEIGHT * self.lexical + (1 - LEXICAL_WEIGHT) * self.similarity - NEGATION_PENALTY * self.flipped
        return max(0.0, min(1.0, raw))


def support_model(embeddings: Embedder | None) -> Embedder | None:
    """The model support is scored with: MiniLM for a store embedded with e5.

    SUPPORT_THRESHOLD is calibrated on MiniLM's cosines (tests/data/support_labels.jsonl: precision 0.91 at
    recall 1.0). e5's sit in a narrow high band and tell a supported claim from an unsupported one less well
    (precision 0.80 at the same threshold and recall, 0.86-0.88 at best after rescaling), so the verifier keeps
    MiniLM. It reads English only: a claim in another language scores on its words, so it errs towards
    "unsupported", never the other way. Extractive answers quote verbatim and embed nothing here.
    """
    if embeddings is not None and getattr(embeddings, "kind", None) == "e5":
        from rag.index.embed import make_embeddings

        return make_embeddings("minilm")
    return embeddings


class Scorer:
    """Support scores, with every embedding computed once per verify() call."""

    def __init__(self, embeddings: Embedder | None) -> None:
        self.embeddings = support_model(embeddings)
        self._vectors: dict[str, list[float]] = {}

    def _embed(self, texts: Sequence[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if todo:
            if self.embeddings is None:
                from rag.core.config import Settings
                from rag.index.embed import make_embeddings

                self.embeddings = support_model(make_embeddings(Settings.from_env().embeddings))
            from rag.index import vector_cache

            self._vectors.update(zip(todo, vector_cache.embed_documents(self.embeddings, todo), strict=True))

    def _cos(self, a: str, b: str) -> float:
        va, vb = self._vectors[a], self._vectors[b]
        dot = sum(x * y for x, y in zip(va, vb, strict=True))
        na = sum(x * x for x in va) ** 0.5 or 1.0
        nb = sum(y * y for y in vb) ** 0.5 or 1.0
        return dot / (na * nb)

    def assess(self, claim: str, c: Citation) -> Support:
        """The evidence that the cited passage supports the claim."""
        if verbatim(claim, c):
            return Support(quoted=True)
        words, ev = set(tokens(claim)), evidence(c)
        missing = tuple(sorted(w for w in words if w.isdigit() and w not in set(tokens(ev))))
        if not words or missing:
            return Support(missing=missing)
        units = [c.quote[a:b] for a, b in sentences.split(c.quote)] or [c.quote]
        self._embed([claim, *units])
        sims = [self._cos(claim, u) for u in units]
        best = max(range(len(units)), key=sims.__getitem__)
        flipped = bool(_NEGATION.search(claim)) != bool(_NEGATION.search(units[best]))
        return Support(lexical=containment(claim, ev), similarity=sims[best], flipped=flipped)

    def support(self, claim: str, c: Citation) -> float:
        """0..1: how well the cited passage supports the claim (1.0 for a verbatim quote)."""
        return self.assess(claim, c).score


def support(claim: str, c: Citation, embeddings: Embedder | None = None) -> float:
    """The support score of one claim against one citation."""
    return Scorer(embeddings).support(claim, c)


def _joint(scorer: Scorer, claim: str, n: int, cites: list[Citation]) -> bool:
    """A claim citing several passages may draw on them together; each must contribute its share."""
    own = next(c for c in cites if c.n == n)
    union = Citation(0, "", "", None, None, None, " ".join(evidence(c) for c in cites), "", 0.0)
    return containment(claim, evidence(own)) >= CONTRIBUTION and scorer.support(claim, union) >= SUPPORT_THRESHOLD


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


def verify(answer: Answer, retrieval: Retrieval, embeddings: Embedder | None = None) -> Answer:
    """Drop invented [n], flag unsupported citations, report 'N of M citations verified', refuse if none holds."""
    if answer.refused:
        return answer
    by_n = {c.n: c for c in answer.citations}
    scorer = Scorer(embeddings)
    checked = supported = uncited = 0
    verdict: dict[int, bool] = {}
    invented: set[int] = set()
    # A partial answer's opening line says what the sources lack: a statement about them, not a claim to cite.
    gap_line = answer.answer.split("\n", 1)[0] if answer.coverage == "partial" else None
    for claim in claims(answer.answer):
        if gap_line is not None and claim.text.strip() and claim.text.strip() in gap_line:
            continue
        if not claim.cited:
            # A source label or a fragment of a quotation split at an abbreviation is not a claim of its own.
            sourced = any(containment(claim.text, evidence(c)) == 1.0 for c in answer.citations)
            uncited += len(tokens(claim.text)) >= 3 and not sourced
            continue
        known = [by_n[n] for n in claim.cited if n in by_n]
        for n in claim.cited:
            checked += 1
            if n not in by_n:
                invented.add(n)
                continue
            ok = scorer.support(claim.text, by_n[n]) >= SUPPORT_THRESHOLD
            ok = ok or (len(known) > 1 and _joint(scorer, claim.text, n, known))
            supported += ok
            verdict[n] = verdict.get(n, True) and ok
            if not ok:
                answer.warnings.append(f"citation [{n}] does not support “{_short(claim.text)}”")
    for n in sorted(invented):
        answer.warnings.append(f"citation [{n}] names no retrieved passage and was removed")
        answer.answer = re.sub(rf"\s*(?<!\\)\[{n}\]", "", answer.answer)
    for n, ok in verdict.items():
        by_n[n].verified = ok
    if uncited:
        what = f"{uncited} sentences of the answer cite" if uncited > 1 else "1 sentence of the answer cites"
        answer.warnings.append(f"{what} no passage")
    answer.verification = say("verified", answer.language, n=supported, m=checked)
    if not supported:
        return _withheld(answer, retrieval, checked)
    return answer


def _withheld(answer: Answer, retrieval: Retrieval, checked: int) -> Answer:
    from rag.answer.citations import citations_for
    from rag.answer.policy import REFUSAL

    why = f"none of its {checked} citations is supported" if checked else "it cites no passage"
    answer.warnings.append(f"the answer was withheld because {why}")
    answer.answer = REFUSAL if answer.language == "en" else say("refusal", answer.language)
    answer.refused = True
    answer.citations = citations_for(retrieval.hits[:3], verified=False)
    return answer
