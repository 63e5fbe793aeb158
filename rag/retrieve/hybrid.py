"""Hybrid retrieval: dense (Chroma) and keyword (BM25) fused, exact pinpoints first, filtered, diverse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.core import pinpoint as pp
from rag.core.config import Settings
from rag.core.errors import BadFilter, EmptyIndex
from rag.core.knowledge import load as load_knowledge
from rag.core.records import Hit
from rag.index import store
from rag.index.embed import MODELS, Model, model_for
from rag.index.schema import chunk_from
from rag.retrieve import coverage
from rag.retrieve.coverage import Coverage
from rag.retrieve.places import local_rank, place_jurisdictions
from rag.retrieve.query import ParsedQuery, parse
from rag.retrieve.rank import (
    BROAD,
    PER_DOC,
    RRF_K,
    adult_unless_child,
    binding_first,
    diverse,
    holdings_first,
    pinpointed_first,
    primary_first,
    promote_exact,
    with_local_law,
)

if TYPE_CHECKING:
    from rag.index.dense_snapshot import Snapshot

CANDIDATES = 40  # per retriever, before fusion
KEYWORD_READS = 0.5  # share of a question's words the index holds, at and above which keywords weigh fully
MATERIALISED = 24  # fused candidates read back from the store (at least 4k)


@dataclass
class Retrieval:
    """The ranked hits for one question, how relevant the best of them is, and (once assessed) its coverage."""

    hits: list[Hit]
    best: float
    parsed: ParsedQuery
    candidates: list[Hit] = field(default_factory=list)
    query_vector: list[float] = field(default_factory=list)
    places: set[str] = field(default_factory=set)  # jurisdictions the facts are set in ("arrested in Leeds": UK)
    coverage: Coverage = field(default_factory=Coverage)  # set by Retriever.assess, apart from the ranking
    # The relevance floor of the model that scored `best` (each model's score scale differs), or min_score.
    floor: float = MODELS["minilm"].floor
    model: Model = MODELS["minilm"]  # the model that scored the hits: its score scale (margin, unrelated)

    def local(self) -> Hit | None:
        """The best passage of the law of the place the facts are set in, if one was retrieved."""
        ranks = [
            (r, i) for i, h in enumerate(self.hits) if (r := local_rank(vars(h.chunk.meta), self.places)) is not None
        ]
        return self.hits[min(ranks)[1]] if ranks else None


class Retriever:
    """Holds the open store, the embedding model and the keyword index for repeated questions."""

    def __init__(self, settings: Settings) -> None:
        from rag.index import keyword
        from rag.index.embed import make_embeddings

        self.settings = settings
        self._client: Any = None
        self._collection: Any = None
        # The embedded store's read cache when it is current (rag.index.dense_snapshot): no chromadb import.
        self.snapshot: Snapshot | None = self._current_snapshot()
        if self.snapshot is None:
            if self.collection.count() == 0:
                raise EmptyIndex(f"the index in {store.where(settings)} is empty; run `rag ingest` first")
            self.keywords = keyword.load(settings, self.collection)
        self.embeddings = make_embeddings(settings.embeddings)
        self.knowledge = load_knowledge(settings.corpus)

    def _current_snapshot(self) -> Snapshot | None:
        """The current snapshot, with self.keywords set to its keyword index; None when Chroma must answer."""
        from rag.index import dense_snapshot, keyword

        wanted = model_for(self.settings.embeddings)
        snapshot = dense_snapshot.open_current(self.settings, wanted.name, wanted.dimensions)
        if snapshot is None:
            return None
        if getattr(self, "keywords", None) is not None and self.keywords.generation == snapshot.generation:
            kept = getattr(self, "snapshot", None)  # the chat between questions: keep what it has read so far
            if kept is not None and kept.generation == snapshot.generation:
                snapshot.close()
                return kept
            return snapshot
        saved = keyword.load_saved(self.settings, snapshot.generation)
        if saved is None or len(saved.ids) != len(snapshot.norms):
            snapshot.close()
            return None
        self.keywords = saved
        return snapshot

    @property
    def client(self) -> Any:
        """The Chroma client, opened on first use (a question answered from the snapshot never needs it)."""
        if self._client is None:
            self._client = store.open_client(self.settings)
        return self._client

    @property
    def collection(self) -> Any:
        """The chunk collection, opened on first use."""
        if self._collection is None:
            self._collection = store.chunk_collection(self.client, self.settings)
        return self._collection

    def refresh(self) -> None:
        """Pick up a newer ingest (the chat calls this between questions)."""
        from rag.index import keyword

        self.snapshot = self._current_snapshot()
        if self.snapshot is not None:
            self._collection = None  # reopened (after that ingest) if a passage is asked of the store
            return
        self._collection = store.chunk_collection(self.client, self.settings)
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
        parsed = parse(question, self.knowledge)
        allowed = self._allowed(filters)
        if allowed is not None and not allowed:
            raise BadFilter(self._matches_nothing(filters))
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
        weight = keyword_weight(parsed.text, self.keywords.vocabulary)
        for rank, (cid, _) in enumerate(kw[:CANDIDATES]):
            ranks[cid] = ranks.get(cid, 0.0) + weight / (RRF_K + rank)
        exact, named = self._exact(parsed, allowed)
        hinted = set(parsed.doc_hints)
        for cid in ranks:
            if self.keywords.meta(cid).get("doc_id") in hinted:
                ranks[cid] += 0.5 / RRF_K
        adult_unless_child(
            ranks,
            parsed.text,
            set(exact),
            self.keywords.pinned(),
            self.keywords.ids,
            self.keywords.metas,
            self.knowledge,
            allowed,
        )
        # Only the leading candidates are read back from the store: diversity rarely looks further.
        ordered = sorted(ranks, key=lambda c: -ranks[c])
        leading = ordered[: max(MATERIALISED, 4 * k)]
        places = place_jurisdictions(question, self.knowledge)  # "arrested in England": UK law is in point
        leading += self._local_law(ordered, places, qvec, allowed)
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
        scored = holdings_first(pinpointed_first(scored), question, self.knowledge)
        scored = promote_exact(primary_first(scored), named)
        scored = binding_first(scored, question, places, hinted, self.knowledge)
        best = max([*dense.values(), *(h.dense or 0.0 for h in scored)], default=0.0)
        # "How does s.45(4) differ from s.45(1)?" names one indexed document: narrow, not a comparison of sources.
        broad = BROAD.search(question) and len(hinted & self.keywords.documents) != 1
        per_doc = k if "doc_id" in filters else 1 if broad else PER_DOC
        final = diverse(scored, k, per_doc=per_doc, focus=hinted, commentary=self.knowledge.commentary)
        # The law of the place is in point even when the question never names it.
        final = with_local_law(final, scored, places, k)
        return Retrieval(
            hits=final,
            query_vector=list(qvec),
            best=best,
            parsed=parsed,
            candidates=scored,
            places=places,
            floor=self.settings.min_score or model_for(self.settings.embeddings).floor,
            model=model_for(self.settings.embeddings),
        )

    def assess(self, question: str, retrieval: Retrieval) -> Coverage:
        """What of the question the top passages, and failing them the store, hold (see rag.retrieve.coverage)."""
        retrieval.coverage = coverage.assess(
            question,
            self.keywords.vocabulary,
            retrieval.hits[:3],
            contains=self._contains_among(retrieval.candidates),
            knowledge=self.knowledge,
            share=self.keywords.share,
        )
        # A provision the question names, in any language the knowledge data reads ('статья 127.1'), that no
        # passage states: its number is what the sources lack.
        stored = {str(m.get("pinpoint")) for m in self.keywords.metas if m.get("pinpoint")}
        for wanted in retrieval.parsed.pinpoints:
            if any(h.exact for h in retrieval.hits) or any(pp.matches(wanted, p) for p in stored):
                continue
            if wanted.casefold() not in (g.casefold() for g in retrieval.coverage.not_covered):
                retrieval.coverage.not_covered.append(wanted)
        return retrieval.coverage

    def _local_law(
        self, ordered: list[str], places: set[str], qvec: list[float], allowed: set[str] | None
    ) -> list[str]:
        """The best passage of the law of the place the facts are set in: among the candidates if one is there,
        else the nearest of that law's passages in the whole index (its words may be far from the question's)."""
        if not places:
            return []
        law = next((c for c in ordered if local_rank(self.keywords.meta(c), places) == 0), None)
        if law is not None:
            return [law]
        local = {
            cid: rank
            for cid, meta in zip(self.keywords.ids, self.keywords.metas, strict=True)
            if (rank := local_rank(meta, places)) is not None and (allowed is None or cid in allowed)
        }
        # The nearest passage of the place's own law in the whole index, else of any material of that place.
        for wanted in (0, 1):
            pool = {cid for cid, rank in local.items() if rank == wanted}
            if pool:
                return list(self._dense(qvec, pool))[:1]
        return []

    def _contains_among(self, hits: list[Hit]) -> Callable[[str], bool]:
        """Does any passage contain this text? The candidates answer first; the store's full-text search (a scan:
        about 150-400 ms at 100,000 chunks) only for a name they lack, which is then usually missing altogether."""
        lowered: list[str] = []

        def contains(text: str) -> bool:
            if not lowered:
                lowered.extend(f"{h.chunk.meta.title} {h.chunk.meta.citation} {h.chunk.text}".lower() for h in hits)
            if any(text.lower() in t for t in lowered):
                return True
            return store.contains(self.collection if self.snapshot is None else self.snapshot, text)

        return contains

    def _matches_nothing(self, filters: dict[str, str]) -> str:
        """Which filter matches no passage, with the values the index does hold for it."""
        for key, value in filters.items():
            known = sorted({str(m[key]) for m in self.keywords.metas if m.get(key) not in (None, "")}, key=str.casefold)
            if value.casefold() not in {k.casefold() for k in known}:
                shown = ", ".join(known[:25]) + (f" ... ({len(known)} in all)" if len(known) > 25 else "")
                return f"--where {key}={value} matches no indexed passage; {key} is one of: {shown or 'none'}"
        together = ", ".join(f"{k}={v}" for k, v in filters.items())
        return f"--where {together}: each matches passages, but no passage matches them all; drop one"

    def _dense(self, qvec: list[float], allowed: set[str] | None) -> dict[str, float]:
        """The nearest chunks, best first, with their cosine similarity (the store's space is cosine)."""
        n = min(CANDIDATES, len(self.keywords.ids) if allowed is None else len(allowed))
        if self.snapshot is not None:
            return self._dense_snapshot(qvec, allowed, max(n, 1))
        kwargs: dict[str, Any] = {"query_embeddings": [qvec], "n_results": max(n, 1), "include": ["distances"]}
        if allowed is not None:
            kwargs["ids"] = sorted(allowed)
        result: Any = self.collection.query(**kwargs)
        return {cid: 1.0 - float(d) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)}

    def _dense_snapshot(self, qvec: list[float], allowed: set[str] | None, n: int) -> dict[str, float]:
        """Exact nearest neighbours over the snapshot: one matrix product (10 ms at 100,000 chunks)."""
        import numpy as np

        assert self.snapshot is not None
        ids = self.keywords.ids
        rows = None
        if allowed is not None:
            position = self.snapshot.positions(ids)
            rows = np.asarray(sorted(position[c] for c in allowed if c in position), dtype=np.int64)
        sims = self.snapshot.cosines(qvec, rows)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        chosen = top if rows is None else rows[top]
        return {ids[int(i)]: float(sims[j]) for i, j in zip(chosen, top, strict=True)}

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
        if self.snapshot is not None:
            return self._materialise_snapshot(ids, qvec)
        data: Any = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        vectors = np.asarray(data["embeddings"], dtype=np.float32).reshape(len(data["ids"]), -1)
        query = np.asarray(qvec, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        similarity = vectors @ query / np.where(norms == 0, 1.0, norms)
        return [
            _KeyedHit(chunk=chunk_from(dict(meta or {}), doc or ""), score=0.0, dense=float(sim), key=cid)
            for cid, doc, meta, sim in zip(data["ids"], data["documents"], data["metadatas"], similarity, strict=True)
        ]

    def _materialise_snapshot(self, ids: list[str], qvec: list[float]) -> list[Hit]:
        """The hits from the snapshot's texts and vectors and the keyword index's metadata (as Chroma holds them)."""
        import numpy as np

        assert self.snapshot is not None
        position = self.snapshot.positions(self.keywords.ids)
        known = [c for c in ids if c in position]
        rows = np.asarray([position[c] for c in known], dtype=np.int64)
        similarity = self.snapshot.cosines(qvec, rows)
        texts = self.snapshot.texts()
        return [
            _KeyedHit(chunk=chunk_from(dict(self.keywords.meta(cid)), texts[row]), score=0.0, dense=float(sim), key=cid)
            for cid, row, sim in zip(known, rows.tolist(), similarity, strict=True)
        ]


def keyword_weight(question: str, vocabulary: set[str]) -> float:
    """How far the keyword ranking is trusted: by the share of the question's words the indexed texts use.

    A question in a language the documents are not written in ("Ulusal Koordinatör kimdir?" over English
    notes) shares only names and numbers with them, so its keyword ranking is mostly noise; the dense
    ranking, which crosses languages, then leads. At KEYWORD_READS or more the weight is full.
    """
    from rag.index.keyword import tokens

    words = tokens(question)
    if not words:
        return 1.0
    return min(1.0, sum(w in vocabulary for w in words) / len(words) / KEYWORD_READS) ** 2


@dataclass(frozen=True)
class _KeyedHit(Hit):
    key: str = ""


def hit_key(hit: Hit) -> str:
    return hit.key if isinstance(hit, _KeyedHit) else hit.chunk.chunk_id
