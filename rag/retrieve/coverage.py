"""Does the corpus know what the question is about? Jurisdictions, cases and years it never mentions."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from functools import lru_cache
from itertools import pairwise

from rag.index.keyword import tokens

# Country names and their adjectives, mapped to one name; parts of a covered state map to it.
_COUNTRIES = """
Afghanistan:Afghan; Albania:Albanian; Algeria:Algerian; Argentina:Argentine,Argentinian; Armenia:Armenian;
Australia:Australian; Austria:Austrian; Azerbaijan:Azerbaijani,Azeri,Baku; Bangladesh:Bangladeshi;
Belarus:Belarusian; Belgium:Belgian; Bosnia:Bosnian; Brazil:Brazilian; Bulgaria:Bulgarian; Cambodia:Cambodian;
Canada:Canadian; Chile:Chilean; China:Chinese; Colombia:Colombian; Croatia:Croatian; Cyprus:Cypriot;
Czechia:Czech; Denmark:Danish; Egypt:Egyptian; Eritrea:Eritrean; Estonia:Estonian; Ethiopia:Ethiopian;
Finland:Finnish; France:French; Georgia:Georgian; Germany:German; Ghana:Ghanaian; Greece:Greek; Hungary:Hungarian;
Iceland:Icelandic; India:Indian; Indonesia:Indonesian; Iran:Iranian; Iraq:Iraqi; Ireland:Irish; Israel:Israeli;
Italy:Italian; Japan:Japanese; Jordan:Jordanian; Kazakhstan:Kazakh; Kenya:Kenyan; Kosovo:Kosovar;
Kyrgyzstan:Kyrgyz; Latvia:Latvian; Lebanon:Lebanese; Libya:Libyan; Lithuania:Lithuanian; Luxembourg:Luxembourgish;
Malaysia:Malaysian; Malta:Maltese; Mexico:Mexican; Moldova:Moldovan; Montenegro:Montenegrin; Morocco:Moroccan;
Nepal:Nepalese,Nepali; Netherlands:Dutch; Nigeria:Nigerian; Norway:Norwegian; Pakistan:Pakistani;
Philippines:Filipino,Philippine; Poland:Polish; Portugal:Portuguese; Qatar:Qatari; Romania:Romanian;
Russia:Russian; Saudi Arabia:Saudi; Scotland:Scottish,Scots; Northern Ireland:Northern Irish; Serbia:Serbian;
Slovakia:Slovak; Slovenia:Slovenian; Somalia:Somali; South Africa:South African; Spain:Spanish; Sudan:Sudanese;
Sweden:Swedish; Switzerland:Swiss; Syria:Syrian; Tajikistan:Tajik; Thailand:Thai; Tunisia:Tunisian;
Turkey:Turkish,Türkiye; Turkmenistan:Turkmen; Uganda:Ugandan; Ukraine:Ukrainian;
United Arab Emirates:Emirati,UAE; United Kingdom:British,Britain,England,English,Wales,Welsh,London,UK;
United States:American,USA,US; Uzbekistan:Uzbek; Vietnam:Vietnamese,Viet Nam
"""


@lru_cache(maxsize=1)
def _country_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for entry in _COUNTRIES.replace("\n", " ").split(";"):
        name, _, others = entry.strip().partition(":")
        for form in [name, *others.split(",")]:
            if form.strip():
                forms[form.strip()] = name.strip()
    return forms


@lru_cache(maxsize=1)
def _country_lookup() -> dict[str, str]:
    """Each country form, case-folded, to its country."""
    return {f.casefold(): c for f, c in _country_forms().items()}


def _mentioned(country: str, vocabulary: set[str]) -> bool:
    """Some name or adjective of the country occurs in the corpus."""
    return any(_known(f, vocabulary) for f, c in _country_forms().items() if c == country)


def _known(term: str, vocabulary: set[str]) -> bool:
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
            len(pairs & set(pairwise(v))) >= need and _distance(word, v, slips) <= slips for v in near
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


def _distance(a: str, b: str, limit: int) -> int:
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


_DOMESTIC = re.compile(
    r"\b(?:laws?|code|act|statutes?|legislation|courts?|case[- ]law|judgments?|constitution|equivalent|"
    r"limitations?|penal|criminal|prosecutors?|prosecution (?:service|authorit\w*)|police|government|ministry|"
    r"parliament)\b",
    re.I,
)
_PERSON = re.compile(
    r"\s+(?:wom[ae]n|m[ae]n|boys?|girls?|child(?:ren)?|minors?|teen\w*|nationals?|citizens?|clients?|"
    r"workers?|victims?|migrants?|famil\w+|national|defendants?|suspects?|mother|father|person|people)\b",
    re.I,
)
_ORIGIN = re.compile(r"\bfrom\s+(?:the\s+)?$", re.I)  # "trafficked from Eritrea": where she came from


def _not_the_forum(question: str, m: re.Match[str]) -> bool:
    """A nationality ("a Nigerian woman"), an origin ("from Eritrea") or a case's respondent ("v. the United
    Kingdom") names a country without setting the facts or the law there."""
    before = question[: m.start()]
    return bool(_PERSON.match(question, m.end()) or _ORIGIN.search(before) or _CASE_PARTY.search(before))


_ASKS_EU_LAW = re.compile(r"\b(?:EU|European Union|Directive)\b")
_STATISTICS = re.compile(r"\b(?:how many|number of|statistics|figures|data|referrals|tier|ranking|latest)\b", re.I)


def _forms_pattern(forms: Iterable[str], exact: Container[str] = ()) -> re.Pattern[str]:
    # Short all-caps forms (UK, US, UAE) and the `exact` ones must match as written; the rest in any case.
    parts = [
        re.escape(f) if f.isupper() or f in exact else f"(?i:{re.escape(f)})"
        for f in sorted(forms, key=len, reverse=True)
    ]
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


@lru_cache(maxsize=1)
def _country_pattern() -> re.Pattern[str]:
    return _forms_pattern(_country_forms())


def _country_subjects(question: str) -> set[str]:
    """Countries whose own law, courts or figures the question asks about (not a client's nationality)."""
    found = set()
    for m in _country_pattern().finditer(question):
        country = _country_lookup()[m.group(0).casefold()]
        if _not_the_forum(question, m):
            continue
        if country in _EU_BOUND and _ASKS_EU_LAW.search(question):
            continue  # "brought to Italy ... does EU law let the prosecutor drop it?": EU law is Italy's law here
        window = question[max(0, m.start() - 60) : m.end() + 60]
        if _DOMESTIC.search(window) or _STATISTICS.search(question):
            found.add(country)
    return found


# The jurisdiction codes of the corpus's metadata that govern a place the question names.
_PLACE_LAW = {"United Kingdom": "UK", "United States": "US", "Azerbaijan": "AZ"}
# Member States bound by Directive 2011/36/EU (Denmark does not take part in it, so it is left out).
_EU_BOUND = set(
    [
        "Austria",
        "Belgium",
        "Bulgaria",
        "Croatia",
        "Cyprus",
        "Czechia",
        "Estonia",
        "Finland",
        "France",
        "Germany",
        "Greece",
        "Hungary",
        "Ireland",
        "Italy",
        "Latvia",
        "Lithuania",
        "Luxembourg",
        "Malta",
        "Netherlands",
        "Poland",
        "Portugal",
        "Romania",
        "Slovakia",
        "Slovenia",
        "Spain",
        "Sweden",
    ]
)


# Cities and states where facts are set ("arrested in Manchester"), for the law of the place only. They are
# kept out of _COUNTRIES: a city the corpus happens to mention (the OSCE's Vienna, the Court's Strasbourg)
# must not make a country's own law look covered. Seats of international bodies are left out.
_PLACES = """
United Kingdom:Manchester,Birmingham,Liverpool,Leeds,Sheffield,Bristol,Newcastle,Nottingham,Leicester,Coventry,
Bradford,Southampton,Portsmouth,Plymouth,Kent,Essex,Yorkshire,Lancashire,Cardiff,Swansea,Heathrow,Dover;
United States:New York,California,Texas,Florida,Illinois,Chicago,Los Angeles,Houston,Miami,Atlanta,Seattle,
Boston,San Francisco,Washington DC,New Jersey,Arizona,Nevada,Las Vegas;
Azerbaijan:Ganja,Sumgait,Sumqayit,Lankaran,Mingachevir,Shirvan;
Austria:Vienna,Graz,Salzburg; Belgium:Antwerp,Ghent; Bulgaria:Sofia,Varna; Croatia:Zagreb;
Cyprus:Nicosia,Limassol,Larnaca; Czechia:Prague,Brno; Estonia:Tallinn; Finland:Helsinki;
France:Paris,Marseille,Lyon,Calais,Toulouse,Lille; Germany:Berlin,Hamburg,Munich,Frankfurt,Cologne;
Greece:Athens,Thessaloniki,Manolada,Lesbos; Hungary:Budapest; Ireland:Dublin,Cork; Italy:Rome,Milan,Naples,
Turin,Sicily,Palermo; Latvia:Riga; Lithuania:Vilnius; Malta:Valletta; Netherlands:Amsterdam,Rotterdam;
Poland:Krakow,Gdansk; Portugal:Lisbon,Porto; Romania:Bucharest; Slovakia:Bratislava; Slovenia:Ljubljana;
Spain:Madrid,Barcelona,Valencia,Seville,Malaga; Sweden:Stockholm,Gothenburg
"""


@lru_cache(maxsize=1)
def _place_forms() -> dict[str, str]:
    forms = dict(_country_forms())
    for entry in _PLACES.replace("\n", " ").split(";"):
        country, _, places = entry.strip().partition(":")
        forms.update({p.strip(): country for p in places.split(",") if p.strip()})
    return forms


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    cities = _place_forms().keys() - _country_forms().keys()
    return _forms_pattern(_place_forms(), exact=cities)  # capitalised only: "Reading", "Bath" are words too


def place_jurisdictions(question: str) -> set[str]:
    """Jurisdiction codes of the places the question sets its facts in ("trafficked to England": UK).

    A nationality, an origin or a cited case's respondent says nothing about the forum and is skipped.
    """
    codes: set[str] = set()
    lookup = {f.casefold(): c for f, c in _place_forms().items()}
    for m in _place_pattern().finditer(question):
        country = lookup[m.group(0).casefold()]
        if _not_the_forum(question, m):
            continue
        if country in _PLACE_LAW:
            codes.add(_PLACE_LAW[country])
        if country in _EU_BOUND:
            codes.add("EU")
    return codes


def _case_names(question: str) -> set[str]:
    """Party names of cases the question cites: 'Zoletić and Others v. Azerbaijan', 'the Smith case'."""
    names = set(
        re.findall(
            r"\b((?:[A-Z][\w'’.-]+\s+){0,3}[A-Z][\w'’.-]+)(?: and [Oo]thers)?\s+v\.?\s+(?:the\s+)?[A-Z]", question
        )
    )
    names |= set(re.findall(r"\b([A-Z][\w'’-]{2,}) (?:case|judgment|judgement|decision)\b", question))
    return {n for n in names if n.split()[0] not in _OPENERS}


# Capitalised words that open a sentence rather than name something.
_OPENERS = {"The", "A", "An", "In", "Under", "Does", "Do", "Did", "Is", "Was", "What", "Which", "How", "Has", "Can"}
# Instruments named in the question: 'the ASEAN Convention'. Not courts: 'I sit in the Crown Court' names
# the asker's forum, not what is asked about.
_NAMED = re.compile(
    r"((?:\b[A-Z][\w'’-]*\s+(?:(?:and|of|on|for|against)\s+)?){0,5})"
    r"(?:Convention|Protocol|Directive|Act|Code|Charter|Treaty|Guidance|Guidelines|Regulation)\b"
    r"((?:\s+(?:of|on|for|against)(?:\s+(?:the\s+)?[A-Z][\w'’-]*)+)?)"  # "Code of Criminal Procedure"
)
_RESPONDENT = re.compile(r"\bv\.?\s+(?:the\s+)?([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)")
_CASE_PARTY = re.compile(r"\bv\.?\s+(?:the\s+)?(?:[A-Z][\w'’-]+\s+and\s+)?$")  # just before "Cyprus", "Russia"
_CONNECTORS = {"and", "of", "on", "for", "against", "the"}
# A provision number ('Article 144-1', 's. 991') or a neutral citation's court ('[2013] EWCA Crim 991').
_PROVISION_NUMBER = re.compile(r"\b(?:article|art\.?|section|s\.|§|rule|paragraph|para\.?)\s*(\d+)", re.I)
_NEUTRAL_CITATION = re.compile(r"\[(?:19|20)\d\d\]\s+([A-Z]{2,})\b")


def _named_things(question: str, vocabulary: set[str], contains: Callable[[str], bool] | None = None) -> list[str]:
    """Instruments, provision numbers and neutral citations the question names that no indexed passage mentions.

    With `contains` (does any passage contain this text?), a name whose words are each known must also have
    its runs of two or more words somewhere: "Criminal Procedure", "Nationality and Borders" are not in the
    corpus even where "criminal", "procedure" and "border" are.
    """
    missing: list[str] = []
    for m in _NAMED.finditer(question):
        words = [w for w in f"{m.group(1)} {m.group(2)}".split() if w not in _OPENERS and w not in _CONNECTORS]
        if not words:
            continue  # "the Convention", "that Act": no name
        unknown = not all(_known(w, vocabulary) or w in _country_forms() for w in words)
        if unknown or (contains is not None and not all(contains(r) for r in _runs(m.group(1)) + _runs(m.group(2)))):
            missing.append(m.group(0).strip())
    for m in _PROVISION_NUMBER.finditer(question):
        if m.group(1) not in vocabulary:
            missing.append(m.group(0))
    for m in _NEUTRAL_CITATION.finditer(question):
        if not _known(m.group(1), vocabulary):
            missing.append(m.group(0))
    return missing


_REGIONS = {"Europe", "European", "Africa", "African", "Asia", "Asian", "Americas", "Arab", "Nordic", "Baltic"}


def _runs(name: str) -> list[str]:
    """Two or more ordinary capitalised words in a row ('Criminal Procedure'); acronyms and places end a run."""
    runs: list[list[str]] = [[]]
    for word in name.split():
        place = word in _country_forms() or word in _REGIONS
        ordinary = word[:1].isupper() and sum(c.isupper() for c in word) == 1 and not place
        if ordinary and word not in _OPENERS:
            runs[-1].append(word)
        elif word not in _CONNECTORS or not runs[-1]:
            runs.append([])
        else:
            runs[-1].append(word)
    return [" ".join(r).removesuffix(" and").removesuffix(" of") for r in runs if sum(w[0].isupper() for w in r) >= 2]


# Stems of the field's vocabulary: a question with none of them is not about this corpus's subject.
_DOMAIN = (
    "traffick",
    "thb",
    "victim",
    "exploit",
    "slave",
    "servitude",
    "forced",
    "compel",
    "compul",
    "duress",
    "coerc",
    "punish",
    "prosecut",
    "penalt",
    "sanction",
    "offen",
    "crime",
    "crimin",
    "convict",
    "sentenc",
    "charg",
    "defen",
    "law",
    "legal",
    "legisl",
    "statut",
    "act",
    "code",
    "convention",
    "protocol",
    "directive",
    "treaty",
    "article",
    "art",
    "section",
    "schedule",
    "recital",
    "principle",
    "guideline",
    "recommend",
    "court",
    "judg",
    "case",
    "ruling",
    "holding",
    "right",
    "echr",
    "ecthr",
    "greta",
    "osce",
    "unodc",
    "ohchr",
    "ilo",
    "coe",
    "eu",
    "tip",
    "tier",
    "nap",
    "action",
    "plan",
    "nrm",
    "referr",
    "identif",
    "assist",
    "shelter",
    "protect",
    "immigra",
    "prostitut",
    "drug",
    "cannabis",
    "passport",
    "document",
    "police",
    "polic",
    "arrest",
    "detain",
    "detention",
    "child",
    "minor",
    "state",
    "obligat",
    "duty",
    "duties",
    "binding",
    "bound",
    "ratif",
    "implement",
    "monitor",
    "report",
    "coordinat",
    "ministr",
    "conference",
    "labour",
    "labor",
    "worker",
    "migra",
    "smuggl",
    "expung",
    "record",
    "immun",
    "liab",
    "prosecutor",
    "lawyer",
    "counsel",
    "client",
    "defendant",
    "suspect",
    "accused",
    "model",
    "causation",
    "transpos",
    "murder",
    "kidnap",
    "rape",
    "manslaughter",
    "theft",
    "fraud",
    "mitigat",
    "discontinu",
    "v.c.l",
    "vcl",
    "chowdury",
    "rantsev",
    "palermo",
    "msa",
    "tvpa",
    "azerbaijan",
    "manat",
    "non-punish",
    "nonpunish",
)


_REFERENCE = re.compile(r"\b\d{2,4}/\d+\b|\bNo\.\s*\d+|\b[A-Z]{2,}[./][A-Z0-9/.]+\b|\b(?:s|art)\.?\s?\d+", re.I)


def on_topic(question: str) -> bool:
    """Whether the question uses any of the field's words or cites anything (football scores do not)."""
    if _REFERENCE.search(question):
        return True
    words = re.findall(r"[a-z][a-z.\-]*", question.lower())
    return any(w.startswith(_DOMAIN) for w in words)


def reference_found(question: str, passages: list[str]) -> bool:
    """The question cites a document number (PC.DEC/557, 2011/36, No. 958-IIQ) that a passage contains."""
    text = " ".join(passages).casefold()
    refs = [r.rstrip(".-/") for r in re.findall(r"[A-Za-z0-9][\w./-]*\d[\w./-]*", question)]
    return any(len(r) >= 5 and not r.isdigit() and r.casefold() in text for r in refs)


def term_coverage(question: str, passages: list[str]) -> float:
    """Share of the question's content words found in the passages."""
    wanted = set(tokens(question))
    if not wanted:
        return 0.0
    found: set[str] = set()
    for text in passages:
        found |= wanted & set(tokens(text))
    return len(found) / len(wanted)


def uncovered(
    question: str,
    vocabulary: set[str],
    passages: list[str] | None = None,
    contains: Callable[[str], bool] | None = None,
) -> list[str]:
    """What the question is about that the corpus never mentions (empty when all is covered).

    A year in a question about figures or rankings must appear in the passages that answer it:
    the 2013 report's tier does not answer a question about the 2024 report.
    """
    missing: list[str] = [c for c in sorted(_country_subjects(question)) if not _mentioned(c, vocabulary)]
    for name in sorted(_case_names(question)):
        acronym = name.isupper() and len(name) <= 5  # VCL, AN: initials the corpus writes with dots
        if name not in _country_forms() and not acronym and not _known(name, vocabulary):
            missing.append(name)
    for m in _RESPONDENT.finditer(question):  # "S.M. v. Croatia": a case against a state no source mentions
        lookup = _country_lookup()
        state = lookup.get(m.group(1).casefold()) or lookup.get(m.group(1).split()[0].casefold())
        if state and state not in missing and not _mentioned(state, vocabulary):
            missing.append(state)
    missing += [name for name in _named_things(question, vocabulary, contains) if name not in missing]
    for year in sorted(set(re.findall(r"\b(?:19[5-9]\d|20[0-4]\d)\b", question))):
        if not _STATISTICS.search(question):
            continue
        where = " ".join(passages) if passages is not None else " ".join(vocabulary)
        if not re.search(rf"\b{year}\b", where):
            missing.append(year)
    return missing
