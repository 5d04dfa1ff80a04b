"""The one renderer of an :class:`~qa.types.Answer`: Markdown for the chat, plain text for the CLI,
chat clients and copying, JSON from ``Answer.to_dict()``.

Every surface (``qa ask``, the Gradio chat, ``/v1/chat/completions``, ``/api/ask``) shows the same
things cut the same way: the answer, the question searched for when a follow-up was rewritten, the
sources (title, file, character range) or, for a refusal, the nearest passages (at most
:data:`NEAREST` of them, each cut to :data:`SNIPPET_CHARS`), then the notices.

In Markdown all document text is escaped (:func:`md_escape`), so a document can never inject HTML
or formatting. Plain text holds no Markdown at all: no ``**``, no ``<mark>``, no backslash escapes.

>>> from qa.types import Answer
>>> print(plain_text(Answer(question="q", text="Not found in the documents.", refused=True)))
Not found in the documents.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any
from urllib.parse import quote as url_quote

from qa.answer.compose import REFUSAL, in_quotes
from qa.types import Answer, Chunk, Citation

#: longest title shown (cut at a word)
TITLE_CHARS = 90
#: longest passage text shown for a nearest passage, and context kept on each side of a quote
SNIPPET_CHARS = 400
#: nearest passages shown with a refusal
NEAREST = 3


# =================================================================================================
# Shared text helpers
# =================================================================================================


def flat(text: str) -> str:
    """Whitespace runs (newlines included) turned into one space, ends trimmed."""
    return " ".join(text.split())


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    title = flat(title)
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + "…"


_HEADING_LINE = re.compile(r"^[ \t]*#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut at a word before ``limit`` characters (then ending in " …"); a
    heading line keeps its words, not its "#" marks ("Médis Policies — Hybrid working …", not
    "Médis # Policies Hybrid working", which a user found in the nearest passages).

    >>> snippet("Bupa | Médis\\n# Policies\\nHybrid working: two days.")
    'Bupa | Médis Policies — Hybrid working: two days.'
    """
    text = flat(_HEADING_LINE.sub(lambda m: f"{m.group(1)} —", text))
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def searched_line(answer: Answer, asked: str | None) -> str | None:
    """The question searched for, when it differs from what was asked (a rewritten follow-up)."""
    searched = answer.searched_question or ""
    if asked is None or not searched or flat(searched) == flat(asked):
        return None
    return searched


def nearest(answer: Answer) -> list[Chunk]:
    return [h.chunk for h in answer.passages[:NEAREST]] if answer.refused else []


# =================================================================================================
# Plain text (CLI, OpenAI clients, copying)
# =================================================================================================


def plain_text(answer: Answer, asked: str | None = None) -> str:
    """The answer as plain text: the answer, the question searched for, the nearest passages (a
    refusal) or the sources, then the notices. ``asked`` defaults to the Answer's own question."""
    lines = [answer.text]
    searched = searched_line(answer, answer.question if asked is None else asked)
    if searched:
        lines += ["", f"(Searched for: {searched})"]
    chunks = nearest(answer)
    if chunks:
        lines += ["", "Nearest passages:"]
        for i, c in enumerate(chunks, 1):
            page = c.pages[0][0] if c.pages else None
            lines += [f"{i}. {short_title(c.title)} — {_where(c.doc_id, c.start, c.end, page)}", f"   {snippet(c.text)}"]
    if answer.citations:
        lines += ["", "Sources:"]
        lines += [f"[{c.n}] {short_title(c.title)} — {_where(c.doc_id, c.start, c.end, c.page)}" for c in answer.citations]
    for n in answer.notices:
        lines += ["", f"Note: {n}"]
    return "\n".join(lines)


def _where(doc_id: str, start: int, end: int, page: int | None) -> str:
    """"report.pdf, page 2, characters 80-140": the page first where the document has pages."""
    return f"{doc_id}, {f'page {page}, ' if page else ''}characters {start}-{end}"


def json_text(answer: Answer, indent: int | None = 2) -> str:
    """``Answer.to_dict()`` as JSON (non-ASCII kept)."""
    return json.dumps(answer.to_dict(), ensure_ascii=False, indent=indent)


# =================================================================================================
# Markdown (the chat)
# =================================================================================================


#: a web address, which Markdown would turn into a link shown with the backslashes escaping it
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>`]+", re.I)


def md_escape(text: str) -> str:
    """Document text shown as literal text: no HTML, no Markdown formatting. A web address is a
    code span: escaped like the rest, the chat's link detection would show it with the backslashes.

    >>> md_escape("<b>*x*</b>")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt;'
    >>> md_escape("see http://example.com/a_(b)) now")
    'see `http://example.com/a_(b))` now'
    """
    parts, at = [], 0
    for m in _URL.finditer(text):
        parts += [_escape_text(text[at:m.start()]), md_code(m.group())]
        at = m.end()
    escaped = "".join(parts) + _escape_text(text[at:])
    # a line that starts like a list item or heading underline stays text
    escaped = re.sub(r"(?m)^(\s*)([-=])", r"\1\\\2", escaped)
    escaped = re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", escaped)
    return escaped


def _escape_text(text: str) -> str:
    escaped = html.escape(text, quote=False)
    for ch in "\\`*_{}[]()#+!|~>$":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def counted(n: int, word: str) -> str:
    """``n`` and ``word``, plural unless one: "1 passage", "3 passages".

    >>> counted(1, "passage"), counted(0, "document")
    ('1 passage', '0 documents')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


def md_code(text: str) -> str:
    """``text`` as a Markdown code span (file names: shown literally, never formatted).

    >>> md_code("a_b.txt"), md_code("x`y")
    ('`a_b.txt`', '``x`y``')
    """
    text = flat(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _passage_for(answer: Answer, citation: Citation) -> Chunk | None:
    """The retrieved chunk a citation was taken from (or one that contains it)."""
    for h in answer.passages:
        if citation.chunk_id and h.chunk.chunk_id == citation.chunk_id:
            return h.chunk
    for h in answer.passages:
        c = h.chunk
        if c.doc_id == citation.doc_id and c.start <= citation.start and citation.end <= c.end:
            return c
    return None


def highlight_in_passage(chunk_text: str, chunk_start: int, start: int, end: int,
                         answer_span: tuple[int, int] | None = None, context: int = SNIPPET_CHARS) -> str:
    """The passage as escaped Markdown with ``[start, end)`` (absolute offsets) in ``<mark>`` and
    the short answer inside it in bold; at most ``context`` characters of the passage on each side.

    >>> highlight_in_passage("A b.\\nAnn won. C d.", 100, 105, 113, (105, 108))
    'A b. <mark>**Ann** won.</mark> C d.'
    """
    s, e = start - chunk_start, end - chunk_start
    if not (0 <= s <= e <= len(chunk_text)):
        return f"<mark>{md_escape(flat(chunk_text))}</mark>"
    quote = chunk_text[s:e]
    if answer_span and start <= answer_span[0] < answer_span[1] <= end:
        a0, a1 = answer_span[0] - start, answer_span[1] - start
        inner = md_escape(_ws(quote[:a0])) + f"**{md_escape(flat(quote[a0:a1]))}**" + md_escape(_ws(quote[a1:]))
    else:
        inner = md_escape(_ws(quote))
    before, after = _ws(chunk_text[:s]).lstrip(), _ws(chunk_text[e:]).rstrip()
    if len(before) > context:
        before = "… " + before[-context:].split(" ", 1)[-1]
    if len(after) > context:
        after = after[:context].rsplit(" ", 1)[0] + " …"
    return md_escape(before) + f"<mark>{inner}</mark>" + md_escape(after)


def render_main(answer: Answer, asked: str | None = None) -> str:
    """The answer message: short answer, quotes with [n], "Searched for" and notices."""
    lines: list[str] = []
    if answer.refused:
        lines += [f"**{REFUSAL}**", "",
                  "The documents do not hold the answer to this question."
                  + (" The nearest passages are listed below." if answer.passages else "")]
    else:
        if answer.short_answer:
            lines += [f"**{md_escape(flat(answer.short_answer))}**", ""]
        if answer.generation is not None and answer.generation.used:  # an LLM's checked sentences; quotes are in the sources
            lines += [link_markers(answer, md_escape(answer.text)), ""]
        else:
            for c in answer.citations:
                lines += [f"> {md_escape(in_quotes(flat(c.quote)))} {cite_link(answer, c.n)}", ""]
    searched = searched_line(answer, asked)
    if searched:
        lines += ["", f"*Searched for: {md_escape(searched)}*"]
    for n in answer.notices:
        lines += ["", f"*{md_escape(n)}*"]
    return "\n".join(lines).strip()


def reply_id(answer: Answer) -> str:
    """A short id of one reply, the same each time it is rendered: its [n] links point to its own sources."""
    key = json.dumps([answer.question, answer.searched_question, answer.text,
                      [(c.doc_id, c.start, c.end) for c in answer.citations]], ensure_ascii=False)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def cite_link(answer: Answer, n: int) -> str:
    """The ``[n]`` marker as a link to source n of this reply (the web chat opens and scrolls to it)."""
    return f"[\\[{n}\\]](#qa-src-{reply_id(answer)}-{n})"


def link_markers(answer: Answer, escaped: str) -> str:
    """The escaped ``\\[n\\]`` markers of ``escaped`` (an LLM answer) made links to their sources."""
    known = {c.n for c in answer.citations}
    return re.sub(r"\\\[(\d+)\\\]", lambda m: cite_link(answer, int(m[1])) if int(m[1]) in known else m[0], escaped)


#: what the relevance shown per source is, as its tooltip says
RELEVANCE_TIP = ("Answer score of the quoted sentence, as scored when the answer was chosen (higher: it "
                 "answers the question better); the bar compares it with the best source of this answer")


def relevance(score: float, best: float) -> str:
    """A citation's answer score, as a number and a bar relative to the best one (HTML, with a
    tooltip saying what it is).

    >>> relevance(0.5, 1.0)[-28:]
    '>relevance ██▒░░ 0.50</span>'
    """
    share = max(0.0, min(1.0, score / best)) if best > 0 else 0.0
    halves = round(share * 10)
    bar = ("█" * (halves // 2) + "▒" * (halves % 2)).ljust(5, "░")
    return f'<span class="qa-rel" title="{html.escape(RELEVANCE_TIP)}">relevance {bar} {score:.2f}</span>'


def quote_fingerprint(text: str) -> str:
    """A short fingerprint of a quoted text: the document view checks that the text at a link's
    offsets is still the one quoted (a document replaced since then has other text there)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def doc_link(doc_id: str, start: int, end: int, text: str | None = None) -> str:
    """A link that opens the document view of ``doc_id`` at ``[start, end)`` (handled by the web
    chat), with the fingerprint of ``text``, what stands there."""
    fp = f":{quote_fingerprint(text)}" if text is not None else ""
    return f"[Open document](#qa-doc={url_quote(doc_id, safe='')}:{int(start)}:{int(end)}{fp})"


def _source_head(label: str, title: str, doc_id: str, start: int, end: int, page: int | None = None) -> str:
    where = f"page {page}, " if page else ""
    return (f"**{label} {md_escape(short_title(title or doc_id))}**  \n"
            f"<small>{md_code(doc_id)}, {where}characters {start}–{end}</small>")


def _cited_head(answer: Answer, c: Citation) -> str:
    return (f'<a id="qa-src-{reply_id(answer)}-{c.n}"></a>{_source_head(f"[{c.n}]", c.title, c.doc_id, c.start, c.end, c.page)}'
            f"  \n{relevance(c.score, max(x.score for x in answer.citations))} · {doc_link(c.doc_id, c.start, c.end, c.quote)}")


def render_sources(answer: Answer) -> str:
    """The sources message: for each citation the headline, file, characters and the passage
    with the quoted sentence highlighted; for a refusal the nearest passages."""
    if answer.refused:
        return "\n\n".join(f"{_source_head(f'{i}.', c.title, c.doc_id, c.start, c.end)} · {doc_link(c.doc_id, c.start, c.end, c.text)}"
                           f"\n\n{md_escape(snippet(c.text))}"
                           for i, c in enumerate(nearest(answer), 1))
    blocks: list[str] = []
    for c in answer.citations:
        chunk = _passage_for(answer, c)
        span = (c.answer_start, c.answer_end) if c.answer_start is not None and c.answer_end is not None else None
        if chunk is not None:
            body = highlight_in_passage(chunk.text, chunk.start, c.start, c.end, span)
        else:
            body = f"<mark>{md_escape(flat(c.quote))}</mark>"
        blocks.append(f"{_cited_head(answer, c)}\n\n{body}")
    return "\n\n".join(blocks)


def sources_title(answer: Answer) -> str:
    if answer.refused:
        return f"Nearest passages ({len(nearest(answer))})"
    n = len(answer.citations)
    docs = len({c.doc_id for c in answer.citations})
    return f"Sources: {counted(n, 'quote')} from {counted(docs, 'document')}"


def render_messages(answer: Answer, asked: str | None = None) -> list[dict[str, Any]]:
    """The reply as chat messages: the answer, then the collapsible sources (open for a refusal)."""
    out: list[dict[str, Any]] = [{"role": "assistant", "content": render_main(answer, asked)}]
    sources = render_sources(answer)
    if sources:
        meta: dict[str, Any] = {"title": sources_title(answer)}
        if not answer.refused:
            meta["status"] = "done"  # collapsed until opened
        out.append({"role": "assistant", "content": sources, "metadata": meta})
    return out


def render_error(message: str) -> list[dict[str, Any]]:
    """A question the chat could not answer (invalid, store down): one italic, escaped message."""
    return [{"role": "assistant", "content": f"*{md_escape(message)}*"}]


def render_document(doc_id: str, title: str, chunks: list[Chunk], start: int, end: int) -> str:
    """The document view (HTML, every character of the document escaped): the text the index holds
    for ``doc_id`` (its chunks in order; text kept out of the index, such as page furniture, shown
    as "…"), with ``[start, end)`` in ``<mark id="qa-doc-cited">``."""
    parts = [f'<div class="qa-doc-head"><strong>{html.escape(short_title(title or doc_id))}</strong> '
             f'<small><code>{html.escape(doc_id)}</code></small></div><div class="qa-doc-text">']
    at = None
    for c in sorted(chunks, key=lambda c: c.start):
        if at is not None and c.start > at:
            parts.append('<span class="qa-doc-gap"> … </span>\n')
        s = max(c.start, at or 0)
        if s >= c.end:
            continue
        cut = sorted({s, c.end, *(x for x in (start, end) if s < x < c.end)})
        for a, b in zip(cut, cut[1:]):
            piece = html.escape(c.text[a - c.start:b - c.start])
            parts.append(f'<mark id="qa-doc-cited">{piece}</mark>' if start <= a and b <= end and start < end else piece)
        at = c.end
    parts.append("</div>")
    out = "".join(parts)
    # a quote across pieces gets one id only (the first piece): the rest are plain marks
    first = out.find('id="qa-doc-cited"')
    return out[:first + 1] + out[first + 1:].replace('<mark id="qa-doc-cited">', "<mark>") if first >= 0 else out


def collection_note(stats: dict[str, Any], limit: int = 12) -> str:
    """What the collection holds: counts and titles (escaped)."""
    titles = stats.get("titles", {})
    n, chunks = stats.get("documents", len(titles)), stats.get("chunks", 0)
    lines = [f"**The collection holds {counted(n, 'document')}** ({counted(chunks, 'passage')}):", ""]
    for doc_id, title in list(sorted(titles.items()))[:limit]:
        lines.append(f"- {md_escape(short_title(title or doc_id, 80))} — {md_code(doc_id)}")
    if len(titles) > limit:
        lines.append(f"- … and {len(titles) - limit} more")
    return "\n".join(lines)


def upload_line(name: str, added: Any = None, error: str | None = None) -> str:
    """One Markdown status line of an upload: added, already there, or not added and why."""
    if error is not None:
        return f"**Not added:** {md_escape(error)}"
    if not added.created:
        return f"**Already there:** {md_code(added.doc_id)} is in the collection."
    given = f" (uploaded as {md_code(name)})" if name != added.doc_id else ""
    return (f"**Added** {md_code(added.doc_id)}{given} ({counted(added.chunks, 'passage')}): "
            f"“{md_escape(short_title(added.title, 80))}”. You can ask about it now.")
