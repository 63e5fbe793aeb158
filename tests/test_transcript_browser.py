"""transcript.html in a real browser: headless Chromium renders it, dumps its DOM and prints it to PDF."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from rag.core.records import Answer, Citation
from rag.faces import transcript
from rag.faces.script import Check, Question, Result, Script

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.slow


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with everything that could reach the network turned off."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def distinct_bytes(png: Path) -> int:
    """How many different byte values the decompressed image data holds (a blank page gives a handful)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))


def session(tmp_path: Path) -> tuple[Script, list[Result]]:
    questions = (
        Question(1, "Is the non-punishment provision of the CoE Convention binding?", 4, cite=("Article 26",)),
        Question(2, "Does <b>Section 45(4)</b> need compulsion for children?", 9, mention=("compulsion",)),
    )
    script = Script(tmp_path / "s.yaml", "Judges' workshop: non-punishment basics", "judges", questions)

    def cite(n: int, pinpoint: str, title: str, quote: str) -> Citation:
        return Citation(n, "doc", title, None, pinpoint, None, quote, f"corpus/{n}.md", 0.61)

    first = Answer(
        questions[0].ask,
        "Article 26, CETS No. 197: Article 26 obliges each Party to provide the possibility of not imposing "
        "penalties on victims who were compelled. [1]",
        False,
        "extractive",
        [cite(1, "Article 26", "Council of Europe Convention on Action against Trafficking", "Article 26 binds " * 30)],
    )
    second = Answer(
        questions[1].ask,
        "The sources do not address this question.",
        True,
        "extractive",
        [cite(1, "Section 45(4)", "Modern Slavery Act 2015, s.45", "Under-18s need no <compulsion> & so on.")],
    )
    results = [
        Result(1, first, [Check("cite", "Article 26", True)], "Discuss penalties versus prosecution."),
        Result(2, second, [Check("mention", "compulsion", False)], None),
    ]
    return script, results


def test_transcript_renders_in_chromium(tmp_path: Path) -> None:
    script, results = session(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    transcript.write(out, script, results)
    page = (out / "transcript.html").as_uri()

    dom = chromium(tmp_path, "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    assert "Is the non-punishment provision of the CoE Convention binding?" in text
    assert "Does &lt;b&gt;Section 45(4)&lt;/b&gt; need compulsion for children?" in text  # shown, not obeyed
    assert "<b>" not in text
    assert "Council of Europe Convention on Action against Trafficking" in text
    assert "Modern Slavery Act 2015, s.45" in text
    assert "Trainer's note:" in text and "Discuss penalties versus prosecution." in text

    png = tmp_path / "transcript.png"
    shot = chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,2000", page)
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    assert png.stat().st_size > 10_000
    assert distinct_bytes(png) > 32, "the screenshot is blank"


def test_transcript_prints_to_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader

    script, results = session(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    transcript.write(out, script, results)
    pdf = tmp_path / "transcript.pdf"
    printed = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", (out / "transcript.html").as_uri())
    assert printed.returncode == 0 and pdf.exists(), printed.stderr[-2000:]
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    text = "\n".join(pages)
    assert "Judges' workshop: non-punishment basics" in text
    assert "2. Does <b>Section 45(4)</b> need compulsion for children?" in " ".join(text.split())
    # Each question starts on the page where its heading is, never split from its answer.
    assert any("PASS" in p and "1. Is the non-punishment provision" in p and "Article 26 binds" in p for p in pages)
