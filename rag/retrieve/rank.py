"""Ordering the fused candidates: named provisions first, binding law before commentary, the law of the
place, and one or two passages a document."""

from __future__ import annotations

import re
from typing import Any

from rag.core import pinpoint as pp
from rag.core.knowledge import Knowledge
from rag.core.records import Hit
from rag.retrieve.places import local_rank

RRF_K = 60  # reciprocal rank fusion: 1 / (RRF_K + rank) per retriever
PER_DOC = 2  # at most this many passages of one document in an answer, unless filtered to one


# Questions asking for a list or a comparison want breadth: one passage per document.
BROAD = re.compile(
    r"\b(?:which|what)\b[^?]*\b(?:instruments|judgments|cases|standards|treaties|sources|conventions|provisions|"
    r"texts|documents)\b|\bcompar\w*|\bdiffer\w*|\bside by side\b",
    re.I,
)


# A passage with a pinpoint goes before an unpinpointed one of the same document scoring at most this much
# more: the provision itself is what a lawyer cites, the note's introduction only frames it.
PINPOINT_CLOSE = 0.9


def pinpointed_first(ranked: list[Hit]) -> list[Hit]:
    """Within each document, a provision's passage before a nearly as relevant passage that states none."""
    out = list(ranked)
    for i, hit in enumerate(out):
        if hit.chunk.pinpoint is not None or hit.exact:
            continue
        for j in range(i + 1, len(out)):
            other = out[j]
            if other.chunk.doc_id == hit.chunk.doc_id and other.chunk.pinpoint is not None:
                if other.score >= PINPOINT_CLOSE * hit.score:
                    out.insert(i, out.pop(j))
                break
    return out


def holdings_first(ranked: list[Hit], question: str, knowledge: Knowledge) -> list[Hit]:
    """A section that only frames its document (a judgment's facts) trades places with that document's next
    other section, unless the question asks about the framing section itself: the holding takes the rank the
    facts earned, and the facts the holding's."""
    framing = {f.pinpoint for f in knowledge.framing_sections if not re.search(f.asked_by, question, re.I | re.UNICODE)}
    out = list(ranked)
    done: set[str] = set()
    for i, hit in enumerate(out):
        if hit.chunk.pinpoint not in framing or hit.exact or hit.chunk.doc_id in done:
            continue
        done.add(hit.chunk.doc_id)
        j = next(
            (
                j
                for j in range(i + 1, len(out))
                if out[j].chunk.doc_id == hit.chunk.doc_id and out[j].chunk.pinpoint not in framing
            ),
            None,
        )
        if j is not None:
            out[i], out[j] = out[j], out[i]
    return out


def adult_unless_child(
    ranks: dict[str, float],
    question: str,
    exact: set[str],
    pinned: dict[str, list[int]],
    ids: list[str],
    metas: list[dict[str, Any]],
    knowledge: Knowledge,
    allowed: set[str] | None = None,
) -> None:
    """A question with no sign of a child is about an adult: a document's adult provision takes the rank its
    child provision earned, and the child provision the adult's (zero when it ranked nowhere). `pinned` maps
    each pinpoint label to its rows in the index's `ids` and `metas`; `allowed`, the passages the filters
    leave (None: all)."""
    if not knowledge.child_provisions or re.search(knowledge.child_signs, question, re.I):
        return

    def passages(doc: str, pinpoint: str) -> list[str]:
        rows = sorted(i for label, found in pinned.items() if pp.matches(pinpoint, label) for i in found)
        return [ids[i] for i in rows if metas[i].get("doc_id") == doc]

    for provision in knowledge.child_provisions:
        child = [c for c in passages(provision.doc, provision.child) if c in ranks and c not in exact]
        adult = [c for c in passages(provision.doc, provision.adult) if allowed is None or c in allowed]
        if not child or not adult:
            continue
        best_child = max(child, key=lambda c: ranks[c])
        # The adult provision's best passage; unranked, its first (the summary of what it says).
        best_adult = max(adult, key=lambda c: ranks.get(c, 0.0))
        if ranks.get(best_adult, 0.0) < ranks[best_child]:
            ranks[best_adult], ranks[best_child] = ranks[best_child], ranks.get(best_adult, 0.0)


def primary_first(ranked: list[Hit]) -> list[Hit]:
    """A provision's own text before a note on the same provision scoring at most a little more (the close
    call of PINPOINT_CLOSE); a note far more relevant to the question keeps its place."""
    out = list(ranked)
    for i, hit in enumerate(out):
        if not hit.chunk.meta.commentary or hit.chunk.pinpoint is None:
            continue
        for j in range(i + 1, len(out)):
            other = out[j]
            if other.chunk.pinpoint == hit.chunk.pinpoint and not other.chunk.meta.commentary:
                if other.score >= PINPOINT_CLOSE * hit.score:
                    out.insert(i, out.pop(j))
                break
    return out


def promote_exact(ranked: list[Hit], named: bool) -> list[Hit]:
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
        # The provision's own text (an official text, then a note's summary of it) before the commentary under
        # it ("How practitioners apply it").
        # Within a note, the summary's opening passage (what the provision says) before its later paragraphs.
        exact.sort(key=lambda h: (h.chunk.meta.commentary, not states_provision(h), h.chunk.doc_id, h.chunk.start))
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
            applied = max(others, key=lambda h: (standing[h.chunk.doc_id], states_provision(h), h.score))
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




def binding_first(
    ranked: list[Hit], question: str, places: set[str], hinted: set[str], knowledge: Knowledge
) -> list[Hit]:
    """Move behind the rest what does not answer the question as asked, keeping the order otherwise.

    A list of instruments is not answered by the bench book's own commentary, nor by a judgment or a report;
    and EU law does not govern facts set outside the Union (Baku; England since Brexit) unless the question
    asks about it.
    """
    later: set[int] = set()
    # "Which international standards/instruments...", in any language the knowledge data reads.
    if knowledge.instrument_questions and re.search(knowledge.instrument_questions, question, re.I):
        kinds = knowledge.instrument_types
        later |= {
            id(h)
            for h in ranked
            if h.chunk.meta.jurisdiction == knowledge.commentary
            or (kinds and h.chunk.meta.type is not None and h.chunk.meta.type not in kinds)
        }
        international = knowledge.international_words
        if international and re.search(international, question, re.I):  # a country's own law is not one
            national = {c.law for c in knowledge.countries if c.law}
            later |= {id(h) for h in ranked if h.chunk.meta.jurisdiction in national}
    if places and "EU" not in places and not hinted & set(knowledge.eu_documents):
        later |= {id(h) for h in ranked if h.chunk.meta.jurisdiction == "EU" and not h.exact}
    if not later:
        return ranked
    return [h for h in ranked if id(h) not in later] + [h for h in ranked if id(h) in later]


def states_provision(hit: Hit) -> bool:
    """The chunk sits directly under the heading that names its pinpoint."""
    path = hit.chunk.heading_path
    return bool(path) and pp.matches(pp.from_heading(path[-1]) or "", hit.chunk.pinpoint)


def with_local_law(hits: list[Hit], ranked: list[Hit], places: set[str], k: int) -> list[Hit]:
    """Make room for the best passage governed by the place the facts are set in, if none made the top k."""
    if not places or any(local_rank(vars(h.chunk.meta), places) == 0 for h in hits):
        return hits
    # The place's own law first; other material of that place only when none of its law was retrieved.
    local = next((h for h in ranked if local_rank(vars(h.chunk.meta), places) == 0), None)
    if local is None and not any(local_rank(vars(h.chunk.meta), places) is not None for h in hits):
        local = next((h for h in ranked if local_rank(vars(h.chunk.meta), places) is not None), None)
    if local is None:
        return hits
    if len(hits) < k:
        return [*hits, local]
    # It takes the place of the weakest passage, never of a provision the question names.
    weakest = next((i for i in range(len(hits) - 1, -1, -1) if not hits[i].exact), None)
    if weakest is None:
        return hits
    return [*hits[:weakest], *hits[weakest + 1 :], local]


def diverse(
    hits: list[Hit], k: int, per_doc: int = PER_DOC, focus: set[str] | None = None, commentary: str | None = None
) -> list[Hit]:
    """Top k, with at most per_doc passages of one document (one more when the question names just that one)."""
    named = (focus or set()) & {h.chunk.doc_id for h in hits}
    chosen: list[Hit] = []
    seen: dict[str, int] = {}
    places: set[tuple[str, object]] = set()  # (document, provision or section) already chosen
    for hit in hits:
        limit = per_doc + 1 if len(named) == 1 and hit.chunk.doc_id in named else per_doc
        if commentary is not None and hit.chunk.meta.jurisdiction == commentary:
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
