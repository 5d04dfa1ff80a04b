"""The chat in a real browser: headless Chromium from Debian's packages, driven by Playwright.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) and the
``playwright`` Python package (the ``test`` extra); Playwright's own browser download is never used.
Without them these tests fail with a message saying what to install: CI always has them. Set
``QA_CHROMIUM`` to use another Chromium binary. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests import webserver
from tests.webserver import ARTIFACTS, INTERIM_DOC, INTERIM_Q

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    server = webserver.live_server(tmp_path_factory)
    yield server
    webserver.stop_live_server()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium package "
            "(as root: apt-get update && apt-get install -y --no-install-recommends chromium), "
            "or QA_CHROMIUM=/path/to/chromium",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright for Python: pip install -e '.[test]' (or pip install playwright)", pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    errors: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors = dialogs, errors
    pg.goto(live.url)
    pg.wait_for_selector("#qa-question textarea")
    # the page's load events (conversations restored, handlers installed) have all run: under load an
    # Enter pressed before then did nothing, and a test waiting for its note timed out in CI
    pg.wait_for_function("() => window.qaInstalled === true")
    yield pg
    context.close()


def ask(pg, question: str, expect: str) -> None:
    """Type a question, send it, and wait until the reply (holding ``expect``) is shown."""
    replies = pg.locator("#qa-chat [data-testid='bot']").count()
    box = pg.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(
        "([n, text]) => { const b = document.querySelectorAll('#qa-chat [data-testid=\"bot\"]');"
        " return b.length > n && document.querySelector('#qa-chat').innerText.includes(text); }",
        arg=[replies, expect],
    )


def open_last_sources(pg) -> None:
    titles = pg.locator("#qa-chat .thought-group .title")
    titles.last.click()
    pg.locator("#qa-chat .thought-group .content").last.wait_for(state="visible")
    pg.wait_for_timeout(400)  # let the accordion finish opening (screenshots)


def test_cited_answer_sources_and_like(page, live):
    assert INTERIM_Q in page.locator("body").inner_text()  # an example question on the page
    assert "The collection holds" in page.locator("#qa-collection").inner_text()
    ask(page, INTERIM_Q, "Sources:")
    bot = page.locator("#qa-chat [data-testid='bot']").first
    assert "Delcy Rodríguez" in bot.locator("strong").first.inner_text()
    assert "[1]" in bot.inner_text()
    open_last_sources(page)
    mark = page.locator("#qa-chat mark").first
    mark.wait_for()
    assert "Delcy Rodríguez was formally sworn in as interim president." in mark.inner_text()
    assert mark.locator("strong").inner_text() == "Delcy Rodríguez"  # the short answer, inside the quote
    sources = page.locator("#qa-chat .thought-group").last.inner_text()
    assert INTERIM_DOC in sources and "BREAKING: COUP D’ÉTAT IN VENEZUELA?" in sources
    page.screenshot(path=str(ARTIFACTS / "browser-answer.png"), full_page=True)

    feedback = live.index_dir / "feedback.jsonl"
    before = feedback.read_text(encoding="utf-8").count("\n") if feedback.exists() else 0
    page.locator("#qa-chat button[aria-label='Like']").last.click()
    page.locator(".toast-body", has_text="your like was saved to feedback.jsonl").wait_for()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not feedback.exists() or feedback.read_text(encoding="utf-8").count("\n") == before):
        time.sleep(0.1)
    record = json.loads(feedback.read_text(encoding="utf-8").splitlines()[-1])
    assert record["verdict"] == "like" and record["question"] == INTERIM_Q
    assert record["answers"] == ["Delcy Rodríguez"] and record["sources"] == [INTERIM_DOC]
    assert record["citations"][0]["doc_id"] == INTERIM_DOC
    assert not page.errors


def test_followup_question_shows_what_was_searched(page):
    ask(page, INTERIM_Q, "Sources:")
    # the documents never say *when* she was sworn in (that is refused): ask what office
    ask(page, "What office was she sworn in to?", "Searched for:")
    text = page.locator("#qa-chat").inner_text()
    assert "Searched for: What office was Delcy Rodríguez sworn in to?" in text
    last = page.locator("#qa-chat [data-testid='user']").last.inner_text()
    assert last.strip() == "What office was she sworn in to?"  # the question as typed stays in the chat
    open_last_sources(page)
    assert INTERIM_DOC in page.locator("#qa-chat .thought-group").last.inner_text()
    ask(page, "What is the capital of Australia?", "Not found in the documents.")
    assert "Nearest passages" in page.locator("#qa-chat").inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-followup-refusal.png"), full_page=True)


def test_an_empty_question_stays_in_the_box_with_a_note(page):
    """Enter on an empty or blank box sends nothing: no empty bubble, no reply, a note by the box."""
    box = page.locator("#qa-question textarea")
    for blank in ("", "   "):
        box.fill(blank)
        box.press("Enter")
        page.locator("#qa-question", has_text="Type a question about the documents first.").wait_for()
    page.wait_for_timeout(500)
    assert page.locator("#qa-chat [data-testid='user']").count() == 0
    assert page.locator("#qa-chat [data-testid='bot']").count() == 0
    ask(page, INTERIM_Q, "Sources:")  # a real question then goes through, and the note is gone
    assert "Type a question" not in page.locator("#qa-question").inner_text()
    assert not page.errors


def test_upload_from_the_page_then_ask(page, live, tmp_path):
    doc = tmp_path / "Orchard report.txt"
    doc.write_text("Orchard report\nThe Vellmar orchard harvested 3,200 crates of quinces this autumn, said grower Tomas Ebbe.\n",
                   encoding="utf-8")
    n_before = live.engine.stats()["documents"]
    with page.expect_file_chooser() as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files(str(doc))
    page.wait_for_function("document.querySelector('#qa-upload-status').innerText.includes('Added')")
    status = page.locator("#qa-upload-status").inner_text()
    assert "Orchard_report.txt" in status and "You can ask about it now" in status
    page.wait_for_function(f"document.querySelector('#qa-collection').innerText.includes('{n_before + 1} documents')")
    assert "Orchard report" in page.locator("#qa-collection").inner_text()
    assert (live.documents_dir / "Orchard_report.txt").is_file() and not (live.seeds_dir / "Orchard_report.txt").exists()

    ask(page, "How many crates of quinces did the Vellmar orchard harvest?", "Sources:")
    assert "3,200" in page.locator("#qa-chat [data-testid='bot']").first.inner_text()
    open_last_sources(page)
    assert "Orchard_report.txt" in page.locator("#qa-chat .thought-group").last.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-upload.png"), full_page=True)

    # bad files: a clear message each, nothing added
    sheet = tmp_path / "notes.csv"
    sheet.write_bytes(b"a,b\n1,2\n")
    with page.expect_file_chooser() as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files(str(sheet))  # refused in the page itself (file_types)
    page.locator(".toast-body", has_text="Invalid file type: notes.csv").wait_for()
    latin = tmp_path / "menu.txt"
    latin.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    with page.expect_file_chooser() as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files(str(latin))  # refused by the server's checks
    page.wait_for_function("document.querySelector('#qa-upload-status').innerText.includes('Not added')")
    assert "menu.txt: not UTF-8 text" in page.locator("#qa-upload-status").inner_text()
    assert live.engine.stats()["documents"] == n_before + 1
    assert not any((folder / name).exists() for folder in (live.seeds_dir, live.documents_dir) for name in ("menu.txt", "notes.csv"))


def test_copying_an_answer_gives_plain_text(page, live):
    """The message's copy button puts the reply as `qa ask` prints it on the clipboard: no Markdown."""
    from qa.render import plain_text

    ask(page, INTERIM_Q, "Sources:")
    page.locator("#qa-chat .bot-row").last.hover()
    # the reply's buttons (copy, retry, undo, like) follow its row; the question's row has a copy button too
    page.locator("#qa-chat .message-buttons-left button[aria-label='Copy message']").last.click()
    expected = plain_text(live.engine.ask(INTERIM_Q))
    deadline, text = time.monotonic() + 20, ""
    while time.monotonic() < deadline and text != expected:
        page.wait_for_timeout(200)
        text = page.evaluate("navigator.clipboard.readText()")
    assert text == expected, text
    assert text.startswith("Delcy Rodríguez") and "**" not in text and "<mark>" not in text and "\\" not in text


def test_document_markup_is_shown_escaped_and_never_runs(page, live):
    evil_name = 'quokka <img src=x onerror=alert(3)>.txt'
    text = (
        "<b>Quokka</b> Bay Bulletin <script>alert('title')</script>\n"
        "The quokka census in Quokka Bay counted 412 animals <script>alert('xss')</script> in the dunes.\n"
        'Ranger Mabel Ortiz said the count <img src=x onerror="alert(2)"> took three nights.\n'
    )
    (live.seeds_dir / evil_name).write_text(text, encoding="utf-8")
    report = live.engine.index()
    assert evil_name in report.added

    page.reload()
    page.wait_for_selector("#qa-question textarea")
    n = live.engine.stats()["documents"]
    page.wait_for_function(f"document.querySelector('#qa-collection').innerText.includes('{n} documents')")
    assert "<b>Quokka</b> Bay Bulletin" in page.locator("#qa-collection").inner_text()  # titles escaped too
    ask(page, "How many animals did the quokka census in Quokka Bay count?", "Sources:")
    open_last_sources(page)
    page.locator("#qa-chat mark").last.wait_for()
    ask(page, "What did Ranger Mabel Ortiz say about the quokka count?", "Sources:")
    open_last_sources(page)
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    chat = page.locator("#qa-chat").inner_text()
    assert "<script>alert('xss')</script>" in chat  # the literal text is visible
    assert 'onerror="alert(2)"' in chat or "onerror=alert(3)" in chat
    assert evil_name in chat  # the file name, shown as text
    assert "<b>Quokka</b> Bay Bulletin" in chat  # the headline, not bold
    assert page.dialogs == []  # no alert() ran
    dom = page.evaluate(
        "() => ({scripts: [...document.querySelectorAll('#qa-chat script')].length,"
        " imgs: [...document.querySelectorAll('#qa-chat img')].filter(i => i.getAttribute('onerror') !== null"
        "   || i.getAttribute('src') === 'x').length,"
        " bold: [...document.querySelectorAll('#qa-chat b')].length})"
    )
    assert dom == {"scripts": 0, "imgs": 0, "bold": 0}
    page.screenshot(path=str(ARTIFACTS / "browser-escaped.png"), full_page=True)
    assert page.dialogs == [] and not page.errors


def test_a_quote_holding_a_web_address_is_shown_word_for_word(page, live):
    """Found by a user: a quoted sentence holding a URL showed it as ``http://example.com/a\\_\\(b\\)\\)``:
    the chat's link detection kept the backslashes that escape Markdown. The address is now a code
    span, shown as it stands in the file."""
    sentence = "The Fenwick depot code costs $40 (see [note] at http://example.com/a_(b)) and ![p](http://example.com/body.png) too."
    (live.seeds_dir / "fenwick.txt").write_text(f"Fenwick depot\n{sentence}\n", encoding="utf-8")
    assert "fenwick.txt" in live.engine.index().added
    ask(page, "How much does the Fenwick depot code cost?", "Sources:")
    reply = page.locator("#qa-chat [data-testid='bot']").nth(-2).inner_text()
    assert "http://example.com/a_(b))" in reply and "http://example.com/body.png)" in reply and "\\" not in reply
    open_last_sources(page)
    assert "\\" not in page.locator("#qa-chat .thought-group").last.inner_text()
    assert not page.errors


def test_citation_links_open_their_source_and_the_document_view(page, live):
    ask(page, INTERIM_Q, "Sources:")
    bot = page.locator("#qa-chat [data-testid='bot']").first
    link = bot.locator("a[href^='#qa-src-']").first
    assert link.inner_text() == "[1]"
    target = link.get_attribute("href")[1:]
    link.click()  # the collapsed sources open, and source [1] is scrolled to
    page.wait_for_function("(id) => { const el = document.getElementById(id); if (!el) return false;"
                           " const r = (el.nextElementSibling || el).getBoundingClientRect();"
                           " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }", arg=target)
    group = page.locator("#qa-chat .thought-group").last
    head = group.locator("strong").first.inner_text()
    assert head.startswith("[1] BREAKING: COUP D’ÉTAT IN VENEZUELA?")  # named by title
    sources = group.inner_text()
    assert INTERIM_DOC in sources and "relevance" in sources
    assert "answer score" in group.locator(".qa-rel").first.get_attribute("title").lower()
    assert page.url.endswith("/")  # an in-page link: no navigation

    group.locator("a", has_text="Open document").first.click()
    cited = page.locator("#qa-docview #qa-doc-cited")
    cited.wait_for()
    assert cited.inner_text() == "The clashes occurred just hours after Delcy Rodríguez was formally sworn in as interim president."
    page.wait_for_function("() => { const m = document.querySelector('#qa-docview #qa-doc-cited');"
                           " const box = document.querySelector('#qa-docview').getBoundingClientRect();"
                           " const r = m.getBoundingClientRect(); return r.top >= box.top && r.bottom <= box.bottom; }")
    view = page.locator("#qa-docview").inner_text()
    assert "Late Monday night, intense firefights broke out in Caracas" in view  # the whole text, in context
    page.screenshot(path=str(ARTIFACTS / "browser-document-view.png"), full_page=True)
    assert not page.errors and page.dialogs == []


def test_conversation_survives_a_reload_and_conversations_stay_apart(page):
    ask(page, INTERIM_Q, "Sources:")
    page.locator("#qa-chats label", has_text=INTERIM_Q[:20]).wait_for()
    page.wait_for_timeout(1500)  # the conversation is kept after each change of the chat (an event of its own)
    page.reload()
    page.wait_for_selector("#qa-question textarea")
    page.wait_for_function("(t) => document.querySelector('#qa-chat').innerText.includes(t)", arg="Delcy Rodríguez")
    # the typed turns came back too: a follow-up is resolved against them
    ask(page, "What office was she sworn in to?", "Searched for:")
    assert "Searched for: What office was Delcy Rodríguez sworn in to?" in page.locator("#qa-chat").inner_text()

    page.locator("#qa-new-chat").click()
    page.wait_for_function("() => !document.querySelector('#qa-chat').innerText.includes('Delcy')")
    ask(page, "How many Venezuelan security personnel were killed?", "Sources:")
    assert "Delcy" not in page.locator("#qa-chat [data-testid='user']").first.inner_text()
    page.locator("#qa-chats label", has_text=INTERIM_Q[:20]).click()  # back to the first conversation
    page.wait_for_function("() => document.querySelector('#qa-chat').innerText.includes('What office was she sworn in to?')")
    assert "security personnel" not in page.locator("#qa-chat").inner_text()
    page.wait_for_timeout(1500)
    page.reload()
    page.wait_for_selector("#qa-question textarea")
    page.locator("#qa-chats label", has_text="How many Venezuelan").wait_for()
    assert page.locator("#qa-chats label").count() == 2
    page.wait_for_function("() => document.querySelector('#qa-chat').innerText.includes('What office was she sworn in to?')")
    assert not page.errors


def test_markup_in_a_question_fetches_nothing_from_other_sites(page, live):
    """Found by a user: a question holding ``<img src=…>`` or ``![x](…)`` made the browser fetch that
    image from another site, again on every reload. The page's Content-Security-Policy allows images
    from this server only (tested against a real listener on another port)."""
    import http.server
    import threading

    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    elsewhere = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ask(page, f"When was she sworn in <img src={elsewhere}/raw.png> ![x]({elsewhere}/md.png)?", "Not found")
        page.wait_for_timeout(1500)
        page.reload()
        page.wait_for_selector("#qa-question textarea")
        page.wait_for_timeout(1500)
    finally:
        server.shutdown()
    assert hits == []
    assert "img-src 'self'" in page.evaluate("() => fetch('/').then(r => r.headers.get('content-security-policy'))")


def test_two_tabs_of_one_browser_keep_both_conversations(page):
    """Found by a user: tabs share the browser's storage and each saved its whole copy, so the last
    tab to save wiped the other's conversation. Each tab's conversation is kept, and both are listed."""
    other = page.context.new_page()
    other.set_default_timeout(TIMEOUT_MS)
    other.goto(page.url)
    other.wait_for_selector("#qa-question textarea")
    ask(page, INTERIM_Q, "Sources:")
    page.locator("#qa-chats label", has_text=INTERIM_Q[:20]).wait_for()  # kept (an event of its own)
    ask(other, "How many Venezuelan security personnel were killed?", "Sources:")
    other.locator("#qa-chats label", has_text=INTERIM_Q[:20]).wait_for()  # merged with the first tab's
    saved = page.evaluate("() => localStorage.getItem('qa-conversations')")
    ask(page, "What office was she sworn in to?", "Searched for:")  # the first tab saves again, from its copy
    page.locator("#qa-chats label", has_text="How many Venezuelan").wait_for()
    # the browser writes the kept value to its storage: waited for, not guessed (1.5 s was too short on a busy machine)
    page.wait_for_function("(s) => localStorage.getItem('qa-conversations') !== s", arg=saved)
    page.wait_for_timeout(500)
    for tab, own in ((page, "What office was she sworn in to?"), (other, "How many Venezuelan security personnel")):
        tab.reload()
        tab.wait_for_selector("#qa-question textarea")
        tab.locator("#qa-chats label", has_text=INTERIM_Q[:20]).wait_for()
        tab.locator("#qa-chats label", has_text="How many Venezuelan").wait_for()
        # a reload shows the tab's own conversation (each tab remembers which is its own)
        tab.wait_for_function("(t) => document.querySelector('#qa-chat').innerText.includes(t)", arg=own)
    other.locator("#qa-chats label", has_text=INTERIM_Q[:20]).click()
    other.wait_for_function("() => document.querySelector('#qa-chat').innerText.includes('What office was she sworn in to?')")
    other.close()
    assert not page.errors


def test_editing_the_rewritten_followup_asks_the_edited_question(page):
    ask(page, INTERIM_Q, "Sources:")
    ask(page, "What office was she sworn in to?", "Searched for:")
    box = page.locator("#qa-rewrite textarea")
    box.wait_for()
    assert box.input_value() == "What office was Delcy Rodríguez sworn in to?"
    replies = page.locator("#qa-chat [data-testid='bot']").count()
    box.fill("   ")  # emptied: a toast, and the chat stays readable and clickable (no "Error" overlay over it)
    page.locator("#qa-ask-rewrite").click()
    page.locator(".toast-body", has_text="Type the question to ask.").wait_for()
    page.wait_for_timeout(500)
    assert page.locator("#qa-chat .wrap.full").count() == 0 or not page.locator("#qa-chat .wrap.full").first.is_visible()
    assert page.locator("#qa-chat [data-testid='bot']").count() == replies
    page.locator("#qa-chat [data-testid='bot']").last.click(timeout=10_000)  # nothing over it intercepts the click
    box.fill(INTERIM_Q)
    assert page.locator("#qa-chat .bubble-wrap").count() == 1  # the chat's scrolling box
    page.evaluate("() => { document.querySelector('#qa-chat .bubble-wrap').scrollTop = 0; }")  # the user scrolls up to read
    page.locator("#qa-ask-rewrite").click()
    page.wait_for_function("(n) => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length > n", arg=replies)
    page.wait_for_function("(q) => [...document.querySelectorAll('#qa-chat [data-testid=\"user\"]')].pop().innerText.trim() === q",
                           arg=INTERIM_Q)
    last = page.locator("#qa-chat [data-testid='bot']").nth(replies).inner_text()
    assert "Delcy Rodríguez" in last and "Searched for" not in last  # asked as typed, on its own
    page.wait_for_function("() => { const s = document.querySelector('#qa-chat .bubble-wrap');"
                           " return s.scrollTop + s.clientHeight >= s.scrollHeight - 5; }")  # the chat follows the new answer
    assert not page.errors


# ------------------------------------------------------------------------------------------------
# Documents panel and collections (PDF and DOCX uploaded through the page)
# ------------------------------------------------------------------------------------------------

PDF_Q, PDF_FACT = "How many storms did the Kestrel Point lighthouse keeper log?", "47 storms"
DOCX_Q = "How many electric ferries did the Dunmore ferry company order?"


def write_pdf(path: Path) -> Path:
    """Two pages; the fact is on page 2."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in ("Kestrel Point station report\nThis report covers the lighthouse station on Kestrel Point and its staff.",
                 "Winter log\nThe Kestrel Point lighthouse keeper Anouk Verbeek logged 47 storms during the winter."):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path.write_bytes(bytes(pdf.output()))
    return path


def write_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Dunmore ferry order", level=1)
    d.add_paragraph("The Dunmore ferry company ordered two electric ferries from the Solvik shipyard for its island route.")
    d.save(str(path))
    return path


def upload_files(pg, *paths: Path, expect: str) -> str:
    with pg.expect_file_chooser() as chooser:
        pg.locator("#qa-upload").click()
    chooser.value.set_files([str(p) for p in paths])
    pg.wait_for_function("(t) => { const s = document.querySelector('#qa-upload-status').innerText;"
                         " return s.includes(t) && !/Checking|Embedding/.test(s); }", arg=expect)
    return pg.locator("#qa-upload-status").inner_text()


def last_reply_text(pg, replies_before: int) -> str:
    """The text of the bot messages after ``replies_before`` (sources opened first)."""
    pg.wait_for_timeout(500)
    open_last_sources(pg)
    return pg.evaluate("(n) => [...document.querySelectorAll('#qa-chat [data-testid=\"bot\"]')].slice(n)"
                       ".map(e => e.innerText).join('\\n')", replies_before)


def pick_option(pg, dropdown: str, text: str) -> None:
    pg.locator(f"{dropdown} input").click()
    pg.get_by_role("option", name=text).first.click()


def test_pdf_and_docx_uploaded_cited_opened_and_deleted_in_the_documents_panel(page, live, tmp_path):
    pdf, docx_file = write_pdf(tmp_path / "kestrel-report.pdf"), write_docx(tmp_path / "dunmore-ferries.docx")
    status = upload_files(page, pdf, docx_file, expect="dunmore-ferries.docx")
    assert status.count("Added") == 2, status

    n = page.locator("#qa-chat [data-testid='bot']").count()
    ask(page, PDF_Q, "Sources:")
    text = last_reply_text(page, n)
    assert "47" in text and "kestrel-report.pdf" in text and "page 2" in text, text

    n = page.locator("#qa-chat [data-testid='bot']").count()
    ask(page, DOCX_Q, "Sources:")
    text = last_reply_text(page, n)
    assert "two" in text.lower() and "dunmore-ferries.docx" in text, text
    page.locator("#qa-chat .thought-group").last.locator("a", has_text="Open document").first.click()
    page.locator("#qa-docview #qa-doc-cited").wait_for()
    assert "Solvik shipyard" in page.locator("#qa-docview").inner_text()

    page.locator("#qa-documents").get_by_text("Documents", exact=True).first.click()
    listing = page.locator("#qa-doc-list")
    listing.get_by_text("dunmore-ferries.docx").wait_for()
    assert "kestrel-report.pdf" in listing.inner_text() and "seed (read only)" in listing.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-documents-panel.png"), full_page=True)
    pick_option(page, "#qa-doc-pick", "dunmore-ferries.docx")
    page.locator("#qa-doc-delete").click()
    page.wait_for_function("document.querySelector('#qa-doc-status').innerText.includes('Deleted')")
    page.wait_for_function("!document.querySelector('#qa-doc-list').innerText.includes('dunmore-ferries.docx')")
    assert not (live.documents_dir / "dunmore-ferries.docx").exists()

    n = page.locator("#qa-chat [data-testid='bot']").count()
    ask(page, DOCX_Q, "")
    page.wait_for_function("(n) => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length >= n + 2", arg=n)
    assert "dunmore-ferries.docx" not in last_reply_text(page, n)
    assert all(c.doc_id != "dunmore-ferries.docx" for c in live.engine.ask(DOCX_Q).citations)
    assert not page.errors and page.dialogs == []


def test_a_collection_made_in_the_page_is_asked_only_by_that_page(page, live, tmp_path):
    question = "What colour are the trams of Lindqvist harbour town?"
    doc = tmp_path / "lindqvist-trams.txt"
    doc.write_text("Lindqvist trams\nThe trams of Lindqvist harbour town are painted saffron yellow, said the mayor.\n",
                   encoding="utf-8")
    page.locator("#qa-documents").get_by_text("Documents", exact=True).first.click()
    page.locator("#qa-new-collection input, #qa-new-collection textarea").first.fill("trams-ui")
    page.locator("#qa-create-collection").click()
    page.wait_for_function("document.querySelector('#qa-doc-status').innerText.includes('Created')")
    upload_files(page, doc, expect="Added")
    page.locator("#qa-doc-list").get_by_text("lindqvist-trams.txt").wait_for()
    assert not (live.documents_dir / "lindqvist-trams.txt").exists()  # not in the default collection's folder

    n = page.locator("#qa-chat [data-testid='bot']").count()
    ask(page, question, "Sources:")
    assert "lindqvist-trams.txt" in last_reply_text(page, n)

    pick_option(page, "#qa-collection-choice", "default")
    page.wait_for_function("document.querySelector('#qa-doc-status').innerText.includes('default')")
    n = page.locator("#qa-chat [data-testid='bot']").count()
    ask(page, question, "")
    page.wait_for_function("(n) => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length >= n + 2", arg=n)
    assert "lindqvist-trams.txt" not in last_reply_text(page, n)
    assert "lindqvist-trams.txt" not in live.engine.stats()["titles"]
    assert not page.errors and page.dialogs == []
