"""The web chat and its APIs.

Fast tests cover rendering, follow-up rewriting, upload checks, feedback records and request
parsing. Tests marked ``integration`` start the real server (Gradio chat + REST + OpenAI routes on
one free loopback port, real model and Chroma over a private copy of the seeds) and call it the way
other programs do: gradio_client for the named endpoints, httpx for /api/ask and /v1/chat/completions.
"""

from __future__ import annotations

import json
import logging
import os

import pytest

from qa.types import Answer, Chunk, Citation, Hit
from qa.chat import aligned, answered, exchanges
from qa.render import (
    collection_note,
    highlight_in_passage,
    md_escape,
    plain_text,
    render_main,
    render_messages,
    reply_id,
)
from tests import webserver
from tests.fakes import HashEmbedder
from tests.webserver import INTERIM_DOC, INTERIM_Q

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    server = webserver.live_server(tmp_path_factory)
    yield server
    webserver.stop_live_server()


def _answer(**kw) -> Answer:
    text = "Intro line. Ann Lee won the vote on Monday. Then more text."
    chunk = Chunk("c1", "a_b.txt", "Vote <b>news</b>", 100, 100 + len(text), text)
    q0 = text.index("Ann")
    q1 = text.index("Monday.") + len("Monday.")
    cit = Citation(1, "a_b.txt", "Vote <b>news</b>", 100 + q0, 100 + q1, text[q0:q1], chunk_id="c1",
                   answer_start=100 + q0, answer_end=100 + q0 + len("Ann Lee"))
    base = dict(question="Who won?", text="Ann Lee", short_answer="Ann Lee", citations=(cit,),
                passages=(Hit(chunk, 0.5),), searched_question="Who won?")
    base.update(kw)
    return Answer(**base)


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------


def test_sources_name_title_page_and_relevance_and_llm_markers_link():
    import dataclasses

    from qa.render import link_markers, relevance

    a = _answer()
    c = dataclasses.replace(a.citations[0], page=3, score=0.9)
    two = dataclasses.replace(a, citations=(c, dataclasses.replace(c, n=2, score=0.45)))
    body = render_messages(two, asked="Who won?")[1]["content"]
    assert "<small>`a_b.txt`, page 3, characters 112–143</small>" in body
    assert "relevance █████ 0.90" in body and "relevance ██▒░░ 0.45" in body  # bar relative to the best source
    assert relevance(0.2, 0.0).endswith("relevance ░░░░░ 0.20</span>")
    rid = reply_id(two)
    assert link_markers(two, md_escape("Ann won [1], [2] and [7].")) == (
        f"Ann won [\\[1\\]](#qa-src-{rid}-1), [\\[2\\]](#qa-src-{rid}-2) and \\[7\\]."  # 7 is no source
    )
    assert reply_id(two) == reply_id(dataclasses.replace(two)) != reply_id(a)


def test_document_view_is_escaped_stored_text_with_the_quote_marked():
    from qa.render import render_document

    t1, t2 = "Intro <b>x</b>. Ann won.", "Later text."
    chunks = [Chunk("c2", "d.txt", "T", 40, 40 + len(t2), t2), Chunk("c1", "d.txt", "T", 0, len(t1), t1)]
    out = render_document("d.txt", "T <i>", chunks, t1.index("Ann"), len(t1))
    assert "T &lt;i&gt;" in out and "&lt;b&gt;x&lt;/b&gt;" in out and "<b>" not in out
    assert '<mark id="qa-doc-cited">Ann won.</mark>' in out
    assert out.index("Ann won.") < out.index("qa-doc-gap") < out.index("Later text.")  # in order, the gap shown
    across = render_document("d.txt", "T", [Chunk("c1", "d.txt", "T", 0, 4, "abcd"), Chunk("c3", "d.txt", "T", 4, 8, "efgh")], 2, 6)
    assert across.count('id="qa-doc-cited"') == 1 and across.count("<mark") == 2


def test_document_view_shows_only_indexed_documents():
    from qa.chat import ChatBackend
    from qa.web_panels import parse_doc_request

    class Store:
        manifest = type("M", (), {"documents": {"a.txt": {"title": "A", "chunks": ["c1"]}}})()

        def get_nodes(self, ids):
            from qa.ingest.nodes import chunk_to_node

            return [chunk_to_node(Chunk("c1", "a.txt", "A", 0, 5, "Hello"))] if ids == ["c1"] else []

    backend = ChatBackend(type("E", (), {"store": Store()})())
    title, chunks = backend.document("a.txt")
    assert title == "A" and [c.text for c in chunks] == ["Hello"]
    assert backend.document("/etc/passwd") is None and backend.document("../a.txt") is None
    assert backend.document(None) is None
    assert parse_doc_request("a.txt:0:5") == ("a.txt", 0, 5, None) and parse_doc_request("a.txt:x:5") is None


def test_open_document_finds_the_quote_again_after_the_document_changed(small_engine, tmp_path):
    """Found by a user: "Open document" on an earlier answer marked whatever stood at the old offsets
    once the document was replaced ("A long preamble sentence that pushes … by ma"). The link carries
    the quote's fingerprint: the view marks the sentence where it now stands, or says it is gone."""
    import re as _re

    from qa.chat import ChatBackend
    from qa.web_panels import document_functions

    backend = ChatBackend(small_engine)
    up = tmp_path / "up" / "harbor.txt"
    up.parent.mkdir()
    fact = "The Velmora harbor bridge was opened on 12 May 1931."
    up.write_text(f"Harbor\n{fact} It has two lanes.\n", encoding="utf-8")
    backend.upload([str(up)])
    messages, _ = backend.reply("When was the Velmora harbor bridge opened?")
    link = _re.search(r"#qa-doc=([^)]+)\)", messages[-1]["content"]).group(1)
    view = document_functions(backend)["open_document"]
    assert _re.search(r'<mark id="qa-doc-cited">(.*?)</mark>', view(link)[0]).group(1) == fact
    up.write_text("Harbor\n" + "A long preamble sentence pushes everything further down the file. " * 5 + f"\n{fact}\n",
                  encoding="utf-8")
    backend.upload([str(up)])  # replaced: the fact moved
    assert _re.search(r'<mark id="qa-doc-cited">(.*?)</mark>', view(link)[0]).group(1) == fact
    up.write_text("Harbor\nThe bridge was closed for repairs.\n", encoding="utf-8")
    backend.upload([str(up)])  # replaced again: the quoted sentence is gone
    shown = view(link)[0]
    assert "has changed since that answer" in shown and "qa-doc-cited" not in shown
    # a refusal's nearest passages link whole passages (overlapping ones too): each opens marked
    messages, _ = backend.reply("What is the capital of Australia?")
    for passage in _re.findall(r"#qa-doc=([^)]+)\)", messages[-1]["content"]):
        assert '<mark id="qa-doc-cited">' in view(passage)[0], passage


def test_conversations_keep_typed_turns_and_stay_apart():
    from qa import web_state
    from qa.conversation import Turn

    a = _answer()
    store, first = web_state.new_chat(None)
    msgs = [{"role": "user", "content": "Who won?"}, *render_messages(a, asked="Who won?")]
    store = web_state.save(store, msgs, [Turn.of(a)])
    store, second = web_state.new_chat(store)
    assert second != first and web_state.current(store)[1]["messages"] == []
    store = web_state.save(store, [{"role": "user", "content": "Other?"}], [None])
    assert [t for t, _ in web_state.choices(store)] == ["Other?", "Who won?"]
    kept = web_state.turns_of(web_state.current(web_state.switch(store, first))[1])
    assert kept[0].answer.to_dict() == a.to_dict() and kept[0].searched_for == "Who won?"
    # only the passages the reply shows are kept: it renders (and copies) the same after a reload
    other = Hit(Chunk("c9", "z.txt", "Z", 0, 5, "Other"), 0.1)
    wide = Answer(**{**{f: getattr(a, f) for f in a.__dataclass_fields__}, "passages": a.passages + (other,)})
    back = web_state.turns_of(web_state.save(store, msgs, [Turn.of(wide)])["chats"][store["current"]])[0].answer
    assert [h.chunk.chunk_id for h in back.passages] == ["c1"]
    assert render_messages(back, asked="Who won?") == render_messages(wide, asked="Who won?")
    assert web_state.valid({"chats": "x"}) == web_state.new_store()  # what the browser sends back is checked
    assert web_state.turns_of({"turns": [{"question": "q"}]}) == [None]
    rewritten = Turn("When was she sworn in?", "When was Delcy Rodríguez sworn in?", a)
    assert web_state.rewrite_of([rewritten]) == "When was Delcy Rodríguez sworn in?"
    assert web_state.rewrite_of([Turn.of(a)]) == "" and web_state.rewrite_of([]) == ""


def test_conversations_of_two_tabs_are_merged_not_overwritten(monkeypatch):
    """Tabs of one browser share one stored value and each saves its whole copy: the conversations
    the other tab made meanwhile are merged in (the newest version of each), never wiped."""
    from qa import web_state

    clock = iter(range(100, 200))
    monkeypatch.setattr(web_state.time, "time", lambda: float(next(clock)))
    stores = web_state.BrowserStores()
    loaded = stores.merged(web_state.new_store())  # the page's first load: a browser id is given
    assert len(loaded["browser"]) == 32
    tab_a, a = web_state.new_chat(loaded)
    tab_b, b = web_state.new_chat({**loaded, "current": ""})
    tab_a = stores.merged(web_state.save(tab_a, [{"role": "user", "content": "Who won?"}], [None]))
    tab_b = stores.merged(web_state.save(tab_b, [{"role": "user", "content": "Who lost?"}], [None]))
    assert [t for t, _ in web_state.choices(tab_b)] == ["Who lost?", "Who won?"] and tab_b["current"] == b
    # tab A saves again from its stale copy: B's conversation stays, A's stays current
    tab_a = stores.merged(web_state.save(tab_a, [{"role": "user", "content": "Who won?"}, {"role": "assistant", "content": "Ann"}], [None, None]))
    assert set(tab_a["chats"]) == {a, b} and tab_a["current"] == a and len(tab_a["chats"][a]["messages"]) == 2
    # of one conversation both tabs hold, the version saved last wins
    assert web_state.merge(tab_a, tab_b)["chats"][a]["messages"] == tab_a["chats"][a]["messages"]
    # a browser id that is not one of ours is replaced; another browser's store is never mixed in
    assert "browser" not in web_state.valid({**loaded, "browser": "../x"})
    other = stores.merged(web_state.new_store())
    assert other["browser"] != loaded["browser"] and other["chats"] == {}


def test_two_pages_going_on_with_one_conversation_keep_both(monkeypatch):
    """Found by a user session: a duplicated tab (which copies the tab's own conversation) or two tabs
    switched to one conversation each asked, and the later save wiped the other's exchange. When
    another page went on differently, the saving page's version continues as a conversation of its
    own; a page going on with its own conversation (or undoing in it) is never forked."""
    from qa import web_state

    clock = iter(range(100, 200))
    monkeypatch.setattr(web_state.time, "time", lambda: float(next(clock)))
    stores = web_state.BrowserStores()
    q = lambda text: {"role": "user", "content": text}  # noqa: E731
    store, cid = web_state.new_chat(stores.merged(web_state.new_store()))
    a = stores.merged(web_state.save(store, [q("Who is Rubio?")], [None]), page="A")
    d = stores.merged(web_state.save(a, [q("Who is Rubio?"), q("What did he emphasize?")], [None, None]), page="D")
    assert d["current"] == cid  # D went on from where A was: no conflict
    a = stores.merged(web_state.save(a, [q("Who is Rubio?"), q("Who is Saab?")], [None, None]), page="A")
    assert a["current"] != cid  # A's version goes on as its own conversation; D's stays under the old id
    said = {c: [m["content"] for m in a["chats"][c]["messages"]] for c in a["order"]}
    assert said == {cid: ["Who is Rubio?", "What did he emphasize?"], a["current"]: ["Who is Rubio?", "Who is Saab?"]}
    again = stores.merged(web_state.save(a, [q("Who is Rubio?")], [None]), page="A")  # A undoes in its own
    assert again["current"] == a["current"] and len(again["chats"]) == 2


def test_rendered_document_text_cannot_inject_html():
    from markdown_it import MarkdownIt

    chunk = Chunk("c1", EVIL + ".txt", EVIL, 0, len(EVIL) * 2, EVIL + EVIL)
    a = Answer(question="q", text="", short_answer=EVIL, passages=(Hit(chunk, 1.0),),
               citations=(Citation(1, EVIL + ".txt", EVIL, 0, len(EVIL), EVIL, chunk_id="c1"),))
    refusal = Answer(question="q", text="", refused=True, passages=(Hit(chunk, 1.0),))
    md = MarkdownIt("commonmark", {"html": True})  # raw HTML passes through: only escaping protects
    for answer in (a, refusal):
        out = "".join(md.render(m["content"]) for m in render_messages(answer, asked=EVIL))
        assert "<script" not in out and "<img" not in out
        assert "&lt;script&gt;" in out and "onerror" in out  # shown as text
    assert md_escape("<b>") == "&lt;b&gt;"


def test_reply_has_answer_quote_marker_and_collapsible_sources_with_highlight():
    main, sources = render_messages(_answer(), asked="Who won?")
    assert main["content"].startswith("**Ann Lee**")
    rid = reply_id(_answer())
    assert f"> “Ann Lee won the vote on Monday.” [\\[1\\]](#qa-src-{rid}-1)" in main["content"]  # a link to source 1
    assert "Searched for" not in main["content"]
    assert sources["metadata"] == {"title": "Sources: 1 quote from 1 document", "status": "done"}
    body = sources["content"]
    assert f'<a id="qa-src-{rid}-1"></a>**[1] Vote &lt;b&gt;news&lt;/b&gt;**' in body  # headline, escaped, the link's target
    assert "<small>`a_b.txt`, characters 112–143</small>" in body  # file name (smaller) and offsets
    assert "relevance █████ 0.00" not in body and 'title="Answer score of the quoted sentence' in body
    from qa.render import quote_fingerprint

    assert f"[Open document](#qa-doc=a_b.txt:112:143:{quote_fingerprint('Ann Lee won the vote on Monday.')})" in body
    assert "Intro line. <mark>**Ann Lee** won the vote on Monday.</mark> Then more text." in body


def test_highlight_keeps_context_short_and_escaped():
    text = "x " * 600 + "The <quote>. " + "y " * 600
    s = text.index("The")
    out = highlight_in_passage(text, 0, s, s + len("The <quote>."))
    assert "<mark>The &lt;quote&gt;.</mark>" in out
    assert out.startswith("… ") and out.endswith(" …") and len(out) < 1000


def test_a_quote_of_direct_speech_is_not_framed_in_a_second_pair_of_quotation_marks():
    import dataclasses

    from qa.answer.compose import answer_text

    a = _answer()
    speech = dataclasses.replace(a.citations[0], quote='"We will win," Ann Lee said.')
    main = render_main(dataclasses.replace(a, citations=(speech,)))
    assert '> "We will win," Ann Lee said. [' in main and "“" not in main
    assert "> “Ann Lee won the vote on Monday.”" in render_main(a)  # plain sentences keep the frame
    assert answer_text("Ann Lee", [], [speech]).endswith('\n"We will win," Ann Lee said. [1]')


def test_refusal_says_so_and_shows_nearest_passages_open():
    chunk = Chunk("c9", "z.txt", "Zed", 0, 20, "Nearby text about *x*.")
    a = Answer(question="Capital of Australia?", text="Not found in the documents.", refused=True,
               passages=(Hit(chunk, 0.1),), searched_question="Capital of Australia?")
    main, near = render_messages(a, asked="Capital of Australia?")
    assert main["content"].startswith("**Not found in the documents.**")
    assert "do not hold the answer" in main["content"]
    assert near["metadata"] == {"title": "Nearest passages (1)"}  # no status: shown open
    assert "Nearby text about \\*x\\*." in near["content"] and "`z.txt`" in near["content"]


def test_searched_for_is_shown_only_when_the_question_was_rewritten():
    a = _answer(question="When was she elected?", searched_question="When was Ann Lee elected?")
    main = render_main(a, asked="When was she elected?")
    assert "*Searched for: When was Ann Lee elected?*" in main
    assert "Searched for" not in render_main(_answer(), asked="Who won?")
    assert "(Searched for: When was Ann Lee elected?)" in plain_text(a)
    assert "Searched for" not in plain_text(_answer())


def test_plain_text_is_the_same_reply_without_markdown():
    """The CLI, OpenAI clients and copying get plain text: no **, no <mark>, no backslash escapes."""
    a = _answer(notices=("The question was cut.",))
    text = plain_text(a)
    assert text.startswith("Ann Lee\n\nSources:\n[1] Vote <b>news</b> — a_b.txt, characters 112-143")
    assert text.endswith("Note: The question was cut.")
    chunk = Chunk("c9", "z_y.txt", "Zed *title*", 0, 20, "Nearby text about *x*.   " + "word " * 200)
    refusal = plain_text(Answer(question="q", text="Not found in the documents.", refused=True, passages=(Hit(chunk, 0.1),) * 4))
    assert refusal.count("z_y.txt, characters 0-20") == 3  # the nearest three, as in the chat
    assert "1. Zed *title* — z_y.txt" in refusal and "   Nearby text about *x*. word" in refusal and refusal.endswith(" …")
    for out in (text, refusal):
        assert "**" not in out and "<mark>" not in out and "\\" not in out
    # a PDF's page, as the chat shows it (a user found it only in the chat)
    import dataclasses
    paged = dataclasses.replace(a, citations=(dataclasses.replace(a.citations[0], page=3),))
    assert "[1] Vote <b>news</b> — a_b.txt, page 3, characters 112-143" in plain_text(paged)
    on_pages = dataclasses.replace(chunk, pages=((2, 0),))
    assert "z_y.txt, page 2, characters 0-20" in plain_text(Answer(question="q", text="Not found.", refused=True,
                                                                   passages=(Hit(on_pages, 0.1),)))
    # the chat's sources message cuts a nearest passage at the same length
    from qa.render import snippet

    near = render_messages(Answer(question="q", text="", refused=True, passages=(Hit(chunk, 0.1),)))[1]["content"]
    assert snippet(chunk.text).endswith(" …") and snippet(chunk.text) in refusal and md_escape(snippet(chunk.text)) in near


def test_collection_note_counts_and_escapes_titles():
    note = collection_note({"documents": 2, "chunks": 7, "titles": {"a.txt": "<i>A</i>", "b.md": "B"}})
    assert "2 documents" in note and "7 passages" in note
    assert "&lt;i&gt;A&lt;/i&gt; — `a.txt`" in note


def test_exchanges_pair_questions_with_their_answer_not_the_sources():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Q1"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}]},
        {"role": "assistant", "content": "S1", "metadata": {"title": "Sources"}},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "A2"},
    ]
    assert [(q, a) for _, q, _, a in exchanges(history)] == [("Q1", "A1"), ("Q2", "A2")]


def test_the_session_turns_follow_the_chat_history():
    """The turns kept beside the chat (gr.State) are cut to the exchanges still shown (undo, retry);
    those with an answer are the history a follow-up is resolved against: typed, never parsed."""
    from qa.conversation import Turn as Typed

    first = Typed.of(_answer())
    second = Typed.of(_answer(question="When?", searched_question="When did Ann Lee win?", short_answer="Monday"))
    history = [{"role": "user", "content": "Who won?"}, {"role": "assistant", "content": "whatever was shown"}]
    assert aligned([first, second], history) == [first]  # the second exchange was undone
    assert aligned([], history + history) == [None, None]  # turns from before a restart are unknown
    assert answered([first, None, second]) == [first, second]


def test_copying_an_answer_gives_its_plain_text():
    from qa.chat import copy_text
    from qa.conversation import Turn as Typed

    a = _answer()
    turns = [None, Typed.of(a)]
    main, sources = render_messages(a, asked=a.question)
    assert copy_text(turns, main["content"]) == plain_text(a) == copy_text(turns, [{"type": "text", "text": sources["content"]}])
    assert "**" not in copy_text(turns, main["content"]) and "<mark>" not in copy_text(turns, sources["content"])
    assert copy_text(turns, main["content"] + "\n\n" + sources["content"]) == plain_text(a)  # the reply's messages together
    assert copy_text(turns, "Who won?") == "" and copy_text([], main["content"]) == ""  # a question, or an unknown reply


def test_session_turns_are_kept_per_session_and_bounded():
    from qa.chat import SessionTurns
    from qa.conversation import Turn as Typed

    turn = Typed.of(_answer())
    sessions = SessionTurns(size=2)
    sessions.put("a", [turn])
    sessions.put("b", [None])
    assert sessions.get("a") == [turn] and sessions.get("unknown") == []
    sessions.get("a").append(None)  # a copy: the caller cannot change what is kept
    assert sessions.get("a") == [turn]
    sessions.put("c", [])  # over the size: the least recently written session goes
    assert sessions.get("a") == [] and sessions.get("b") == [None]
    sessions.drop("b")
    assert sessions.get("b") == []


def test_openai_and_rest_histories_become_typed_turns():
    from qa.openai_api import turns_from_messages
    from qa.server import rest_history

    messages = [("user", "Who was sworn in as interim president?"), ("assistant", "Delcy Rodríguez\n\nSources:\n[1] …"),
                ("user", "What office was she sworn in to?"), ("assistant", "Not found in the documents.")]
    turns = turns_from_messages(messages)
    assert [t.short_answer for t in turns] == ["Delcy Rodríguez", None]
    assert turns[1].searched_for == "What office was Delcy Rodríguez sworn in to?"  # computed, not read from the reply
    earlier = _answer(question="When was she elected?", searched_question="When was Ann Lee elected?").to_dict()
    (turn,) = rest_history([earlier])
    assert (turn.question, turn.searched_for, turn.short_answer) == ("When was she elected?", "When was Ann Lee elected?", "Ann Lee")
    assert [t.short_answer for t in rest_history([{"role": m[0], "content": m[1]} for m in messages])] == ["Delcy Rodríguez", None]
    from qa.openai_api import RequestError

    assert rest_history([]) == []
    # a broken history is refused, naming the entry (it was ignored: the follow-up then went unresolved)
    for bad, says in (("text", "'history' must be a list"), ([3, earlier], r"history\[0\] is not an earlier answer"),
                      ([earlier, {"question": 5}], r"history\[1\] is not an earlier answer"),
                      ([{"role": "user"}], r"history\[0\] is not a \{role, content\} message"),
                      ([{"role": "user", "content": "Who?"}, earlier], r"history\[1\] is not a \{role, content\}")):
        with pytest.raises(RequestError, match=says):
            rest_history(bad)


# ------------------------------------------------------------------------------------------------
# Uploads (fake embedder: fast)
# ------------------------------------------------------------------------------------------------

NEW_DOC = b"Harbor Festival\nThe Harbor Festival lantern parade starts at nine in the evening on the pier.\n"


@pytest.fixture
def small_engine(tmp_path, seeds_copy):
    from qa import QA

    engine = QA(seeds_dir=seeds_copy, index_dir=tmp_path / "index", embedder=HashEmbedder())
    engine.index()
    return engine


def _listing(folder) -> list[str]:
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def _state(engine) -> tuple[list[str], list[str], int, str]:
    manifest = (engine.config.index_dir / "manifest.json").read_text(encoding="utf-8")
    return (_listing(engine.config.seeds_dir), _listing(engine.config.documents_dir), engine.store.count(),
            json.dumps(json.loads(manifest)["documents"], sort_keys=True))


def test_upload_is_indexed_incrementally_and_citable_at_once(small_engine):
    added = small_engine.add_document("../../Harbor Festival (2026).TXT", NEW_DOC)
    assert added.doc_id == "Harbor_Festival_2026.txt" and added.created and added.chunks >= 1
    assert (small_engine.config.documents_dir / added.doc_id).read_bytes() == NEW_DOC  # the user's folder
    assert not (small_engine.config.seeds_dir / added.doc_id).exists()  # the seeds stay as shipped
    assert added.report.added == (added.doc_id,) and not added.report.updated  # only the new file embedded
    a = small_engine.ask("When does the Harbor Festival lantern parade start?")
    assert any(c.doc_id == added.doc_id for c in a.citations)
    assert small_engine.stats()["titles"][added.doc_id] == "Harbor Festival"
    again = small_engine.add_document("Harbor_Festival_2026.txt", NEW_DOC)  # same bytes: nothing to do
    assert not again.created and again.report.changed is False


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("report.pdf", b"%PDF-1.4 ...", "not a readable PDF"),  # written, read, refused and removed again
        ("setup.exe", b"MZ\x90\x00", r"only \.txt, \.md, .*\.pdf, \.docx, .*files can be added \(this one is \.exe\)"),
        ("noext", b"text", "no extension"),
        (None, b"text", "a document's name is text"),
        ("big.txt", b"a" * 3000, "over the 2,048-byte limit"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"  \n\t ", "only whitespace"),
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not UTF-8"),
        ("bin.txt", b"abc\x00def", "binary"),
        ("???.txt", b"text", "no usable characters"),
        ("001_08e073e419b132d4.txt", b"Different text.", "already in the collection"),
    ],
)
def test_bad_upload_gets_a_clear_message_and_changes_nothing(small_engine, name, data, message):
    from qa.uploads import InvalidDocument

    state = _state(small_engine)
    with pytest.raises(InvalidDocument, match=message):
        small_engine.add_document(name, data, max_bytes=2048)
    assert _state(small_engine) == state


def test_upload_backend_reports_per_file(small_engine, tmp_path):
    from qa.chat import ChatBackend

    good, bad = tmp_path / "up" / "notes.md", tmp_path / "up" / "photo.png"
    good.parent.mkdir()
    good.write_bytes(b"# Notes\nThe pier lights were repaired on Tuesday by the harbour crew.\n")
    bad.write_bytes(b"\x89PNG")
    steps = []
    status = ChatBackend(small_engine).upload([str(good), str(bad)], progress=lambda *a, **k: steps.append((a, k)))
    assert "**Added** `notes.md`" in status and "**Not added:** photo.png: only .txt, .md" in status
    assert steps and "notes.md" in small_engine.stats()["titles"]
    good.write_bytes(b"# Notes\nThe pier lights were repaired on Friday by the night crew.\n")
    status = ChatBackend(small_engine).upload([str(good)])  # the same name again: replaced
    assert status.startswith("**Replaced** `notes.md`")
    assert "Friday" in small_engine.ask("When were the pier lights repaired?").citations[0].quote


def test_two_files_of_one_upload_never_replace_each_other(small_engine, tmp_path):
    """Found by a user: "report (1).txt" and "report 1.txt" are both stored as report_1.txt; in one
    upload the second replaced the first (the first's text lost, the status naming neither)."""
    from qa.chat import ChatBackend

    first, second = tmp_path / "up" / "report (1).txt", tmp_path / "up2" / "report 1.txt"
    first.parent.mkdir(), second.parent.mkdir()
    first.write_bytes(b"Report one\nThe Ashcombe orchard harvested 3,200 apples in 2023.\n")
    second.write_bytes(b"Report two\nThe Ashcombe orchard employs 17 pickers.\n")
    status = ChatBackend(small_engine).upload([str(first), str(second)])
    assert "**Added** `report_1.txt` (uploaded as `report (1).txt`)" in status
    assert ("**Not added:** report 1.txt: it would be stored as report\\_1.txt, the name another file of this upload, "
            "report \\(1\\).txt, is stored under") in status
    assert (small_engine.config.documents_dir / "report_1.txt").read_bytes() == first.read_bytes()
    # a later upload of the same stored name replaces it, as the page says, naming the file it came from
    status = ChatBackend(small_engine).upload([str(second)])
    assert status.startswith("**Replaced** `report_1.txt` with the uploaded file `report 1.txt`")


class _Request:
    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def test_documents_panel_lists_deletes_and_chooses_a_collection_per_session(small_engine, tmp_path):
    from qa.chat import ChatBackend
    from qa.collections import Collections
    from qa.web_documents import SessionCollections, document_functions, document_table

    backend = ChatBackend(small_engine)
    fn = document_functions(backend, Collections.of(small_engine), SessionCollections())
    a, b = _Request("page-a"), _Request("page-b")
    up = tmp_path / "up" / "pier.md"
    up.parent.mkdir()
    up.write_bytes(b"# Pier <b>notes</b>\nThe pier lights were repaired on Tuesday by the harbour crew.\n")
    assert "**Added**" in backend.upload([str(up)])
    chooser, table, pick, note, status = fn["docs_refresh"](a)
    assert chooser.value == "default" and "Pier &lt;b&gt;notes&lt;/b&gt;" in table and "<b>notes</b>" not in table
    assert "seed (read only)" in table and [v for _, v in pick.choices] == ["pier.md"]  # seeds are never offered
    assert "Not deleted" in fn["docs_delete"](INTERIM_DOC, a)[4]  # a seed: refused
    assert INTERIM_DOC in small_engine.stats()["titles"]

    chooser, table, pick, note, status = fn["docs_create"]("harbour", a)
    assert chooser.value == "harbour" and "harbour" in chooser.choices[1] and "holds no documents" in table
    assert "Not created" in fn["docs_create"]("../etc", a)[4]
    assert fn["backend_of"](a).engine is not small_engine and fn["backend_of"](b) is backend  # per page
    assert "**Added**" in fn["backend_of"](a).upload([str(up)])
    assert [d.doc_id for d in fn["backend_of"](a).engine.documents.list()] == ["pier.md"]
    assert "Deleted" in fn["docs_delete"]("pier.md", b)[4]  # page b deletes from the default collection
    assert "pier.md" not in small_engine.stats()["titles"]
    assert "pier.md" in fn["backend_of"](a).engine.stats()["titles"]  # the named collection keeps its copy
    assert fn["docs_choose"]("default", a)[0].value == "default" and fn["backend_of"](a) is backend
    assert "<script>" not in document_table([], "<script>")


def test_a_page_on_an_empty_or_deleted_collection_is_told_so(small_engine, tmp_path):
    """Found by a user: asking an empty collection gave an error toast naming a server path and
    '.txt or .md' (and a traceback in the log); a collection deleted from the CLI was still answered
    from in the page, and an upload to it recreated it half-made. Now the chat says the collection
    is empty; after a delete the page is back on the default collection with a warning, and an
    upload is refused rather than put elsewhere."""
    import gradio as gr

    from qa.chat import ChatBackend
    from qa.collections import Collections
    from qa.chat import SessionTurns
    from qa.web import api_functions, chat_functions
    from qa.web_documents import SessionCollections, document_functions

    backend = ChatBackend(small_engine)
    shelf = Collections.of(small_engine)
    fn = document_functions(backend, shelf, SessionCollections())
    page = _Request("page-a")
    fn["docs_create"]("emptyweb", page)
    messages, turn = fn["backend_of"](page).reply("Who signed the contract?")
    assert turn is None and "This collection has no documents yet: add some with Add documents" in messages[0]["content"]
    assert str(tmp_path) not in messages[0]["content"]
    Collections(shelf.config).delete("emptyweb")  # another process: `qa collections delete emptyweb`
    up = tmp_path / "up" / "contract.txt"
    up.parent.mkdir()
    up.write_bytes(b"The Brantwood contract was signed by Lucinda Okafor.\n")
    chat = chat_functions(backend, SessionTurns(), fn["backend_of"])
    said = chat["chat"]("Who signed the contract?", [], page)  # never answered from another collection
    assert "The collection 'emptyweb' was deleted" in said[0]["content"] and "choose another collection" in said[0]["content"]
    upload = api_functions(backend, fn["backend_of"])["upload"]
    for _ in range(2):  # asking first does not send the next upload elsewhere
        with pytest.raises(gr.Error, match="Nothing was added: the collection 'emptyweb' was deleted"):
            upload([str(up)], page)
    assert not shelf.exists("emptyweb") and not shelf.documents_dir("default").joinpath(".collections", "emptyweb").exists()
    assert not (shelf.documents_dir("default") / "contract.txt").exists()
    chooser, _, _, _, status = fn["docs_refresh"](page)  # the panel shows the page back on the default
    assert chooser.value == "default" and "this page is back on the default collection" in status
    assert fn["backend_of"](page) is backend


# ------------------------------------------------------------------------------------------------
# Feedback
# ------------------------------------------------------------------------------------------------


def test_feedback_lines_are_gold_lines(tmp_path):
    from qa.eval.datasets import load_gold
    from qa.feedback import append_feedback, feedback_record, gold_lines, read_feedback

    liked = feedback_record(_answer(question="When was she elected?", searched_question="When was Ann Lee elected?").to_dict(), True)
    refused = feedback_record(Answer(question="Capital?", text="Not found in the documents.", refused=True).to_dict(), True)
    disliked = feedback_record(_answer().to_dict(), False)
    for rec in (liked, refused, disliked):
        append_feedback(tmp_path, rec)
    path = tmp_path / "feedback.jsonl"
    assert [r["verdict"] for r in read_feedback(path)] == ["like", "like", "dislike"]
    assert liked["question"] == "When was Ann Lee elected?" and liked["asked"] == "When was she elected?"
    assert liked["answers"] == ["Ann Lee"] and liked["sources"] == ["a_b.txt"] and liked["citations"][0]["start"] == 112
    assert refused["unanswerable"] is True and disliked["needs_review"] is True and disliked["answers"] == []
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gold_lines(path)), encoding="utf-8")
    qs = load_gold(gold)  # the liked lines are a valid gold set as they are
    assert [q.answers for q in qs] == [("Ann Lee",), ()] and qs[1].unanswerable


# ------------------------------------------------------------------------------------------------
# Server pieces
# ------------------------------------------------------------------------------------------------


def test_serve_settings_defaults_flags_and_env(monkeypatch):
    from click.testing import CliRunner

    from qa import cli
    from qa.config import ServeSettings

    for k in ("QA_HOST", "QA_PORT", "QA_AUTH", "QA_MAX_UPLOAD_BYTES"):
        monkeypatch.delenv(k, raising=False)
    s = ServeSettings.resolve()
    assert (s.host, s.port, s.auth, s.max_upload_bytes) == ("127.0.0.1", 7860, None, 2 * 1024 * 1024)
    monkeypatch.setenv("QA_PORT", "8001")
    monkeypatch.setenv("QA_AUTH", "ann:pw")
    s = ServeSettings.resolve(host="0.0.0.0")
    assert (s.host, s.port, s.auth) == ("0.0.0.0", 8001, ("ann", "pw"))
    assert ServeSettings.resolve(port=9000, auth="").port == 9000
    with pytest.raises(ValueError, match="user:password"):
        ServeSettings.resolve(auth="nopassword")
    seen = {}
    monkeypatch.setattr(cli, "run_server", lambda engine_opts, **flags: seen.update(engine_opts, **flags))
    r = CliRunner().invoke(cli.app_main, ["--port", "7000", "--auth", "a:b", "--seeds", "docs", "--documents", "mine"])
    assert r.exit_code == 0, r.output
    assert (seen["port"], seen["auth"], seen["seeds_dir"], seen["documents_dir"], seen["host"]) == (7000, "a:b", "docs", "mine", None)
    seen.clear()
    r = CliRunner().invoke(cli.main, ["--seeds", "docs", "serve", "--port", "7001"])
    assert r.exit_code == 0 and (seen["port"], seen["seeds_dir"]) == (7001, "docs")


def test_cli_ask_and_chat_print_the_plain_reply_and_chat_passes_typed_turns(monkeypatch):
    from click.testing import CliRunner

    from qa import cli

    class Engine:
        def __init__(self):
            self.histories = []

        def ask(self, question, top_k=None, *, history=()):
            self.histories.append(list(history))
            return _answer(question=question, searched_question=question if not history else "When did Ann Lee win?")

    engine = Engine()
    monkeypatch.setattr(cli, "_engine", lambda ctx, **extra: engine)
    monkeypatch.setattr("qa.runtime.preload", lambda e: None)
    r = CliRunner().invoke(cli.main, ["ask", "Who won?"])
    assert r.exit_code == 0 and r.output == plain_text(_answer()) + "\n"
    engine.histories.clear()
    r = CliRunner().invoke(cli.main, ["chat"], input="Who won?\nWhen did she win?\n\n")
    assert r.exit_code == 0, r.output
    first, second = engine.histories
    assert first == [] and [t.question for t in second] == ["Who won?"] and second[0].short_answer == "Ann Lee"
    assert "(Searched for: When did Ann Lee win?)" in r.output and "**" not in r.output


def test_openai_message_parsing():
    from qa.openai_api import RequestError, parse_chat_messages

    q, turns = parse_chat_messages([
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Who?"},
        {"role": "assistant", "content": "Ann"},
        {"role": "user", "content": [{"type": "text", "text": "When was she born?"}]},
    ])
    assert q == "When was she born?" and turns == [("user", "Who?"), ("assistant", "Ann")]
    for bad in (None, [], [{"role": "system", "content": "x"}], [{"content": "x"}], [{"role": "user", "content": "  "}]):
        with pytest.raises(RequestError):
            parse_chat_messages(bad)


def test_a_checked_stream_is_cut_as_the_plain_reply_is():
    """An LLM answer streamed sentence by sentence stops at max_tokens words or a stop string, the
    pieces joined equal to the plain reply's cut content, and the final chunk says why it ended."""
    from qa.openai_api import Options, checked_chunks
    from qa.render import plain_text
    from qa.streaming import StreamEvent

    answer = Answer(question="Who?", text="Ann won the race [1]. She was first [1].", short_answer="Ann")
    sentences = ["Ann won the race [1].", " She was first [1]."]
    for options, finish in ((Options(max_tokens=4), "length"), (Options(stop=("first",)), "stop"), (Options(), "stop")):
        events = [StreamEvent("sentence", text=t) for t in sentences] + [StreamEvent("answer", answer=answer)]
        chunks = [json.loads(e[6:]) for e in checked_chunks(iter(events), options) if e.startswith("data: {")]
        joined = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert (joined, chunks[-1]["choices"][0]["finish_reason"]) == options.cut(plain_text(answer)) == (joined, finish)


# ------------------------------------------------------------------------------------------------
# The real server
# ------------------------------------------------------------------------------------------------


def _client(url: str, **kw):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, **kw)


def _joined(messages) -> str:
    return "\n".join(m["content"] if isinstance(m, dict) else str(m) for m in messages)


@pytest.mark.integration
def test_named_gradio_endpoints(live):
    client = _client(live.url)
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/chat", "/ask", "/upload"} <= set(api)
    reply = client.predict(INTERIM_Q, api_name="/chat")
    text = _joined(reply)
    assert "Delcy Rodríguez" in reply[0]["content"] and "[\\[1\\]](#qa-src-" in reply[0]["content"]  # [1], a link to its source
    assert f"`{INTERIM_DOC}`" in text and "<mark>" in text
    assert reply[1]["metadata"]["title"].startswith("Sources")
    structured = client.predict(INTERIM_Q, api_name="/ask")
    assert structured["short_answer"] == "Delcy Rodríguez"
    assert structured["citations"][0]["doc_id"] == INTERIM_DOC
    assert structured["citations"][0]["quote"] in (live.seeds_dir / INTERIM_DOC).read_text(encoding="utf-8")


@pytest.mark.integration
def test_rest_ask_route(live):
    import httpx

    r = httpx.post(live.url + "api/ask", json={"question": INTERIM_Q}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["short_answer"] == "Delcy Rodríguez" and body["citations"][0]["doc_id"] == INTERIM_DOC
    assert set(body) >= {"question", "searched_question", "text", "citations", "passages", "timings"}
    r = httpx.post(live.url + "api/ask", json={"question": "What is the capital of Australia?"}, timeout=30)
    assert r.json()["refused"] is True and r.json()["passages"]
    r = httpx.post(live.url + "api/ask", json={"question": "When was she sworn in?",
                                               "history": [{"role": "user", "content": INTERIM_Q},
                                                           {"role": "assistant", "content": "Delcy Rodríguez\n\n“…” [1]"}]})
    assert r.json()["searched_question"] == "When was Delcy Rodríguez sworn in?"
    for bad in ({"question": "   "}, {"question": 3}, ["not", "an", "object"]):
        r = httpx.post(live.url + "api/ask", json=bad, timeout=30)
        assert r.status_code == 400 and r.json()["error"]
    r = httpx.post(live.url + "api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert httpx.get(live.url + "api/stats").json()["chunks"] >= 25


@pytest.mark.integration
def test_openai_chat_completions_plain_and_streamed(live):
    import httpx

    messages = [{"role": "user", "content": INTERIM_Q}]
    r = httpx.post(live.url + "v1/chat/completions", json={"model": "qa", "messages": messages}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    content = body["choices"][0]["message"]["content"]
    assert "Delcy Rodríguez" in content and f"[1] " in content and INTERIM_DOC in content
    assert body["citations"][0]["doc_id"] == INTERIM_DOC and body["answer"]["short_answer"] == "Delcy Rodríguez"

    events = []
    with httpx.stream("POST", live.url + "v1/chat/completions", json={"messages": messages, "stream": True}, timeout=30) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        for line in s.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:])
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed == content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"][0]["doc_id"] == INTERIM_DOC

    # a follow-up in an OpenAI conversation: the earlier turns name "she"
    # (the documents never say *when* she was sworn in, so that follow-up is refused: ask what office)
    follow = messages + [{"role": "assistant", "content": content}, {"role": "user", "content": "What office was she sworn in to?"}]
    body = httpx.post(live.url + "v1/chat/completions", json={"messages": follow}, timeout=30).json()
    assert body["answer"]["searched_question"] == "What office was Delcy Rodríguez sworn in to?"
    assert body["citations"][0]["doc_id"] == INTERIM_DOC
    assert httpx.get(live.url + "v1/models").json()["data"][0]["id"] == "qa"
    bad = httpx.post(live.url + "v1/chat/completions", json={"messages": []}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.integration
def test_openai_request_options_are_honoured_or_refused(live):
    """max_tokens and stop cut the reply (finish_reason says which), plain and streamed alike; n > 1,
    a JSON response_format and values of the wrong type are 400s; models.retrieve("qa") works."""
    import httpx

    url, messages = live.url + "v1/chat/completions", [{"role": "user", "content": INTERIM_Q}]

    def streamed(body):
        with httpx.stream("POST", url, json={**body, "stream": True}, timeout=30) as s:
            chunks = [json.loads(ln[6:]) for ln in s.iter_lines() if ln.startswith("data: {")]
        return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks), chunks[-1]

    for options, finish in (({"max_tokens": 3}, "length"), ({"max_completion_tokens": 3}, "length"),
                            ({"stop": ["\n"]}, "stop"), ({"stop": "Sources"}, "stop")):
        body = httpx.post(url, json={"model": "qa", "messages": messages, **options}, timeout=30).json()
        content = body["choices"][0]["message"]["content"]
        assert body["choices"][0]["finish_reason"] == finish and content.startswith("Delcy Rodríguez")
        stops = [options["stop"]] if isinstance(options.get("stop"), str) else options.get("stop", [])
        assert len(content.split()) == 3 if finish == "length" else not any(x in content for x in stops)
        assert body["usage"]["completion_tokens"] == len(content.split())
        text, last = streamed({"messages": messages, **options})
        assert text == content and last["choices"][0]["finish_reason"] == finish and last["usage"] == body["usage"]
    ok = httpx.post(url, json={"model": "qa", "messages": messages, "n": 1, "temperature": 0.2, "top_p": 1, "seed": 7,
                               "response_format": {"type": "text"}}, timeout=30)
    assert ok.status_code == 200 and ok.json()["choices"][0]["finish_reason"] == "stop"
    for bad, says in (({"n": 2}, "'n' must be 1"), ({"n": 0}, "'n' must be 1"), ({"max_tokens": -1}, "'max_tokens'"),
                      ({"max_tokens": 2.5}, "'max_tokens'"), ({"temperature": "hot"}, "'temperature'"),
                      ({"temperature": 3}, "'temperature'"), ({"stream": "yes"}, "'stream'"), ({"model": 5}, "'model'"),
                      ({"stop": [1]}, "'stop'"), ({"stop": ["a", "b", "c", "d", "e"]}, "'stop'"),
                      ({"response_format": {"type": "json_object"}}, "'response_format'")):
        r = httpx.post(url, json={"messages": messages, **bad}, timeout=30)
        assert r.status_code == 400 and says in r.json()["error"]["message"], bad
    assert httpx.get(live.url + "v1/models/qa").json()["id"] == "qa"
    missing = httpx.get(live.url + "v1/models/gpt-4")
    assert missing.status_code == 404 and "one, 'qa'" in missing.json()["error"]["message"]


@pytest.mark.integration
def test_followup_in_the_chat_uses_history(live):
    client = _client(live.url)  # one client = one session: the chat history carries over
    first = client.predict(INTERIM_Q, api_name="/chat")
    assert "Delcy Rodríguez" in first[0]["content"]
    follow = client.predict("When was she sworn in?", api_name="/chat")
    assert "*Searched for: When was Delcy Rodríguez sworn in?*" in follow[0]["content"]
    assert f"`{INTERIM_DOC}`" in _joined(follow)


@pytest.mark.integration
def test_upload_then_ask_cites_the_new_file_and_survives_restart(live, tmp_path):
    from gradio_client import handle_file

    from qa import QA

    doc = tmp_path / "lighthouse-notes.md"
    doc.write_text("# Keeper's log\nThe Penmarch lighthouse keeper Odile Marchetti repainted the lamp room in 1987.\n", encoding="utf-8")
    client = _client(live.url)
    seeds_before, repo_seeds = _listing(live.seeds_dir), _listing(webserver.SEEDS)
    status, note = client.predict([handle_file(str(doc))], api_name="/upload")
    assert "**Added** `lighthouse-notes.md` (1 passage)" in status and "lighthouse-notes.md" in note
    # uploaded over HTTP: into the server's user documents folder; no seeds folder (nor the checkout) changes
    assert (live.documents_dir / "lighthouse-notes.md").read_bytes() == doc.read_bytes()
    assert _listing(live.seeds_dir) == seeds_before and _listing(webserver.SEEDS) == repo_seeds
    assert not (webserver.ROOT / "documents" / "lighthouse-notes.md").exists()
    answer = client.predict("Who repainted the lamp room of the Penmarch lighthouse?", api_name="/ask")
    assert answer["short_answer"] == "Odile Marchetti"
    assert answer["citations"][0]["doc_id"] == "lighthouse-notes.md"

    # a restart: a new engine over the same folders finds it indexed, embeds nothing, cites it
    restarted = QA(seeds_dir=live.seeds_dir, documents_dir=live.documents_dir, index_dir=live.index_dir, embedder=live.engine.embedder)
    assert restarted.index().changed is False
    assert restarted.ask("Who repainted the lamp room of the Penmarch lighthouse?").citations[0].doc_id == "lighthouse-notes.md"

    # a bad file: a clear message, and the collection is unchanged
    listing, stats = (_listing(live.seeds_dir), _listing(live.documents_dir)), live.engine.stats()
    bad = tmp_path / "scan.md"
    bad.write_bytes(b"\xff\xfe\x00s\x00c\x00a\x00n")
    status, _ = client.predict([handle_file(str(bad))], api_name="/upload")
    assert status.startswith("**Not added:** scan.md:") and "binary" in status
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 20000)
    status, _ = client.predict([handle_file(str(big))], api_name="/upload")
    assert "over the 65,536-byte limit" in status
    assert (_listing(live.seeds_dir), _listing(live.documents_dir)) == listing and live.engine.stats() == stats


@pytest.mark.integration
def test_basic_auth_guards_every_route(live):
    import httpx

    from qa.config import ServeSettings
    from qa.server import create_app
    from tests.webserver import ServerThread, free_port

    port = free_port()
    app = create_app(live.engine, ServeSettings(host="127.0.0.1", port=port, auth=("ann", "s3cret")))
    with ServerThread(app, port=port) as server:
        for path in ("", "config", "api/stats", "v1/models"):
            assert httpx.get(server.url + path).status_code == 401
        r = httpx.get(server.url + "api/stats", auth=("ann", "wrong"))
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert "authentication required" in r.json()["error"]  # the APIs answer in their own JSON shape
        r = httpx.get(server.url + "v1/models", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert httpx.get(server.url).text == "Authentication required."  # the chat's page: the browser asks
        assert httpx.post(server.url + "api/ask", json={"question": INTERIM_Q}, auth=("ann", "s3cret")).json()["short_answer"] == "Delcy Rodríguez"
        r = httpx.post(server.url + "v1/chat/completions", json={"messages": [{"role": "user", "content": INTERIM_Q}]},
                       headers={"Authorization": "Bearer ann:s3cret"}, timeout=30)
        assert r.status_code == 200 and r.json()["citations"][0]["doc_id"] == INTERIM_DOC
        client = _client(server.url, httpx_kwargs={"auth": ("ann", "s3cret")})
        try:
            assert client.predict(INTERIM_Q, api_name="/ask")["short_answer"] == "Delcy Rodríguez"
        finally:
            client.close()


@pytest.mark.integration
def test_startup_logs_say_where_the_index_is(live, caplog):
    from qa.server import prepare_engine

    with caplog.at_level(logging.INFO, logger="qa.server"):
        stats = prepare_engine(live.engine)
    assert f"index {live.index_dir}: {stats['chunks']} chunks from {stats['documents']} documents" in caplog.text
