"""Named errors: the CLI turns each into one line on stderr and exit code 1."""


class RagError(Exception):
    """An expected failure with a message that names the input and what to do."""


class CorpusNotFound(RagError):
    """A path given to ingest does not exist."""


class EmptyIndex(RagError):
    """Nothing has been ingested yet."""


class EmptyQuestion(RagError):
    """The question is empty or only whitespace."""


class BadQuestion(RagError):
    """The question cannot be asked as given (too long, only control characters)."""


class StoreCorrupt(RagError):
    """The index on disk cannot be opened."""


class StoreUnavailable(RagError):
    """The Chroma server or the store directory cannot be used."""


class StoreBusy(RagError):
    """Another process holds the index lock."""


class BadFilter(RagError):
    """A --where filter is not KEY=VALUE or names an unknown key."""


class LoadError(RagError):
    """A file cannot be read into a document."""


class ScriptError(RagError):
    """A session script is invalid; the message names the line."""


class LLMConfigError(RagError):
    """RAG_LLM or --llm is malformed, or its optional dependency is missing."""


class LLMError(RagError):
    """The configured model server failed while answering."""


class PromptError(RagError):
    """A prompt file is missing or lacks a variable the engine fills in."""


class FetchError(RagError):
    """An official text could not be downloaded."""


class SessionOutputError(RagError):
    """The --out folder holds results that cannot be continued as asked."""


class ConfigError(RagError):
    """A setting has an invalid value."""


class KnowledgeError(RagError):
    """The legal knowledge file (knowledge.yaml) is malformed or points at documents the corpus lacks."""


class NotFound(RagError):
    """A document or passage asked for by id or pinpoint is not in the index."""


class ServeError(RagError):
    """The server cannot start as asked (an open address without a token, a port in use)."""


class BadRequest(RagError):
    """A request to the server is malformed; `param` names the field (OpenAI's error shape has one)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class IndexModelMismatch(RagError):
    """The index was embedded with another model than the one configured; its vectors cannot be compared."""


class PathwayError(RagError):
    """The case-assessment pathways file (pathways.yaml) is malformed or cites a passage the index lacks."""


class BadCase(RagError):
    """A case to assess is empty, too long, or names an unknown forum."""
