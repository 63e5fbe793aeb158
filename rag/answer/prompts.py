"""Prompt files in prompts/: loaded once, checked for the variables the LLM engine fills in."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import PromptError
from rag.core.resources import data_dir

PROMPTS_DIR = data_dir("prompts")  # the installed package's copy, else the checkout's prompts/
# For each file: its sections and the variables each section must use (and may use, nothing else).
REQUIRED: dict[str, dict[str, set[str]]] = {
    "answer.txt": {"system": {"refusal"}, "user": {"passages", "question"}},
    "condense.txt": {"system": set(), "user": {"history", "question"}},
    "no_answer.txt": {"text": set()},
}
_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """One prompt file split into its sections, each a str.format template."""

    path: Path
    sections: dict[str, str]

    def render(self, section: str, **values: str) -> str:
        return self.sections[section].format(**values)


@dataclass(frozen=True)
class Prompts:
    """The three prompts the LLM engine needs."""

    answer: Prompt
    condense: Prompt
    no_answer: str


def _sections(path: Path, text: str, wanted: set[str]) -> dict[str, str]:
    if wanted == {"text"}:
        return {"text": text.strip()}
    parts = _SECTION.split(text)
    if parts[0].strip():
        raise PromptError(f"{path}: text before the first section; start the file with a line [system]")
    sections = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    missing = sorted(wanted - set(sections))
    if missing:
        raise PromptError(f"{path}: the section [{missing[0]}] is missing; add a line [{missing[0]}] and its text")
    return sections


def _fields(path: Path, section: str, template: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise PromptError(f"{path} [{section}]: {exc}; write a literal brace as {{{{ or }}}}") from None


def load_prompt(path: Path) -> Prompt:
    """Read one prompt file and check it uses exactly the variables the engine fills in."""
    required = REQUIRED[path.name]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"cannot read the prompt file {path} ({exc.strerror}); restore it from git") from None
    sections = _sections(path, text, set(required))
    for section, needed in required.items():
        if not sections[section]:
            raise PromptError(f"{path} [{section}]: the section is empty; restore it from the repository")
        used = _fields(path, section, sections[section])
        missing, unknown = sorted(needed - used), sorted(used - needed)
        if missing:
            raise PromptError(f"{path} [{section}]: the variable {{{missing[0]}}} is missing; the engine fills it in")
        if unknown:
            allowed = ", ".join(f"{{{n}}}" for n in sorted(needed)) or "none"
            raise PromptError(f"{path} [{section}]: unknown variable {{{unknown[0]}}}; this section may use {allowed}")
    return Prompt(path=path, sections=sections)


def load_prompts(folder: Path | None = None) -> Prompts:
    """All prompts from the folder (default: the repository's prompts/), validated."""
    folder = folder or PROMPTS_DIR
    no_answer = load_prompt(folder / "no_answer.txt").sections["text"]
    return Prompts(
        answer=load_prompt(folder / "answer.txt"), condense=load_prompt(folder / "condense.txt"), no_answer=no_answer
    )
