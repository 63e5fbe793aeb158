"""A trainer's session script: its questions and expectations, their validation, and the records of a run."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.errors import ScriptError
from rag.core.language import LANGUAGES
from rag.core.records import Answer

if TYPE_CHECKING:
    from yaml import Node

    from rag.assess.records import Assessment

TOP_KEYS = ("title", "audience", "language", "questions")
QUESTION_KEYS = ("ask", "case", "forum", "expect", "note", "where", "k")
EXPECT_KEYS = ("cite", "mention")
MAX_ASK_CHARS = 4000  # rag.assistant.MAX_QUESTION_CHARS, checked before any model loads


@dataclass(frozen=True)
class Question:
    """One scripted question with what its answer should cite and mention."""

    id: int  # 1-based position in the script
    ask: str
    line: int
    cite: tuple[str, ...] = ()
    mention: tuple[str, ...] = ()
    note: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    k: int | None = None
    case: bool = False  # a case to assess (`case:`), its text in `ask`
    forum: str | None = None  # the forum a case entry gives (as `rag assess --forum`)
    expect_forum: tuple[str | None, ...] = ()  # () no expectation; (None,) the forum should be unknown
    expect_child: bool | None = None
    expect_steps: tuple[tuple[str, str], ...] = ()  # (step id, status)


@dataclass(frozen=True)
class Script:
    """A validated session script."""

    path: Path
    title: str
    audience: str | None
    questions: tuple[Question, ...]
    language: str | None = None  # the answers' own words in it (quotes stay in their sources' language)


@dataclass(frozen=True)
class Problem:
    """A mistake in a script, at a 1-based line."""

    line: int
    message: str

    def format(self, path: Path | str) -> str:
        return f"{path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Check:
    """One expectation of a question and whether the answer met it."""

    kind: str  # "cite" | "mention"
    expected: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "expected": self.expected, "passed": self.passed}


@dataclass
class Result:
    """A question's answer (or a case's assessment) with its checks: one line of results.jsonl."""

    id: int
    answer: Answer  # for a case, the assessment as an answer (rag.faces.case_results.as_answer)
    checks: list[Check]
    note: str | None = None
    assessment: Assessment | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        head = self.answer.as_dict() if self.assessment is None else case_line(self.answer, self.assessment)
        return {
            **head,
            "id": self.id,
            "checks": [c.as_dict() for c in self.checks],
            "passed": self.passed,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        assessment = None
        if data.get("kind") == "case":
            from rag.assess.records import Assessment
            from rag.faces.case_results import as_answer

            assessment = Assessment.from_dict(data)
            answer = as_answer(str(data.get("question", "")), assessment)
        else:
            answer = Answer.from_dict(data)
        checks = [Check(c["kind"], c["expected"], bool(c["passed"])) for c in data.get("checks", [])]
        return cls(id=int(data["id"]), answer=answer, checks=checks, note=data.get("note"), assessment=assessment)


def case_line(answer: Answer, assessment: Assessment) -> dict[str, Any]:
    """A case's line of results.jsonl: the assessment JSON, the case as `question`, kind 'case'."""
    return {"kind": "case", "question": answer.question, **assessment.as_dict()}


def flat(text: str) -> str:
    return " ".join(text.split())


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _unknown(key: str, allowed: tuple[str, ...], where: str) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use {', '.join(allowed)}"
    return f"unknown key '{key}' in {where}; {hint}"


class _Validator:
    """Walks the composed YAML so every problem can name its line."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, node: Node, message: str) -> None:
        self.problems.append(Problem(_line(node), message))

    def mapping(self, node: Node, allowed: tuple[str, ...], where: str) -> dict[str, tuple[Node, Node]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where} must be a mapping of {', '.join(allowed)}; write each as 'key: value'")
            return {}
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                self.fail(key_node, _unknown(key, allowed, where))
            elif key in found:
                self.fail(key_node, f"'{key}' appears twice in {where}; keep one")
            else:
                found[key] = (key_node, value_node)
        return found

    def text(self, node: Node, what: str, example: str) -> str | None:
        import yaml

        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.fail(node, f"{what} must be text; e.g. {example}")
            return None
        value = flat(str(node.value))
        if not value:
            self.fail(node, f"{what} is empty; e.g. {example}")
            return None
        return value

    def texts(self, node: Node, what: str, example: str) -> tuple[str, ...]:
        import yaml

        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list; write it as {example}")
            return ()
        values = [self.text(item, f"each entry of {what}", example) for item in node.value]
        return tuple(v for v in values if v)

    def question(self, n: int, node: Node) -> Question | None:
        import yaml

        where = f"question {n}"
        keys = self.mapping(node, QUESTION_KEYS, where)
        if not isinstance(node, yaml.MappingNode):
            return None
        if "case" in keys:
            return self.case(n, node, keys)
        if "ask" not in keys:
            self.fail(node, f'{where} has no \'ask\'; add ask: "the question" (or case: "the facts")')
            return None
        if "forum" in keys:
            self.fail(keys["forum"][0], f"'forum' of {where} belongs to a case entry (case: ...); remove it")
        ask = self.text(keys["ask"][1], f"'ask' of {where}", 'ask: "Is Article 26 binding?"')
        if ask and len(ask) > MAX_ASK_CHARS:
            self.fail(keys["ask"][1], f"'ask' of {where} is {len(ask):,} characters; keep it under {MAX_ASK_CHARS:,}")
        cite: tuple[str, ...] = ()
        mention: tuple[str, ...] = ()
        if "expect" in keys:
            expect = self.mapping(keys["expect"][1], EXPECT_KEYS, f"'expect' of {where}")
            if "cite" in expect:
                cite = self.texts(expect["cite"][1], "'cite'", 'cite: ["Article 26"]')
            if "mention" in expect:
                mention = self.texts(expect["mention"][1], "'mention'", 'mention: ["compelled"]')
        note = self.text(keys["note"][1], f"'note' of {where}", 'note: "Discuss ..."') if "note" in keys else None
        where_filters = self.filters(keys["where"][1], where) if "where" in keys else {}
        k = self.k(keys["k"][1], where) if "k" in keys else None
        if ask is None:
            return None
        return Question(n, ask, _line(node), cite, mention, note, where_filters, k)

    def case(self, n: int, node: Node, keys: dict[str, tuple[Node, Node]]) -> Question | None:
        """A `case:` entry: the facts to assess, perhaps a forum, and expectations on the assessment."""
        from rag.faces.case_script import case_expectations

        where = f"question {n}"
        if "ask" in keys:
            self.fail(keys["ask"][0], f"{where} has both 'ask' and 'case'; keep one (a question or a case)")
        for key in ("where", "k"):
            if key in keys:
                self.fail(keys[key][0], f"'{key}' of {where} applies to questions, not to a case; remove it")
        text = self.text(keys["case"][1], f"'case' of {where}", 'case: "A 15-year-old found in a cannabis farm"')
        forum = self.text(keys["forum"][1], f"'forum' of {where}", "forum: UK-EW") if "forum" in keys else None
        expect = case_expectations(self, keys["expect"][1], where) if "expect" in keys else {}
        note = self.text(keys["note"][1], f"'note' of {where}", 'note: "Discuss ..."') if "note" in keys else None
        if text is None:
            return None
        return Question(n, text, _line(node), note=note, case=True, forum=forum, **expect)

    def filters(self, node: Node, where: str) -> dict[str, str]:
        import yaml

        from rag.retrieve.filters import FILTER_KEYS

        keys = tuple(sorted(set(FILTER_KEYS) - {"doc_id"}))
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"'where' of {where} must be a mapping; e.g. where: {{jurisdiction: EU}}")
            return {}
        filters: dict[str, str] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value).strip().lower()
            if key not in FILTER_KEYS:
                self.fail(key_node, _unknown(key, keys, f"'where' of {where}"))
                continue
            value = self.text(value_node, f"'where: {key}' of {where}", f"{key}: VALUE")
            if value:
                filters[FILTER_KEYS[key]] = value
        return filters

    def k(self, node: Node, where: str) -> int | None:
        try:
            k = int(str(node.value)) if node.tag == "tag:yaml.org,2002:int" else 0
        except ValueError:
            k = 0
        if not 1 <= k <= 50:
            self.fail(node, f"'k' of {where} must be a whole number from 1 to 50 (passages to retrieve)")
            return None
        return k


def _compose(text: str) -> tuple[Node | None, Problem | None]:
    import yaml

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f" ({exc.context}, line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        return None, Problem(
            mark.line + 1 if mark else 1,
            f"YAML syntax: {exc.problem}{context}; check the indentation, colons and quotes",
        )
    except yaml.YAMLError as exc:
        return None, Problem(1, f"YAML syntax: {exc}; check the file is a YAML mapping")


def parse_script(path: Path) -> tuple[Script | None, list[Problem]]:
    """The script and no problems, or None and every problem found (each with its line)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such script; check the path, e.g. sessions/judges-basics.yaml") from None
    except IsADirectoryError:
        raise ScriptError(f"{path} is a folder; give a .yaml script inside it") from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not UTF-8 text; save the script as UTF-8") from None
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read the script ({exc.strerror})") from None
    root, syntax = _compose(text)
    if syntax:
        return None, [syntax]
    if root is None:
        return None, [Problem(1, "the script is empty; start with title:, audience: and questions:")]
    v = _Validator()
    top = v.mapping(root, TOP_KEYS, "the script")
    if not isinstance(root, yaml.MappingNode):
        return None, v.problems
    title = v.text(top["title"][1], "'title'", 'title: "Judges\' workshop"') if "title" in top else None
    if "title" not in top:
        v.fail(root, "the script has no 'title'; add title: \"...\" (it heads the transcript)")
    audience = v.text(top["audience"][1], "'audience'", "audience: judges") if "audience" in top else None
    language = v.text(top["language"][1], "'language'", "language: ru") if "language" in top else None
    if language is not None and language not in LANGUAGES:
        v.fail(top["language"][1], f"'language' is {language!r}; use one of {', '.join(LANGUAGES)}")
    questions: list[Question] = []
    if "questions" not in top:
        v.fail(root, "the script has no 'questions'; add questions: with a list of '- ask: ...'")
    elif not isinstance(top["questions"][1], yaml.SequenceNode) or not top["questions"][1].value:
        v.fail(top["questions"][1], "'questions' must be a non-empty list of '- ask: ...' entries")
    else:
        for n, node in enumerate(top["questions"][1].value, 1):
            q = v.question(n, node)
            if q:
                questions.append(q)
    if v.problems or title is None:
        return None, sorted(v.problems, key=lambda p: p.line)
    return Script(path, title, audience, tuple(questions), language), []


def load_script(path: Path) -> Script:
    """The validated script; ScriptError naming the first problem's line otherwise."""
    script, problems = parse_script(path)
    if script is None:
        more = f" ({len(problems) - 1} more; run `rag session check {path}`)" if len(problems) > 1 else ""
        raise ScriptError(problems[0].format(path) + more)
    return script


# ---- checks -------------------------------------------------------------------------------------
