"""Cost of the store's full-text search (`rag.store.contains`) as the index grows, printed as a table.

    python bench/fulltext.py [--sizes 10000,100000] [--workdir /tmp/rag-fulltext]

Refusals check that an instrument the question names stands as a phrase in some passage. The retrieved
candidates are searched first; Chroma's `where_document $contains` is the fallback for names they lack.
This measures that fallback on an on-disk Chroma filled with copies of the shipped corpus's chunk texts
(random vectors: only the text search is timed). It needs an index of the corpus (`rag ingest`) in RAG_HOME.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

PHRASES = ["Human Rights", "Modern Slavery", "Criminal Procedure", "Nationality and Borders"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-fulltext")
    args = parser.parse_args()

    import chromadb
    import numpy as np

    from rag.core.config import Settings
    from rag.index import store

    settings = Settings.from_env()
    texts = store.get_all(store.chunk_collection(store.open_client(settings), settings), ["documents"])["documents"]
    if not texts:
        raise SystemExit("the index is empty: run `rag ingest` first")
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        client = chromadb.PersistentClient(path=str(args.workdir / str(n)))
        collection = client.get_or_create_collection("chunks", metadata={"hnsw:space": "cosine"})
        rng = np.random.default_rng(0)
        for start in range(collection.count(), n, 5000):
            ids = [f"c{i}" for i in range(start, min(n, start + 5000))]
            documents = [f"{texts[i % len(texts)]} [copy {i}]" for i in range(start, start + len(ids))]
            embeddings = rng.standard_normal((len(ids), 384)).astype("float32")
            collection.add(ids=ids, documents=documents, embeddings=embeddings)
        for phrase in PHRASES:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                found = store.contains(collection, phrase)
                times.append(1000 * (time.perf_counter() - started))
            rows.append((n, phrase, found, statistics.median(times), max(times)))
    print("| chunks | phrase | found | median ms | max ms |\n|---|---|---|---|---|")
    for n, phrase, found, median, worst in rows:
        print(f"| {n:,} | {phrase} | {'yes' if found else 'no'} | {median:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
