"""Hostile and unlucky ingest input (issue 18): how long each case takes and how much memory, as a table.

    python bench/hostile.py            # every case, about five minutes on 2 busy cores
    python bench/hostile.py --quick    # without the 10 MB Markdown file and the DOCX at its limits

Each case runs in a fresh process (the `rag` console script, or a few lines of Python calling the loader)
with a private RAG_HOME and the test embeddings; the table gives its outcome, wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from hostile_inputs import LAUGHS, write_docx, write_pdf  # noqa: E402

BIN = Path(sys.executable).parent
RAG = str(BIN / "rag") if (BIN / "rag").exists() else shutil.which("rag") or "rag"
NOTE = "---\ntitle: Note {n}\n---\n# Note {n}\n\n## Article 26\n\nVictims shall not be punished for compelled acts.\n"
LOAD = """
from pathlib import Path
from rag.core.errors import RagError
from rag.ingest.load import load_document
try:
    print(f"loaded, {{len(load_document(Path({path!r})).text):,}} characters")
except RagError as exc:
    print(str(exc).split(": ", 1)[1])
"""
CHUNK = """
import time
from pathlib import Path
from rag.core.records import DocMeta, SourceDocument
from rag.ingest.chunk import chunk_document
text = Path({path!r}).read_text()
doc = SourceDocument(doc_id="big", path=Path("big.md"), text=text, meta=DocMeta(title="Big"), structured=True)
started = time.perf_counter()
chunks = chunk_document(doc)
print(f"{{len(chunks):,}} chunks ({{time.perf_counter() - started:.1f}} s chunking)")
"""
SPLIT = """
import time
from rag.core import sentences
text = "Guidance on the non-punishment of victims of trafficking " * 700 + ". A second sentence."
started = time.perf_counter()
for _ in range(100):
    sentences.split(text)
print(f"{{(time.perf_counter() - started) * 10:.2f}} ms a split")
"""


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float, float]:
    """(last line of output, wall seconds, peak RSS MB) of one child process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    return (lines[-1] if lines else ""), time.monotonic() - started, usage.ru_maxrss / 1024


def python(code: str) -> list[str]:
    return [sys.executable, "-P", "-c", code]


def rag(*args: str) -> list[str]:
    return [RAG, *args]


def corpus(work: Path, name: str, files: int = 2) -> Path:
    folder = work / name
    folder.mkdir()
    for n in range(files):
        (folder / f"note-{n}.md").write_text(NOTE.format(n=n))
    return folder


def markdown(path: Path, mb: float) -> Path:
    section = "## Article {n} - Rule\n\nVictims shall not be punished for acts they were compelled to commit.\n\n"
    with path.open("w") as f:
        size, n = 0, 0
        while size < mb * 2**20:
            text = section.format(n=n) + ("```\n# code\n```\n\n" if n % 50 == 0 else "")
            f.write(text)
            size, n = size + len(text), n + 1
    return path


Prepare = Callable[[Path], list[str]]  # makes the input in a fresh folder and returns the command to measure


def yaml_bomb(work: Path) -> list[str]:
    (work / "laughs.md").write_text(f"---\n{LAUGHS}title: *i\n---\n# Note\n\nText.\n")
    return python(LOAD.format(path=str(work / "laughs.md")))


def bad_name(work: Path) -> list[str]:
    folder = corpus(work, "names")
    with open(os.fsencode(folder) + b"/caf\xe9.md", "wb") as f:
        f.write(NOTE.format(n=9).encode())
    return rag("ingest", str(folder))


def rebuild_one(work: Path) -> list[str]:
    subprocess.run(rag("ingest", str(corpus(work, "default"))), env=env(work), capture_output=True, check=True)
    return ["env", "RAG_COLLECTION=trial", *rag("ingest", str(corpus(work, "trial")), "--rebuild")]


def docx_bomb(work: Path) -> list[str]:
    write_docx(work / "bomb.docx", b"<w:p><w:r><w:t>lol</w:t></w:r></w:p>", 10_000_000)
    return python(LOAD.format(path=str(work / "bomb.docx")))


def docx_limit(work: Path) -> list[str]:
    run = b'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">word of the judgment </w:t></w:r>'
    write_docx(work / "limit.docx", b"<w:p>" + run * 10 + b"</w:p>", 46_000)
    return python(LOAD.format(path=str(work / "limit.docx")))


def long_title(work: Path) -> list[str]:
    (work / "title.md").write_text(f"---\ntitle: {'Lorem ipsum dolor ' * 2300}\n---\n# T\n\nText.\n")
    return python(LOAD.format(path=str(work / "title.md")))


def split_title(work: Path) -> list[str]:
    return python(SPLIT.format())


def fifo(work: Path) -> list[str]:
    folder = corpus(work, "pipes")
    os.mkfifo(folder / "pipe.md")
    return rag("ingest", str(folder))


def shared_pdf(work: Path) -> list[str]:
    write_pdf(work / "shared.pdf", pages=100, lines=5000, shared=True)
    return python(LOAD.format(path=str(work / "shared.pdf")))


def chunk(mb: float) -> Prepare:
    return lambda work: python(CHUNK.format(path=str(markdown(work / "big.md", mb))))


def damaged(work: Path) -> list[str]:
    folder = corpus(work, "damaged", files=1)
    (folder / "many.md").write_text("# Many\n\n" + "".join(f"## S {i}\n\nRule {i}.\n\n" for i in range(600)))
    subprocess.run(rag("ingest", str(folder)), env=env(work), capture_output=True, check=True)
    sqlite = work / "home" / "chroma" / "chroma.sqlite3"
    with sqlite.open("r+b") as f:
        f.seek(sqlite.stat().st_size // 2 - 32 * 1024)
        f.write(bytes(range(256)) * 256)
    return rag("ingest", str(folder))


def cases(quick: bool) -> list[tuple[str, str, Prepare]]:
    """(issue item, input, how to prepare it)."""
    found: list[tuple[str, str, Prepare]] = [
        ("3", "front matter with 9^9 YAML aliases (loader)", yaml_bomb),
        ("4", "`rag ingest` of 2 notes and a Latin-1 file name", bad_name),
        ("5", "`RAG_COLLECTION=trial rag ingest --rebuild` beside the default collection", rebuild_one),
        ("6", "DOCX zip bomb, 1 MB unzipping to 344 MB (loader)", docx_bomb),
        ("7", "front-matter title of 41,400 characters (loader)", long_title),
        ("7", "sentence split of a 40,000-character title", split_title),
        ("8", "`rag ingest` of 2 notes and a named pipe `pipe.md`", fifo),
        ("9", "PDF of 25 KB, 100 pages sharing one 420,000-character stream (loader)", shared_pdf),
        ("10", "Markdown of 1 MB in 11,000 short sections, chunked", chunk(1)),
        ("10", "Markdown of 4 MB, chunked", chunk(4)),
        ("11", "`rag ingest` of a store with 64 KB damaged mid-file", damaged),
    ]
    if not quick:
        found.insert(4, ("6", "DOCX at its limits: 46,000 paragraphs, 2 million XML elements (loader)", docx_limit))
        found.insert(-1, ("10", "Markdown of 10 MB (the text-file limit), chunked", chunk(10)))
    return found


def env(work: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    root = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**clean, "RAG_HOME": str(work / "home"), "RAG_EMBEDDINGS": "hash", "PYTHONPATH": root}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the two cases that take a minute each")
    quick = parser.parse_args().quick
    print(f"Load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| item | input | outcome | wall s | peak RSS MB |")
    print("|---|---|---|---:|---:|")
    for item, label, prepare in cases(quick):
        with tempfile.TemporaryDirectory(prefix="rag-hostile-") as tmp:
            work = Path(tmp)
            outcome, seconds, peak = measure(prepare(work), env(work), work)
        print(f"| {item} | {label} | {outcome[:110]} | {seconds:.1f} | {peak:.0f} |", flush=True)
    print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
