"""HTML: the page's main content (readability-lxml), as text, one block (paragraph, heading, list
item, table row) per line; a heading marked with its level as in Markdown ("## Prices").

Why readability-lxml: it is the long-standing port of Mozilla's Readability heuristics (score text
blocks, keep the article, drop navigation, sidebars and footers), small on top of lxml (which
python-docx needs anyway: about 3 MB more, ~0.1 s to import); trafilatura extracts as well but
brings ~55 MB of dependencies (dateparser, babel, htmldate) and a slower import; BeautifulSoup has
no main-content heuristics of its own. What readability keeps is turned into text here, so the
stored text (what citations quote and offset into) is ours and stable.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qa.ingest.extracted import Extracted, SkippedFile, check_size, clean_line, no_text
from qa.ingest.sentences import CELL_SEP, EMPTY_CELL

# Elements that end a line of text: what a browser shows as a block.
_BLOCKS = frozenset(
    "address article aside blockquote body br dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody thead tfoot tr ul caption details summary".split()
)
_CELLS = frozenset(("td", "th"))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Never text: scripts, styles, and what readability may leave of navigation in a fallback.
_SKIP = frozenset("script style noscript template svg head nav header footer aside form button select".split())
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The page as text: a BOM, else UTF-8, else the charset its ``<meta>`` declares, else cp1252."""
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SkippedFile("skipped, looks binary (NUL bytes)")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, "replace"), ()
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError as e:
        m = _META_CHARSET.search(data[:4096])
        declared = m.group(1).decode("ascii").lower() if m else ""
        try:
            return data.decode(declared or "cp1252"), ()
        except (LookupError, UnicodeDecodeError):
            return data.decode("cp1252", "replace"), (f"not valid UTF-8 (byte {e.start}); decoded as cp1252",)


def _block_lines(root: Any) -> Iterator[str]:
    """The text under ``root``, one line per block element; table cells joined by " | "."""
    from lxml import etree

    line: list[str] = []
    skipping = 0
    cells = 0  # cells begun on this line: an empty one is written as EMPTY_CELL, so later ones keep their columns
    cell_from = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):  # no recursion: deep pages are fine
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            skipping += 1 if event == "start" else -1
            if event == "end" and el.tail and not skipping:
                line.append(el.tail)
            continue
        if skipping:
            continue
        if tag in _BLOCKS:
            text = clean_line("".join(line))
            if cells and not text.replace(CELL_SEP.strip(), "").replace(EMPTY_CELL, "").strip():
                text = ""  # a row of empty cells
            # a heading keeps its level as Markdown does ("## Prices"), so its section is known (qa.ingest.chunking)
            yield f"{'#' * int(tag[1])} {text}" if event == "end" and tag in _HEADINGS and text else text
            line, cells = [], 0
        elif event == "start" and tag in _CELLS:
            if cells or "".join(line).strip():
                line.append(CELL_SEP)
            cells, cell_from = cells + 1, len(line)
        elif event == "end" and tag in _CELLS and not "".join(line[cell_from:]).strip():
            line.append(EMPTY_CELL)
        if event == "start" and el.text and isinstance(el.tag, str):
            line.append(el.text)
        if event == "end" and el.tail:
            line.append(el.tail)
    yield clean_line("".join(line))


def _text(html: str) -> str:
    import lxml.html

    return "\n".join(line for line in _block_lines(lxml.html.fromstring(html)) if line)


@dataclass(frozen=True)
class HtmlConverter:
    kind: str = "HTML page"

    def convert(self, data: bytes, name: str) -> Extracted:
        from lxml.etree import LxmlError
        from readability import Document as Readable
        from readability.readability import Unparseable

        html, warnings = decode_html(data)
        html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses a str that declares an encoding
        if not html.strip():
            raise no_text(self.kind)
        try:
            text = _text(Readable(html).summary(html_partial=True))
            if not text.strip():  # readability kept nothing (a page of links, a tiny page): the body, furniture dropped
                text = _text(html)
        except (Unparseable, LxmlError, ValueError) as e:
            raise SkippedFile(f"skipped, not a readable HTML page ({type(e).__name__}: {e})") from None
        if not text.strip():
            raise no_text(self.kind)
        return Extracted(text=check_size(text, self.kind), warnings=warnings)
