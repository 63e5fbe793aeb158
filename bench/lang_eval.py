"""The whole pipeline per embedding model on every gold set, the multilingual set beside its English twins,
and the relevance floor each model's score scale needs (issue 16).

Usage: python bench/lang_eval.py [--models minilm e5] [--sets gold heldout ...] [--sweep] [--workdir DIR]

Per model a private RAG_HOME over corpus/ (ingested once, reused while its store matches the model); every
set through `rag.answer.evaluate.evaluate`, which is what `rag eval` and tests/test_eval.py run (hybrid
retrieval, coverage, the refusal policy, the extractive engine). `--sweep` adds, per model, the refusal
figures of candidate floors on the retrievals of the English sets (the engine is not run there: the floor
only decides whether it is asked).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOLD = REPO / "tests" / "gold"
SETS = ["gold", "heldout", "heldout2", "heldout3", "heldout4", "bench2", "multilingual", "multilingual-en"]
ENGLISH = ["gold", "heldout", "heldout2", "heldout3", "heldout4", "bench2"]
FLOORS = [0.40, 0.78, 0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88]


def twins(workdir: Path) -> Path:
    """The multilingual set's questions in their English wording (the "english" field), as a gold file."""
    out = workdir / "multilingual-en.jsonl"
    lines = []
    for line in (GOLD / "multilingual.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            lines.append(json.dumps({**item, "question": item["english"], "language": "en"}, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def gold_path(name: str, workdir: Path) -> Path:
    return twins(workdir) if name == "multilingual-en" else GOLD / f"{name}.jsonl"


def settings_for(kind: str, workdir: Path) -> Any:
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest

    env = {"RAG_HOME": str(workdir / f"home-{kind}"), "RAG_CORPUS": str(REPO / "corpus"), "RAG_EMBEDDINGS": kind}
    settings = Settings.from_env(env)
    report = ingest(None, settings)  # incremental: nothing to do when the home is current
    if report.failed:
        raise SystemExit(f"ingest failed: {report.failed}")
    return settings


def sweep(assistant: Any, names: list[str], workdir: Path) -> dict[str, dict[str, float]]:
    """Refusal accuracy and false refusals per candidate floor, pooled over the sets, from one retrieval each."""
    from rag.answer import policy
    from rag.answer.evaluate import load_gold

    rows: list[tuple[bool, Any]] = []
    for name in names:
        for item in load_gold(gold_path(name, workdir)):
            rows.append((item.answerable, assistant.retrieve(item.question, 5)))
    out = {}
    for floor in FLOORS:
        refused = []
        for answerable, retrieval in rows:
            retrieval.floor = floor
            refused.append((answerable, not policy.addresses(retrieval)))
        unanswerable = [r for a, r in refused if not a]
        answerable = [r for a, r in refused if a]
        out[f"{floor:.2f}"] = {
            "refusal_accuracy": sum(unanswerable) / max(len(unanswerable), 1),
            "false_refusals": sum(answerable) / max(len(answerable), 1),
            "best_unanswerable_p50": sorted(r.best for a, r in rows if not a)[len(unanswerable) // 2],
        }
    return out


def run(kinds: list[str], names: list[str], do_sweep: bool, workdir: Path, do_eval: bool = True) -> dict[str, Any]:
    from rag.answer.assistant import Assistant
    from rag.answer.evaluate import evaluate, load_gold

    out: dict[str, Any] = {}
    for kind in kinds:
        settings = settings_for(kind, workdir)
        assistant = Assistant(settings)
        row: dict[str, Any] = {}
        for name in names if do_eval else []:
            t0 = time.perf_counter()
            report = evaluate(load_gold(gold_path(name, workdir)), assistant, k=5)
            row[name] = {**report.summary(), "seconds": round(time.perf_counter() - t0, 1)}
            row[name]["per_question"] = [
                {"id": r.id, "refused": r.refused, "doc": r.doc_recall, "pin": r.pin_recall} for r in report.results
            ]
            sys.stderr.write(f"{kind} {name}: {json.dumps({k: row[name][k] for k in ('doc_recall', 'pin_recall')})}\n")
        if do_sweep:
            row["sweep"] = sweep(assistant, [n for n in names if n in ENGLISH], workdir)
        out[kind] = row
    return out


def table(out: dict[str, Any]) -> str:
    kinds = list(out)
    head = ["set", *(f"{k}: doc / pin / MRR, refusals, false refusals" for k in kinds)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    names = [n for n in SETS if all(n in out[k] for k in kinds)]
    for name in names:
        cells = [name]
        for kind in kinds:
            r = out[kind][name]
            cells.append(
                f"{r['doc_recall']:.3f} / {r['pin_recall']:.3f} / {r['mrr']:.3f}, "
                f"{r['refusal_accuracy']:.3f}, {r['false_refusals']:.3f}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    for kind in kinds:
        if "sweep" in out[kind]:
            lines.append(f"\nFloor sweep, {kind} (English sets pooled): floor -> refusal accuracy / false refusals")
            for floor, s in out[kind]["sweep"].items():
                lines.append(f"- {floor}: {s['refusal_accuracy']:.3f} / {s['false_refusals']:.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm", "e5"])
    parser.add_argument("--sets", nargs="+", default=SETS)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--sweep-only", action="store_true", help="the floor sweep without the evaluation")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-lang")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    out = run(args.models, args.sets, args.sweep or args.sweep_only, args.workdir, not args.sweep_only)
    (args.workdir / "lang_eval.json").write_text(json.dumps(out, indent=1))
    sys.stdout.write(f"Measured {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}\n\n")
    sys.stdout.write(table(out) + "\n")


if __name__ == "__main__":
    main()
