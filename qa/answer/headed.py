"""Answers a section's heading gives for the entries under it: a changelog's "## [4.3.0] -
2025-09-18" is the version and the date of every entry beneath it. "Which version fixed the memory
leak in the thumbnail cache?" got "24.04" (of "Support for Ubuntu 24.04", a neighbouring entry) and
"When was version 4.3.0 released?" was refused: headings never answer, and no entry holds its version.

When the question asks for a release ("which version", "when") and names nothing an entry and its
headings do not (every word, every version number), the entry's nearest heading holding a version
(or a date) in the same passage answers, quoted where it stands, with the entry cited after it.

>>> asked_from_heading("Which version fixed the memory leak?"), asked_from_heading("What version of OpenSSL is bundled?")
('version', None)
>>> h = "## [4.3.0] - 2025-09-18"
>>> [h[a:b] for a, b in (heading_span(h, "version"), heading_span(h, "date"))]
['4.3.0', '2025-09-18']
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from qa.answer.labels import shares
from qa.answer.question import DATE, content_terms, question_word
from qa.answer.scoring import Candidate, section_of
from qa.answer.spans import Span, spans_of
from qa.ingest.chunking import LETTER_LEVEL, heading_of, heading_words
from qa.pointers import ITEM_BODY, NUMBERED_LINE, asked_item
from qa.types import Sentence

#: a question asking in which release something happened, not the version of a thing ("what version of OpenSSL")
_ASKS_VERSION = re.compile(r"\b(?:which|what)\s+(?:version|release)\b(?!\s+of\b)", re.I)
_ASKS_DATE = re.compile(r"^\W*(?:when|on what date|what date)\b", re.I)
#: a version number: "4.3.0", "v2.1", "1.0.0-rc.1" (two parts at least)
VERSION = re.compile(r"(?<![\w.])v?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?(?![\w.]*\d)")
#: words of the asking itself: an entry need not hold them
_ASKING = frozenset(content_terms("version versions release released releases date"))


def asked_from_heading(question: str) -> str | None:
    """"version" or "date" for a question a heading may answer, else None."""
    if _ASKS_VERSION.search(question):
        return "version"
    return "date" if _ASKS_DATE.match(question) or question_word(question) == "when" else None


def not_a_version(question: str, span: str) -> bool:
    """A span without a number for a question asking in which release: "macOS Sequoia" is no version.

    >>> not_a_version("Which version fixed the login loop?", "macOS Sequoia"), not_a_version("Which version fixed it?", "4.2.1")
    (True, False)
    """
    return asked_from_heading(question) == "version" and not re.search(r"\d", span)


def heading_span(heading: str, asked: str) -> tuple[int, int] | None:
    """(start, end) of the version (the first) or the date a heading line holds, else None."""
    if asked == "version":
        m = VERSION.search(heading)
        return m.span() if m else None
    return next(((s.start, s.end) for s in spans_of(heading) if s.kind == DATE), None)


def _names_all(question: str, text: str) -> bool:
    """Does ``text`` hold every word of the question but the asking ones, and every version it names?"""
    terms = set(content_terms(text))
    return all(shares({t}, terms) for t in set(content_terms(question)) - _ASKING) \
        and all(re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.]*\d)", text) for v in VERSION.findall(question))


def _versioned_itself(question: str, sentence: str) -> bool:
    """Does the entry give a version right after one of the question's words ("deprecated since version
    3.9.0" for "In which version was the FTP bridge deprecated?"), the version the question asks for?

    >>> s = "Removed the FTP bridge, which had been deprecated since version 3.9.0."
    >>> _versioned_itself("In which version was the FTP bridge deprecated?", s), _versioned_itself("Which version removed the FTP bridge?", s)
    (True, False)
    """
    asked, named = set(content_terms(question)) - _ASKING, set(VERSION.findall(question))
    for m in VERSION.finditer(sentence):
        if m.group() in named:  # "Ubuntu 24.04" of "Which version added support for Ubuntu 24.04?"
            continue
        before = sentence[: m.start()].split()[-4:]
        if asked & set(content_terms(" ".join(before))):
            return True
    return False


def _heading_above(c: Candidate, asked: str) -> tuple[int, Sentence, tuple[int, int]] | None:
    """The nearest heading at or above ``c`` holding the asked version or date: its index in ``c``'s
    chunk (``c.index`` for one above the chunk, :attr:`~qa.types.Chunk.section_spans`), its words as a
    sentence to quote (without the Markdown marks), and where in them it holds the answer."""
    chunk = c.hit.chunk
    for i in range(c.index, -1, -1):
        found = heading_words(chunk.sentences[i])
        span = heading_span(found[2], asked) if found is not None else None
        if found is not None and span is not None:
            return i, Sentence(*found[1], found[2]), span
    for (level, words), (start, end) in zip(reversed(chunk.section), reversed(chunk.section_spans)):
        if level >= LETTER_LEVEL:  # a letter's subject ("Room request for July") dates nothing it says
            continue
        span = heading_span(words, asked)
        if span is not None:
            return c.index, Sentence(start, end, words), span
    return None


def _entries(cands: Sequence[Candidate]) -> list[Candidate]:
    """The candidates, then each heading line of their passages (the ranking leaves headings out) as
    one more: "When was version 4.3.0 released?" names the heading, no entry."""
    out, seen = list(cands), set()
    for c in cands:
        chunk = c.hit.chunk
        if chunk.chunk_id in seen:
            continue
        seen.add(chunk.chunk_id)
        out += [Candidate(c.hit_rank, c.hit, i, s) for i, s in enumerate(chunk.sentences) if heading_of(s.text) is not None]
    return out


def from_heading(question: str, cands: Sequence[Candidate], sure: float, unread: Sequence[Candidate] = ()) -> list[Candidate]:
    """``cands`` (best first) with the answer a heading gives put first, scored at least ``sure`` (a
    looked-up answer's score) and above every other, backed by its entry; ``cands`` unchanged when
    no heading answers. The ``unread`` candidates (and their passages' headings) are looked at last."""
    asked = asked_from_heading(question)
    if asked is None or not cands:
        return list(cands)
    for c in _entries([*cands, *unread]):
        sentence = c.sentence.text
        if asked == "date" and heading_of(sentence) is None and any(s.kind == DATE for s in spans_of(sentence)):
            continue  # the entry says when itself
        if asked == "version" and heading_of(sentence) is None and _versioned_itself(question, sentence):
            continue
        if not _names_all(question, f"{section_of(c.hit.chunk, c.index)}\n{sentence}"):
            continue
        found = _heading_above(c, asked)
        if found is None:
            continue
        index, quoted, (a, b) = found
        score = max(sure, max(x.score for x in cands) + 1e-3)
        best = dataclasses.replace(c, index=index, sentence=quoted, span=Span(a, b, "heading"), score=score,
                                   backs=None if heading_of(c.sentence.text) is not None else c)
        return [best] + [x for x in cands if x is not c]
    return list(cands)


def from_numbered_heading(question: str, cands: Sequence[Candidate], sure: float, unread: Sequence[Candidate] = ()) -> list[Candidate]:
    """``cands`` with the title of the numbered heading the question names put first ("Thursday evening
    session" of "## 5. Thursday evening session" for "What was agenda item 5?"; a user's minutes were
    refused, headings never answer), scored as :func:`from_heading` scores; unchanged when the question
    names no item, asks what its body says, or no passage read has that heading."""
    item = asked_item(question)
    if item is None or ITEM_BODY.search(question) or not cands:
        return list(cands)
    for c in _entries([*cands, *unread]):
        found = heading_words(c.sentence) if heading_of(c.sentence.text) is not None else None
        numbered = NUMBERED_LINE.match(found[2]) if found is not None else None
        if numbered is None or numbered.group(1) != item:
            continue
        score = max(sure, max(x.score for x in cands) + 1e-3)
        best = dataclasses.replace(c, sentence=Sentence(*found[1], found[2]), span=Span(numbered.end(), len(found[2]), "heading"),
                                   score=score, backs=None)
        return [best] + [x for x in cands if x is not c]
    return list(cands)
