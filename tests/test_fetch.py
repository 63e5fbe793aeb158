"""Fetching official texts from a local HTTP server: verified, resumable, failures collected, then indexed."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from test_formats import SAMPLE_HTML, TREATY_PAGES, make_pdf
from typer.testing import CliRunner

from rag.core.config import REPO_ROOT, Settings
from rag.core.errors import RagError
from rag.ingest.fetch import Source, fetch, load_catalog, present
from rag.ingest.load import load_document

PDF = make_pdf(TREATY_PAGES, title="Sample Treaty")
HTML = SAMPLE_HTML.encode("utf-8")


@dataclass
class Server:
    url: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    sent: dict[str, int] = field(default_factory=dict)  # body bytes sent per path


class Handler(BaseHTTPRequestHandler):
    log: Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str, length: int | None = None, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        # Counted before the write: once the client has the last byte, the test may check before this thread resumes.
        self.log.sent[self.path] = self.log.sent.get(self.path, 0) + len(body)
        self.wfile.write(body)

    def _ranged(self, body: bytes, ctype: str) -> None:
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if not m:
            self._send(200, body, ctype, Accept_Ranges="bytes")
            return
        start = int(m.group(1))
        if start >= len(body):
            self._send(416, b"", "text/plain", Content_Range=f"bytes */{len(body)}")
            return
        self._send(206, body[start:], ctype, Content_Range=f"bytes {start}-{len(body) - 1}/{len(body)}")

    def do_GET(self) -> None:
        self.log.requests.append((self.path, self.headers.get("Range")))
        path = self.path
        if path == "/doc.pdf":
            self._send(200, PDF, "application/pdf")
        elif path == "/page.html":
            self._send(200, HTML, "text/html; charset=utf-8")
        elif path == "/missing":
            self._send(404, b"not here", "text/plain")
        elif path == "/broken":
            self._send(500, b"oops", "text/plain")
        elif path == "/consent.pdf":  # a site that answers a PDF URL with an HTML page
            self._send(200, HTML, "text/html")
        elif path == "/truncated.pdf":  # promises the whole file, sends half, hangs up
            self._send(200, PDF[: len(PDF) // 2], "application/pdf", length=len(PDF))
            self.close_connection = True
        elif path == "/flaky.pdf":  # truncates the first download, serves ranges afterwards
            if self.headers.get("Range") is None and not any(p == path for p, _ in self.log.requests[:-1]):
                self._send(200, PDF[:300], "application/pdf", length=len(PDF))
                self.close_connection = True
            else:
                self._ranged(PDF, "application/pdf")
        elif path == "/ranged.pdf":
            self._ranged(PDF, "application/pdf")
        elif path == "/norange.pdf":
            self._send(200, PDF, "application/pdf")
        elif path == "/slow.pdf":
            time.sleep(1.5)
            self._send(200, PDF, "application/pdf")
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture
def server() -> Iterator[Server]:
    log = Server(url="")
    handler = type("BoundHandler", (Handler,), {"log": log})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    log.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield log
    httpd.shutdown()
    httpd.server_close()


def source(name: str, url: str, fmt: str = "pdf") -> Source:
    return Source(
        name=name,
        url=url,
        format=fmt,
        meta={"title": f"Official {name}", "citation": f"Cit. {name}", "type": "treaty", "jurisdiction": "CoE"},
    )


def settings() -> Settings:
    return Settings.from_env()


def test_fetch_downloads_verifies_and_writes_sidecars(server: Server) -> None:
    catalog = [
        source("sample-treaty", f"{server.url}/doc.pdf"),
        source("sample-page", f"{server.url}/page.html", "html"),
    ]
    report = fetch(None, settings(), catalog=catalog)
    assert report.fetched == ["sample-treaty", "sample-page"]
    assert report.failed == [] and report.skipped == []
    folder = settings().home / "official"
    assert sorted(p.name for p in folder.iterdir()) == [
        "sample-page.html",
        "sample-page.meta.yaml",
        "sample-treaty.meta.yaml",
        "sample-treaty.pdf",
    ]
    assert (folder / "sample-treaty.pdf").read_bytes() == PDF
    side = yaml.safe_load((folder / "sample-treaty.meta.yaml").read_text())
    assert side["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert side["bytes"] == len(PDF)
    assert side["url"] == f"{server.url}/doc.pdf"
    assert side["title"] == "Official sample-treaty"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", side["fetched_at"])
    doc = load_document(folder / "sample-treaty.pdf")
    assert (doc.meta.title, doc.meta.citation, doc.meta.url) == (
        "Official sample-treaty",
        "Cit. sample-treaty",
        f"{server.url}/doc.pdf",
    )

    asked = len(server.requests)
    again = fetch(None, settings(), catalog=catalog)
    assert again.skipped == ["sample-treaty", "sample-page"] and again.fetched == []
    assert len(server.requests) == asked  # nothing downloaded twice

    (folder / "sample-treaty.pdf").write_bytes(PDF[:-10] + b"tampered!!")  # checksum no longer matches
    assert present(catalog[0], settings()) is None
    assert fetch(["sample-treaty"], settings(), catalog=catalog).fetched == ["sample-treaty"]
    assert (folder / "sample-treaty.pdf").read_bytes() == PDF


def test_failures_are_collected_one_line_each(server: Server) -> None:
    catalog = [
        source("gone", f"{server.url}/missing"),
        source("broken", f"{server.url}/broken", "html"),
        source("cut", f"{server.url}/truncated.pdf"),
        source("consent", f"{server.url}/consent.pdf"),
        source("refused", "http://127.0.0.1:9/doc.pdf"),
        source("good", f"{server.url}/doc.pdf"),
    ]
    report = fetch(None, settings(), catalog=catalog)
    assert report.fetched == ["good"]
    reasons = dict(report.failed)
    assert list(reasons) == ["gone", "broken", "cut", "consent", "refused"]
    assert reasons["gone"] == f"HTTP 404 Not Found from {server.url}/missing"
    assert reasons["broken"].startswith("HTTP 500 ")
    assert reasons["cut"] == f"truncated: got {len(PDF) // 2} of {len(PDF)} bytes; run again to resume"
    assert reasons["consent"].startswith("expected PDF but got text/html")
    assert reasons["refused"].startswith("cannot reach 127.0.0.1:9 (")
    assert all("\n" not in r for r in reasons.values())
    folder = settings().home / "official"
    assert sorted(p.name for p in folder.iterdir()) == ["cut.part", "good.meta.yaml", "good.pdf"]


def test_timeout_is_a_failure(server: Server) -> None:
    started = time.monotonic()
    report = fetch(None, settings(), catalog=[source("slow", f"{server.url}/slow.pdf")], timeout=0.3)
    assert report.failed and "timed out" in report.failed[0][1]
    assert time.monotonic() - started < 1.4


def test_truncated_download_resumes_with_range(server: Server) -> None:
    catalog = [source("flaky", f"{server.url}/flaky.pdf")]
    first = fetch(None, settings(), catalog=catalog)
    assert first.failed == [("flaky", f"truncated: got 300 of {len(PDF)} bytes; run again to resume")]
    folder = settings().home / "official"
    assert not (folder / "flaky.pdf").exists() and not (folder / "flaky.meta.yaml").exists()
    assert (folder / "flaky.part").read_bytes() == PDF[:300]

    second = fetch(None, settings(), catalog=catalog)
    assert second.fetched == ["flaky"]
    assert server.requests[-1] == ("/flaky.pdf", "bytes=300-")
    assert (folder / "flaky.pdf").read_bytes() == PDF
    assert not (folder / "flaky.part").exists()


def test_resume_from_part_file(server: Server) -> None:
    folder = settings().home / "official"
    folder.mkdir(parents=True)
    (folder / "ranged.part").write_bytes(PDF[:100])
    report = fetch(None, settings(), catalog=[source("ranged", f"{server.url}/ranged.pdf")])
    assert report.fetched == ["ranged"]
    assert server.requests == [("/ranged.pdf", "bytes=100-")]
    assert server.sent["/ranged.pdf"] == len(PDF) - 100
    assert (folder / "ranged.pdf").read_bytes() == PDF


def test_server_without_range_support_restarts(server: Server) -> None:
    folder = settings().home / "official"
    folder.mkdir(parents=True)
    (folder / "plain.part").write_bytes(b"X" * 100)
    report = fetch(None, settings(), catalog=[source("plain", f"{server.url}/norange.pdf")])
    assert report.fetched == ["plain"]
    assert (folder / "plain.pdf").read_bytes() == PDF


def test_unknown_name_lists_known_names() -> None:
    catalog = [source("alpha", "https://example.org/a.pdf"), source("beta", "https://example.org/b.pdf")]
    with pytest.raises(RagError, match=r"unknown source 'gamma'; known sources: alpha, beta"):
        fetch(["gamma"], settings(), catalog=catalog)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- {name: Bad Name, url: 'https://x.org/a.pdf'}", "name 'Bad Name' must be a lowercase slug"),
        ("- {name: a, url: 'ftp://x.org/a.pdf'}", "url must start with https://"),
        ("- {name: a, url: 'https://x.org/a', format: docx}", "format 'docx' must be one of html, pdf"),
        ("- {name: a, url: 'https://x.org/a'}\n- {name: a, url: 'https://x.org/b'}", "duplicate source names a"),
    ],
)
def test_catalog_errors_name_the_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n" + "\n".join("  " + line for line in entry.splitlines()) + "\n")
    with pytest.raises(RagError, match=re.escape(message)):
        load_catalog(path)


def test_repository_sources_yaml() -> None:
    catalog = load_catalog(REPO_ROOT / "corpus" / "sources.yaml")
    by_name = {s.name: s for s in catalog}
    assert len(catalog) >= 12
    for s in catalog:
        assert s.url.startswith("https://"), s.name
        # A date the fact sheet does not give is left out rather than guessed.
        assert {"title", "citation", "type", "jurisdiction", "language"} <= set(s.meta), s.name
        assert "date" not in s.meta or re.fullmatch(r"\d{4}(-\d\d(-\d\d)?)?", s.meta["date"]), s.name
        assert s.meta["language"] == "en"
    urls = " ".join(s.url for s in catalog)
    for needle in (
        "CELEX:32011L0036",
        "id=001-207927",
        "id=001-172701",
        "id=001-96549",
        "legislation.gov.uk/ukpga/2015/30/section/45",
    ):
        assert needle in urls
    assert by_name["coe-convention-197-official"].meta["citation"] == "CETS No. 197"
    assert by_name["vcl-and-an-v-uk-judgment"].format == "pdf"


def test_corpus_fetch_command(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.faces.cli import app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    entries = [
        {
            "name": "sample-treaty",
            "title": "Sample Treaty (official)",
            "citation": "ST 1",
            "type": "treaty",
            "jurisdiction": "CoE",
            "date": "2005-05-16",
            "language": "en",
            "url": f"{server.url}/doc.pdf",
            "format": "pdf",
        },
        {
            "name": "sample-page",
            "title": "Sample Directive (official)",
            "type": "eu-law",
            "jurisdiction": "EU",
            "language": "en",
            "url": f"{server.url}/page.html",
            "format": "html",
        },
        {"name": "gone", "title": "Gone", "url": f"{server.url}/missing", "format": "html"},
    ]
    (corpus / "sources.yaml").write_text(yaml.safe_dump({"sources": entries}))
    monkeypatch.setenv("RAG_CORPUS", str(corpus))
    runner = CliRunner()

    result = runner.invoke(app, ["corpus", "fetch", "--no-ingest"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"sample-treaty: fetched ({len(PDF) / 1024:.0f} KB)",
        f"sample-page: fetched ({len(HTML) / 1024:.0f} KB)",
        f"gone: FAILED: HTTP 404 Not Found from {server.url}/missing",
        f"2 fetched, 0 already present, 1 failed; files in {settings().home / 'official'}",
    ]
    assert result.stderr == (
        "Error: 1 of 3 sources could not be fetched (gone); run `rag corpus fetch` again to retry\n"
    )

    result = runner.invoke(app, ["corpus", "list"])
    assert result.exit_code == 0
    assert "sample-treaty: fetched\n    Sample Treaty (official) (ST 1)\n" in result.stdout
    assert "gone: not fetched" in result.stdout

    result = runner.invoke(app, ["corpus", "fetch", "nope"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown source 'nope'; known sources: sample-treaty, sample-page, gone")


def test_corpus_fetch_then_ingest(
    server: Server, tmp_path: Path, fake_embeddings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.faces.cli import app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    entries = [
        {
            "name": "sample-treaty",
            "title": "Sample Treaty (official)",
            "citation": "ST 1",
            "type": "treaty",
            "jurisdiction": "CoE",
            "language": "en",
            "url": f"{server.url}/doc.pdf",
            "format": "pdf",
        },
        {
            "name": "sample-page",
            "title": "Sample Directive (official)",
            "type": "eu-law",
            "jurisdiction": "EU",
            "language": "en",
            "url": f"{server.url}/page.html",
            "format": "html",
        },
    ]
    (corpus / "sources.yaml").write_text(yaml.safe_dump({"sources": entries}))
    monkeypatch.setenv("RAG_CORPUS", str(corpus))
    runner = CliRunner()

    result = runner.invoke(app, ["corpus", "fetch", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fetched"] == ["sample-treaty", "sample-page"] and data["failed"] == []
    assert sorted(Path(p).name for p in data["ingest"]["added"]) == ["sample-page.html", "sample-treaty.pdf"]
    assert data["ingest"]["failed"] == []

    result = runner.invoke(app, ["corpus", "fetch"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "sample-treaty: already present",
        "sample-page: already present",
        f"0 fetched, 2 already present, 0 failed; files in {settings().home / 'official'}",
    ]
    assert lines[3].startswith("0 added, 0 updated, 2 unchanged, 0 removed, 0 failed")

    result = runner.invoke(app, ["sources", "--json"])
    indexed = {s["doc_id"]: s for s in json.loads(result.stdout)}
    assert indexed["sample-treaty"]["title"] == "Sample Treaty (official)"
    assert indexed["sample-treaty"]["citation"] == "ST 1"
    assert indexed["sample-treaty"]["url"] == f"{server.url}/doc.pdf"
    assert indexed["sample-page"]["jurisdiction"] == "EU"


def fetch_in_thread(catalog: list[Source], bound: float) -> tuple[object, float]:
    """fetch's report (None if it was still running after `bound` seconds) and its time."""
    box: list[object] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: box.append(fetch(None, settings(), catalog=catalog)), daemon=True)
    worker.start()
    worker.join(bound)
    return (box[0] if box else None), time.monotonic() - started


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_server_that_trickles_is_given_up_at_the_deadline(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hung_servers import serving, trickle, trickle_headers

    from rag.ingest import fetch as fetching

    monkeypatch.setattr(fetching, "DEADLINE", 1.5, raising=False)
    handler = trickle(b"%PDF-" + b"x" * 995, every=0.2) if where == "body" else trickle_headers(every=0.2)
    with serving(handler) as port:
        report, seconds = fetch_in_thread([source("slow", f"http://127.0.0.1:{port}/slow.pdf")], bound=15)
    assert report is not None, f"still downloading after {seconds:.0f} s"
    assert isinstance(report, fetching.FetchReport) and report.fetched == []
    assert [name for name, _ in report.failed] == ["slow"]
    error = report.failed[0][1]
    got = r"\d+ of 1,000 bytes" if where == "body" else "0 bytes"
    assert re.fullmatch(rf"gave up after 1\.5 s with {got} \(the server sends too slowly\); run again to resume", error)
    assert 1.4 < seconds < 3.0, seconds
    if where == "body":
        assert 0 < (settings().home / "official" / "slow.part").stat().st_size < 1000  # kept, to resume


def test_corpus_fetch_says_a_slow_download_is_running_then_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hung_servers import serving, trickle

    from rag.faces import corpus_cmd
    from rag.faces.cli import app
    from rag.ingest import fetch as fetching

    monkeypatch.setattr(fetching, "DEADLINE", 2.0, raising=False)
    monkeypatch.setattr(corpus_cmd, "NOTE_EVERY", 0.5, raising=False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("RAG_CORPUS", str(corpus))
    with serving(trickle(b"%PDF-" + b"x" * 995, every=0.1)) as port:
        entry = {"name": "slow", "title": "Slow", "url": f"http://127.0.0.1:{port}/slow.pdf", "format": "pdf"}
        (corpus / "sources.yaml").write_text(yaml.safe_dump({"sources": [entry]}))
        started = time.monotonic()
        result = CliRunner().invoke(app, ["corpus", "fetch", "--no-ingest"])
        seconds = time.monotonic() - started
    assert result.exit_code == 1 and seconds < 4, (result.output, seconds)
    assert re.search(r"^slow: FAILED: gave up after 2 s with \d+ of 1,000 bytes", result.stdout, re.M), result.stdout
    notes = [line for line in result.stderr.splitlines() if "still downloading" in line]
    assert notes and re.fullmatch(r"slow: \d KB of 1 KB after \d s; still downloading \(given up after 2 s\)", notes[0])
