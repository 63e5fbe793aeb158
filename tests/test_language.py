"""Questions in Russian, Azerbaijani, Turkish and French: detection, the program's words, tokens, provisions (fast)."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from typer.testing import CliRunner

from rag.core import language
from rag.core.errors import KnowledgeError, PromptError
from rag.core.knowledge import load as load_knowledge
from rag.core.knowledge import parse as parse_knowledge
from rag.faces.cli import app
from rag.index.keyword import tokens
from rag.retrieve.query import expand, parse

runner = CliRunner()
MESSAGES = REPO / "prompts" / "messages.yaml"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Является ли статья 26 Конвенции Совета Европы обязательной?", "ru"),
        ("Azərbaycanda insan alverinin qurbanları cinayət məsuliyyətindən azad edilirmi?", "az"),
        ("İnsan ticareti mağdurları işledikleri suçlar için cezalandırılabilir mi?", "tr"),
        ("Avrupa Konseyi Sözleşmesi'nin 26. maddesi bağlayıcı mıdır?", "tr"),
        ("L'article 26 de la Convention du Conseil de l'Europe est-il contraignant ?", "fr"),
        ("Is Article 26 of the CoE Convention binding?", "en"),
        ("What did the Court hold in Zoletić v. Azerbaijan?", "en"),
        ("s.45(4)", "en"),
    ],
)
def test_the_language_of_a_question_is_detected(text: str, lang: str) -> None:
    assert language.detect(text) == lang


def test_every_question_of_the_gold_sets_is_detected_as_asked() -> None:
    for path in (REPO / "tests" / "gold").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            assert language.detect(item["question"]) == item.get("language", "en"), (path.name, item["id"])
            if "english" in item:
                assert language.detect(item["english"]) == "en", item["id"]


def test_the_setting_overrides_detection() -> None:
    assert language.choose("Является ли статья 26 обязательной?", "fr") == "fr"
    assert language.choose("Является ли статья 26 обязательной?", None) == "ru"


def test_the_shipped_messages_have_every_key_in_every_language() -> None:
    messages = language.load()
    keys = ("lead_in", "refusal", "not_mentioned", "sources", "verified", "quotes_language", "welcome", "help_intro")
    for key in keys:
        assert set(messages[key]) == set(language.LANGUAGES), key
    assert language.say("refusal") == "The indexed sources do not address this."
    assert language.say("verified", "en", n=2, m=3) == "2 of 3 citations verified"
    said = language.say("not_mentioned", "ru", items="Казахстан")
    assert said == "В проиндексированных источниках не упоминается: Казахстан."
    assert language.say("quotes_language", "fr", source_language=language.name("en", "fr")) == (
        "Les passages cités sont en anglais."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["refusal"].pop("az"), "refusal: the az text is missing"),
        (lambda d: d["verified"].update(tr="{n} doğrulandı"), "verified: the tr text must use {m}, {n}"),
        (lambda d: d["sources"].update(de="Quellen"), "unknown language 'de'"),
        (lambda d: d.update(welcome="Type a question"), "welcome: give the text in each language"),
        (lambda d: d.pop("language_fr"), "the key language_fr"),
    ],
)
def test_a_bad_messages_file_is_a_named_error(change: Any, message: str) -> None:
    data = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(PromptError, match=message.replace("{", r"\{").replace("}", r"\}")):
        language.parse(data, "messages.yaml")


def test_keyword_tokens_read_cyrillic_and_azerbaijani_and_fold_turkish_i() -> None:
    assert tokens("Статья 26 Конвенции") == tokens("статьи 26 конвенция")  # one stem for the case forms
    assert "26" in tokens("статья 26") and tokens("Конвенции")[0].startswith("конвенц")
    az = tokens("Azərbaycanda insan alverinin qurbanları")
    assert all(any(ch in w for ch in "əğ") or w.isascii() for w in az) and len(az) == 4
    assert tokens("İNSAN TİCARETİ") == tokens("insan ticareti") == tokens("INSAN TICARETI")
    assert tokens("mağdurları") == tokens("MAĞDURLARI")
    assert tokens("Zoletić") == tokens("Zoletic")  # accents of other Latin words do not split or separate them
    assert tokens("What does Article 26 require of States?") == ["article", "26", "require", "stat"]


@pytest.mark.parametrize(
    "question",
    [
        "Является ли статья 26 Конвенции Совета Европы обязательной?",
        "Что предусматривает ст. 26 Конвенции Совета Европы?",
        "Каков смысл статьи 26 Конвенции Совета Европы?",
        "Avropa Şurası Konvensiyasının 26-cı maddəsi nəyi tələb edir?",
        "Avropa Şurası Konvensiyasının maddə 26 məcburidirmi?",
        "Avrupa Konseyi Sözleşmesi madde 26 bağlayıcı mı?",
        "Avrupa Konseyi Sözleşmesi'nin 26. maddesi ne öngörür?",
        "Que prévoit l'article 26 de la Convention du Conseil de l'Europe ?",
    ],
)
def test_article_26_of_the_coe_convention_in_every_language(question: str) -> None:
    parsed = parse(question)
    assert parsed.pinpoints == ["Article 26"]
    assert parsed.doc_hints[:1] == ["coe-convention"]
    assert "(Article 26)" in parsed.text or "article 26" in question
    assert "Council of Europe" in parsed.text


def test_sections_directives_and_protocols_named_in_other_languages() -> None:
    assert parse("раздел 45(4) закона о современном рабстве").pinpoints == ["Section 45(4)"]
    assert "uk-modern-slavery-act-s45" in parse("раздел 45 закона о современном рабстве").doc_hints
    assert "Directive 2011/36/EU" in expand("директива 2011/36/ЕС")
    assert "eu-directive-2011-36" in parse("Что требует директива 2011/36/ЕС?").doc_hints
    assert "UN Trafficking in Persons Protocol" in expand("Палермский протокол")
    assert "un-trafficking-protocol" in parse("Что говорит Палермский протокол?").doc_hints
    assert parse("Принцип 7 рекомендованных принципов УВКПЧ").pinpoints == ["Principle 7"]
    assert "rantsev-v-cyprus-and-russia" in parse("дело Ранцев против Кипра и России, ст. 4 ЕКПЧ").doc_hints


def test_an_article_of_a_statute_counted_in_sections_is_its_section() -> None:
    assert parse("Modern Kölelik Yasası md. 45 — kasten öldürme").pinpoints == ["Section 45"]
    assert parse("l'article 45(4) du Modern Slavery Act 2015").pinpoints == ["Section 45(4)"]
    assert parse("статья 45 Закона о современном рабстве").pinpoints == ["Section 45"]
    # Another instrument named beside the statute keeps its articles.
    assert parse("Article 26 of the CoE Convention and s.45 MSA").pinpoints == ["Article 26", "Section 45"]


def test_english_questions_parse_as_before() -> None:
    parsed = parse("Is Article 26 of the CoE Convention binding?")
    assert parsed.pinpoints == ["Article 26"]
    assert parsed.text == "Is Article 26 of the CoE (Council of Europe) Convention binding?"


def test_a_provision_word_of_an_unknown_kind_is_a_named_error() -> None:
    data = yaml.safe_load((REPO / "corpus" / "knowledge.yaml").read_text(encoding="utf-8"))
    data["provisions"].append({"kind": "Chapter", "before": ["глава"]})
    with pytest.raises(KnowledgeError, match="provision kind 'Chapter'"):
        parse_knowledge(data, "knowledge.yaml")
    data["provisions"][-1] = {"kind": "Article", "before": ["(unclosed"]}
    with pytest.raises(KnowledgeError, match="not a valid regular expression"):
        parse_knowledge(data, "knowledge.yaml")


def test_the_field_words_include_other_languages() -> None:
    domain = load_knowledge().domain
    assert {"торгов", "жертв", "alver", "qurban", "mağdur", "victime"} <= set(domain)


def _ingest(corpus: Path) -> None:
    result = runner.invoke(app, ["ingest", str(corpus), "--json"])
    assert result.exit_code == 0, result.output


def test_a_russian_question_is_answered_in_russian_words_with_english_quotes(
    fake_embeddings: None, sample_corpus: Path
) -> None:
    _ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "Что требует статья 26 Sample Convention о жертвах?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["language"] == "ru" and data["quotes_language"] == "en"
    assert not data["refused"] and data["citations"][0]["pinpoint"] == "Article 26"
    text = runner.invoke(app, ["ask", "Что требует статья 26 Sample Convention о жертвах?"]).stdout
    assert text.startswith("Вот что говорят проиндексированные источники:\nЦитаты приводятся на английском языке.\n")
    assert "\nИсточники:\n" in text and "проверено ссылок:" in text


def test_lang_option_and_rag_lang_override_detection(
    fake_embeddings: None, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(sample_corpus)
    question = "Who won the football match last night?"
    data = json.loads(runner.invoke(app, ["ask", question, "--json", "--lang", "az"]).stdout)
    assert data["refused"] and data["language"] == "az"
    assert data["answer"] == "İndeksləşdirilmiş mənbələr bu məsələyə toxunmur."
    monkeypatch.setenv("RAG_LANG", "fr")
    data = json.loads(runner.invoke(app, ["ask", question, "--json"]).stdout)
    assert data["answer"] == "Les sources indexées ne traitent pas de cette question."
    assert json.loads(runner.invoke(app, ["ask", question, "--json", "--lang", "en"]).stdout)["language"] == "en"
    bad = runner.invoke(app, ["ask", question, "--lang", "de"])
    assert bad.exit_code == 1 and "--lang de: use ru, az, tr, fr, en" in bad.stderr


def test_a_script_may_set_its_language(tmp_path: Path) -> None:
    from rag.faces.script import load_script, parse_script

    path = tmp_path / "s.yaml"
    path.write_text('title: "Семинар"\nlanguage: ru\nquestions:\n  - ask: "Обязательна ли статья 26?"\n')
    assert load_script(path).language == "ru"
    path.write_text('title: "T"\nlanguage: de\nquestions:\n  - ask: "Is Article 26 binding?"\n')
    _, problems = parse_script(path)
    assert [p.format("s.yaml") for p in problems] == ["s.yaml:2: 'language' is 'de'; use one of en, ru, az, tr, fr"]
