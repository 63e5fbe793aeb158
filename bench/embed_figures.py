"""The issue's figures per embedding model, in one run: `rag ingest` of corpus/ against the raw encode of the
same chunks (saved vectors off), `rag ingest` as a user runs it (the quoted sentences embedded ahead into a
fresh vector cache, then a second index from it), cold `rag ask`, peak memory and the index size.

Usage: python bench/embed_figures.py [--models minilm e5] [--repeat 3]

Every figure comes from the installed `rag` console script in a subprocess (wall and CPU time, peak RSS by
/usr/bin/time) with a private RAG_HOME, as bench/perf.py measures; the raw encode runs in its own process.
CPU time moves much less than wall time with the load of a shared machine, so both are given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import perf  # noqa: E402
from embeddings import FLUSH, corpus_passages, load_model  # noqa: E402

QUESTION = "What does Article 26 of the Council of Europe Convention require?"


def child_encode(name: str) -> dict[str, Any]:
    """Raw encode of corpus/'s chunk texts in ingest's batches, after the model is loaded: the reference."""
    passages = corpus_passages()
    encode_passages, _ = load_model(name)
    encode_passages(["warm up"])
    texts = [p[0] for p in passages]
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), FLUSH):
        encode_passages(texts[i : i + FLUSH])
    return {"chunks": len(texts), "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def figures(kinds: list[str], repeat: int, passes: int, work: Path) -> dict[str, Any]:
    """Per model, in one run: raw encode and `rag ingest` of corpus/ in turn (the fastest of each over the
    passes, so a burst of load on the shared machine does not decide the ratio), cold `rag ask` (fastest of
    repeat), index size."""
    out: dict[str, Any] = {}
    for kind in kinds:
        home = work / f"home-{kind}"
        env = {**perf.env_for(home, REPO / "corpus"), "RAG_EMBEDDINGS": kind}
        row: dict[str, Any] = {"load_before": " ".join(f"{x:.1f}" for x in os.getloadavg())}
        raws, ingests = [], []
        # Against the raw encode, ingest embeds the chunks alone: no saved vectors, no sentences ahead.
        alone = {**env, "RAG_VECTOR_CACHE": "0"}
        for _ in range(passes):
            raw = perf.run([sys.executable, __file__, "--child-encode", kind], alone)
            raws.append({**json.loads(raw["stdout"].strip().splitlines()[-1]), "rss_mb": raw["rss_mb"]})
            shutil.rmtree(home, ignore_errors=True)
            ingest = perf.run([perf.RAG, "ingest", "--json"], alone)
            chunks = json.loads(ingest["stdout"])["chunks"]
            ingests.append({"chunks": chunks, **{k: ingest[k] for k in ("wall", "cpu", "rss_mb")}})
        row["raw"] = min(raws, key=lambda r: r["wall"])
        row["ingest"] = min(ingests, key=lambda r: r["wall"])
        row["passes"] = {"raw_walls": [r["wall"] for r in raws], "ingest_walls": [r["wall"] for r in ingests]}
        # As a user ingests: a fresh vector cache, the quoted sentences embedded ahead; then a second index.
        vectors = work / f"vectors-{kind}"
        shutil.rmtree(vectors, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        env = {**env, "RAG_VECTOR_CACHE": str(vectors)}
        full = perf.run([perf.RAG, "ingest", "--json"], env)
        again = perf.run([perf.RAG, "ingest", "--json"], {**env, "RAG_HOME": str(work / f"home2-{kind}")})
        shutil.rmtree(work / f"home2-{kind}", ignore_errors=True)
        row["as_used"] = {
            "wall": full["wall"],
            "cpu": full["cpu"],
            "rss_mb": full["rss_mb"],
            "again_wall": again["wall"],
            "vectors_mb": perf._du(vectors),
        }
        asks = [perf.run([perf.RAG, "ask", QUESTION], env) for _ in range(repeat)]
        row["ask"] = {
            "wall_min": min(a["wall"] for a in asks),
            "wall_median": statistics.median(a["wall"] for a in asks),
            "cpu_min": min(a["cpu"] for a in asks),
            "rss_mb": max(a["rss_mb"] for a in asks),
        }
        row["index_mb"] = perf._du(home)
        row["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        out[kind] = row
    return out


def figures_table(out: dict[str, Any]) -> str:
    kinds = list(out)
    rows = []
    for kind, r in out.items():
        raw_rate, raw_cpu = r["raw"]["chunks"] / r["raw"]["wall"], r["raw"]["chunks"] / r["raw"]["cpu"]
        ing_rate, ing_cpu = r["ingest"]["chunks"] / r["ingest"]["wall"], r["ingest"]["chunks"] / r["ingest"]["cpu"]
        rows.append(
            (
                kind,
                f"{raw_rate:.1f} ({raw_cpu:.1f} per CPU-s)",
                f"{ing_rate:.1f} ({ing_cpu:.1f} per CPU-s)",
                f"{ing_rate / raw_rate:.2f}x ({ing_cpu / raw_cpu:.2f}x)",
                f"{r['ask']['wall_min']:.2f} / {r['ask']['wall_median']:.2f} ({r['ask']['cpu_min']:.2f} CPU-s)",
                f"{r['ask']['rss_mb']:.0f} / {r['ingest']['rss_mb']:.0f}",
                f"{r['index_mb']:.1f}",
                f"{r['as_used']['wall']:.0f} s ({r['as_used']['cpu']:.0f} CPU-s), {r['as_used']['rss_mb']:.0f} MB; "
                f"again {r['as_used']['again_wall']:.1f} s; {r['as_used']['vectors_mb']:.1f} MB saved",
                f"{r['load_before']} -> {r['load_after']}",
            )
        )
    head = [
        "model",
        "raw encode, chunks/s",
        "`rag ingest`, chunks/s",
        "ingest / raw",
        "cold `rag ask` s, min / median",
        "peak RSS MB, ask / ingest",
        "index MB",
        "`rag ingest` as used (sentences ahead, fresh vector cache); a second index",
        "load (1 min)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    n = out[kinds[0]]["ingest"]["chunks"]
    return f"corpus/: {n} chunks; the question: {QUESTION!r}\n\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "e5"])
    parser.add_argument("--repeat", type=int, default=3, help="cold asks per model (the minimum counts)")
    parser.add_argument("--passes", type=int, default=2, help="raw encode and ingest pairs (the minimum counts)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-embeddings")
    parser.add_argument("--child-encode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_encode:
        sys.stdout.write(json.dumps(child_encode(args.child_encode)) + "\n")
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    out = figures(args.models, args.repeat, args.passes, args.workdir)
    (args.workdir / "figures.json").write_text(json.dumps(out, indent=1))
    sys.stdout.write(f"Measured {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores\n\n")
    sys.stdout.write(figures_table(out) + "\n")


if __name__ == "__main__":
    main()
