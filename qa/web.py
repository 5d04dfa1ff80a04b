"""The Gradio chat over the engine. UI wiring only: answers come from :meth:`qa.QA.ask`.

>>> demo = build_app(QA())          # doctest: +SKIP
>>> demo.launch()                   # doctest: +SKIP
"""

from __future__ import annotations

import html
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who was sworn in as interim president?",
    "When did the United States launch the military strike?",
    "How many Venezuelan security personnel were killed?",
    "What did Trump say about the operation?",
]


def _md_escape(text: str) -> str:
    """Document text shown as literal text: no HTML, no Markdown formatting."""
    escaped = html.escape(text, quote=False)
    for ch in "\\`*_{}[]()#+!|~>":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def render_answer(answer: Any) -> str:
    """The reply as Markdown: short answer, quotes with [n], then the sources."""
    if answer.refused:
        lines = ["**Not found in the documents.**"]
        if answer.passages:
            lines += ["", "Nearest passages:"]
            for h in answer.passages[:3]:
                snippet = " ".join(h.chunk.text.split())
                lines.append(f"- *{_md_escape(h.chunk.title)}* ({_md_escape(h.chunk.doc_id)}): {_md_escape(snippet[:240])}…")
        return "\n".join(lines)
    lines = []
    if answer.short_answer:
        lines += [f"**{_md_escape(answer.short_answer)}**", ""]
    for c in answer.citations:
        lines.append(f"> “{_md_escape(c.quote)}” [{c.n}]")
        lines.append("")
    lines.append("<details><summary>Sources</summary>\n")
    for c in answer.citations:
        lines.append(f"[{c.n}] **{_md_escape(c.title)}**, {_md_escape(c.doc_id)}, characters {c.start}–{c.end}")
        lines.append("")
    lines.append("</details>")
    for n in answer.notices:
        lines += ["", f"*{_md_escape(n)}*"]
    return "\n".join(lines)


def build_app(engine: Any) -> Any:
    import gradio as gr

    stats = engine.stats()
    titles = "\n".join(f"- {_md_escape(t)} ({_md_escape(d)})" for d, t in stats["titles"].items())

    def respond(message: str, history: list[Any]) -> str:
        from qa.pipeline import InvalidQuestion

        try:
            return render_answer(engine.ask(message))
        except InvalidQuestion as e:
            return f"*{_md_escape(str(e))}*"

    with gr.Blocks(title="qa: answers with sources") as demo:
        gr.Markdown(f"# Ask the documents\nAnswers quote the documents verbatim; when they do not hold the answer, it says so.\n\n"
                    f"The collection holds {stats['documents']} documents ({stats['chunks']} passages):\n{titles}")
        gr.ChatInterface(respond, examples=EXAMPLES, api_name="chat")
    return demo


def main() -> None:
    from qa.pipeline import QA

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    engine = QA()
    stats = engine.stats()
    log.info("index %s: %d chunks from %d documents", stats["index_dir"], stats["chunks"], stats["documents"])
    host = os.environ.get("QA_HOST", "127.0.0.1")
    port = int(os.environ.get("QA_PORT", "7860"))
    build_app(engine).launch(server_name=host, server_port=port)
