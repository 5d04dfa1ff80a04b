"""Letters and e-mails by their headers: "Who sent the letter about the new rent?" is answered by the
"From:" line of the letter whose subject and words are about the new rent, "When was it sent?" by
its "Date:" line (a user's letters: the sender was refused, and the date asked for was a date the
letter's body named). Rules over a passage's lines (a letter starts a passage,
:func:`qa.ingest.chunking._letters`), no model; read by
:meth:`qa.answer.reader.ReaderAnswerer._look_up_labels`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.question import content_terms

_FROM = re.compile(r"^\s*From\s*:\s*(?P<value>[^,<(\n]*[^,<(\s])", re.I)
_DATE = re.compile(r"^\s*(?:Date|Sent)\s*:\s*(?P<value>\S.*?)\s*$", re.I)
#: a question asking who wrote a letter: "Who sent the letter about …?", "Who replied to …?"
_WHO_WROTE = re.compile(r"^\W*who\s+(?:wrote|sent|replied|answered|responded|signed|confirmed|requested|asked|complained"
                        r"|cancelled|canceled)\b", re.I)
#: a question asking when a letter was written: "When was the letter about … sent?", "When did Jane Roe write …?"
_WHEN_WRITTEN = re.compile(r"^\W*(?:when|on\s+what\s+date|what\s+date)\s+(?:was|were|is|did)\b.*\b(?:sent|written|dated|posted"
                           r"|write|send|reply|respond|answer|ask|request|confirm|complain|cancel)\b", re.I)
_REPLY = re.compile(r"\b(?:replied|reply|answered|answer|responded|respond)\b", re.I)
#: a reply's marks: "Subject: Re: …", "Thank you for your letter of 6 January"
_A_REPLY = re.compile(r"^\s*Subject\s*:\s*(?:re|aw)\s*:|\byour\s+(?:letter|e-?mail|message|note)\b", re.I | re.M)
#: a date a question names a letter by: "the letter of 10 February 2025", "dated 2 June 2025"
_DATE_NAMED = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b", re.I)
#: the question's words that ask for the letter, not what it is about
_ASKING = set(content_terms("letter letters e-mail email message note memo wrote write written sent send dated posted "
                            "replied reply answered answer responded respond signed about"))


#: a question about a letter itself (not about something sent): it names one, or its writing
_A_LETTER = re.compile(r"\b(?:letters?|e-?mails?|messages?|notes?|memos?|repl(?:y|ied)|wr[io]te|written)\b", re.I)


def asks_a_letter(question: str) -> bool:
    """Does the question ask for a letter's sender or date, naming the letter or its writing? Then its
    header answers it, not a date or a name its body gives ("When did Jane Roe write to report the
    broken boiler?": the letter's date, not the evening the boiler stopped).

    >>> asks_a_letter("When did Jane Roe write to report the broken boiler?"), asks_a_letter("When did they send the invoices?")
    (True, False)
    """
    return bool((_WHO_WROTE.match(question) or _WHEN_WRITTEN.match(question)) and _A_LETTER.search(question))


def _letters(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(first, last) line index of each letter in ``lines``: from a "From:" line to the line before the next."""
    starts = [i for i, line in enumerate(lines) if _FROM.match(line)]
    return [(a, b - 1) for a, b in zip(starts, starts[1:] + [len(lines)])]


def _about(question: str, lines: Sequence[str], letter: tuple[int, int]) -> int:
    """How many of the question's words (not its asking ones) the letter holds; none when the question
    names a date the letter does not give ("the letter of 10 February 2025")."""
    text = "\n".join(lines[letter[0]: letter[1] + 1])
    dates = _DATE_NAMED.findall(question)
    if dates and not any(re.search(rf"\b{re.escape(d)}\b", text, re.I) for d in dates):
        return 0
    asked = set(content_terms(question)) - _ASKING
    return len(asked & set(content_terms(text)))


def letter_header(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) in ``lines[index]`` of the sender's name of a "From:" line, for "Who sent/wrote …?",
    or of the date of a "Date:" line, for "When was … sent?": when its letter is the one of the
    passage's letters that holds the most of the question's words (a reply for "Who replied …?"; of
    two alike, the one not replying). None otherwise.

    >>> lines = ["From: Jane Roe", "Date: 6 January 2025", "Subject: No heating", "The boiler stopped.",
    ...          "From: Sofia Marsh, Property Manager", "Date: 7 January 2025", "Subject: Re: No heating",
    ...          "Thank you for your letter.", "From: Martin Okafor", "Date: 2 June 2025", "Subject: Proposed rent"]
    >>> [lines[i][slice(*letter_header(q, lines, i))] for q, i in (("Who sent the letter about the new rent?", 8),
    ...     ("Who wrote the letter about the heating?", 0), ("Who replied to the letter about the heating?", 4),
    ...     ("When was the letter about the proposed rent sent?", 9))]
    ['Martin Okafor', 'Jane Roe', 'Sofia Marsh', '2 June 2025']
    >>> letter_header("Who sent the letter about the new rent?", lines, 0), letter_header("Who is Jane Roe?", lines, 0)
    (None, None)
    >>> lines[8][slice(*letter_header("Who sent the letter of 2 June 2025?", lines, 8))], letter_header("Who sent the letter of 10 June 2025?", lines, 8)
    ('Martin Okafor', None)
    """
    line = lines[index]
    value = _FROM.match(line) if _WHO_WROTE.match(question) else _DATE.match(line) if _WHEN_WRITTEN.match(question) else None
    if value is None:
        return None
    letters = _letters(lines)
    mine = next((k for k, (a, b) in enumerate(letters) if a <= index <= b), None)
    if mine is None:
        return None
    scores = [_fit(question, lines, ab) for ab in letters]
    best = max(scores)
    if best[0] == 0 or scores[mine] != best or scores.count(best) > 1:
        return None
    return value.span("value")


def _fit(question: str, lines: Sequence[str], letter: tuple[int, int]) -> tuple[int, bool]:
    """How well a letter fits the question: the question's words it holds, and whether it replies as asked."""
    replying = bool(_REPLY.search(question))
    return _about(question, lines, letter), bool(_A_REPLY.search("\n".join(lines[letter[0]: letter[1] + 1]))) == replying


def letter_fit(question: str, lines: Sequence[str], index: int) -> tuple[int, bool] | None:
    """How well the letter whose header line is ``lines[index]`` fits the question (its words held, its
    replying as asked), for comparing letters of several passages; None for no letter's header line."""
    if not (_FROM.match(lines[index]) or _DATE.match(lines[index])):
        return None
    return next((_fit(question, lines, ab) for ab in _letters(lines) if ab[0] <= index <= ab[1]), None)


#: "What is Sophie Lambert's e-mail address?": whose address, the name before "'s"
_WHOSE_ADDRESS = re.compile(r"\b((?:[A-Z][\w’'-]+\s+){0,3}[A-Z][\w’'-]+)['’]s?\s+e-?mail(?:\s+address)?\b|\be-?mail(?:\s+address)?\s+of\s+"
                            r"((?:[A-Z][\w’'-]+\s+){0,3}[A-Z][\w’'-]+)")


def named_address(question: str, lines: Sequence[str], index: int) -> tuple[int, int] | None:
    """(start, end) of the address in a "From:", "To:" or "Cc:" line ("From: Sophie Lambert <sophie.lambert@telenet.be>")
    when the question asks for the e-mail address of the person it names; else None.

    >>> line = "From: Sophie Lambert <sophie.lambert@telenet.be>"
    >>> line[slice(*named_address("What is Sophie Lambert's e-mail address?", [line], 0))], named_address("What is Tom's e-mail?", [line], 0)
    ('sophie.lambert@telenet.be', None)
    """
    whose = _WHOSE_ADDRESS.search(question)
    sender = re.match(r"^\s*(?:From|To|Cc)\s*:\s*(?P<name>[^<\n]*?)\s*<(?P<address>[^>\s]+@[^>\s]+)>", lines[index], re.I)
    if whose is None or sender is None:
        return None
    name = (whose.group(1) or whose.group(2)).split()
    return sender.span("address") if all(re.search(rf"\b{re.escape(w)}\b", sender.group("name"), re.I) for w in name) else None


_SUBJECT_LINE = re.compile(r"^\s*Subject\s*:", re.I)
_ASKS_SUBJECT = re.compile(r"\b(?:subject|title|headline|about\s+what|what\b.*\babout)\b", re.I)


def subject_unasked(question: str, line: str) -> bool:
    """Is ``line`` an e-mail's or letter's "Subject:" line while the question does not ask what it is
    about? "Which room type did Sophie Lambert ask for?" got "July" of "Subject: Room request for July";
    what the message says is in its body.

    >>> subject_unasked("Which room type did she ask for?", "Subject: Room request for July")
    True
    >>> subject_unasked("What was the subject of her e-mail?", "Subject: Room request for July"), subject_unasked("Which room?", "Room 12")
    (False, False)
    """
    return bool(_SUBJECT_LINE.match(line)) and not _ASKS_SUBJECT.search(question)
