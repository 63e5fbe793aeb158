"""A saved bm25s index read with numpy alone: `import bm25s` costs 0.3-0.4 s (scipy), a question needs none of it.

bm25s saves its eager index as the CSC arrays of a (documents x words) score matrix plus its vocabulary;
scoring a query is summing the columns of its words, which is all `BM25.get_scores` does for the Lucene-style
variants (they have no score for absent words). Any other saved form is loaded by bm25s itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_SIMPLE = {"lucene", "robertson", "atire"}  # variants with no non-occurrence scores


class SavedScores:
    """The parts of bm25s.BM25 that rag.index.keyword uses: vocab_dict, scores, get_scores."""

    def __init__(self, vocab: dict[str, int], scores: dict[str, Any], dtype: str) -> None:
        self.vocab_dict = vocab
        self.scores = scores
        self.dtype = dtype

    def get_scores(self, terms: list[str]) -> Any:
        """As bm25s.BM25.get_scores: each known term's column added once per time it is named."""
        import numpy as np

        ids = np.asarray([self.vocab_dict[t] for t in terms if t in self.vocab_dict], dtype=np.int64)
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        result = np.zeros(self.scores["num_docs"], dtype=np.dtype(self.dtype))
        for start, end in zip(indptr[ids], indptr[ids + 1], strict=True):
            np.add.at(result, indices[start:end], data[start:end])
        return result


def load(folder: Path) -> Any:
    """The saved index in folder, as SavedScores when it is of a simple variant, else as bm25s loads it."""
    import numpy as np

    params = json.loads((folder / "params.index.json").read_text())
    simple = params.get("method") in _SIMPLE and not (folder / "nonoccurrence_array.index.npy").exists()
    if not simple or params.get("backend", "numpy") != "numpy":
        import bm25s

        return bm25s.BM25.load(str(folder), show_progress=False)
    scores = {
        "data": np.load(folder / "data.csc.index.npy"),
        "indices": np.load(folder / "indices.csc.index.npy"),
        "indptr": np.load(folder / "indptr.csc.index.npy"),
        "num_docs": int(params["num_docs"]),
    }
    vocab = json.loads((folder / "vocab.index.json").read_text())
    return SavedScores({str(k): int(v) for k, v in vocab.items()}, scores, str(params.get("dtype", "float32")))
