"""Gold-set retrieval: this retriever beside a plain LangChain baseline, in one run, as a table.

Usage: python bench/retrieval.py [--gold tests/gold/gold.jsonl] [--out bench/RETRIEVAL.md]
The baseline is what a tutorial builds: RecursiveCharacterTextSplitter(1000, 200) over the raw
files, the same MiniLM model, Chroma similarity search with k=4. A baseline chunk is credited with
every pinpoint whose section it overlaps, which is generous to it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag import pinpoint as pp  # noqa: E402
from rag.evaluate import GoldItem, load_gold, percentile  # noqa: E402


def our_metrics(items: list[GoldItem], home: Path, k: int) -> dict[str, float]:
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.evaluate import evaluate
    from rag.ingest import ingest

    settings = Settings.from_env({"RAG_HOME": str(home), "RAG_CORPUS": str(REPO / "corpus")}, k=k)
    ingest(None, settings)
    assistant = Assistant(settings)
    assistant.retrieve("warm up", k)
    report = evaluate(items, assistant, k)
    return report.summary()


def baseline_metrics(items: list[GoldItem], k: int) -> dict[str, float]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.chunk import sections
    from rag.embed import make_embeddings
    from rag.load import discover, load_document

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs: list[Document] = []
    for path in discover([REPO / "corpus"]):
        raw = path.read_text(encoding="utf-8")
        parsed = load_document(path)
        offset = len(raw) - len(parsed.text)
        spans = [(s.start + offset, s.end + offset, s.pinpoint) for s in sections(parsed)]
        for piece in splitter.create_documents([raw], metadatas=[{"doc_id": parsed.doc_id}]):
            start = piece.metadata["start_index"]
            end = start + len(piece.page_content)
            pins = sorted({p for a, b, p in spans if p and a < end and b > start})
            docs.append(
                Document(page_content=piece.page_content, metadata={"doc_id": parsed.doc_id, "pins": "|".join(pins)})
            )
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(client=client, collection_name="baseline", embedding_function=make_embeddings("minilm"))
    store.add_documents(docs)
    recalls_d, recalls_p, rrs, latencies = [], [], [], []
    for item in items:
        t0 = time.perf_counter()
        found = store.similarity_search(item.question, k=k)
        latencies.append((time.perf_counter() - t0) * 1000)
        if not item.answerable:
            continue
        got = [(d.metadata["doc_id"], d.metadata["pins"].split("|")) for d in found]
        wanted = {e.doc for e in item.expected}
        recalls_d.append(sum(any(doc == w for doc, _ in got) for w in wanted) / len(wanted))
        hits = sum(
            any(
                doc == e.doc and (e.pinpoint is None or any(pp.matches(e.pinpoint, p) for p in pins))
                for doc, pins in got
            )
            for e in item.expected
        )
        recalls_p.append(hits / len(item.expected))
        rrs.append(next((1 / (i + 1) for i, (doc, _) in enumerate(got) if doc in wanted), 0.0))
    return {
        "k": k,
        "doc_recall": round(statistics.fmean(recalls_d), 4),
        "pin_recall": round(statistics.fmean(recalls_p), 4),
        "mrr": round(statistics.fmean(rrs), 4),
        "refusal_accuracy": 0.0,  # similarity search never refuses
        "false_refusals": 0.0,
        "latency_p50_ms": round(percentile(latencies, 0.5), 1),
        "latency_p95_ms": round(percentile(latencies, 0.95), 1),
    }


ROWS = [
    ("doc_recall", "document recall@k"),
    ("pin_recall", "pinpoint recall@k"),
    ("mrr", "MRR (document)"),
    ("refusal_accuracy", "refusal accuracy (unanswerable)"),
    ("false_refusals", "false refusals (answerable)"),
    ("latency_p50_ms", "retrieval p50 ms"),
    ("latency_p95_ms", "retrieval p95 ms"),
]


def table(ours: dict[str, float], base4: dict[str, float], base5: dict[str, float], items: list[GoldItem]) -> str:
    answerable = sum(i.answerable for i in items)
    lines = [
        f"Gold set: {len(items)} questions ({answerable} answerable, {len(items) - answerable} unanswerable)",
        "",
        f"| metric | this retriever (k={ours['k']}) | baseline (k=4) | baseline (k=5) |",
        "|---|---|---|---|",
    ]
    for key, name in ROWS:
        lines.append(f"| {name} | {ours[key]:.3f} | {base4[key]:.3f} | {base5[key]:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=REPO / "tests" / "gold" / "gold.jsonl")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RETRIEVAL.md")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    items = load_gold(args.gold)
    with tempfile.TemporaryDirectory() as home:
        ours = our_metrics(items, Path(home), args.k)
    base4, base5 = baseline_metrics(items, 4), baseline_metrics(items, 5)
    text = table(ours, base4, base5, items)
    print(text)
    args.out.write_text("# Retrieval on the gold set\n\nMade by `python bench/retrieval.py`.\n\n" + text + "\n")


if __name__ == "__main__":
    main()
