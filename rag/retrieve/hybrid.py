"""Hybrid retrieval: dense (Chroma) and keyword (BM25) fused, exact pinpoints first, filtered, diverse."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.core import pinpoint as pp
from rag.core.config import Settings
from rag.core.errors import BadFilter, EmptyIndex
from rag.core.records import Chunk, DocMeta, Hit
from rag.index import store
from rag.retrieve import coverage
from rag.retrieve.query import ParsedQuery, parse

FILTER_KEYS = {
    "doc": "doc_id",
    "doc_id": "doc_id",
    "jurisdiction": "jurisdiction",
    "type": "type",
    "language": "language",
    "citation": "citation",
    "pinpoint": "pinpoint",
}
CANDIDATES = 40  # per retriever, before fusion
MATERIALISED = 24  # fused candidates read back from the store (at least 4k)
RRF_K = 60
PER_DOC = 2  # at most this many passages of one document in an answer, unless filtered to one
# Questions asking for a list or a comparison want breadth: one passage per document.
BROAD = re.compile(
    r"\b(?:which|what)\b[^?]*\b(?:instruments|judgments|cases|standards|treaties|sources|conventions|provisions|"
    r"texts|documents)\b|\bcompar\w*|\bdiffer\w*|\bside by side\b",
    re.I,
)
COMMENTARY = "INT"  # jurisdiction of the team's own comparative notes and practice guide
# Below this cosine similarity between the question and the best passage, the sources are taken
# not to address the question (calibrated on tests/gold; see README "Refusals").
RELEVANCE_FLOOR = 0.40
KEYWORD_EVIDENCE = 0.75  # or: this share of the question's words appears in the top passages


@dataclass
class Retrieval:
    """The ranked hits for one question, and how relevant the best of them is."""

    hits: list[Hit]
    best: float
    parsed: ParsedQuery
    candidates: list[Hit] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # what the question is about that the corpus never names
    on_topic: bool = True  # the question uses the field's vocabulary at all
    coverage: float = 0.0  # share of the question's words found in the top passages
    cited: bool = False  # a document number the question cites appears in a top passage
    query_vector: list[float] = field(default_factory=list)
    places: set[str] = field(default_factory=set)  # jurisdictions the facts are set in ("arrested in Leeds": UK)

    def local(self) -> Hit | None:
        """The best passage of the law of the place the facts are set in, if one was retrieved."""
        return next((h for h in self.hits if h.chunk.meta.jurisdiction in self.places), None)

    def addresses(self, floor: float) -> bool:
        """Whether the sources speak to the question at all (else every engine refuses)."""
        if not self.hits or self.uncovered or not self.on_topic:
            return False
        exact = any(h.exact for h in self.hits)
        return exact or self.cited or self.best >= floor or self.coverage >= KEYWORD_EVIDENCE


def parse_filters(items: list[str] | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key or not value:
            raise BadFilter(f"--where {item!r}: write it as KEY=VALUE, e.g. jurisdiction=EU")
        if key not in FILTER_KEYS:
            raise BadFilter(
                f"--where {item!r}: unknown key '{key}'; use one of {', '.join(sorted(set(FILTER_KEYS) - {'doc_id'}))}"
            )
        filters[FILTER_KEYS[key]] = value
    return filters


def chunk_from(meta: dict[str, Any], document: str) -> Chunk:
    """Rebuild a Chunk from what the store holds."""
    quote_at = int(meta.get("quote_at", 0))
    heading = str(meta.get("heading", ""))
    return Chunk(
        chunk_id=str(meta.get("chunk_id", "")),
        doc_id=str(meta.get("doc_id", "")),
        text=document[quote_at:],
        pinpoint=meta.get("pinpoint"),
        heading_path=tuple(heading.split(" > ")) if heading else (),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        page=meta.get("page"),
        meta=DocMeta(
            **{
                k: meta[k]
                for k in ("title", "citation", "type", "jurisdiction", "date", "url", "language")
                if k in meta
            }
        ),
        source=str(meta.get("source", "")),
    )


class Retriever:
    """Holds the open store, the embedding model and the keyword index for repeated questions."""

    def __init__(self, settings: Settings) -> None:
        from rag.index import keyword
        from rag.index.embed import make_embeddings

        self.settings = settings
        self.client = store.open_client(settings)
        self.collection = store.chunk_collection(self.client, settings)
        if self.collection.count() == 0:
            raise EmptyIndex(f"the index in {store.where(settings)} is empty; run `rag ingest` first")
        self.embeddings = make_embeddings(settings.embeddings)
        self.keywords = keyword.load(settings, self.collection)

    def refresh(self) -> None:
        """Pick up a newer ingest (the chat calls this between questions)."""
        from rag.index import keyword

        self.collection = store.chunk_collection(self.client, self.settings)
        if (self.collection.metadata or {}).get(keyword.GENERATION_KEY) != self.keywords.generation:
            self.keywords = keyword.load(self.settings, self.collection)

    def _allowed(self, filters: dict[str, str]) -> set[str] | None:
        if not filters:
            return None
        allowed = set()
        for cid, meta in zip(self.keywords.ids, self.keywords.metas, strict=True):
            if all(str(meta.get(k, "")).casefold() == v.casefold() for k, v in filters.items()):
                allowed.add(cid)
        return allowed

    def search(self, question: str, k: int = 5, filters: dict[str, str] | None = None) -> Retrieval:
        filters = filters or {}
        parsed = parse(question)
        allowed = self._allowed(filters)
        if allowed is not None and not allowed:
            return Retrieval(hits=[], best=0.0, parsed=parsed)
        qvec = self.embeddings.embed_query(parsed.text)
        ranks: dict[str, float] = {}

        dense = self._dense(qvec, allowed)
        for rank, cid in enumerate(dense):
            ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        kw = [
            (cid, s)
            for cid, s in self.keywords.search(parsed.text, CANDIDATES * 3)
            if allowed is None or cid in allowed
        ]
        for rank, (cid, _) in enumerate(kw[:CANDIDATES]):
            ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        exact, named = self._exact(parsed, allowed)
        hinted = set(parsed.doc_hints)
        for cid in ranks:
            if self.keywords.meta(cid).get("doc_id") in hinted:
                ranks[cid] += 0.5 / RRF_K
        # Only the leading candidates are read back from the store: diversity rarely looks further.
        ordered = sorted(ranks, key=lambda c: -ranks[c])
        leading = ordered[: max(MATERIALISED, 4 * k)]
        places = coverage.place_jurisdictions(question)  # "arrested in England": UK law is in point
        leading += [c for c in ordered if self.keywords.meta(c).get("jurisdiction") in places][:1]
        hits = self._materialise(list(dict.fromkeys([*exact, *leading])), qvec)
        kw_scores = dict(kw)
        scored = [
            Hit(
                chunk=hit.chunk,
                score=ranks.get(hit_key(hit), 0.0),
                dense=hit.dense,
                keyword=kw_scores.get(hit_key(hit)),
                exact=hit_key(hit) in exact,
            )
            for hit in hits
        ]
        scored.sort(key=lambda h: (-h.score, -(h.dense or 0.0)))
        scored = _promote_exact(scored, named)
        scored = binding_first(scored, question, places, hinted)
        best = max([*dense.values(), *(h.dense or 0.0 for h in scored)], default=0.0)
        broad = BROAD.search(question) and len(hinted) != 1  # "how does s.45(4) differ from s.45(1)" is narrow
        per_doc = k if "doc_id" in filters else 1 if broad else PER_DOC
        final = diverse(scored, k, per_doc=per_doc, focus=hinted)
        # The law of the place is in point even when the question never names it.
        final = with_local_law(final, scored, places, k)
        return Retrieval(
            hits=final,
            query_vector=list(qvec),
            best=best,
            parsed=parsed,
            candidates=scored,
            uncovered=coverage.uncovered(
                question,
                self.keywords.vocabulary,
                [h.chunk.text for h in final[:3]],
                contains=self._contains_among(scored),
            ),
            on_topic=coverage.on_topic(question),
            coverage=coverage.term_coverage(question, [h.chunk.text for h in final[:3]]),
            cited=coverage.reference_found(question, [f"{h.chunk.meta.citation} {h.chunk.text}" for h in final[:3]]),
            places=places,
        )

    def _contains_among(self, hits: list[Hit]) -> Callable[[str], bool]:
        """Does any passage contain this text? The candidates answer first; the store's full-text search (a scan:
        about 150-400 ms at 100,000 chunks) only for a name they lack, which is then usually missing altogether."""
        lowered: list[str] = []

        def contains(text: str) -> bool:
            if not lowered:
                lowered.extend(f"{h.chunk.meta.title} {h.chunk.meta.citation} {h.chunk.text}".lower() for h in hits)
            return any(text.lower() in t for t in lowered) or store.contains(self.collection, text)

        return contains

    def _dense(self, qvec: list[float], allowed: set[str] | None) -> dict[str, float]:
        """The nearest chunks, best first, with their cosine similarity (the store's space is cosine)."""
        n = min(CANDIDATES, len(self.keywords.ids) if allowed is None else len(allowed))
        kwargs: dict[str, Any] = {"query_embeddings": [qvec], "n_results": max(n, 1), "include": ["distances"]}
        if allowed is not None:
            kwargs["ids"] = sorted(allowed)
        result: Any = self.collection.query(**kwargs)
        return {cid: 1.0 - float(d) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)}

    def _exact(self, parsed: ParsedQuery, allowed: set[str] | None) -> tuple[list[str], bool]:
        """Chunks carrying a pinpoint the question names; True when it also names their instrument."""
        if not parsed.pinpoints:
            return [], False
        wanted = [p.casefold() for p in parsed.pinpoints]
        hints = set(parsed.doc_hints)
        found: list[int] = []
        # Over the distinct pinpoint labels, not every chunk: the index may hold 100,000 chunks.
        for label, rows in self.keywords.pinned().items():
            exact = any(pp.matches(p, label) for p in wanted)
            # With the instrument named, its "§ Holdings — Article 4" headings count too.
            if exact or (hints and any(p in label.casefold() for p in wanted)):
                found.extend(rows)
        ids, metas = self.keywords.ids, self.keywords.metas
        chosen = [
            ids[i]
            for i in sorted(found)
            if (allowed is None or ids[i] in allowed) and (not hints or metas[i].get("doc_id") in hints)
        ]
        if hints:
            return chosen, True
        return chosen[:CANDIDATES], False

    def _materialise(self, ids: list[str], qvec: list[float]) -> list[Hit]:
        import numpy as np

        if not ids:
            return []
        data: Any = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        vectors = np.asarray(data["embeddings"], dtype=np.float32).reshape(len(data["ids"]), -1)
        query = np.asarray(qvec, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        similarity = vectors @ query / np.where(norms == 0, 1.0, norms)
        return [
            _KeyedHit(chunk=chunk_from(dict(meta or {}), doc or ""), score=0.0, dense=float(sim), key=cid)
            for cid, doc, meta, sim in zip(data["ids"], data["documents"], data["metadatas"], similarity, strict=True)
        ]


def _promote_exact(ranked: list[Hit], named: bool) -> list[Hit]:
    """Put the best passages of a pinpoint the question names first.

    With the instrument named ("s.45 MSA", "Article 8 of the Directive") its two most relevant matching
    passages lead; other parts of the same provision keep their place on merit, so a question about the
    Schedule that limits s.45 is not crowded out by every subsection of s.45. A bare "Article 4" names
    no instrument: its best match is lifted by one place's worth of score instead.
    """
    exact = [h for h in ranked if h.exact]
    if not exact:
        return ranked
    if named:
        # The provision's own text before the commentary under it ("How practitioners apply it").
        exact.sort(key=lambda h: not _states_provision(h))
        # "s.45" covers s.45(1), (4) and (5): only the best leads and the rest compete on merit. When the
        # provision is applied in another named document (a judgment's holding on Article 6), that leads too.
        several = len({h.chunk.pinpoint for h in exact}) > 1
        lead = exact[: 1 if several else 2]
        others = [h for h in exact if h.chunk.doc_id != exact[0].chunk.doc_id]
        if others:
            # The judgment the question is most about: the one whose best passage ranks highest on merit.
            standing: dict[str, float] = {}
            for h in ranked:
                standing.setdefault(h.chunk.doc_id, h.score)
            applied = max(others, key=lambda h: (standing[h.chunk.doc_id], _states_provision(h), h.score))
            if applied not in lead:
                lead = [lead[0], applied]
        return lead + [h for h in ranked if h not in lead]
    boosted = [
        Hit(
            h.chunk,
            h.score + 1.0 / RRF_K,
            h.dense,
            h.keyword,
            h.exact,
        )
        if h is exact[0]
        else h
        for h in ranked
    ]
    return sorted(boosted, key=lambda h: (-h.score, -(h.dense or 0.0)))


# "Which international standards/instruments...": the team's commentary is not one of them.
INSTRUMENTS = re.compile(r"\b(?:which|what)\b[^?]*\b(?:instruments|standards|treaties|conventions)\b", re.I)
EU_DOCS = ("eu-directive-2011-36", "eu-directive-2024-1712")


def binding_first(ranked: list[Hit], question: str, places: set[str], hinted: set[str]) -> list[Hit]:
    """Move behind the rest what does not answer the question as asked, keeping the order otherwise.

    A list of instruments is not answered by the bench book's own commentary; and EU law does not
    govern facts set outside the Union (Baku; England since Brexit) unless the question asks about it.
    """
    later: set[int] = set()
    if INSTRUMENTS.search(question):
        later |= {id(h) for h in ranked if h.chunk.meta.jurisdiction == COMMENTARY}
    if places and "EU" not in places and not hinted & set(EU_DOCS):
        later |= {id(h) for h in ranked if h.chunk.meta.jurisdiction == "EU" and not h.exact}
    if not later:
        return ranked
    return [h for h in ranked if id(h) not in later] + [h for h in ranked if id(h) in later]


def _states_provision(hit: Hit) -> bool:
    """The chunk sits directly under the heading that names its pinpoint."""
    path = hit.chunk.heading_path
    return bool(path) and pp.matches(pp.from_heading(path[-1]) or "", hit.chunk.pinpoint)


def with_local_law(hits: list[Hit], ranked: list[Hit], places: set[str], k: int) -> list[Hit]:
    """Make room for the best passage governed by the place the facts are set in, if none made the top k."""
    if not places or any(h.chunk.meta.jurisdiction in places for h in hits):
        return hits
    local = next((h for h in ranked if h.chunk.meta.jurisdiction in places), None)
    if local is None:
        return hits
    if len(hits) < k:
        return [*hits, local]
    # It takes the place of the weakest passage, never of a provision the question names.
    weakest = next((i for i in range(len(hits) - 1, -1, -1) if not hits[i].exact), None)
    if weakest is None:
        return hits
    return [*hits[:weakest], *hits[weakest + 1 :], local]


@dataclass(frozen=True)
class _KeyedHit(Hit):
    key: str = ""


def hit_key(hit: Hit) -> str:
    return hit.key if isinstance(hit, _KeyedHit) else hit.chunk.chunk_id


def diverse(hits: list[Hit], k: int, per_doc: int = PER_DOC, focus: set[str] | None = None) -> list[Hit]:
    """Top k, with at most per_doc passages of one document (one more when the question names just that one)."""
    named = (focus or set()) & {h.chunk.doc_id for h in hits}
    chosen: list[Hit] = []
    seen: dict[str, int] = {}
    places: set[tuple[str, object]] = set()  # (document, provision or section) already chosen
    for hit in hits:
        limit = per_doc + 1 if len(named) == 1 and hit.chunk.doc_id in named else per_doc
        if hit.chunk.meta.jurisdiction == COMMENTARY:
            limit = 1  # the bench book's own guides: one passage, so primary sources get the room
        # A second passage of the same provision waits: another provision of that document says more.
        where = (hit.chunk.doc_id, hit.chunk.pinpoint or hit.chunk.heading_path)
        if seen.get(hit.chunk.doc_id, 0) < limit and (where not in places or hit.exact):
            chosen.append(hit)
            seen[hit.chunk.doc_id] = seen.get(hit.chunk.doc_id, 0) + 1
            places.add(where)
        if len(chosen) == k:
            return chosen
    for hit in hits:  # not enough other documents: fill up from the best remaining
        if hit not in chosen:
            chosen.append(hit)
        if len(chosen) == k:
            break
    return chosen
