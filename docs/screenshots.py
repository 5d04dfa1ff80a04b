"""Take the README's screenshots of the web chat: ``python docs/screenshots.py``.

Starts the real server over a temporary copy of seeds/ (the project's own index/ is not touched),
opens it in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) and writes

* ``docs/chat-answer.png``   — a cited answer, its source [1] opened by clicking the marker;
* ``docs/chat-document.png`` — a follow-up with its editable "Searched for", and the cited document
  opened beside the chat with the quoted sentence highlighted;
* ``docs/chat-refusal.png``  — a refusal with the nearest passages, in a new conversation.

Options: ``--index DIR`` reuses an index folder between runs; ``--chromium PATH``.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def ask(page, question: str, expect: str) -> None:
    n = page.locator("#qa-chat [data-testid='bot']").count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "([n, text]) => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length > n"
        " && document.querySelector('#qa-chat').innerText.includes(text)",
        arg=[n, expect],
    )


def main() -> None:
    from playwright.sync_api import sync_playwright

    from qa import QA
    from qa.config import ServeSettings
    from qa.server import create_app, prepare_engine
    from tests.webserver import ServerThread, free_port

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="index folder to (re)use (default: a temporary one)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qa-shots-"))
    try:
        seeds = tmp / "seeds"
        shutil.copytree(ROOT / "seeds", seeds)
        engine = QA(seeds_dir=seeds, index_dir=args.index or tmp / "index")
        prepare_engine(engine)
        port = free_port()
        app = create_app(engine, ServeSettings(host="127.0.0.1", port=port))
        out = Path(args.out)
        with ServerThread(app, port=port) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
            page.goto(server.url)
            page.wait_for_selector("#qa-question textarea")
            ask(page, "Who was sworn in as interim president?", "Sources:")
            page.locator("#qa-chat a[href^='#qa-src-']").first.click()  # [1]: opens the sources at it
            page.locator("#qa-chat .thought-group .content").last.wait_for(state="visible")
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "chat-answer.png"))

            ask(page, "What office was she sworn in to?", "Searched for:")
            page.locator("#qa-rewrite textarea").wait_for()
            page.locator("#qa-chat a[href^='#qa-src-']").last.click()
            page.locator("#qa-chat .thought-group a", has_text="Open document").last.click()
            page.locator("#qa-docview #qa-doc-cited").wait_for()
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "chat-document.png"), full_page=True)

            page.locator("#qa-new-chat").click()
            page.wait_for_timeout(500)
            ask(page, "Who won the 2018 FIFA World Cup?", "Not found in the documents.")
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(600)
            page.screenshot(path=str(out / "chat-refusal.png"))
            browser.close()
        print(f"wrote {out / 'chat-answer.png'}, {out / 'chat-document.png'} and {out / 'chat-refusal.png'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
