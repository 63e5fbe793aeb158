"""Download the official texts listed in corpus/sources.yaml: resumable, verified, one failure never stops the rest."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.core.config import Settings
from rag.core.errors import FetchError, RagError
from rag.core.records import META_KEYS
from rag.core.resources import data_dir
from rag.ingest.document import MAX_BYTES, sidecar_path

TIMEOUT = 30.0  # seconds without a byte before a source is given up
DEADLINE = 600.0  # seconds for one whole download, however its bytes trickle in (64 MB at 110 KB/s)
FORMATS = ("html", "pdf")
USER_AGENT = "rag-nonpunishment/0.1 (offline legal reference assistant; official texts fetcher)"
CHUNK = 64 * 1024

Progress = Callable[[str, int, int | None], None]  # (source name, bytes so far, bytes in all if known)


@dataclass(frozen=True)
class Source:
    """One official text: where it is published and how to cite it."""

    name: str
    url: str
    format: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class FetchReport:
    """What one fetch run did, source by source."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already present and verified
    failed: list[tuple[str, str]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # every verified file, fetched now or before

    def as_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "skipped": self.skipped,
            "failed": [{"name": n, "error": e} for n, e in self.failed],
            "paths": [str(p) for p in self.paths],
        }


def official_dir(settings: Settings) -> Path:
    return settings.home / "official"


def catalog_path(settings: Settings) -> Path:
    """settings.corpus/sources.yaml, else the bench book's (installed with the package, or the checkout's)."""
    own = settings.corpus / "sources.yaml"
    return own if own.is_file() else data_dir("corpus") / "sources.yaml"


def load_catalog(path: Path) -> list[Source]:
    """The sources listed in a sources.yaml; a malformed entry is an error that names it."""
    import yaml

    from rag.ingest import yaml_data

    try:
        data = yaml_data.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise RagError(f"{path}: cannot read the list of official sources ({reason})") from None
    except yaml.YAMLError as exc:
        if yaml_data.is_alias_error(exc):
            raise RagError(
                f"{path}:{yaml_data.line_of(exc)} uses {yaml_data.ALIAS_REFUSED}; write the value out"
            ) from None
        raise RagError(f"{path}:{yaml_data.line_of(exc)} malformed YAML; fix the list of official sources") from None
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RagError(f"{path}: expected a 'sources:' list of entries with name, url and format")
    catalog: list[Source] = []
    for i, entry in enumerate(entries, 1):
        catalog.append(_source(entry, f"{path}: entry {i}"))
    names = [s.name for s in catalog]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise RagError(f"{path}: duplicate source names {', '.join(dupes)}; give each entry its own name")
    return catalog


def _source(entry: object, where: str) -> Source:
    if not isinstance(entry, dict):
        raise RagError(f"{where}: must be KEY: VALUE lines (name, url, format, title ...)")
    name, url = str(entry.get("name") or ""), str(entry.get("url") or "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise RagError(f"{where}: name {name!r} must be a lowercase slug such as coe-convention-197")
    if not url.startswith(("http://", "https://")):
        raise RagError(f"{where} ({name}): url must start with https:// (got {url!r})")
    fmt = str(entry.get("format") or ("pdf" if url.lower().split("?")[0].endswith(".pdf") else "html")).lower()
    if fmt not in FORMATS:
        raise RagError(f"{where} ({name}): format {fmt!r} must be one of {', '.join(FORMATS)}")
    meta = {k: str(entry[k]) for k in META_KEYS if k != "url" and entry.get(k) not in (None, "")}
    return Source(name=name, url=url, format=fmt, meta=meta)


def target(source: Source, settings: Settings) -> Path:
    return official_dir(settings) / f"{source.name}.{source.format}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def present(source: Source, settings: Settings) -> Path | None:
    """The downloaded file when it is there with a sidecar whose checksum matches, else None."""
    import yaml

    from rag.ingest import yaml_data

    path = target(source, settings)
    side = sidecar_path(path)
    if not (path.is_file() and side.is_file()):
        return None
    try:
        recorded = yaml_data.load(side.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # downloaded again, and the sidecar rewritten
    if not isinstance(recorded, dict) or recorded.get("sha256") != sha256_of(path):
        return None
    return path


def select(catalog: Sequence[Source], names: Sequence[str] | None) -> list[Source]:
    if not names:
        return list(catalog)
    known = {s.name: s for s in catalog}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RagError(f"unknown source {', '.join(map(repr, unknown))}; known sources: {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(names)]


def fetch(
    names: Sequence[str] | None,
    settings: Settings,
    progress: Progress | None = None,
    catalog: Sequence[Source] | None = None,
    timeout: float = TIMEOUT,
) -> FetchReport:
    """Download the named sources (default: all) into RAG_HOME/official, each with a NAME.meta.yaml sidecar."""
    chosen = select(catalog if catalog is not None else load_catalog(catalog_path(settings)), names)
    folder = official_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"{folder}: cannot create the folder for official texts ({exc.strerror or exc})") from None
    report = FetchReport()
    for source in chosen:
        if (path := present(source, settings)) is not None:
            report.skipped.append(source.name)
            report.paths.append(path)
            continue
        try:
            report.paths.append(_fetch_one(source, settings, progress, timeout))
            report.fetched.append(source.name)
        except FetchError as exc:
            report.failed.append((source.name, str(exc)))
    return report


def _fetch_one(source: Source, settings: Settings, progress: Progress | None, timeout: float) -> Path:
    import yaml

    dest = target(source, settings)
    part = dest.with_name(f"{source.name}.part")
    content_type = _download(source, part, timeout, progress)
    _verify(source, part, content_type)
    digest, size = sha256_of(part), part.stat().st_size
    os.replace(part, dest)
    sidecar = {
        **source.meta,
        "url": source.url,
        "name": source.name,
        "format": source.format,
        "sha256": digest,
        "bytes": size,
        "fetched_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    side = sidecar_path(dest)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(yaml.safe_dump(sidecar, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.replace(tmp, side)  # the sidecar, written last, marks the download as complete
    return dest


def _download(source: Source, part: Path, timeout: float, progress: Progress | None) -> str:
    """Stream the URL into part, resuming with a Range request when the server allows; returns the content type.

    Each read waits at most `timeout` seconds and the whole download at most DEADLINE seconds.
    """
    import http.client
    import urllib.error
    import urllib.request

    from rag.ingest.watchdog import Watchdog

    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(source.url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with Watchdog(DEADLINE) as watch:
        try:
            response = watch.opener().open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # the partial file no longer fits the remote one: start again
                part.unlink()
                return _download(source, part, timeout, progress)
            raise FetchError(f"HTTP {exc.code} {exc.reason} from {source.url}") from None
        except urllib.error.URLError as exc:
            if watch.expired:
                raise _overdue(have, None) from None
            reason = _reason(exc.reason)
            raise FetchError(f"cannot reach {_host(source.url)} ({reason}); check the network connection") from None
        except (TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
            if watch.expired:
                raise _overdue(have, None) from None
            raise FetchError(f"cannot download {source.url} ({_reason(exc)})") from None
        with response:
            resumed = bool(have) and response.status == 206 and _range_start(response) == have
            total = _total(response, have if resumed else 0)
            if total is not None and total > MAX_BYTES:
                raise FetchError(f"{total // 2**20} MB is over the {MAX_BYTES // 2**20} MB limit")
            done = have if resumed else 0
            if progress:
                progress(source.name, done, total)
            try:
                with part.open("ab" if resumed else "wb") as out:
                    # read1: whatever has arrived, so that progress moves however slowly the bytes come
                    while block := response.read1(CHUNK):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(source.name, done, total)
                        if done > MAX_BYTES:
                            raise FetchError(f"over the {MAX_BYTES // 2**20} MB limit")
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                if watch.expired:
                    raise _overdue(done, total) from None
                raise FetchError(f"download stopped after {done} bytes ({_reason(exc)}); run again to resume") from None
            content_type = response.headers.get("Content-Type", "")
        if watch.expired and done != total:  # the read ended because the socket was shut
            raise _overdue(done, total)
    if total is not None and done != total:
        raise FetchError(f"truncated: got {done} of {total} bytes; run again to resume")
    return str(content_type)


def _overdue(done: int, total: int | None) -> FetchError:
    got = f"{done:,} of {total:,} bytes" if total is not None else f"{done:,} bytes"
    return FetchError(f"gave up after {DEADLINE:g} s with {got} (the server sends too slowly); run again to resume")


def _range_start(response: Any) -> int | None:
    m = re.match(r"bytes\s+(\d+)-", response.headers.get("Content-Range", ""))
    return int(m.group(1)) if m else None


def _total(response: Any, offset: int) -> int | None:
    """The whole file's size: from Content-Range on a resumed download, else Content-Length."""
    m = re.search(r"/(\d+)\s*$", response.headers.get("Content-Range", ""))
    if offset and m:
        return int(m.group(1))
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _verify(source: Source, part: Path, content_type: str) -> None:
    """The file must be what the catalog says: a PDF starts with %PDF, an HTML page has <html or <!doctype."""
    with part.open("rb") as fh:
        head = fh.read(64 * 1024)
    if source.format == "pdf":
        ok = b"%PDF-" in head[:1024]
    else:
        lowered = head.lower()
        ok = b"<html" in lowered or b"<!doctype" in lowered
    if not ok:
        part.unlink()  # wrong content cannot be resumed into right content
        got = content_type.split(";")[0].strip() or "unknown content"
        raise FetchError(
            f"expected {source.format.upper()} but got {got} (an error or consent page?); "
            f"open {source.url} in a browser and save it by hand"
        )


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(reason: object) -> str:
    text = str(getattr(reason, "strerror", None) or reason or type(reason).__name__)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host name not found"
    if isinstance(reason, TimeoutError) or "timed out" in text:
        return "timed out"
    return text
