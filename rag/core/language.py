"""The language of a question, and the program's own words in it (prompts/messages.yaml).

Detection is deterministic and small: the script (Cyrillic is Russian here), the letters only some of the
languages have (ə is Azerbaijani; é, è, à French), then the commonest short words of each language. The
sentences around the quotes follow it; the quotes stay in their source's language.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.core.errors import PromptError

LANGUAGES = ("en", "ru", "az", "tr", "fr")
FILE_NAME = "messages.yaml"

# Words and letters that point at one language; a question scores one point for each it contains.
_WORDS = {
    "en": {"the", "of", "and", "is", "are", "what", "does", "do", "to", "in", "can", "a", "must", "under", "which"},
    "az": {"və", "üçün", "ilə", "nə", "necə", "deyil", "edilir", "olunur", "hansı", "varmı", "qanun", "cinayət",
           "məsuliyyət", "qurban", "edilirmi", "olunurmu", "azad", "dövlət", "maddə", "maddəsi", "insan", "alveri"},
    "tr": {"ve", "için", "ile", "ne", "nasıl", "değil", "mı", "mi", "mu", "mü", "midir", "mıdır", "hangi", "olan",
           "ceza", "suç", "mağdur", "mağdurları", "madde", "maddesi", "devlet", "insan", "ticareti", "göre", "bir"},
    "fr": {"le", "la", "les", "des", "du", "est", "une", "que", "qui", "pour", "dans", "sur", "avec", "quelle",
           "quelles", "quel", "être", "doit", "peut", "victimes", "traite", "au", "aux", "selon", "l", "d", "qu"},
}  # fmt: skip
_LETTERS = {"az": "əƏ", "tr": "ğĞıİşŞ", "fr": "éèêàâùûîôœç"}
_NAMES = {code: f"language_{code}" for code in LANGUAGES}


def detect(text: str) -> str:
    """The language of a question: en, ru, az, tr or fr; English when nothing points elsewhere."""
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", text))
    latin = len(re.findall(r"[A-Za-z\u00c0-\u024f\u0259\u018f]", text))
    if cyrillic and cyrillic >= latin:
        return "ru"
    words = re.findall(r"[^\W\d_]+", text.lower().replace("i̇", "i"))
    scores = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in _WORDS.items()}
    for lang, letters in _LETTERS.items():
        scores[lang] += 2 * sum(ch in letters for ch in text)
    if any(ch in _LETTERS["az"] for ch in text):
        scores["az"] += 10  # ə is written in Azerbaijani only
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] > scores["en"] else "en"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def parse(data: Any, where: str) -> dict[str, dict[str, str]]:
    """The messages, checked: every key a mapping with every language, the same {placeholders} in each."""
    if not isinstance(data, dict) or not data:
        raise PromptError(f"{where}: must be a mapping of message keys to their text in {', '.join(LANGUAGES)}")
    messages: dict[str, dict[str, str]] = {}
    for key, texts in data.items():
        if not isinstance(texts, dict):
            raise PromptError(f"{where}: {key}: give the text in each language ({', '.join(LANGUAGES)})")
        missing = [lang for lang in LANGUAGES if not isinstance(texts.get(lang), str) or not texts[lang].strip()]
        if missing:
            raise PromptError(f"{where}: {key}: the {missing[0]} text is missing; add `{missing[0]}: ...`")
        unknown = sorted(set(texts) - set(LANGUAGES))
        if unknown:
            raise PromptError(f"{where}: {key}: unknown language {unknown[0]!r}; use {', '.join(LANGUAGES)}")
        wanted = _fields(texts["en"])
        for lang in LANGUAGES:
            if _fields(texts[lang]) != wanted:
                shown = ", ".join(f"{{{n}}}" for n in sorted(wanted)) or "no placeholders"
                raise PromptError(f"{where}: {key}: the {lang} text must use {shown}, as the English one does")
        messages[str(key)] = {lang: texts[lang] for lang in LANGUAGES}
    for code, name in _NAMES.items():
        if name not in messages:
            raise PromptError(f"{where}: the key {name} (the name of {code} in each language) is missing")
    return messages


@lru_cache(maxsize=4)
def load(path: Path | None = None) -> dict[str, dict[str, str]]:
    """prompts/messages.yaml (the installed package's copy, else the checkout's), validated, cached."""
    import yaml

    from rag.core.resources import data_dir

    path = path or data_dir("prompts") / FILE_NAME
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: cannot read the messages file ({exc}); restore it from the repository") from None
    return parse(data, str(path))


def say(key: str, lang: str | None = None, **values: Any) -> str:
    """The message `key` in `lang` (English when unknown or None), its {placeholders} filled in."""
    messages = load()
    texts = messages.get(key)
    if texts is None:
        raise PromptError(f"no message {key!r} in {FILE_NAME}; add it in every language")
    text = texts.get(lang or "en", texts["en"])
    return text.format(**values) if values else text


def name(code: str, lang: str | None = None) -> str:
    """The name of language `code` as written in `lang` ("английском" for en in ru)."""
    return say(_NAMES[code], lang) if code in _NAMES else code


def choose(question: str, setting: str | None = None) -> str:
    """The answer's language: the setting (--lang, RAG_LANG, the config's lang) when given, else the question's."""
    return setting if setting in LANGUAGES else detect(question)
