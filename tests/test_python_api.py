"""The Python API: `from rag import Assistant` (lazily), and the retriever inside real LangChain chains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS

ART26 = "What does Article 26 of the Sample Convention require?"
HEAVY = ("torch", "chromadb", "langchain_core", "sentence_transformers", "numpy", "docx", "rich", "typer", "yaml")


def test_import_rag_stays_light_and_loads_the_api_on_use() -> None:
    code = (
        f"import sys, rag; heavy = {HEAVY!r}; print(','.join(m for m in heavy if m in sys.modules));"
        "from rag import Assistant, Answer, Citation, RagError, Settings; print(Assistant.__module__);"
        "print('ask' in dir(Assistant), 'Assistant' in dir(rag))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["", "rag.answer.assistant", "True True"]
    with pytest.raises(AttributeError, match="has no attribute 'Asistant'"):
        import rag

        rag.Asistant  # noqa: B018


def ingest(corpus: Path) -> None:
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest as run

    assert not run([corpus], Settings.from_env()).failed


def sources(docs: list[Any]) -> str:
    """What a chain hands an LLM: numbered passages, each with its pinpoint and citation."""
    return "\n\n".join(
        f"[{d.metadata['n']}] {d.metadata['pinpoint'] or d.metadata['title']}, {d.metadata['citation']}\n"
        f"{d.page_content}"
        for d in docs
    )


@pytest.mark.usefixtures("fake_embeddings")
def test_the_readme_example(sample_corpus: Path) -> None:
    ingest(sample_corpus)
    from rag import Assistant, Settings

    assistant = Assistant(Settings.from_env())
    answer = assistant.ask(ART26)
    assert not answer.refused and answer.citations[0].pinpoint == "Article 26"
    assert answer.citations[0].citation == "SCT No. 1" and "compelled" in answer.citations[0].quote


def readme_python_blocks() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return [block.split("\n", 1)[1] for block in section.split("```")[1::2] if block.startswith("python")]


@pytest.mark.usefixtures("fake_embeddings")
def test_the_readme_code_runs(sample_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(sample_corpus)
    example, chain = readme_python_blocks()
    assert len(example.strip().splitlines()) <= 10
    exec(compile(example.replace("the CoE Convention", "the Sample Convention"), "README", "exec"), {})
    printed = capsys.readouterr().out
    assert "[1] Article 26, SCT No. 1: Article 26 of the Sample Convention requires" in printed
    scope: dict[str, Any] = {}
    exec(compile(chain, "README", "exec"), scope)
    assert scope["context"].startswith("[1] Section 45(4), SSA 2015\nSection 45(4) gives children a defence")


@pytest.mark.usefixtures("fake_embeddings")
def test_the_retriever_in_a_langchain_chain(sample_corpus: Path) -> None:
    from langchain_core.documents import Document
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from rag import RagRetriever

    ingest(sample_corpus)
    retriever = RagRetriever.from_settings(k=3)
    assert isinstance(retriever, BaseRetriever)

    docs = retriever.invoke(ART26)
    assert docs and all(isinstance(d, Document) for d in docs)
    first = docs[0].metadata
    assert (first["n"], first["pinpoint"], first["citation"]) == (1, "Article 26", "SCT No. 1")
    assert first["title"] == "Sample Convention on Trafficking" and first["jurisdiction"] == "CoE"
    assert (first["label"], first["authority"], first["about"]) == ("Article 26, SCT No. 1", "primary", None)
    assert first["path"] == str(sample_corpus / "sample-convention.md") and 0 < first["score"] <= 1
    assert "compelled" in docs[0].page_content and docs[0].id == first["chunk_id"]
    assert [d.metadata["n"] for d in docs] == list(range(1, len(docs) + 1))

    chain = retriever | RunnableLambda(sources)
    text = chain.invoke(ART26)
    assert text.startswith("[1] Article 26, SCT No. 1\n") and "compelled to take part" in text

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer only from these numbered sources:\n{context}"), ("human", "{question}")]
    )
    rag_chain = {"context": retriever | RunnableLambda(sources), "question": RunnablePassthrough()} | prompt
    messages = rag_chain.invoke("What does Section 45(4) of the Sample Slavery Act give children?").to_messages()
    assert "Section 45(4), SSA 2015" in messages[0].content and messages[1].content.startswith("What does Section")

    batched = retriever.batch([ART26, "What does Article 10 of the Sample Convention require?"])
    assert [b[0].metadata["pinpoint"] for b in batched] == ["Article 26", "Article 10"]

    filtered = RagRetriever.from_settings(filters={"jurisdiction": "UK"}).invoke("What defence do children have?")
    assert filtered and {d.metadata["jurisdiction"] for d in filtered} == {"UK"}


@pytest.mark.usefixtures("fake_embeddings")
def test_the_retriever_returns_nothing_the_sources_do_not_address(sample_corpus: Path) -> None:
    from rag import RagRetriever

    ingest(sample_corpus)
    off_topic = "What is the best recipe for a chocolate cake?"
    assert RagRetriever.from_settings().invoke(off_topic) == []
    assert RagRetriever.from_settings(refuse=False).invoke(off_topic)  # the nearest passages, when asked for


@pytest.mark.usefixtures("fake_embeddings")
def test_the_retriever_reports_user_errors() -> None:
    from rag import RagError, RagRetriever

    with pytest.raises(RagError, match="rag ingest"):  # no index yet: the same message as `rag ask`
        RagRetriever.from_settings().invoke("Is Article 26 binding?")
    with pytest.raises(RagError, match="the question is empty"):
        RagRetriever.from_settings().invoke("   ")


@pytest.mark.slow
def test_the_retriever_on_the_real_index(real_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from langchain_core.runnables import RunnableLambda

    from rag import RagRetriever

    chain = RagRetriever.from_settings(k=4) | RunnableLambda(sources)
    text = chain.invoke("Is Article 26 of the CoE Convention binding?")
    assert text.startswith("[1] Article 26, CETS No. 197\n")
    docs = RagRetriever.from_settings(k=4).invoke("Is Article 26 of the CoE Convention binding?")
    assert docs[0].metadata["path"] == str(CORPUS / "instruments" / "coe-convention.md")

    example, chain = readme_python_blocks()  # the README's code, as printed, on the bench book
    exec(compile(example, "README", "exec"), {})
    assert "[1] Article 26, CETS No. 197: " in capsys.readouterr().out
    scope: dict[str, Any] = {}
    exec(compile(chain, "README", "exec"), scope)
    assert scope["context"].startswith("[1] Section 45") and "Modern Slavery Act 2015" in scope["context"]
