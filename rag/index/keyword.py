"""The keyword (BM25) side of hybrid search, kept beside the store and rebuilt when it changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.core.config import Settings
from rag.index import locks, saved_scores, store

_STOP = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "me",
        "might",
        "must",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "shall",
        "should",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "after",
        "any",
        "before",
        "being",
        "between",
        "both",
        "each",
        "more",
        "most",
        "other",
        "same",
        "some",
        "only",
        "own",
        "very",
        "also",
    ]
)
# Other languages' function words (ru, az, tr, fr): as in English, they say nothing about a passage.
_FOREIGN_STOP = (
    "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от "
    "меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж "
    "вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без "
    "будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один "
    "почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после "
    "над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед "
    "иногда лучше чуть том нельзя такой им более всегда конечно всю между является ли либо также каким какие "
    "ve veya ile bir bu da de için mi mı mu mü ne ki gibi daha çok en olan olarak ya şu o ama hem her hangi "
    "nasıl neden hiç sadece kadar göre dair değil mı midir midir mıdır edilir edilmesi olup "
    "və ya ilə bir bu da də üçün mi mı mu mü nə ki kimi daha çox ən olan olaraq o amma hər hansı necə niyə "
    "yalnız qədər görə deyil edilir edilməsi "
    "le la les un une des du de et ou en au aux ce ces cette est sont pour par sur dans que qui quoi quel quelle "
    "quels quelles il elle ils elles on ne pas plus se sa son ses leur leurs avec sans être été peut doit "
    "lorsque si y à"
)
GENERATION_KEY = "keyword_generation"
TOKENIZER = "2"  # saved keyword indexes made with another tokenizer are rebuilt (ids.json records it)

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_TURKIC = re.compile(r"[əğşçöü]")  # Azerbaijani and Turkish letters (ı is folded to i below)
_FOLD = str.maketrans({"ı": "i", "’": "'", "ё": "е"})


def fold(text: str) -> str:
    """Lower case the same way for every language: I, İ, ı and i are one letter (a Turkish question typed on
    another keyboard, or Python's default lower() of İ, would otherwise miss), ё is е."""
    import unicodedata

    text = unicodedata.normalize("NFC", text).replace("İ", "i").replace("I", "i")
    return text.lower().replace("i\u0307", "i").translate(_FOLD)


def _plain(word: str) -> str:
    """A Latin word without its accents (pénal is penal, Zoletić Zoletic): questions are often typed without."""
    import unicodedata

    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


_STOP |= {fold(w) for w in _FOREIGN_STOP.split()}


@lru_cache(maxsize=4)
def _snowball(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(language)


def _stem(word: str) -> str:
    """Russian words by the Snowball stemmer, Azerbaijani and Turkish ones by the Turkish one, the rest by a
    light English suffix rule (French plurals end the same way)."""
    if _CYRILLIC.search(word):
        return str(_snowball("russian").stemWord(word))
    if _TURKIC.search(word):
        return str(_snowball("turkish").stemWord(word))
    word = _plain(word)
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    """Folded, stop-worded, lightly stemmed words of any script; numbers kept (26, 45, 7101)."""
    words = re.findall(r"[^\W_]+", fold(text))
    return [_stem(w) for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())]


@dataclass
class KeywordIndex:
    """BM25 over every stored chunk; ids line up with the Chroma ids."""

    ids: list[str]
    model: Any
    generation: str
    metas: list[dict[str, Any]]  # each chunk's metadata, for filters and exact pinpoint lookup
    _vocabulary: set[str] | None = None
    _by_id: dict[str, dict[str, Any]] | None = None
    _pinned: dict[str, list[int]] | None = None
    _documents: set[str] | None = None

    def pinned(self) -> dict[str, list[int]]:
        """Each pinpoint label in the index, and the positions of the chunks that carry it."""
        if self._pinned is None:
            self._pinned = {}
            for i, meta in enumerate(self.metas):
                if meta.get("pinpoint"):
                    self._pinned.setdefault(str(meta["pinpoint"]), []).append(i)
        return self._pinned

    def meta(self, chunk_id: str) -> dict[str, Any]:
        """One chunk's metadata by its id (empty when the id is unknown)."""
        if self._by_id is None:
            self._by_id = dict(zip(self.ids, self.metas, strict=True))
        return self._by_id.get(chunk_id, {})

    @property
    def documents(self) -> set[str]:
        """The doc ids of the indexed chunks."""
        if self._documents is None:
            self._documents = {str(m.get("doc_id", "")) for m in self.metas}
        return self._documents

    @property
    def vocabulary(self) -> set[str]:
        if self._vocabulary is None:
            self._vocabulary = set(getattr(self.model, "vocab_dict", {}) or {})
        return self._vocabulary

    def share(self, word: str) -> float:
        """The share of the indexed chunks that hold the word (0 when none does)."""
        stems = tokens(word)
        index = (getattr(self.model, "vocab_dict", None) or {}).get(stems[0]) if len(stems) == 1 else None
        scores = getattr(self.model, "scores", None)
        if index is None or not isinstance(scores, dict) or not self.ids:
            return 0.0
        pointers = scores["indptr"]
        return float(pointers[index + 1] - pointers[index]) / len(self.ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        import numpy as np

        terms = tokens(query)
        if not terms or not self.ids:
            return []
        scores = self.model.get_scores(terms)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(self.ids[i], float(scores[i])) for i in ranked if scores[i] > 0]


def _folder(settings: Settings) -> Any:
    return settings.home / "keyword" / settings.collection


def _build(data: dict[str, Any], generation: str) -> KeywordIndex:
    import bm25s
    import numpy as np
    from bm25s.tokenization import Tokenized

    model = bm25s.BM25()
    # Word ids, not the words: one shared int per distinct word instead of a string per occurrence
    # (at 10,000 chunks the rebuild adds 271 MB to the peak instead of 326 MB).
    vocab: dict[str, int] = {}
    corpus = [[vocab.setdefault(w, len(vocab)) for w in tokens(t or "")] for t in data["documents"]] or [[]]
    vocab.setdefault("", len(vocab))  # bm25s's empty token; it fails on an index with no words at all
    with np.errstate(divide="ignore", invalid="ignore"):  # an index with no words has average length 0
        model.index(Tokenized(ids=corpus, vocab=vocab), show_progress=False)
    metas = [dict(m or {}) for m in data["metadatas"]]
    return KeywordIndex(ids=list(data["ids"]), model=model, generation=generation, metas=metas)


def _save(settings: Settings, index: KeywordIndex, extra: Callable[[Path], None] | None = None) -> None:
    """Write the index (and whatever extra writes into the new folder) in place of the old one, atomically."""
    folder = _folder(settings)
    _remove_leftovers(folder)
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    index.model.save(str(tmp / "bm25"), show_progress=False)
    state = {"generation": index.generation, "tokenizer": TOKENIZER, "ids": index.ids, "metas": index.metas}
    (tmp / "ids.json").write_text(json.dumps(state))
    if extra is not None:
        extra(tmp)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(folder: Any) -> None:
    """Half-written copies left by a process killed while saving (NAME.tmp-PID-XXXX, PID no longer running)."""
    if not folder.parent.is_dir():
        return
    for tmp in folder.parent.glob(folder.name + ".tmp-*"):
        pid = tmp.name.rsplit(".tmp-", 1)[1].split("-")[0]
        if not pid.isdigit() or not locks.running(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def rebuild(settings: Settings, collection: Any) -> KeywordIndex:
    """Rebuild from the store's own texts and stamp the collection, so every reader can tell."""
    from rag.index import dense_snapshot

    data = store.get_all(collection, ["documents", "metadatas"])
    generation = uuid.uuid4().hex
    index = _build(data, generation)
    texts = [t or "" for t in data["documents"]]

    def snapshot(folder: Path) -> None:  # the embedded store's read cache (rag.index.dense_snapshot)
        dense_snapshot.write(folder, collection, index.ids, texts, generation)

    _save(settings, index, None if settings.chroma_url else snapshot)
    meta = dict(collection.metadata or {})
    meta[GENERATION_KEY] = generation
    meta.pop("hnsw:space", None)
    collection.modify(metadata=meta)
    return index


def has_snapshot(settings: Settings) -> bool:
    """Whether the saved index carries the embedded store's read cache (written by rebuild since it exists)."""
    from rag.index import dense_snapshot

    return settings.chroma_url is not None or (_folder(settings) / dense_snapshot.STATE).is_file()


def load_saved(settings: Settings, generation: str) -> KeywordIndex | None:
    """The saved index of that generation, read without the store; None when it is another or unreadable."""
    folder = _folder(settings)
    try:
        saved = json.loads((folder / "ids.json").read_text())
        if saved["generation"] == generation and generation and saved.get("tokenizer") == TOKENIZER:
            model = saved_scores.load(folder / "bm25")
            return KeywordIndex(ids=saved["ids"], model=model, generation=generation, metas=saved["metas"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def load(settings: Settings, collection: Any) -> KeywordIndex:
    """The saved index when it matches the store's generation; rebuilt locally otherwise (team servers)."""
    wanted = (collection.metadata or {}).get(GENERATION_KEY, "")
    if (saved := load_saved(settings, wanted)) is not None:
        return saved
    data = store.get_all(collection, ["documents", "metadatas"])
    index = _build(data, wanted)
    try:
        _save(settings, index)
    except OSError:
        pass  # a read-only home still answers, just without the cache
    return index
