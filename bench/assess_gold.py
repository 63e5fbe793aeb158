import sys, json
from pathlib import Path
from rag.core.config import Settings
from rag.retrieve.hybrid import Retriever
from rag.assess.engine import Assessor
from rag.assess.evaluate import load_cases, score
a = Assessor(Retriever(Settings.from_env()))
files = sys.argv[1:]
cases = [c for f in files for c in load_cases(Path(f))]
s = score(cases, a.read)
print(json.dumps({k: (round(v, 3) if v is not None else None) for k, v in s.accuracy().items()}))
print({k: f"{s.right[k]}/{s.checked[k]}" for k in s.right})
for m in s.misses: print("  miss:", m)
