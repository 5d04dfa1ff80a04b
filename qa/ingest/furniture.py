"""Page furniture: navigation labels and boilerplate lines that are masked, never cut out.

Furniture ("Back to top button", "Related Articles", an empty "Sources:") is recorded as character
ranges to skip, so a document's text stays exactly what was read (or extracted) and every offset
into it stays true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Furniture that may be glued to the start of the next line's text ("Back to top buttonIn the ...").
_EOL = r"(?=[ \t]*(?:\r?\n|\r|\Z))"
# Furniture at the start of a line, alone or glued to the next text ("Back to top buttonIn the ...");
# case-sensitive and followed by a line end or a capital, so "Related news outlets said" is content.
_FURNITURE_PREFIX = re.compile(
    r"^[ \t]*(?:Back to top(?: button)?|Related (?:Articles|Posts|Stories|News)|Skip to (?:main )?content"
    r"|Share this(?: article)?:?|Click to share on \w+(?: \(Opens in new window\))?)"
    rf"(?:{_EOL}|(?=[A-Z]))",
    re.MULTILINE,
)
# Whole lines that are navigation or section labels, not content.
_FURNITURE_LINE = re.compile(
    r"^[ \t]*(?:News|Menu|Home|Advertisement|Sponsored|Share|Tweet|Print|Email|Comments?"
    rf"|Read more:?|Continue reading|Subscribe|Sign up|Log in|Video|Photos?)[ \t]*{_EOL}",
    re.IGNORECASE | re.MULTILINE,
)
# A "Sources:" / "References:" heading with nothing after it.
_EMPTY_SOURCES = re.compile(r"^[ \t]*(?:Sources?|References?)[ \t]*:[ \t]*(?=\s*\Z)", re.IGNORECASE | re.MULTILINE)
# A section label glued to the last sentence of a page ("...evolving story.News").
_TRAILING_LABEL = re.compile(r"(?<=[.!?”\"’])(?:News|Menu|Advertisement)\s*\Z")

_WORD = re.compile(r"\w+", re.UNICODE)


def furniture_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Character ranges of page furniture in ``text`` (kept in place, never chunked)."""
    ranges = [m.span() for m in _FURNITURE_PREFIX.finditer(text)]
    ranges += [m.span() for m in _FURNITURE_LINE.finditer(text)]
    ranges += [m.span() for m in _EMPTY_SOURCES.finditer(text)]
    ranges += [m.span() for m in _TRAILING_LABEL.finditer(text)]
    ranges = sorted((s, e) for s, e in ranges if e > s)
    merged: list[tuple[int, int]] = []
    for s, e in ranges:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple(merged)


def unmasked_lines(text: str, masked: tuple[tuple[int, int], ...]) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each non-blank line piece outside masked ranges, whitespace-trimmed."""
    cuts = sorted(masked)
    for m in re.finditer(r"[^\n\r]+", text):
        pieces = [(m.start(), m.end())]
        for ms, me in cuts:
            nxt = []
            for s, e in pieces:
                if me <= s or ms >= e:
                    nxt.append((s, e))
                    continue
                if s < ms:
                    nxt.append((s, ms))
                if me < e:
                    nxt.append((me, e))
            pieces = nxt
        for s, e in pieces:
            while s < e and (text[s].isspace() or text[s] == "\ufeff"):
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                yield s, e


def title_of(text: str, masked: tuple[tuple[int, int], ...], fallback: str) -> str:
    """The headline: the first meaningful line, markdown '#' stripped, cut to 200 characters."""
    for s, e in unmasked_lines(text, masked):
        line = text[s:e].lstrip("#").strip()
        if len(_WORD.findall(line)) >= 1:
            if len(line) > 200:
                line = line[:200].rsplit(" ", 1)[0] + "…"
            return line
    return fallback
