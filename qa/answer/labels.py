"""Labelled lines, "Label: value": the value of the line the question names by its label (or the
label of the line whose value it gives), and the lines that answer nothing because they are another
label's. A user's opening hours ("- Sunday: 12:00 to 17:00"), loan rules ("- Books: 21 days, up to 12
items"), action items ("AI-3: Keep a prebuilt image. Owner: Mei Lin Chao. Due date: 2025-11-21."),
timeline ("15:20 UTC - …"), agenda ("4. Skate park lighting") and lease ("4.2 The tenant shall …")
are lists the reader, trained on prose, reads poorly: it proposed Monday's line for Sunday, and
every item's owner for AI-3.

>>> hours = ["- Monday: 09:00 to 18:00", "- Sunday: 12:00 to 17:00"]
>>> hours[1][slice(*asked_value("When is the library open on Sunday?", hours, 1, "when", None))]
'12:00 to 17:00'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from qa.answer.extent import with_unit
from qa.answer.fit import counted_after_in_other_units, counts_in_units
from qa.answer.question import ROLES, content_terms, only_a_date, plausible
from qa.answer.numbered import numbered_value
from qa.answer.spans import Span, spans_of
from qa.pointers import ITEM_WORDS
from qa.types import Chunk


#: words of "how many", "how long" …: they ask, they name nothing the passage should mention
_ASKING = frozenset(content_terms(f"many much long often far old time times day days {ITEM_WORDS} "
                                  "go goes get gets put happen happened happens say says"
                                  " open opens opening hours"  # "opening hours on Thursday" over "Thursday: 9:00 to 19:00"
                                  " wrote write written sent send letter letters e-mail email message"))  # a letter's "From:"


#: a labelled line: "- Sunday: 12:00 to 17:00", "Late fee: 20 cents per item per day" (a short label, a colon, a value)
#: (Markdown's emphasis around the label or its colon is not the label's: "- **1902**: …", "**Due:** Friday")
_LABELLED = re.compile(r"^\s*(?:(?:[-*•+]|\d{1,2}[.)])\s+)?(?:\*\*?|__?)?(?P<label>[^\s:|.!?*_][^:|.!?]{0,40}?)(?:\*\*?|__?)?\s*:"
                       r"(?:\*\*?|__?)?\s+(?P<value>\S.*?)\s*$")


#: a timeline's line: "14:02 UTC - Error rates rose" (a time, a dash, what happened)
_TIMED_LINE = re.compile(r"^\s*(?:[-*•+]\s+)?(?P<label>\d{1,2}[:.]\d{2}(?:\s?(?:[ap]\.?m\.?|[A-Z]{2,4}))?)\s+[-–—]\s+(?P<value>\S.*?)\s*$")


@functools.lru_cache(maxsize=8192)
def labelled(line: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((start, end) of the label, (start, end) of the value) of a labelled line of at most five
    label words (not counting what it says in brackets), or of a timeline's line; None for any other line.

    >>> line = "- Sunday: 12:00 to 17:00"
    >>> [line[a:b] for a, b in labelled(line)], labelled("He said: we will win the vote in the end"), labelled("09:00 to 18:00")
    (['Sunday', '12:00 to 17:00'], None, None)
    >>> labelled("Warsaw (Polish: Warszawa) is the largest city of Poland.") is None  # a bracket opened is no label
    True
    >>> line = "14:02 UTC - The first alert fired."
    >>> [line[a:b] for a, b in labelled(line)]
    ['14:02 UTC', 'The first alert fired.']
    >>> [[x[a:b] for a, b in labelled(x)] for x in ("- **1902**: The bridge opens.", "**Due:** Friday")]
    [['1902', 'The bridge opens.'], ['Due', 'Friday']]
    >>> line = "Fischerstube am Steg, fresh lake fish: 400 m"; [line[a:b] for a, b in labelled(line)]
    ['Fischerstube am Steg, fresh lake fish', '400 m']
    """
    timed = _TIMED_LINE.match(line)
    if timed is not None:
        return timed.span("label"), timed.span("value")
    m = _LABELLED.match(line)
    if m is None or m.group("label").count("(") != m.group("label").count(")") or re.search(r"\b(?:said|says|told|asked|added|wrote)\b", m.group("label")):
        return None
    words = re.sub(r"\([^)]*\)", "", m.group("label")).split()
    # a name and what it is, after a comma: "Fischerstube am Steg, fresh lake fish: 400 m" (a user's restaurants)
    if len(words) > 5 and not (len(words) <= 10 and len(m.group("label").split(",")[0].split()) <= 5 and m.group("label")[:1].isupper()):
        return None
    return m.span("label"), m.span("value")


def line_of(chunk: Chunk, index: int) -> tuple[str, str]:
    """The line of ``chunk``'s text that sentence ``index`` starts on, whole, and its part before the sentence."""
    at = chunk.sentences[index].start - chunk.start
    start = chunk.text.rfind("\n", 0, at) + 1
    end = chunk.text.find("\n", at)
    return chunk.text[start : end if end >= 0 else len(chunk.text)], chunk.text[start:at]


def line_label(chunk: Chunk, index: int) -> str:
    """The label of the line sentence ``index`` of ``chunk`` goes on, when it does not start it: "AI-3"
    for "Owner: Mei Lin Chao." on "AI-3: Keep a prebuilt image. Owner: Mei Lin Chao." ("" otherwise),
    which counts as the sentence's heading."""
    line, before = line_of(chunk, index)
    parts = labelled(line) if before.strip() else None
    return line[slice(*parts[0])] if parts is not None and parts[0][1] <= len(before) else ""


def _label_text(line: str, label: tuple[int, int]) -> str:
    """The label without what it says in brackets ("Plastics (types 1, 2 and 5)": "Plastics ")."""
    return re.sub(r"\([^)]*\)", " ", line[slice(*label)])


def _label_terms(line: str, label: tuple[int, int]) -> set[str]:
    """The label's words, without what it says in brackets ("Plastics (types 1, 2 and 5)": plastics)."""
    return _terms(_label_text(line, label))


def _one_of(line: str, label: tuple[int, int], asked: set[str]) -> bool:
    """Does the question name one of the things a label joins ("Showroom and warehouse:" for "Where is
    the showroom?"), or the name a label opens with before a comma describing it ("Fischerstube am Steg,
    fresh lake fish:" for "How far is the Fischerstube am Steg?", a user's list of restaurants)?"""
    text = _label_text(line, label)
    parts = re.split(r"\s+(?:and|&)\s+|\s*/\s*", text)
    named = text.split(",")[0] if "," in text and text[:1].isupper() else ""
    return (len(parts) > 1 and any(_terms(p) and _terms(p) <= asked for p in parts)) or bool(_terms(named) and _terms(named) <= asked)


def shares(terms: set[str], asked: set[str]) -> bool:
    """Do ``terms`` hold a word of ``asked``, or one that begins another of three letters or more ("owner", "owns")?"""
    return any(t == q or (min(len(t), len(q)) >= 3 and (t.startswith(q) or q.startswith(t))) for t in terms for q in asked)


def _terms(text: str) -> set[str]:
    """``text``'s content words and its numbers ("Rule 7": rule, 7; a lone digit is no content word)."""
    return set(content_terms(text)) | set(re.findall(r"\d+(?:[.-]\d+)*", text))


def _named_labels(question: str, lines: Sequence[str], line_labels: Sequence[str] = ()) -> list[int]:
    """The labelled lines whose label's every word (and number) the question holds, the most specific
    ("Young driver excess", not "Named driver", for "What is the young driver excess?"); or, before
    them, the labelled sentences of a labelled line that the question names by both labels: "Owner:
    Mei Lin Chao." on the line of "AI-3: …" for "Who owns action item AI-3?"."""
    return list(_named_in(question, tuple(lines), tuple(line_labels)))


@functools.lru_cache(maxsize=1024)
def _named_in(question: str, lines: tuple[str, ...], line_labels: tuple[str, ...]) -> tuple[int, ...]:
    # once per question and passage: every span read in it, and every line, asks again
    asked = _terms(question)
    direct: list[tuple[int, int]] = []
    nested = []
    for i, line in enumerate(lines):
        parts = labelled(line)
        label = _label_terms(line, parts[0]) if parts else set()
        outer = _terms(line_labels[i]) if i < len(line_labels) else set()
        if label and outer and outer <= asked and shares(label, asked):
            nested.append(i)
        elif label and not outer and (label <= asked or _one_of(line, parts[0], asked)):  # "Due date:" of some item: which one, the question must say
            direct.append((len(label), i))
    most = max((n for n, _ in direct), default=0)
    return tuple(nested) or tuple(i for n, i in direct if n == most)


def labelled_value(question: str, lines: Sequence[str], index: int, line_labels: Sequence[str] = ()) -> tuple[int, int] | None:
    """(start, end) of the value of the labelled line ``lines[index]`` when the question names its
    label and no other line's (:func:`_named_labels`; ``line_labels``: :func:`line_label` of each):
    "When is the library open on Sunday?" over "- Sunday: 12:00 to 17:00" (a user's opening hours, a
    list the reader, trained on prose, read past); else None.

    >>> hours = ["- Monday: 09:00 to 18:00", "- Sunday: 12:00 to 17:00"]
    >>> labelled_value("When is it open on Sunday?", hours, 1), labelled_value("When is it open on Sunday?", hours, 0)
    ((10, 24), None)
    >>> items = ["AI-2: Extend the canary stage.", "Owner: Rafael Ortiz.", "AI-3: Keep an image.", "Owner: Mei Lin Chao."]
    >>> items[3][slice(*labelled_value("Who owns action item AI-3?", items, 3, ["", "AI-2", "", "AI-3"]))]
    'Mei Lin Chao.'
    """
    named = _named_labels(question, lines, line_labels)
    return labelled(lines[index])[1] if named == [index] else None


#: the most words of a value a labelled line answers with ("Glass: green bin, collected every second Tuesday")
_VALUE_WORDS = 16


def asked_value(question: str, lines: Sequence[str], index: int, kind: str | None, found: Span | None,
                line_labels: Sequence[str] = (), about: str = "") -> tuple[int, int] | None:
    """The value of the labelled line ``lines[index]`` the question names (:func:`labelled_value`) as
    its answer when its passage (``about``) speaks of all the question does (or the question names
    both the line's label and its item's, "Owner:" of "AI-3: …"): the span the reader
    ``found`` in it, if any; else the first span of the asked ``kind`` in the
    value when a kind is asked (a name only when it is the whole value: "AI-3: Keep an image" names
    nobody), else the whole value; None otherwise."""
    value, numbered = labelled_value(question, lines, index, line_labels), False
    if value is None:  # "What does clause 4.2 say?": the whole clause, however long
        value = numbered_value(question, lines, index)
        numbered = value is not None
    line = lines[index]
    if value is None or (not kind and not numbered and len(line[slice(*value)].split()) > _VALUE_WORDS):
        return None  # prose after a colon is no value
    value = _keyed_part(question, line, value)
    passage = set(content_terms(about))
    # "Owner:" of "AI-3: …", both named: sure enough; so is a line the question names by its number ("agenda item 4")
    nested = index < len(line_labels) and bool(line_labels[index])
    if about and not nested and not numbered and any(not shares({t}, passage) for t in set(content_terms(question)) - _ASKING):
        return None  # the question asks more than the passage speaks of: "the fine for food scraps in the black bin"
    typed = [(x.start, x.end) for x in spans_of(line) if value[0] <= x.start and x.end <= value[1]
             and plausible(kind, x.text(line)) and not _counts_other_units(question, line, x.start, x.end)] \
        if kind and kind != "where" else [value]  # a place's value is whole: "Karl-Liebknecht-Straße 42, 04275 Leipzig", not "42"
    if kind == "who":  # a name only when it is the whole value: "AI-3: Keep an image" names nobody
        whole = line[slice(*value)].rstrip(".;, ")
        typed = [(a, b) for a, b in typed if line[a:b] == whole]
        if re.fullmatch(r"(?:[A-Z][\w'’.-]*\s?){1,4}", whole):  # "Named driver: Priya Nair", all in capitals: no names found
            typed = typed or [(value[0], value[0] + len(whole))]
    if found is not None and value[0] <= found.start < value[1] and not (numbered and not kind):
        return (found.start, found.end) if typed else None  # ("What was decided under item 4?": all it says)
    return (typed[0][0], with_unit(line, *typed[0], question)) if typed else None  # "400 m", not "400"


def _keyed_part(question: str, line: str, value: tuple[int, int]) -> tuple[int, int]:
    """Of a value listing keyed parts, the one whose key the question asks: "4999" of "- IT Help Desk:
    Room D-001, extension 4999" for "What is the extension of the IT Help Desk?" ("Room D-001" for "Which
    room …?": a capitalised key is part of the name); else ``value``.

    >>> line = "- IT Help Desk: Room D-001, extension 4999"
    >>> [line[slice(*_keyed_part(q, line, (16, len(line))))] for q in ("What is its extension?", "Which room?", "Where is it?")]
    ['4999', 'Room D-001', 'Room D-001, extension 4999']
    """
    asked = set(content_terms(question))
    keyed = [m for m in re.finditer(r"(?:^|[,;]\s*)([A-Za-z]+)\s+([^,;]+)", line[slice(*value)])
             if content_terms(m.group(1)) and set(content_terms(m.group(1))) <= asked]
    parts = [(value[0] + m.start(1 if m.group(1)[0].isupper() else 2), value[0] + m.end(2)) for m in keyed]
    return parts[0] if len(parts) == 1 else value


def asked_label(question: str, lines: Sequence[str], index: int, kind: str | None) -> tuple[int, int] | None:
    """(start, end) of the label of ``lines[index]`` when the question gives its value and asks for
    the label: "What goes in the brown caddy?" over "- Food scraps: brown caddy, collected every
    Wednesday", "When did the first alert fire?" over "14:02 UTC - The first alert fired." The value
    holds two of the question's words at least, most of them, more than any other line's; the label
    names none of them and is of the asked ``kind``.

    >>> bins = ["- Glass: green bin", "- Food scraps: brown caddy, collected every Wednesday"]
    >>> bins[1][slice(*asked_label("What goes in the brown caddy?", bins, 1, None))], asked_label("What goes in the green caddy?", bins, 1, None)
    ('Food scraps', None)
    >>> hours = ["Monday: closed", "Tuesday to Friday: 12:00 to 22:30"]
    >>> hours[0][slice(*asked_label("On which day is Trattoria Luciana closed?", hours, 0, "when"))]
    'Monday'
    >>> asked_label("What is the purchase order number for the freezer?", ["To: Ruth", "Subject: Freezer order"], 1, None) is None
    True
    """
    label = _labels_asked(question, tuple(lines))[index]
    if label is None or (kind != "when" and only_a_date(lines[index][slice(*label)])):
        return None  # "How many people were killed …?" over "- 1941: Bombs fall on Brenn Street, killing nine people."
    if lines[index][slice(*label)].lower() in _HEADER_FIELDS | _STRUCTURE_FIELDS:
        return None  # "Subject: Freezer order" names no purchase order number, "Cc: Aisha Bello" nobody she replaced,
        # "Proposal: expand the League" nobody who proposed it
    if kind != "who" and re.fullmatch(rf"{ROLES}s?", lines[index][slice(*label)], re.I):
        return None  # "Customer: Jonas Richter" says which grinder he had no more than who he is (a user's chat)
    return label if not kind or plausible(kind, lines[index][slice(*label)]) else None


#: an e-mail's or memo's header fields: the name of a field, never what a question asks for
_HEADER_FIELDS = frozenset("from to cc bcc subject date sent re fw fwd attachment attachments reply-to importance memo".split())
#: what minutes and reports call their parts: a part's kind, never an answer ("5. Proposal: raise the match fee")
_STRUCTURE_FIELDS = frozenset("proposal motion decision resolution action note notes item agenda question answer summary "
                              "result outcome vote status comment comments description details background update".split())


@functools.lru_cache(maxsize=1024)
def _labels_asked(question: str, lines: tuple[str, ...]) -> tuple[tuple[int, int] | None, ...]:
    """:func:`asked_label` of each line, any kind: once per question and passage."""
    if _named_labels(question, lines):  # a label named asks for its value
        return (None,) * len(lines)
    asked = set(content_terms(question)) - _ASKING

    def held(line: str) -> int:
        parts = labelled(line)
        if parts is None or _label_terms(line, parts[0]) & asked:
            return 0
        return sum(shares({t}, set(content_terms(line[slice(*parts[1])]))) for t in asked)

    counts = [held(x) for x in lines]
    return tuple(_label_given(question, lines, i, counts, asked) for i in range(len(lines)))


def _label_given(question: str, lines: Sequence[str], index: int, counts: Sequence[int], asked: set[str]) -> tuple[int, int] | None:
    """The label of ``lines[index]`` when its value holds ``counts[index]`` of the question's words
    (``asked``), more than any other line's, and enough of them (:func:`asked_label`)."""
    here = counts[index]
    if not here:
        return None
    label, value = labelled(lines[index])
    # a short value the question gives whole ("closed" of "- Monday: closed" for "On which day is it closed?")
    text = lines[index][slice(*value)].strip(" .;,")
    whole = len(text.split()) <= 3 and all(shares({t}, asked) for t in content_terms(text)) \
        and not re.search(rf"\b{re.escape(text)}[’']s\b", question)  # "What was wrong with Jonas Richter's grinder?": no "Customer"
    if not (whole or (here >= 2 and here * 3 >= len(asked) * 2)) or any(n >= here for i, n in enumerate(counts) if i != index):
        return None
    if len(lines[index][slice(*value)].split()) > _VALUE_WORDS:  # prose after a colon gives no label a value
        return None
    return label


def _counts_other_units(question: str, line: str, start: int, end: int) -> bool:
    return counts_in_units(question, line[start:end]) or counted_after_in_other_units(question, line, start, end)


#: the words a question asking for an item's name uses: "Which action item does Rafael Ortiz own?"
_ITEM_NOUNS = r"item|rule|step|clause|section|article|task|ticket|point|issue|motion|stage|phase|week|day|version|release"


def label_unasked(question: str, line: str, start: int, end: int) -> bool:
    """Is ``[start, end)`` of a labelled line its label, while the question holds no word of the value?
    Then the question asks for a value: "Monday" does not answer "What are the opening hours?" over
    "- Monday: 09:00 to 18:00", while "Wednesday" answers "Which day is it closed?" over "- Wednesday: closed".

    >>> line = "- Wednesday: closed"
    >>> label_unasked("What are the opening hours?", line, 2, 11), label_unasked("Which day is it closed?", line, 2, 11)
    (True, False)

    An item's name answers only which item: "Rule 4" is no answer to "How many people must be in the
    lab after 18:00?" (a user's safety manual).

    >>> rule = "Rule 4: Never work alone; two people must be present after 18:00."
    >>> label_unasked("How many people must be present after 18:00?", rule, 0, 6), label_unasked("Which rule says two people must be present?", rule, 0, 6)
    (True, False)
    """
    parts = labelled(line)
    if parts is None or not (parts[0][0] <= start and end <= parts[0][1]):
        return False
    label = line[slice(*parts[0])]
    item = re.fullmatch(r"([A-Za-z]+)[\s-]?\d+(?:[.-]\d+)*", label)
    if item is not None and not re.match(rf"^\W*(?:which|what)\b.*\b(?:{re.escape(item.group(1))}|{_ITEM_NOUNS})", question, re.I):
        return True  # an item's name ("Rule 4") answers which item, not what it says (how many, where)
    return not set(content_terms(question)) & set(content_terms(line[slice(*parts[1])]))


def other_label(question: str, line: str, passage_lines: Sequence[str], about: str) -> bool:
    """Is ``line``, a whole line of its passage, one of several labelled lines whose label the question
    does not name, its value holding no word of the question, while the question names something the
    passage (``about``: title, headings and text) never mentions? Then the question asks about another
    label: "How long can I borrow magazines?" over "- Books: 21 days" was answered "21 days" (a user's
    library). "Which action item does Rafael Ortiz own?" still reads "AI-2: … Owner: Rafael Ortiz.". A
    line whose label the question does not name answers nothing where another line's label is named
    ("Who is the named driver?" got "Main driver: Daniel Okafor"). A word every sibling's label has names
    none ("the excess for vandalism claims" over "Compulsory excess: GBP 250").

    >>> loans = ["- Books: 21 days", "- DVDs: 7 days"]
    >>> other_label("How long can I borrow magazines?", loans[0], loans, "Borrowing\\n" + "\\n".join(loans))
    True
    >>> other_label("How long can I borrow books?", loans[0], loans, "\\n".join(loans)), other_label("What are the loan periods?", loans[0], loans, "Loan periods")
    (False, False)
    >>> made = ["Marketing authorisation holder: Brightwell Ltd.", "Manufacturer: Halvorsen Pharma Ltd, Leeds."]
    >>> other_label("Who manufactures Norafen?", made[1], made, "Norafen\\n" + "\\n".join(made))
    False
    >>> card = ['Transcript: Leeds Radio, "Morning Brew" programme', "Presenter: Jo Marsden"]
    >>> other_label("Who presented the Morning Brew programme?", card[1], card, "\\n".join(card))
    False
    """
    parts = labelled(line)
    if parts is None or sum(labelled(x) is not None for x in passage_lines) < 2:
        return False
    named = [passage_lines[i] for i in _named_labels(question, passage_lines)]
    if named:  # the question names a line's label: another's answers nothing ("Named driver:", not "Main driver:")
        return line not in named
    asked = set(content_terms(question))
    # the label's own words, not those its siblings share ("excess" of "Compulsory excess", "Theft excess")
    others = set().union(*(_label_terms(x, p[0]) for x in passage_lines if x != line and (p := labelled(x))))
    own = (_label_terms(line, parts[0]) - others) | set(content_terms(line[slice(*parts[1])]))
    if any(shares({t}, own) for t in asked):  # a word's beginning too: "manufactures" names "Manufacturer:"
        return False  # ("presented" names "Presenter:", whatever other line's value the question gives)
    if any(x != line and asked_label(question, passage_lines, i, None) for i, x in enumerate(passage_lines)):
        return True  # or gives another line's value ("closed" of "Monday: closed")
    mentioned = set(content_terms(about))
    return any(not shares({t}, mentioned) for t in asked - _ASKING)


#: a list item's line: "- ", "* ", "• " or "3. " first
_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+\S")


def other_item(question: str, lines: Sequence[str], index: int) -> bool:
    """Is ``lines[index]`` an item of a list that has none of the question's words, while another
    item of the list has some? Then the item the question names is that one. "Who is the release manager?"
    over "- Beatriz Souza, release manager" / "- Kenji Watanabe, Redis integration" was answered
    "Kenji Watanabe" (a user's README: the reader took the name after the role, on the next line).

    >>> items = ["- Beatriz Souza, release manager", "- Kenji Watanabe, Redis integration"]
    >>> other_item("Who is the release manager?", items, 1), other_item("Who is the release manager?", items, 0)
    (True, False)
    >>> other_item("Who works on Redis?", ["Beatriz Souza manages releases.", "Kenji Watanabe works on it."], 1)
    False
    """
    if not _ITEM.match(lines[index]):
        return False
    terms = set(content_terms(question))
    if terms & set(content_terms(lines[index])):
        return False
    first = last = index
    while first > 0 and _ITEM.match(lines[first - 1]):
        first -= 1
    while last + 1 < len(lines) and _ITEM.match(lines[last + 1]):
        last += 1
    return any(terms & set(content_terms(lines[j])) for j in range(first, last + 1) if j != index)
