"""HTML pages: the main text only, without navigation, cookie banners and scripts, headings kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.errors import LoadError
from rag.core.records import SourceDocument
from rag.ingest.document import (
    check_size,
    context_after,
    document_from,
    first_line,
    is_provision_line,
)

if TYPE_CHECKING:
    from bs4 import Tag


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
        if is_provision_line(text):
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
                    self.context = context_after(level, text)
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
    check_size(path)
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
    return document_from(path, text, " ".join(page_title.split()) or h1 or first_line(text), structured=True)
