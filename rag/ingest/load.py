"""Load one file into a SourceDocument: Markdown with front matter, plain text with a provenance header, or
PDF, DOCX and HTML through their own modules."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rag.core.errors import LoadError
from rag.core.records import SourceDocument
from rag.ingest import yaml_data
from rag.ingest.document import MAX_ID_CHARS, doc_id_for, meta_from, read_text
from rag.ingest.docx_file import load_docx
from rag.ingest.html_page import load_html
from rag.ingest.pdf_file import load_pdf

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_PROVENANCE = re.compile(r"\A=+\r?\n(.*?)\r?\n=+\r?\n", re.S)


def _first_heading(text: str) -> str | None:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else None


def load_markdown(path: Path) -> SourceDocument:
    import yaml

    raw = read_text(path)
    values: dict[str, object] = {}
    body = raw
    m = _FRONT_MATTER.match(raw)
    if m:
        try:
            parsed = yaml_data.load(m.group(1)) or {}
        except yaml.YAMLError as exc:
            where = yaml_data.line_of(exc, offset=1)  # the opening --- is line 1
            if yaml_data.is_alias_error(exc):
                raise LoadError(
                    f"{path}:{where} front matter uses {yaml_data.ALIAS_REFUSED}; write the value out"
                ) from None
            raise LoadError(f"{path}:{where} malformed front matter; fix the YAML between the --- lines") from None
        if not isinstance(parsed, dict):
            raise LoadError(f"{path}: front matter must be KEY: VALUE lines")
        values = parsed
        body = raw[m.end() :]
    if not body.strip():
        raise LoadError(f"{path}: no text after the front matter")
    meta = meta_from(values, _first_heading(body) or path.stem, path)
    doc_id = str(values.get("id") or doc_id_for(path))
    if len(doc_id) > MAX_ID_CHARS:
        raise LoadError(f"{path}: front matter 'id' is {len(doc_id):,} characters, over {MAX_ID_CHARS}; shorten it")
    return SourceDocument(doc_id=doc_id, path=path, text=body, meta=meta, structured=True)


def load_text(path: Path) -> SourceDocument:
    """Plain text; a provenance header (=== lines with TITLE: ...) becomes metadata."""
    raw = read_text(path)
    values: dict[str, object] = {}
    body = raw
    m = _PROVENANCE.match(raw)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip().isupper():
                values[key.strip().lower()] = value.strip()
        body = raw[m.end() :]
    title = str(values.get("title") or next((ln.strip() for ln in body.splitlines() if ln.strip()), path.stem))
    meta = meta_from({k: v for k, v in values.items() if k != "title"}, title, path)
    return SourceDocument(doc_id=doc_id_for(path), path=path, text=body, meta=meta)


LOADERS: dict[str, Callable[[Path], SourceDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def load_document(path: Path) -> SourceDocument:
    """Load one file by its suffix; raises LoadError with a one-line reason."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"{path}: unsupported file type '{path.suffix.lower()}'; use .md, .txt, .pdf, .docx or .html")
    return loader(path)
