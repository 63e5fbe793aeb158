"""The rules retrieval applies on top of fusion: places, diversity, synonyms, things the corpus never names."""

from dataclasses import replace

from rag.core.knowledge import load as load_knowledge
from rag.core.records import Chunk, DocMeta, Hit
from rag.index.keyword import tokens
from rag.retrieve import coverage, places
from rag.retrieve.query import expand
from rag.retrieve.rank import binding_first, diverse, holdings_first, with_local_law

KNOWLEDGE = load_knowledge()

VOCABULARY = {
    "criminal",
    "code",
    "article",
    "26",
    "8",
    "45",
    "convention",
    "court",
    "modern",
    "slavery",
    "act",
    "traffick",
    "europ",
}


def hit(doc_id: str, jurisdiction: str, n: int = 0, pinpoint: str | None = None) -> Hit:
    chunk = Chunk(
        chunk_id=f"{doc_id}-{n}",
        doc_id=doc_id,
        text="text",
        pinpoint=pinpoint or f"Article {n}",
        heading_path=(),
        start=0,
        end=4,
        page=None,
        meta=DocMeta(title=doc_id, jurisdiction=jurisdiction),
        source=f"/corpus/{doc_id}.md",
    )
    return Hit(chunk=chunk, score=1.0 - n / 100)


def test_places_in_the_facts_name_the_law_that_governs_them() -> None:
    assert places.place_jurisdictions("She was trafficked to England and arrested for a fake ID.") == {"UK", "UK-EW"}
    # The United Kingdom's three forums: the place picks one; the country alone leaves all three open.
    assert places.place_jurisdictions("A prosecutor in Glasgow has the file.") == {"UK", "UK-SC"}
    assert places.place_jurisdictions("She was arrested in Belfast.") == {"UK", "UK-NI"}
    assert places.place_jurisdictions("She was trafficked to the UK.") == {"UK"}
    assert places.is_local("UK", "UK-SC", {"UK", "UK-EW"}) is False  # Scottish law does not govern Leeds
    assert places.is_local("UK", "UK-EW", {"UK", "UK-EW"}) and places.is_local("UK", None, {"UK", "UK-EW"})
    assert places.is_local("UK", "UK-SC", {"UK"})
    assert places.place_jurisdictions("I sit as a judge in Baku.") == {"AZ"}
    assert places.place_jurisdictions("A prosecutor in Greece asks about charges.") == {"EU"}
    # A nationality is not the forum; Denmark does not take part in Directive 2011/36/EU.
    assert places.place_jurisdictions("A Nigerian woman and a British man were arrested.") == set()
    assert places.place_jurisdictions("The case is before a court in Denmark.") == set()


def test_cities_set_the_place_but_do_not_cover_a_countrys_law() -> None:
    assert places.place_jurisdictions("He was found in a cannabis farm in Manchester.") == {"UK", "UK-EW"}
    assert places.place_jurisdictions("She was arrested in Paris with a false passport.") == {"EU"}
    assert places.place_jurisdictions("A prosecutor in Ganja has the file.") == {"AZ"}
    assert places.place_jurisdictions("It was a nice, split decision.") == set()  # cities match capitalised only
    # The respondent of a cited case is not where the facts are.
    assert places.place_jurisdictions("What did the Court find in V.C.L. and A.N. v. the United Kingdom?") == set()
    assert places.place_jurisdictions("Rantsev v. Cyprus and Russia: what obligations?") == set()
    # The corpus may mention Vienna (UNODC, the OSCE); that says nothing about Austrian law.
    assert coverage.uncovered("What does the Austrian Criminal Code say about it?", VOCABULARY | {"vienna"}) == [
        "Austria"
    ]


def test_the_law_of_the_place_gets_a_slot_only_when_missing() -> None:
    top = [hit("coe", "CoE", 0), hit("osce", "OSCE", 1), hit("guide", "INT", 2)]
    local = hit("msa", "UK", 30)
    ranked = [*top, hit("eu", "EU", 20), local]
    assert with_local_law(top, ranked, {"UK"}, k=3) == [*top[:2], local]
    assert with_local_law(top, ranked, {"UK"}, k=5) == [*top, local]
    assert with_local_law([*top[:2], local], ranked, {"UK"}, k=3) == [*top[:2], local]
    assert with_local_law(top, ranked, set(), k=3) == top
    assert with_local_law(top, ranked, {"US"}, k=3) == top  # nothing of that jurisdiction indexed
    named = replace(top[0], exact=True)
    assert with_local_law([named], ranked, {"UK"}, k=1) == [named]  # a provision the question names stays
    assert with_local_law([top[1], named], ranked, {"UK"}, k=2) == [named, local]


def test_a_member_state_is_only_the_setting_when_the_question_asks_about_eu_law() -> None:
    facts = "She was trafficked to Italy and police found a forged permit on her."
    assert coverage.uncovered(facts + " Does EU law let the prosecutor drop the charge?", VOCABULARY) == []
    assert "Italy" in coverage.uncovered(facts + " What does the Italian Penal Code say?", VOCABULARY)


def test_names_the_corpus_never_uses_are_not_covered_by_their_separate_words() -> None:
    stored = ("Council of Europe", "Modern Slavery", "criminal", "procedure")
    contains = lambda text: any(text in passage for passage in stored)  # noqa: E731
    vocabulary = VOCABULARY | set(tokens("council of europe criminal procedure border refuge order modern slavery"))

    def missing(question: str) -> list[str]:
        return coverage.uncovered(question, vocabulary, contains=contains)

    assert missing("Which article of the Code of Criminal Procedure lets the investigator stop?") != []
    assert missing("Does the UK Nationality and Borders Act bar her?") != []  # "border" is known, the Act is not
    assert missing("What did the Grand Chamber decide in S.M. v. Croatia?") == ["Croatia"]
    assert missing("Is the Council of Europe Trafficking Convention binding?") == []  # a place breaks the name
    assert missing("Does the Modern Slavery Act apply?") == []
    assert missing("Can she rely on the Refugee Convention?") == []  # one slip from a known word: let through


def test_where_she_came_from_is_not_the_law_asked_about() -> None:
    question = "Crown Court in Leeds: she was trafficked from Eritrea and is charged with kidnapping. Defence?"
    assert coverage.uncovered(question, VOCABULARY) == []
    assert places.place_jurisdictions(question) == {"UK", "UK-EW"}
    assert coverage.uncovered("What do Eritrean courts do with trafficked defendants?", VOCABULARY) == ["Eritrea"]
    assert coverage.uncovered("What do the Belgian prosecution service's instructions say?", VOCABULARY) == ["Belgium"]


def test_a_third_passage_goes_only_to_a_document_named_alone() -> None:
    ranked = [hit("coe", "CoE", i) for i in range(4)] + [hit("eu", "EU", 10), hit("ilo", "ILO", 11)]
    alone = diverse(ranked, 4, per_doc=2, focus={"coe", "coe-official-text-not-indexed"})
    assert [h.chunk.doc_id for h in alone] == ["coe", "coe", "coe", "eu"]
    several = diverse(ranked, 4, per_doc=2, focus={"coe", "eu"})
    assert [h.chunk.doc_id for h in several] == ["coe", "coe", "eu", "ilo"]


def test_a_second_passage_of_the_same_provision_waits_for_other_provisions() -> None:
    ranked = [
        hit("msa", "UK", 0, "Section 45(1)"),
        hit("msa", "UK", 1, "Section 45(1)"),
        hit("msa", "UK", 2, "Schedule 4"),
    ]
    ranked += [hit("coe", "CoE", 3), hit("eu", "EU", 4)]
    assert [h.chunk.chunk_id for h in diverse(ranked, 4, per_doc=2)] == ["msa-0", "msa-2", "coe-3", "eu-4"]
    assert [h.chunk.chunk_id for h in diverse(ranked[:2], 2, per_doc=2)] == ["msa-0", "msa-1"]  # nothing else: kept
    named = [ranked[0], replace(ranked[1], exact=True), *ranked[2:]]  # the question names Section 45(1)
    assert [h.chunk.chunk_id for h in diverse(named, 3, per_doc=2)] == ["msa-0", "msa-1", "coe-3"]


def test_removal_is_searched_in_the_words_of_the_treaties() -> None:
    assert "expulsion" in expand("Can she be deported before she is identified?")
    assert "expulsion" in expand("can she be removed straight away?")
    assert "expulsion" not in expand("What does Article 26 require?")


def test_instruments_provisions_and_citations_the_corpus_never_names_are_uncovered() -> None:
    def missing(question: str) -> list[str]:
        return coverage.uncovered(question, VOCABULARY)

    assert missing("Does the ASEAN Convention contain a non-punishment clause?") == ["ASEAN Convention"]
    assert missing("What is the penalty under Article 144-1 of the Criminal Code?") == ["Article 144"]
    assert "[2013] EWCA" in missing("What did R v L [2013] EWCA Crim 991 decide about trafficked defendants?")
    assert "Hacienda Brasil Verde Workers" in missing("What was held in Hacienda Brasil Verde Workers v. Brazil?")
    # Known instruments and provisions, and the asker's own court, are not.
    assert missing("Does Article 26 of the Convention apply?") == []
    assert missing("Is section 45 of the Modern Slavery Act a defence?") == []
    assert missing("I'm a Crown Court judge: does Article 8 apply?") == []


def test_lists_of_instruments_and_non_eu_facts_put_what_binds_first() -> None:
    ranked = [hit("guide", "INT", 0), hit("eu-directive-2011-36", "EU", 1), hit("coe", "CoE", 2)]
    order = binding_first(ranked, "Which international standards apply to her?", set(), set(), KNOWLEDGE)
    assert [h.chunk.doc_id for h in order] == ["eu-directive-2011-36", "coe", "guide"]
    # Facts set outside the Union: EU law after the rest, unless the question asks about it.
    order = binding_first(ranked, "I sit as a judge in Baku. Is she protected?", {"AZ"}, set(), KNOWLEDGE)
    assert [h.chunk.doc_id for h in order] == ["guide", "coe", "eu-directive-2011-36"]
    asked = binding_first(ranked, "Does the Directive help her in Baku?", {"AZ"}, {"eu-directive-2011-36"}, KNOWLEDGE)
    assert asked == ranked
    assert binding_first(ranked, "Do the instruments differ for children?", set(), set(), KNOWLEDGE) == ranked


def test_a_list_of_instruments_puts_judgments_and_reports_after_the_instruments() -> None:
    def typed(doc: str, kind: str | None, n: int) -> Hit:
        h = hit(doc, "CoE", n)
        return replace(h, chunk=replace(h.chunk, meta=DocMeta(title=doc, jurisdiction="CoE", type=kind)))

    ranked = [
        typed("vcl", "case-law", 0),
        typed("news", "conference", 1),
        typed("coe", "treaty", 2),
        typed("mine", None, 3),
    ]
    order = binding_first(ranked, "Which instruments protect victims from prosecution?", set(), set(), KNOWLEDGE)
    # A user's plain file has no type: it is not judged by one.
    assert [h.chunk.doc_id for h in order] == ["coe", "mine", "vcl", "news"]
    assert binding_first(ranked, "Does V.C.L. protect victims from prosecution?", set(), set(), KNOWLEDGE) == ranked
    # "International" instruments: a country's own law and guidance come after them too.
    national = [hit("cps-guidance", "UK", 0), hit("az-law", "AZ", 1), hit("ilo", "ILO", 2)]
    order = binding_first(national, "Which international instruments apply?", set(), set(), KNOWLEDGE)
    assert [h.chunk.doc_id for h in order] == ["ilo", "cps-guidance", "az-law"]
    assert binding_first(national, "Which instruments apply in England?", set(), set(), KNOWLEDGE) == national
    # The same questions in the other languages read.
    for asked in (
        "Какие международные акты применимы?",
        "Hansı beynəlxalq sənədlər tətbiq olunur?",
        "Hangi uluslararası belgeler uygulanır?",
        "Quels instruments internationaux s'appliquent ?",
    ):
        assert binding_first(national, asked, set(), set(), KNOWLEDGE)[0].chunk.doc_id == "ilo", asked


def test_a_provisions_text_goes_before_a_close_note_on_it_and_a_pinpoint_before_a_close_introduction() -> None:
    from dataclasses import replace

    from rag.retrieve.rank import pinpointed_first, primary_first

    note = hit("coe-convention", "CoE", 0, "Article 26")
    note = replace(note, chunk=replace(note.chunk, meta=DocMeta(title="note", authority="commentary")))
    text = replace(hit("coe-official", "CoE", 5, "Article 26"), score=0.95)
    far = replace(text, score=0.5)
    assert primary_first([note, text]) == [text, note]
    assert primary_first([note, far]) == [note, far]  # a note far more relevant keeps its place
    intro = replace(
        hit("coe-convention", "CoE", 0), chunk=replace(hit("coe-convention", "CoE", 0).chunk, pinpoint=None)
    )
    article = replace(hit("coe-convention", "CoE", 3, "Article 10"), score=0.92)
    assert pinpointed_first([intro, article]) == [article, intro]
    assert pinpointed_first([intro, replace(article, score=0.3)])[0] is intro


def test_a_judgments_facts_trade_places_with_its_holding_unless_the_question_asks_what_happened() -> None:
    facts = hit("vcl", "CoE", 1, "§ Facts")
    holding = hit("vcl", "CoE", 9, "§ Duties of prosecutors")
    ranked = [facts, hit("guide", "INT", 2), hit("s45", "UK", 3), holding, hit("other", "CoE", 4, "§ Facts")]
    order = [(h.chunk.doc_id, h.chunk.pinpoint) for h in holdings_first(ranked, "What should he have done?", KNOWLEDGE)]
    # The holding takes the facts' rank and the facts the holding's; a case with no other section keeps its facts.
    assert order == [
        ("vcl", "§ Duties of prosecutors"),
        ("guide", "Article 2"),
        ("s45", "Article 3"),
        ("vcl", "§ Facts"),
        ("other", "§ Facts"),
    ]
    for asked in ("What were the facts in V.C.L.?", "What happened to the applicants?", "When did she arrive?"):
        assert holdings_first(ranked, asked, KNOWLEDGE) == ranked, asked


def test_a_question_with_no_sign_of_a_child_gets_the_adult_provision_in_the_child_ones_rank() -> None:
    from rag.retrieve.rank import adult_unless_child

    ids = ["s45-adult", "s45-adult-2", "s45-child", "s45-5", "coe-26"]
    labels = ["Section 45(1)", "Section 45(1)", "Section 45(4)", "Section 45(5)", "Article 26"]
    docs = ["uk-modern-slavery-act-s45"] * 4 + ["coe-convention"]
    metas = [{"doc_id": d, "pinpoint": p} for d, p in zip(docs, labels, strict=True)]
    pinned: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        pinned.setdefault(label, []).append(i)

    def ranked(question: str, exact: frozenset[str] = frozenset()) -> dict[str, float]:
        ranks = {"coe-26": 0.03, "s45-child": 0.02, "s45-5": 0.01}
        adult_unless_child(ranks, question, set(exact), pinned, ids, metas, KNOWLEDGE)
        return ranks

    # The adult summary (its first passage) was ranked nowhere: it takes the child limb's score.
    assert ranked("She was arrested in Leeds for a fake ID. Can they punish her?") == {
        "coe-26": 0.03,
        "s45-child": 0.0,
        "s45-5": 0.01,
        "s45-adult": 0.02,
    }
    for child in ("A 16-year-old boy in Leeds", "Мальчику 15 лет", "16 yaşlı oğlan", "Un mineur de 16 ans"):
        assert ranked(child) == {"coe-26": 0.03, "s45-child": 0.02, "s45-5": 0.01}, child
    # A filter that leaves out the adult provision leaves the ranks alone.
    kept = {"coe-26": 0.03, "s45-child": 0.02, "s45-5": 0.01}
    adult_unless_child(kept, "Can they punish her?", set(), pinned, ids, metas, KNOWLEDGE, {"coe-26", "s45-child"})
    assert kept == {"coe-26": 0.03, "s45-child": 0.02, "s45-5": 0.01}
    # A question naming the child limb keeps it.
    assert ranked("What does s.45(4) require?", frozenset({"s45-child"}))["s45-child"] == 0.02
