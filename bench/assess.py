"""Time per case assessment over the 16 gold cases: process start, cold (a new Assessor) and warm.

    RAG_HOME=... python bench/assess.py [--repeat N]

- start: opening the store and the embedding model, then the first case (what `rag assess` pays once);
- cold: a case read by a fresh Assessor on the open index (pathways checked against the index, cited
  passages fetched, each pathway statement verified against its passage with the embedding model);
- warm: the same case again with the same Assessor (what the chat, a session and the servers pay).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from rag.assess.engine import Assessor
from rag.assess.evaluate import load_cases
from rag.core.config import Settings

GOLD = Path(__file__).resolve().parent.parent / "tests" / "gold"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per case (the median is shown)")
    args = parser.parse_args()
    cases = load_cases(GOLD / "cases.yaml") + load_cases(GOLD / "cases2.yaml")
    t0 = time.perf_counter()
    from rag.retrieve.hybrid import Retriever

    retriever = Retriever(Settings.from_env())
    Assessor(retriever).read(str(cases[0]["case"]))
    start = _ms(t0)
    rows = []
    for case in cases:
        text = str(case["case"])
        t = time.perf_counter()
        assessor = Assessor(retriever)
        first = assessor.read(text)
        cold = _ms(t)
        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            assessor.read(text)
            warm.append(_ms(t))
        rows.append((case["id"], first.case.forum or "unknown", len(first.steps), cold, statistics.median(warm)))
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}, {len(cases)} cases")
    print(f"start (store + model + first case): {start:.0f} ms")
    print()
    print("| case | forum | steps | cold ms | warm ms |")
    print("|---|---|---|---|---|")
    for cid, forum, steps, cold, warm_ms in rows:
        print(f"| {cid} | {forum} | {steps} | {cold:.0f} | {warm_ms:.1f} |")
    colds, warms = [r[3] for r in rows], [r[4] for r in rows]
    print(f"| median | | | {statistics.median(colds):.0f} | {statistics.median(warms):.1f} |")
    print(f"| max | | | {max(colds):.0f} | {max(warms):.1f} |")


if __name__ == "__main__":
    main()
