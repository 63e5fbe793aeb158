"""Loaders for PDF, DOCX and HTML files; a NAME.meta.yaml sidecar beside a file overrides its metadata."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core import pinpoint as pp
from rag.core.errors import LoadError
from rag.core.records import SourceDocument
from rag.ingest.load import MAX_BYTES, doc_id_for, meta_from

if TYPE_CHECKING:
    from bs4 import Tag

SIDECAR_SUFFIX = ".meta.yaml"
# A short line that names a provision on its own ("Article 26", "Article 26 – Non-punishment provision")
# is a heading even when the file marks it only by its look (bold text, a CSS class).
_PROVISION_LINE = re.compile(
    r"^(?:Article|Art\.|Recital|Section|Principle|Guideline|Schedule|Rule|Regulation)\s+\d+[A-Za-z]?"
    r"(?:\s*[-–—:.]\s*\S.{0,100})?$"
)
_DROP_TAGS = ("nav", "header", "footer", "aside", "script", "style", "form", "noscript", "template", "svg", "iframe")
_BOILERPLATE = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|menubar|cookies?|consent|breadcrumbs?|skip-?link|sidebar|share|social)"
    r"(?:$|[-_\s])",
    re.I,
)
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "tbody", "thead",
    "blockquote", "pre", "figure", "figcaption", "address", "center", "body", "hr", "caption",
}  # fmt: skip
_LINE_BREAK = "\x00"


def sidecar_path(path: Path) -> Path:
    """Where the metadata written by `rag corpus fetch` sits: coe-convention.pdf -> coe-convention.meta.yaml."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, object]:
    """The sidecar's keys, or {} when the file has none."""
    import yaml

    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        values = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise LoadError(f"{side}: unreadable metadata sidecar; fix its YAML or delete it") from None
    if not isinstance(values, dict):
        raise LoadError(f"{side}: the metadata sidecar must be KEY: VALUE lines")
    return values


def _document(path: Path, text: str, title: str | None, **extra: Any) -> SourceDocument:
    values: dict[str, object] = {"title": (title or "").strip()[:200] or path.stem}
    values.update({k: v for k, v in read_sidecar(path).items() if v not in (None, "")})
    meta = meta_from(values, path.stem, path)
    return SourceDocument(doc_id=doc_id_for(path), path=path, text=text, meta=meta, **extra)


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise LoadError(f"{path}: empty file; add text or remove it")
    if size > MAX_BYTES:
        raise LoadError(f"{path}: {size // 2**20} MB is over the {MAX_BYTES // 2**20} MB limit; split it")


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _first_line(text: str) -> str | None:
    return next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), None)


# --- PDF -------------------------------------------------------------------------------------------


def _pdf_title(reader: Any) -> str | None:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken Info dictionary only costs the title
        return None
    title = str(title or "").strip()
    # Titles like "Microsoft Word - draft.doc" or "untitled" name the tool, not the document.
    if not title or re.search(r"\.(docx?|pdf|rtf|odt)$|^untitled$|^microsoft word", title, re.I):
        return None
    return title


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs repairs of damaged files ("EOF marker not found") to stderr; a bad file is reported once, here."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_pdf(path: Path) -> SourceDocument:
    """A PDF's text layer, page by page; each page's start offset is kept for page citations."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    _check_size(path)
    encrypted = f"{path}: PDF is encrypted (password-protected); save an unprotected copy and ingest that"
    try:
        with _quiet_pypdf():
            reader = PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError(encrypted)
            pages = [_clean(page.extract_text() or "") for page in reader.pages]
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError(encrypted) from None
    except DependencyError:
        raise LoadError(
            f"{path}: PDF is AES-encrypted and reading it needs the 'cryptography' package; "
            "pip install cryptography, or save an unprotected copy"
        ) from None
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same to the user
        raise LoadError(f"{path}: not a readable PDF ({type(exc).__name__}); re-download or re-export it") from None
    if not pages:
        raise LoadError(f"{path}: PDF has no pages; re-download or re-export it")
    if not any(pages):
        raise LoadError(f"{path}: PDF has no text layer (scanned?); run OCR first")
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    text = "\n\n".join(pages)
    return _document(path, text, _pdf_title(reader) or _first_line(text), page_starts=tuple(starts))


# --- DOCX ------------------------------------------------------------------------------------------


def _heading_level(paragraph: Any) -> int | None:
    """1-6 for Word's "Heading N" styles (or styles based on them), 1 for "Title", else None."""
    style = paragraph.style
    for _ in range(5):
        if style is None:
            return None
        name = (style.name or "").strip().lower()
        if name == "title":
            return 1
        m = re.fullmatch(r"heading\s*(\d)", name)
        if m:
            return min(int(m.group(1)), 6)
        style = style.base_style
    return None


def _docx_blocks(document: Any) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    context = 1
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                if cells:
                    blocks.append(" | ".join(cells))
            continue
        if not isinstance(item, Paragraph):
            continue
        text = _clean(item.text)
        if not text:
            continue
        level = _heading_level(item)
        if level is not None:
            flat = " ".join(text.split())
            blocks.append("#" * level + " " + flat)
            context = _context_after(level, flat)
        elif _is_provision_line(text):
            blocks.append("#" * min(6, context + 1) + " " + text)
        else:
            blocks.append(text)
    return blocks


def _context_after(level: int, heading: str) -> int:
    """The level a promoted provision heading nests under: a sibling of "## Article 8", a child of "## Chapter"."""
    return level - 1 if pp.from_heading(heading) else level


def _is_provision_line(text: str) -> bool:
    return "\n" not in text and len(text) <= 120 and bool(_PROVISION_LINE.match(text)) and bool(pp.from_heading(text))


def load_docx(path: Path) -> SourceDocument:
    """A Word document as Markdown: Heading styles become # headings, tables become | rows."""
    import docx

    _check_size(path)
    try:
        document = docx.Document(str(path))
        blocks = _docx_blocks(document)
        title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx raises zip, XML and key errors on damaged files
        raise LoadError(f"{path}: not a readable .docx file ({type(exc).__name__}); re-save it from Word") from None
    if not blocks:
        raise LoadError(f"{path}: the document has no text")
    text = "\n\n".join(blocks)
    heading = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), None)
    return _document(path, text, title or heading or _first_line(text), structured=True)


# --- HTML ------------------------------------------------------------------------------------------


def _is_boilerplate(tag: Tag, in_article: bool) -> bool:
    """Site chrome: nav, scripts, forms, and anything whose class or id says menu, cookie, breadcrumb ..."""
    if tag.name in _DROP_TAGS:
        # An <article>'s own <header> holds its title, not the site's chrome.
        return not (tag.name == "header" and in_article)
    if tag.name in ("html", "body", "main", "article"):
        return False
    attrs = tag.attrs or {}
    if attrs.get("role") in ("navigation", "banner", "contentinfo"):
        return True
    marks = " ".join([*(attrs.get("class") or []), str(attrs.get("id") or "")])
    return bool(_BOILERPLATE.search(marks))


def _main_part(soup: Any) -> Any:
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    return soup.body or soup


class _HtmlText:
    """Walks the kept part of a page into Markdown blocks: headings, paragraphs, table rows."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buffer: list[str] = []
        self.context = 1  # level of the section a promoted provision heading sits in
        self.cells = 0  # inside a table cell, paragraphs run on
        self.articles = 0  # inside <article> or <main>

    def flush(self) -> None:
        raw = "".join(self.buffer)
        self.buffer.clear()
        lines = [" ".join(part.split()) for part in raw.split(_LINE_BREAK)]
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if _is_provision_line(text):
            self.blocks.append("#" * min(6, self.context + 1) + " " + text)
        else:
            self.blocks.append(text)

    def walk(self, node: Any) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # comments, doctype, CDATA
                    self.buffer.append(str(child))
                continue
            if not isinstance(child, Tag) or _is_boilerplate(child, self.articles > 0):
                continue
            name = child.name
            if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.flush()
                text = " ".join(child.get_text(" ").split())
                if text:
                    level = int(name[1])
                    self.context = _context_after(level, text)
                    self.blocks.append("#" * level + " " + text)
            elif name == "br":
                self.buffer.append(_LINE_BREAK)
            elif name in ("td", "th") or (self.cells and name in _BLOCK_TAGS):
                # A table row is one line: "(14) Victims should ..." keeps a number with its text.
                self.cells += 1
                self.buffer.append(" ")
                self.walk(child)
                self.buffer.append(" ")
                self.cells -= 1
            elif name in _BLOCK_TAGS:
                self.flush()
                inside = name in ("article", "main")
                self.articles += inside
                self.walk(child)
                self.articles -= inside
                self.flush()
            else:
                self.walk(child)


def _parse_html(data: bytes) -> Any:
    from bs4 import BeautifulSoup, FeatureNotFound

    try:
        return BeautifulSoup(data, "lxml")  # lxml comes with python-docx; several times faster
    except FeatureNotFound:
        return BeautifulSoup(data, "html.parser")


def load_html(path: Path) -> SourceDocument:
    """The main text of a web page as Markdown; navigation, headers, footers and cookie banners are dropped."""
    _check_size(path)
    try:
        soup = _parse_html(path.read_bytes())
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # the parser gives up only on badly broken input
        raise LoadError(f"{path}: not a readable HTML page ({type(exc).__name__}); save the page again") from None
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    walker = _HtmlText()
    root = _main_part(soup)
    walker.articles = int(root.name in ("article", "main") or root.get("role") == "main")
    try:
        walker.walk(root)
    except RecursionError:
        raise LoadError(f"{path}: the page is nested too deeply to read; save it as text or PDF") from None
    walker.flush()
    if not walker.blocks:
        raise LoadError(f"{path}: no text in the HTML page (script-only or empty?); save the page's text instead")
    text = "\n\n".join(walker.blocks)
    h1 = next((b[2:].strip() for b in walker.blocks if b.startswith("# ")), None)
    return _document(path, text, " ".join(page_title.split()) or h1 or _first_line(text), structured=True)


LOADERS: dict[str, Callable[[Path], SourceDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}
