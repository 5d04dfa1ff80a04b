"""The web chat, served for real on a loopback port and called with gradio_client."""

from __future__ import annotations

import socket

import pytest

from qa.web import _md_escape, render_answer
from qa.types import Answer, Citation

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rendered_document_text_cannot_inject_html():
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    a = Answer(question="q", text="", short_answer=evil, citations=(Citation(1, "x.txt", evil, 0, 5, evil),))
    out = render_answer(a)
    assert "<script>" not in out and "<img" not in out
    assert _md_escape("<b>") == "&lt;b&gt;"


def test_chat_endpoint_answers_with_citation(seed_engine):
    from gradio_client import Client

    from qa.web import build_app

    port = free_port()
    demo = build_app(seed_engine)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        reply = client.predict("Who was sworn in as interim president?", api_name="/chat")
        assert "Delcy Rodríguez" in reply
        assert "001\\_08e073e419b132d4.txt" in reply
    finally:
        demo.close()
