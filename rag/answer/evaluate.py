"""Retrieval and refusal metrics on a gold set of questions with their expected sources."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.core import pinpoint as pp
from rag.core.errors import RagError
from rag.core.records import Hit


@dataclass(frozen=True)
class Expected:
    """One point an answer needs and the passage that states it; `alternatives` are other passages that state
    the same point as fully (a gold line's "or": a later note can say what the labelled one says)."""

    doc: str
    pinpoint: str | None
    alternatives: tuple[tuple[str, str | None], ...] = ()

    @property
    def places(self) -> tuple[tuple[str, str | None], ...]:
        return ((self.doc, self.pinpoint), *self.alternatives)

    def found(self, got: Iterable[tuple[str, str | None]]) -> bool:
        """Some retrieved (document, pinpoint) is this point's passage or one of its alternatives."""
        got = list(got)
        return any(
            doc == want and (pin is None or pp.matches(pin, have)) for want, pin in self.places for doc, have in got
        )


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    expected: tuple[Expected, ...]
    answerable: bool
    style: str = ""
    missing: tuple[str, ...] = ()  # what an unanswerable question asks that the sources lack


@dataclass
class QuestionResult:
    id: str
    question: str
    answerable: bool
    refused: bool
    doc_recall: float
    pin_recall: float
    reciprocal_rank: float
    retrieve_ms: float
    top: list[str] = field(default_factory=list)
    coverage: str = "full"
    not_covered: list[str] = field(default_factory=list)
    handled: bool = False  # unanswerable: refused, or its missing ask named in not_covered


@dataclass
class EvalReport:
    k: int
    questions: int
    doc_recall: float
    pin_recall: float
    mrr: float
    refusal_accuracy: float
    false_refusals: float
    unanswerable_handled: float  # refused or the missing ask named
    answerable_partial: float  # answerable questions graded partial
    latency_p50_ms: float
    latency_p95_ms: float
    answer_p50_ms: float  # the engine's answer and its grading, after retrieval
    results: list[QuestionResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("results")
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}


def load_gold(path: Path) -> list[GoldItem]:
    """Read GOLD.jsonl; a malformed line (bad JSON, not an object, not UTF-8) is a RagError naming the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RagError(f"{path}: cannot read the gold set ({exc.strerror})") from None
    items = []
    for number, raw_line in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            raise RagError(f"{path}:{number}: not UTF-8 text; save the gold set as UTF-8") from None
        if line.strip():
            items.append(_gold_item(line, f"{path}:{number}"))
    if not items:
        raise RagError(f"{path}: no questions in the gold set")
    return items


def _gold_item(line: str, where: str) -> GoldItem:
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise RagError(f"{where}: not JSON ({exc}); write one JSON object per line, see README 'Evaluation'") from None
    if not isinstance(raw, dict):
        raise RagError(
            f"{where}: a gold item must be a JSON object with id and question, not {_kind(raw)}; "
            "see README 'Evaluation'"
        )
    expected = raw.get("expected", [])
    if not isinstance(expected, list) or not all(
        isinstance(e, dict) and "doc" in e and _alternatives_ok(e.get("or", [])) for e in expected
    ):
        raise RagError(
            f'{where}: "expected" must be a list of {{"doc": ..., "pinpoint": ..., "or": [{{"doc": ...}}, ...]}} '
            "objects (\"or\" optional)"
        )
    if "id" not in raw or not isinstance(raw.get("question"), str) or not raw["question"].strip():
        raise RagError(f'{where}: a gold item needs an "id" and a "question" (text); see README \'Evaluation\'')
    return GoldItem(
        str(raw["id"]),
        raw["question"],
        tuple(
            Expected(str(e["doc"]), _pin(e), tuple((str(a["doc"]), _pin(a)) for a in e.get("or", [])))
            for e in expected
        ),
        bool(raw.get("answerable", True)),
        str(raw.get("style", "")),
        tuple(str(m) for m in raw.get("missing", []) if isinstance(m, str)),
    )


def _alternatives_ok(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(a, dict) and "doc" in a for a in value)


def _pin(entry: dict[str, Any]) -> str | None:
    return None if entry.get("pinpoint") is None else str(entry["pinpoint"])


def recall(expected: tuple[Expected, ...], got: list[tuple[str, str | None]]) -> tuple[float, float, float]:
    """Document recall, pinpoint recall and reciprocal rank of the first expected document, over the ranked
    (document, pinpoint) pairs retrieved. A document counts as found when it, or an alternative given for a
    point it stands for, was retrieved."""
    if not expected:
        return 1.0, 1.0, 1.0
    docs = [d for d, _ in got]
    by_doc: dict[str, set[str]] = {}
    for e in expected:
        by_doc.setdefault(e.doc, {e.doc}).update(doc for doc, _ in e.alternatives)
    doc_recall = sum(bool(accepted & set(docs)) for accepted in by_doc.values()) / len(by_doc)
    pin_recall = sum(e.found(got) for e in expected) / len(expected)
    wanted = set().union(*by_doc.values())
    rr = next((1.0 / (i + 1) for i, d in enumerate(docs) if d in wanted), 0.0)
    return doc_recall, pin_recall, rr


def names_missing(not_covered: list[str], missing: tuple[str, ...]) -> bool:
    """Some named gap shares a content word with an ask the gold set says the sources lack."""
    from rag.index.keyword import tokens

    wanted = {t for m in missing for t in tokens(m)}
    return any(wanted & set(tokens(gap)) for gap in not_covered)


def _kind(value: object) -> str:
    names = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def score_hits(item: GoldItem, hits: list[Hit]) -> tuple[float, float, float]:
    """Document recall, pinpoint recall and reciprocal rank of the first expected document."""
    return recall(item.expected, [(h.chunk.doc_id, h.chunk.pinpoint) for h in hits])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(items: list[GoldItem], assistant: Any, k: int = 5) -> EvalReport:
    """Ask every gold question through the assistant's retriever and engine."""
    results = []
    answer_ms: list[float] = []
    for item in items:
        t0 = time.perf_counter()
        retrieval = assistant.retrieve(item.question, k)
        ms = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        answer = assistant.respond(item.question, retrieval)
        answer_ms.append((time.perf_counter() - t1) * 1000)
        d, p, rr = score_hits(item, retrieval.hits)
        top = [f"{h.chunk.doc_id}|{h.chunk.pinpoint}" for h in retrieval.hits]
        handled = answer.refused or names_missing(answer.not_covered, item.missing)
        results.append(
            QuestionResult(
                item.id,
                item.question,
                item.answerable,
                answer.refused,
                d,
                p,
                rr,
                ms,
                top,
                answer.coverage,
                list(answer.not_covered),
                handled and not item.answerable,
            )
        )
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    latencies = [r.retrieve_ms for r in results]

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    return EvalReport(
        k=k,
        questions=len(results),
        doc_recall=mean([r.doc_recall for r in answerable]),
        pin_recall=mean([r.pin_recall for r in answerable]),
        mrr=mean([r.reciprocal_rank for r in answerable]),
        refusal_accuracy=mean([1.0 if r.refused else 0.0 for r in unanswerable]),
        false_refusals=mean([1.0 if r.refused else 0.0 for r in answerable]),
        unanswerable_handled=mean([1.0 if r.handled else 0.0 for r in unanswerable]),
        answerable_partial=mean([1.0 if r.coverage == "partial" else 0.0 for r in answerable]),
        latency_p50_ms=percentile(latencies, 0.5),
        latency_p95_ms=percentile(latencies, 0.95),
        answer_p50_ms=percentile(answer_ms, 0.5),
        results=results,
    )
