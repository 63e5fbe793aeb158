"""Legal knowledge as data: jurisdictions, countries and places, instruments, aliases and the field's words.

One file, `knowledge.yaml` beside the corpus, read and checked here once; retrieval, coverage and
follow-ups only ever see the typed `Knowledge` record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from rag.core.errors import KnowledgeError

FILE_NAME = "knowledge.yaml"
_NOTE_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"}


def doc_id_for(path: Path) -> str:
    """A stable, readable id from the file name: 'coe-convention' for corpus/.../coe-convention.md."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"


@dataclass(frozen=True)
class Country:
    """A country as questions name it, where its facts may be set, and which notes state its law."""

    name: str
    forms: tuple[str, ...]
    places: tuple[str, ...] = ()
    law: str | None = None  # the `jurisdiction:` code of the notes on its own law
    forum: str | None = None  # the `forum:` code of notes on the law of this part of it (UK-EW, UK-SC, UK-NI)
    eu: bool = False  # bound by Directive 2011/36/EU


@dataclass(frozen=True)
class Instrument:
    """An instrument or judgment a question may name, and the documents (note, official text) it points at."""

    docs: tuple[str, ...]
    mentions: str  # a lower-case regular expression
    units: str | None = None  # "Section" for a statute: its "статья 45", "madde 45", "article 45" is Section 45


PINPOINT_KINDS = ("Article", "Section", "Principle", "Recital", "Guideline", "Schedule")


@dataclass(frozen=True)
class Provision:
    """A provision word of another language ("статья", "maddə") and the English pinpoint kind it stands for."""

    kind: str  # one of PINPOINT_KINDS
    before: tuple[str, ...]  # patterns written before the number: "статья 26"
    after: tuple[str, ...] = ()  # and after it: "26-cı maddəsi", "26. madde"


@dataclass(frozen=True)
class FramingSection:
    """A section that frames a document's holdings (a judgment's facts): it follows them unless asked about."""

    pinpoint: str
    asked_by: str  # a case-insensitive regular expression: the question asks about this section itself


@dataclass(frozen=True)
class ChildProvision:
    """A document's provision for children only, and its provision for adults."""

    doc: str
    child: str  # pinpoint, "Section 45(4)"
    adult: str  # pinpoint, "Section 45(1)"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one loaded file, one record
class Knowledge:
    """Everything the query side knows about the field, validated."""

    jurisdictions: dict[str, str]
    commentary: str
    eu_documents: tuple[str, ...]
    countries: tuple[Country, ...]
    instruments: tuple[Instrument, ...]
    judgments: tuple[str, ...]
    convention_texts: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]
    instrument_names: tuple[str, ...]
    follow_up_places: tuple[str, ...]
    domain: tuple[str, ...]
    provisions: tuple[Provision, ...] = ()
    framing_sections: tuple[FramingSection, ...] = ()
    instrument_types: tuple[str, ...] = ()  # document types that are instruments or standards, not cases or reports
    child_provisions: tuple[ChildProvision, ...] = ()
    child_signs: str = ""  # a case-insensitive regular expression: the question is about a child
    unverified_marks: str = ""  # a case-insensitive regular expression: the notes' wording for an unverified fact
    instrument_questions: str = ""  # a question asking which instruments or standards apply, in any language read
    international_words: str = ""  # the word "international" in those languages
    source: str = ""

    @cached_property
    def country_forms(self) -> dict[str, str]:
        """Each name or adjective of a country, as written, to the country's name."""
        forms: dict[str, str] = {}
        for c in self.countries:
            forms[c.name] = c.name
            forms.update(dict.fromkeys(c.forms, c.name))
        return forms

    @cached_property
    def place_forms(self) -> dict[str, str]:
        """Country forms and the cities and regions of each country, to the country's name."""
        forms = dict(self.country_forms)
        for c in self.countries:
            forms.update(dict.fromkeys(c.places, c.name))
        return forms

    @cached_property
    def by_name(self) -> dict[str, Country]:
        return {c.name: c for c in self.countries}


def _list(data: dict[str, Any], key: str, where: str, kind: type = str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise KnowledgeError(f"{where}: '{key}' must be a list of {kind.__name__ if kind is not dict else 'entries'}")
    return value


def _pattern(text: str, where: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise KnowledgeError(f"{where}: the pattern {text!r} is not a valid regular expression ({exc})") from None
    return text


def read_yaml(text: str) -> Any:
    """yaml.safe_load by libyaml's C parser when PyYAML has it (ten times faster on knowledge.yaml)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def known_documents(corpus: Path) -> set[str]:
    """The doc ids a knowledge file may point at: the corpus's files and the official texts it lists."""

    ids = {doc_id_for(p) for p in corpus.rglob("*") if p.suffix.lower() in _NOTE_SUFFIXES and p.is_file()}
    listed = corpus / "sources.yaml"
    if listed.is_file():
        data = read_yaml(listed.read_text(encoding="utf-8")) or {}
        ids |= {str(s["name"]) for s in data.get("sources", []) if isinstance(s, dict) and s.get("name")}
    return ids


def _used_jurisdictions(corpus: Path) -> set[str]:
    """The `jurisdiction:` codes that the corpus's notes (and its official texts list) use."""
    found = set()
    for p in corpus.rglob("*"):
        if p.suffix.lower() in (".md", ".markdown", ".yaml") and p.is_file() and p.name != FILE_NAME:
            found |= set(re.findall(r"^\s*jurisdiction:\s*[\"']?([\w-]+)", p.read_text(encoding="utf-8"), re.M))
    return found


def parse(data: Any, where: str, documents: set[str] | None = None, used: set[str] | None = None) -> Knowledge:
    """Check the file's content and build the record; `documents` and `used` are what the corpus holds."""
    if not isinstance(data, dict):
        raise KnowledgeError(f"{where}: must be a mapping of sections (jurisdictions, countries, instruments ...)")
    jurisdictions: dict[str, str] = {}
    for entry in _list(data, "jurisdictions", where, dict):
        code = str(entry.get("code", ""))
        if not re.fullmatch(r"[\w-]+", code) or code in jurisdictions:
            raise KnowledgeError(f"{where}: jurisdiction code {code!r} is empty, not one word, or given twice")
        jurisdictions[code] = str(entry.get("name", code))
    if used is not None:
        for code in sorted(set(jurisdictions) - used):
            raise KnowledgeError(f"{where}: jurisdiction {code} is used by no note; add a note or remove the entry")
    countries: list[Country] = []
    seen_forms: dict[str, str] = {}
    for entry in _list(data, "countries", where, dict):
        country = Country(
            name=str(entry.get("name", "")),
            forms=tuple(str(f) for f in entry.get("forms", [])),
            places=tuple(str(p) for p in entry.get("places", [])),
            law=entry.get("law"),
            forum=entry.get("forum"),
            eu=bool(entry.get("eu", False)),
        )
        if not country.name:
            raise KnowledgeError(f"{where}: a country entry has no name")
        if country.law is not None and country.law not in jurisdictions:
            raise KnowledgeError(f"{where}: {country.name}'s law {country.law!r} is not a declared jurisdiction code")
        for form in (country.name, *country.forms, *country.places):
            other = seen_forms.setdefault(form, country.name)
            if other != country.name:
                raise KnowledgeError(f"{where}: the name {form!r} is given to both {other} and {country.name}")
        countries.append(country)
    instruments = []
    for entry in _list(data, "instruments", where, dict):
        docs = tuple(str(d) for d in entry.get("docs", []))
        mentions = _pattern(str(entry.get("mentions", "")), where)
        if not docs or not mentions:
            raise KnowledgeError(f"{where}: every instrument needs docs and a mentions pattern")
        units = entry.get("units")
        if units is not None and units not in PINPOINT_KINDS:
            raise KnowledgeError(f"{where}: units {units!r} of {docs[0]} is not one of {', '.join(PINPOINT_KINDS)}")
        instruments.append(Instrument(docs, mentions, units))
    aliases: list[tuple[str, str]] = []
    for entry in _list(data, "aliases", where, dict):
        pattern = _pattern(str(entry.get("pattern", "")), where)
        if any(p == pattern for p, _ in aliases):
            raise KnowledgeError(f"{where}: the alias {pattern!r} is given twice; keep one")
        aliases.append((pattern, str(entry.get("expansion", ""))))
    provisions = []
    for entry in _list(data, "provisions", where, dict) if "provisions" in data else []:
        kind = str(entry.get("kind", ""))
        if kind not in PINPOINT_KINDS:
            raise KnowledgeError(f"{where}: provision kind {kind!r} is not one of {', '.join(PINPOINT_KINDS)}")
        before = tuple(_pattern(str(p), where) for p in entry.get("before") or [])
        after = tuple(_pattern(str(p), where) for p in entry.get("after") or [])
        if not before and not after:
            raise KnowledgeError(f"{where}: the {kind} provision words need a 'before' or an 'after' list of patterns")
        provisions.append(Provision(kind, before, after))
    framing = []
    for entry in _list(data, "framing_sections", where, dict) if "framing_sections" in data else []:
        if not entry.get("pinpoint") or not entry.get("asked_by"):
            raise KnowledgeError(f"{where}: a framing section needs a 'pinpoint' and an 'asked_by' pattern")
        framing.append(FramingSection(str(entry["pinpoint"]), _pattern(str(entry["asked_by"]), where)))
    children = data.get("children") or {}
    if not isinstance(children, dict):
        raise KnowledgeError(f"{where}: 'children' must be a mapping with 'signs' and 'provisions'")
    child_provisions = []
    for entry in _list(children, "provisions", where, dict) if "provisions" in children else []:
        if not all(entry.get(k) for k in ("doc", "child", "adult")):
            raise KnowledgeError(f"{where}: a child provision needs 'doc', 'child' and 'adult' pinpoints")
        child_provisions.append(ChildProvision(str(entry["doc"]), str(entry["child"]), str(entry["adult"])))
    if child_provisions and not children.get("signs"):
        raise KnowledgeError(f"{where}: child provisions need 'signs', the pattern of a question about a child")
    knowledge = Knowledge(
        jurisdictions=jurisdictions,
        commentary=str(data.get("commentary", "")),
        eu_documents=tuple(_list(data, "eu_documents", where)),
        countries=tuple(countries),
        instruments=tuple(instruments),
        judgments=tuple(_list(data, "judgments", where)),
        convention_texts=tuple(_list(data, "convention_texts", where)),
        aliases=tuple(aliases),
        instrument_names=tuple(_pattern(p, where) for p in _list(data, "instrument_names", where)),
        follow_up_places=tuple(_pattern(p, where) for p in _list(data, "follow_up_places", where)),
        domain=tuple(_list(data, "domain", where)),
        provisions=tuple(provisions),
        framing_sections=tuple(framing),
        instrument_types=tuple(_list(data, "instrument_types", where)) if "instrument_types" in data else (),
        child_provisions=tuple(child_provisions),
        child_signs=_pattern(str(children["signs"]), where) if children.get("signs") else "",
        unverified_marks=_pattern(str(data["unverified_marks"]), where) if data.get("unverified_marks") else "",
        instrument_questions=_pattern(str(data.get("instrument_questions") or ""), where),
        international_words=_pattern(str(data.get("international_words") or ""), where),
        source=where,
    )
    if knowledge.commentary not in jurisdictions:
        raise KnowledgeError(f"{where}: commentary {knowledge.commentary!r} is not a declared jurisdiction code")
    if documents is not None:
        named = [d for i in knowledge.instruments for d in i.docs]
        named += [*knowledge.judgments, *knowledge.convention_texts, *knowledge.eu_documents]
        named += [c.doc for c in knowledge.child_provisions]
        extra = set(_list(data, "known_texts", where)) if "known_texts" in data else set()
        for doc in named:
            if doc not in documents and doc not in extra:
                raise KnowledgeError(
                    f"{where}: document id {doc!r} is neither a file of the corpus nor in its sources.yaml; "
                    "fix the id or add the document"
                )
    return knowledge


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> Knowledge:
    import yaml

    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read the legal knowledge file ({exc}); fix its YAML") from None
    return parse(data, str(path), known_documents(path.parent), _used_jurisdictions(path.parent))


def packaged_corpus() -> Path:
    """The bench book that ships with the program (the installed package's copy, else the checkout's)."""
    from rag.core.resources import data_dir

    return data_dir("corpus")


def beside_corpus(corpus: Path | None, name: str) -> Path | None:
    """The data file `name` beside `corpus` if it has one, else the bench book's own, else None."""
    for folder in (corpus, packaged_corpus()):
        if folder is not None and (folder / name).is_file():
            return (folder / name).resolve()
    return None


def load(corpus: Path | None = None) -> Knowledge:
    """The knowledge file beside `corpus` if it has one, else the bench book's own; validated, cached."""
    if (path := beside_corpus(corpus, FILE_NAME)) is not None:
        return _load(path, path.stat().st_mtime)
    raise KnowledgeError(f"no {FILE_NAME} beside the corpus in {corpus or packaged_corpus()}; reinstall rag")
