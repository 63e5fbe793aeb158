"""Score case assessments against gold files: per-field accuracy and the misses.

    RAG_HOME=... python bench/assess_gold.py tests/gold/cases.yaml [tests/gold/cases2.yaml ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.assess.engine import Assessor
from rag.assess.evaluate import load_cases, score
from rag.core.config import Settings
from rag.retrieve.hybrid import Retriever


def main(files: list[str]) -> None:
    assessor = Assessor(Retriever(Settings.from_env()))
    cases = [c for f in files for c in load_cases(Path(f))]
    s = score(cases, assessor.read)
    print(json.dumps({k: (round(v, 3) if v is not None else None) for k, v in s.accuracy().items()}))
    print({k: f"{s.right[k]}/{s.checked[k]}" for k in s.right})
    for miss in s.misses:
        print("  miss:", miss)


if __name__ == "__main__":
    main(sys.argv[1:])
