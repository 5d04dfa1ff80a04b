"""Sentence splitting: every sentence is an exact ``(start, end)`` slice of the document's text.

Line breaks end a sentence (news text is one paragraph per line; the PDF, DOCX and HTML converters
write one paragraph per line for the same reason), except where the sentence plainly goes on: the
line ends without a full stop and the next one starts in lower case (a hard-wrapped text file, a
sentence running over a PDF page break). A table row (cells joined by " | ") is one sentence
whatever its cells hold: "Krakow | ul. Pawia 9, 31-154 Krakow | Piotr Zielinski" is one record.
"""

from __future__ import annotations

import re

from qa.ingest.furniture import unmasked_lines
from qa.types import Document, Sentence

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
    "rep", "rev", "inc", "ltd", "co", "corp", "vs", "etc", "no", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig", "approx", "est", "dept", "univ", "mt", "ft",
}
#: abbreviations a number follows: a signature's "Ext. 5587", "Tel. 0161 496 0000", "Vol. 2", "Rm. 12"
_BEFORE_A_NUMBER = {"ext", "tel", "nr", "rm", "vol", "pp", "ch", "sec", "para", "art"}
#: words that start a sentence after "a.m."/"p.m." (a capitalised name or time zone there goes on with it)
_SENTENCE_STARTERS = {
    "the", "a", "an", "it", "he", "she", "they", "we", "i", "you", "this", "that", "these", "those", "there", "here",
    "in", "on", "at", "for", "our", "its", "his", "her", "their", "my", "your", "all", "after", "before", "from",
    "if", "when", "while", "as", "but", "and", "so", "then", "please", "each", "every", "no", "both", "some",
}
#: a line that may end mid-sentence: no terminal punctuation (nor a colon or semicolon) at its end
_OPEN_LINE_END = re.compile(r"[^.!?…:;\"”’'»)\]\s]\s*$")
# Sentence end: terminal punctuation plus closing quotes/brackets.
_END = re.compile(r"[.!?…]+[\"”’'»)\]]*")
#: what joins the cells of a table row, as the converters write it (office, webpage, pdf_tables)
CELL_SEP = " | "
#: what a converter writes for an empty cell, so that the cells after it keep their columns
EMPTY_CELL = "-"


def _is_boundary(text: str, end: int, seg_end: int) -> bool:
    """Is the terminal punctuation that ends at ``end`` a sentence boundary?"""
    if end >= seg_end:
        return True
    nxt = text[end]
    # the token the punctuation closes, e.g. "U.S" in "U.S." or "Dr" in "Dr."
    j = end
    while j > 0 and text[j - 1] in ".!?…\"”’'»)]":
        j -= 1
    k = j
    while k > 0 and not text[k - 1].isspace() and text[k - 1] not in "(\"“‘'*_[`~":  # "**Dr." in Markdown is "Dr"
        k -= 1
    token = text[k:j]
    line_start = text.rfind("\n", 0, k) + 1
    if text.startswith("#", line_start) or (re.fullmatch(r"\d+(?:\.\d+)*", token) and not text[line_start:k].strip(" \t#")):
        return False  # a heading line is one sentence; "5." opens a numbered heading or item ("5. Contacts and Review")
    if nxt.isspace():
        m = end
        while m < seg_end and text[m].isspace():
            m += 1
        if m >= seg_end:
            return True
        first = text[m]
        if not (first.isupper() or first.isdigit() or first in "\"“‘'(¡¿[—–-•*"):
            return False
        if token.lower() == "no" and not first.isdigit():  # "said no. Then" ends; "No. 5" does not
            return True
        if token.lower() in _BEFORE_A_NUMBER:  # "Ext. 5587", "Tel. 0161 …", "Vol. 2" go on; "the next ext. The" ends
            return not first.isdigit()
        if token.lower() == "ref":  # "(our ref. HL/QH/4B/0112)" goes on: a reference holds a digit or a slash
            return not re.match(r"[A-Z0-9][\w-]*[\d/]", text[m:])
        if token.lower() in ("a.m", "p.m"):  # "opens at 9 a.m. The branch…" ends; "8 a.m. Central European Time" does not
            word = re.match(r"[\w’']+", text[m:])
            return not word or word.group().lower() in _SENTENCE_STARTERS
        if text[end - 1] == "." and (
            token.lower() in _ABBREVIATIONS
            or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token)  # initials, U.S, a.m
        ):
            return False
        return True
    # Glued sentences in scraped text ("Bolivarianism.”URGENT", "story.News"): a lowercase word,
    # terminal punctuation, then an uppercase letter. "U.S.-led", "Disclose.tv" do not match.
    return nxt.isupper() and len(token) > 1 and token[-1].islower() and token.isalpha()


#: a line ending on a word no sentence ends on, so that a next line opening with a number goes on with it
#: ("The new match fee of £45 applies from" / "1 September 2025.", a user's hard-wrapped minutes)
_DANGLING = re.compile(r"\b(?:from|on|of|to|at|in|by|the|a|an|and|or|was|were|is|are|be|with|for|than|until|since|between"
                       r"|under|over|per|each|every|its|their|our|his|her|about|after|before|during)\s*$", re.I)


def _continued(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``lines`` with each line joined to the next where the sentence goes on across the break: the
    line ends without punctuation and the next starts in lower case, with at most one blank line
    between (a PDF page break), or with a number right after a line ending on "from", "of", "the" …
    (:data:`_DANGLING`). "…takes between 15 minutes and one hour and can" / "cause nausea."
    Table rows are never joined: "max_size | 20" under "Option | Default" is a row of its own.
    """
    out: list[tuple[int, int]] = []
    for start, end in lines:
        if out:
            prev_start, prev_end = out[-1]
            gap = text[prev_end:start]
            if (not gap.strip() and gap.count("\n") <= 2
                    and (text[start:end][:1].islower() or (text[start:end][:1].isdigit() and gap.count("\n") == 1
                                                           and _DANGLING.search(text, prev_start, prev_end)))
                    and _OPEN_LINE_END.search(text, prev_start, prev_end)
                    and CELL_SEP not in text[prev_start:prev_end] and CELL_SEP not in text[start:end]):
                out[-1] = (prev_start, end)
                continue
        out.append((start, end))
    return out


def split_sentences(doc: Document) -> list[Sentence]:
    """Sentences of the unmasked text, each an exact slice ``doc.text[start:end]``.

    Line breaks end a sentence, except where it plainly goes on (:func:`_continued`).
    """
    text = doc.text
    out: list[Sentence] = []
    for seg_start, seg_end in _continued(text, list(unmasked_lines(text, doc.masked))):
        s = seg_start
        if CELL_SEP in text[seg_start:seg_end]:  # a table row: one record, never cut at "ul." or "approx."
            out.append(Sentence(s, seg_end, text[s:seg_end]))
            continue
        for m in _END.finditer(text, seg_start, seg_end):
            if m.end() <= s or not _is_boundary(text, m.end(), seg_end):
                continue
            out.append(Sentence(s, m.end(), text[s : m.end()]))
            s = m.end()
            while s < seg_end and text[s].isspace():
                s += 1
        if s < seg_end:
            out.append(Sentence(s, seg_end, text[s:seg_end]))
    return [x for x in out if x.text.strip()]
