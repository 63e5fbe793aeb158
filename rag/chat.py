"""The terminal chat: a loop over Assistant.ask."""

from __future__ import annotations

from rag.config import Settings


def run_chat(settings: Settings) -> None:
    from rag import render
    from rag.assistant import Assistant
    from rag.errors import RagError

    assistant = Assistant(settings, on_wait=print)
    print(
        f"Non-punishment reference assistant: engine {assistant.engine.name}; nothing leaves this machine. "
        "Ctrl-D to quit."
    )
    while True:
        try:
            question = input("\n? ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if question.strip() in ("/quit", "/exit"):
            return
        if not question.strip():
            continue
        try:
            print(render.answer_text(assistant.ask(question)))
        except RagError as exc:
            print(f"Error: {exc}")
