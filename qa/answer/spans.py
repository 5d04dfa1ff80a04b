"""Typed answer candidates in a sentence: dates, numbers, quotes, names of people, places, groups.

Regular expressions only, no model. :func:`spans_of` lists every candidate span of a sentence with
its kind; :data:`TYPE_ACCEPTS` says how well each kind answers each question type (a person for
"who", an entity at 0.8), which the scoring (:mod:`qa.answer.scoring`) weighs against the distance
to the question's words.

>>> t = "The oath was taken by Delcy Rodríguez in Caracas on Monday, and 12 ministers attended."
>>> [(s.text(t), s.kind) for s in spans_of(t)]
[('Monday', 'date'), ('12', 'number'), ('Delcy Rodríguez', 'entity'), ('Caracas', 'place')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from typing import Any

from qa.answer.question import DATE, ENTITY, NUMBER, ORG, PERSON, PLACE, QUOTE, STOPWORDS
from qa.pointers import NUMBERED_LINE

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_PATTERNS = [
    rf"(?:{_WEEKDAY},?\s+)?{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?",
    rf"(?:{_WEEKDAY},?\s+)?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?",
    rf"(?:(?:early|late|mid)[- ])?{_MONTH}(?:\s+(?:of\s+)?\d{{4}})?",
    rf"(?:(?:[Ll]ate|[Ee]arly)\s+)?{_WEEKDAY}(?:\s+(?:night|morning|evening|afternoon))?",
    r"(?:1[5-9]\d\d|20\d\d)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])",  # ISO 8601: "2025-11-14"
    r"(?:(?:in|since|by|until)\s+)?(?:1[5-9]\d\d|20\d\d)s?",
    r"(?i:(?:last|this|next|earlier this|later this)\s+(?:year|week|month|weekend))",
    r"(?i:(?:the\s+)?(?:early|late)\s+hours(?:\s+of\s+\w+)?)",
    r"(?i:yesterday|today|tonight|overnight)",
]
_DATE = re.compile(r"\b(?:" + "|".join(_DATE_PATTERNS) + r")\b")
#: a time of day ("09:00", "7:30 p.m.", "7 pm") or a range of them ("12:00 to 17:00"): when a library
#: opens is a time, not the weekday the question already names (a user's opening hours: "- Sunday: 12:00 to 17:00")
_CLOCK = r"(?:\d{1,2}:[0-5]\d(?:\s?(?:[ap]\.m\.|[ap]m\b|[AP]M\b))?|\d{1,2}\s?(?:[ap]\.m\.|[ap]m\b|[AP]M\b))"
_CLOCK_TIME = re.compile(rf"(?<![\w:.]){_CLOCK}(?:\s?(?:to|until|till|–|—|-)\s?{_CLOCK})?(?![\w:])")
_NUMWORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|dozen|dozens|billion)"
_NUMBER = re.compile(
    r"(?:(?:up to|about|around|nearly|almost|over|more than|at least|some|roughly)\s+)?"
    r"(?:(?:US)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|trillion|thousand|[mb]n))?"
    r"|\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?"
    rf"|\b(?:a\s+)?{_NUMWORD}(?:[\s-]+{_NUMWORD})*)"
    r"(?:\s+(?:percent|per cent|dollars|euros|pounds))?\b",
    re.I,
)
# Capitalised name-like sequences, allowing particles ("Cartel de los Soles", "Catia La Mar").
_UPPER_WORD = r"(?:(?:[A-Z]\.){2,}|[A-ZÀ-ÖØ-Þ][\w’'\-.]*[\w]|[A-Z]\.)"
_CAPSEQ = re.compile(rf"{_UPPER_WORD}(?:\s+(?:(?:de|del|la|los|las|da|di|van|von|al|bin|of|the|and|for|y)\s+)*{_UPPER_WORD})*")
_QUOTED = re.compile(r"[“\"‘]([^“”\"]{3,}?)[”\"’](?!\w)")

_TITLES = re.compile(
    r"^(?:(?:Former|Socialist|Venezuelan|U\.S\.|US|American|Acting|Interim|Deputy|Vice|Foreign|Interior|Defense|Defence|"
    r"Prime|Attorney|Secretary|General|Chief|Senior|Supreme|Opposition|President|Minister|Leader|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|"
    r"Sen\.?|Gov\.?|Rep\.?|Gen\.?|Col\.?|Pope|King|Queen|Prince|Judge|Justice|Ambassador|Commander|Director|Spokesman|Spokeswoman|"
    r"Governor|Senator|Mayor|Chancellor|Officer|of|State|Administration)\s+)+"
)
_ORG_WORDS = re.compile(
    r"\b(?:Council|Forces|Force|Department|Ministry|University|Nations|Organi[sz]ation|Court|House|Party|Army|Guard|Report|News|"
    r"Channel|Agency|Bureau|Office|Administration|Government|Cartel|Commission|Committee|Union|Bank|Group|Institute|Association|"
    r"Navy|Pentagon|Congress|Senate|Assembly|Command|Corporation|Company|Inc|Ltd|Times|Post|Network|Service|Services|Telegram|Fox|Security)\b"
)
_PLACE_PREP = re.compile(r"\b(?:in|at|near|from|to|into|across|toward|towards|outside|inside|around|of)\s+(?:the\s+)?$", re.I)
_NOT_NAMES = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY}|The|A|An|This|That|These|Those|It|He|She|They|We|I|But|And|Yet|As|In|On|At|For|If|While|When|After|Before|Meanwhile|However|According|BREAKING|URGENT|UPDATE|EXCLUSIVE|NOW)$")


# Countries and a few other well-known places: capitalised names that are places, not people.
_PLACES = frozenset(
    """afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
    bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burkina
    burundi cambodia cameroon canada chad chile china colombia comoros congo croatia cuba cyprus czechia denmark
    djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
    ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland india indonesia iran iraq ireland
    israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo kuwait kyrgyzstan laos latvia lebanon lesotho
    liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta mauritania
    mauritius mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal
    netherlands nicaragua niger nigeria norway oman pakistan palau palestine panama paraguay peru philippines poland
    portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain
    sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga trinidad tunisia turkey
    turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe america
    europe africa asia caribbean florida washington caracas london paris moscow beijing havana bogotá bogota
    u.s. us usa u.k. uk""".split()
) | frozenset({"united states", "united kingdom", "latin america", "south america", "north america", "u.s.", "u.s", "usa", "us", "uk", "u.k."})


# Capitalised at the start of a sentence or clause, but never the start of a name.
_LEADING_WORDS = frozenset(
    """since although though despite during following amid among amidst under unless whereas whether yet so thus
    hence also still even earlier later last now then here there instead meanwhile moreover furthermore indeed
    nevertheless nonetheless besides today tonight yesterday""".split()
)


@dataclass(frozen=True)
class Span:
    """A typed candidate answer inside a sentence; ``start``/``end`` are relative to the sentence."""

    start: int
    end: int
    kind: str

    def text(self, sentence: str) -> str:
        return sentence[self.start : self.end]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ADDRESS = re.compile(r"[^\s<>\"“”‘’'()\[\]]*(?:@|://|www\.)[^\s<>\"“”‘’'()\[\]]*"
                      r"|\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,5}\)?){2,5}(?=\W|$)")  # a phone number: "(503) 555-0147", "+47 32 21 45 00"


def _whole_addresses(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span that ends or starts inside an e-mail or web address or a phone number takes all of it
    (less a sentence's closing punctuation): the reader's word pieces cut
    "people@northwind-robotics.example" at "people@northwind-robotics", and "+47 32 21 45 00" lost
    its "+", "(503) 555-0147" all but "503"."""
    for a, b in _addresses(sentence):
        if a < end and start < b:  # the span overlaps the address: it holds all of it
            start, end = min(start, a), max(end, b)
    return start, end


@functools.lru_cache(maxsize=8192)
def _addresses(sentence: str) -> tuple[tuple[int, int], ...]:
    """Where ``sentence``'s e-mail and web addresses and phone numbers stand (less closing punctuation);
    cached, as every span the reader finds in a sentence asks."""
    found = []
    for m in _ADDRESS.finditer(sentence):
        if m.group()[:1].isdigit() or m.group()[:1] in "+(":  # a phone number: at least 7 digits
            if len(re.sub(r"\D", "", m.group())) < 7:
                continue
        a, b = m.start(), m.end()
        while b > a and sentence[b - 1] in ".,;:!?":
            b -= 1
        found.append((a, b))
    return tuple(found)


#: a question asking for such a number: "Which clause covers late payment?"
_ASKS_NUMBER = re.compile(r"\b(?:which|what)\s+(?:clause|section|item|paragraph|point|article|step|rule|number)\b", re.I)


def past_numbering(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span opening with its line's number starts after it: the reader took "3.1" of "3.1 The
    minimum order quantity is 50 units …" for the quantity, "4.3 A 2%" for the discount (a user's
    supply agreement). A span of the number alone comes back empty, unless the question asks for a
    clause's or item's number.

    >>> s = "3.1 The minimum order quantity is 50 units."
    >>> s[slice(*past_numbering("What is the minimum order quantity?", s, 0, 3))], s[slice(*past_numbering("Which clause sets it?", s, 0, 3))]
    ('', '3.1')
    >>> s = "4.3 A 2% discount applies."; s[slice(*past_numbering("What discount?", s, 0, 8))]
    'A 2%'
    """
    m = NUMBERED_LINE.match(sentence)
    if m is None or start >= m.end() or _ASKS_NUMBER.search(question):
        return start, end
    return (m.end(), end) if end > m.end() else (start, start)


def trim(sentence: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` moved inwards past blanks, punctuation and quote marks (a period stays
    only after an abbreviation such as "U.S."); an e-mail or web address is kept whole.

    >>> s = "Write to people@northwind-robotics.example today."
    >>> a, b = trim(s, s.index("people"), s.index(".example"))
    >>> s[a:b]
    'people@northwind-robotics.example'
    >>> s = "It opens at 5 p.m."; s[slice(*trim(s, 12, len(s)))]
    '5 p.m.'
    >>> s = "Absent: Oliver Grant, General Counsel (on leave)."; s[slice(*trim(s, 8, len(s)))]
    'Oliver Grant, General Counsel (on leave)'
    >>> s = "Call (503) 555-0147 or +47 32 21 45 00."
    >>> s[slice(*trim(s, 6, 9))], s[slice(*trim(s, s.index("+47") + 1, s.index(" 00")))]
    ('(503) 555-0147', '+47 32 21 45 00')
    >>> s = "- **1902**: The bridge opens."; s[slice(*trim(s, 2, 10))]
    '1902'
    >>> s = "5 | Dockside United | 12 | 14 | -2 | 10"; s[slice(*trim(s, s.index("-2"), s.index("-2") + 2))]
    '-2'
    >>> s = "Owen Price (Eastfield Wanderers) scored"; s[slice(*trim(s, 0, s.index(")")))]
    'Owen Price (Eastfield Wanderers)'
    >>> s = "the Warsaw City Council (Rada Miasta Stołecznego Warszawy)"; s[slice(*trim(s, 4, s.index(" Stoł")))]
    'Warsaw City Council'
    >>> s, t = "The flat is in Band C.", "He moved to the U.S."
    >>> s[slice(*trim(s, 15, len(s)))], t[slice(*trim(t, 16, len(t)))]
    ('Band C', 'U.S.')
    """
    while start < end and sentence[start] in " \t,;:.–—-(\"“‘'*`<":  # "*", "`": Markdown's "**1902**", "`max_size`"
        if sentence[start] in "-–−" and start + 1 < end and sentence[start + 1].isdigit() \
                and (start == 0 or sentence[start - 1] in " \t(|"):
            break  # a negative number keeps its sign: "-2" (a goal difference), "-5 degrees"
        start += 1
    while end > start and sentence[end - 1] in " \t,;:–—-)\"”’'*`>":  # ">": an address's "<…>"
        if sentence[end - 1] == ")" and sentence.count("(", start, end) >= sentence.count(")", start, end):
            break  # the bracket the span opened: "General Counsel (on leave)" keeps it
        end -= 1
    # a trailing period belongs to the span only for abbreviations like "U.S." / "Jr."
    if end > start and sentence[end - 1] == "." and not re.search(r"(?:\b[A-Z]\.|\b[a-z]\.[a-z]\.|Jr\.|Sr\.|Inc\.)$", sentence[start:end]):
        end -= 1
    elif end > start and sentence[end - 1] == "." and not sentence[end:].strip() \
            and re.search(r"(?<![.\w])(?<!\.\s)[A-Z]\.$", sentence[start:end]):
        end -= 1  # the sentence's own period after a lone capital: "Band C." (not "U.S.", nor "John F. Kennedy")
    if sentence.count("(", start, end) > sentence.count(")", start, end):  # "Owen Price (Eastfield Wanderers": cut, or closed
        opened = sentence.index("(", start, end)
        if 0 <= sentence.find(")", end) - end <= 3:  # "n = 4 (or 216 + 1": its bracket closes right after
            end = sentence.find(")", end) + 1
        elif sentence[start:opened].strip():
            end = len(sentence[:opened].rstrip())
    return _whole_addresses(sentence, start, end) if end > start else (start, end)


@functools.lru_cache(maxsize=8192)
def is_title_case(sentence: str) -> bool:
    """Headline Case Or ALL CAPS: capitals there say nothing about names."""
    words = [w for w in re.findall(r"[^\W\d_][\w’'-]*", sentence) if len(w) > 3]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) / len(words) > 0.7


def spans_of(sentence: str) -> list[Span]:
    """Typed candidate spans in a sentence (offsets relative to it): dates first, then numbers not
    inside a date, quotes, and capitalised names (none in a headline, whose capitals mean nothing)."""
    return list(_spans_of(sentence))


@functools.lru_cache(maxsize=8192)
def _spans_of(sentence: str) -> tuple[Span, ...]:
    # cached: every question types every sentence of its passages again (a third of ranking's time),
    # and a collection's sentences recur from question to question
    out: list[Span] = []
    for m in _DATE.finditer(sentence):
        s, e = trim(sentence, m.start(), m.end())
        if e > s:
            out.append(Span(s, e, DATE))
    for m in _CLOCK_TIME.finditer(sentence):
        if not any(x.start <= m.start() < x.end for x in out):
            out.append(Span(m.start(), m.end(), DATE))
    date_cover = [(x.start, x.end) for x in out]
    for m in _NUMBER.finditer(sentence):
        s, e = trim(sentence, m.start(), m.end())
        if e <= s or any(a <= s and e <= b for a, b in date_cover):
            continue
        if re.fullmatch(r"(?:a\s+)?(?:one|a)", sentence[s:e], re.I):  # "one of", "a": rarely an answer
            continue
        out.append(Span(s, e, NUMBER))
    for m in _QUOTED.finditer(sentence):
        s, e = trim(sentence, m.start(1), m.end(1))
        if e > s:
            out.append(Span(s, e, QUOTE))
    date_cover = [(x.start, x.end) for x in out if x.kind == DATE]
    for m in ([] if is_title_case(sentence) else _CAPSEQ.finditer(sentence)):
        span = _name_span(sentence, m.start(), m.end(), date_cover)
        if span is not None:
            out.append(span)
    return tuple(out)


def _name_bounds(sentence: str, s: int, e: int) -> tuple[int, int]:
    """A capitalised run without trailing particles ("of", "the") and without leading function
    words or sentence-initial verbs/adverbs ("On January", "Adding", "Early"); empty when nothing is left."""
    while True:
        t = re.search(r"\s+(?:of|the|and|for|de|del|la|los|y)$", sentence[s:e])
        if not t:
            break
        e = s + t.start()
    while True:
        t = re.match(r"(\S+)\s+", sentence[s:e])
        first = t.group(1) if t else sentence[s:e]
        if first.lower() in STOPWORDS or first.lower() in _LEADING_WORDS or _NOT_NAMES.match(first) or (
            s == 0 and re.fullmatch(r"[A-Z][a-z]+(?:ing|ly|ed)", first)
        ):
            if not t:
                e = s
                break
            s += t.end()
            continue
        break
    return s, e


def _name_span(sentence: str, start: int, end: int, date_cover: list[tuple[int, int]]) -> Span | None:
    """The name in the capitalised run ``sentence[start:end]``, typed as an organisation, a person
    (after a title), a place (after a place preposition, or a known place) or an entity; None when
    the run is no name (a month, a date, a lone title, shouting)."""
    s, e = _name_bounds(sentence, *trim(sentence, start, end))
    if e <= s or any(a <= s < b for a, b in date_cover):
        return None
    text = sentence[s:e]
    words = text.split()
    if len(words) == 1 and _NOT_NAMES.match(words[0]):
        return None
    if _DATE.fullmatch(text) or text.isupper() and len(text) > 6:
        return None
    before = sentence[max(0, s - 30) : s]
    if _ORG_WORDS.search(text) or re.fullmatch(r"[A-Z]{2,6}", text):
        return Span(s, e, ORG)
    # drop leading titles: "Interior Minister Diosdado Cabello" -> "Diosdado Cabello"
    t = _TITLES.match(text)
    if t and t.end() < len(text):
        return Span(s + t.end(), e, PERSON)
    if t:  # only a title ("Vice President")
        return None
    kind = PLACE if _PLACE_PREP.search(before) or text.lower() in _PLACES or text.lower().removeprefix("the ") in _PLACES else ENTITY
    return Span(s, e, kind)


#: how well a span of each kind answers each question type (a type not listed gets no typed span)
TYPE_ACCEPTS: dict[str, dict[str, float]] = {
    PERSON: {PERSON: 1.0, ENTITY: 0.8, ORG: 0.4},
    DATE: {DATE: 1.0},
    NUMBER: {NUMBER: 1.0},
    PLACE: {PLACE: 1.0, ENTITY: 0.7, ORG: 0.2},
    ORG: {ORG: 1.0, ENTITY: 0.6},
    ENTITY: {ENTITY: 1.0, PERSON: 0.9, ORG: 0.9, PLACE: 0.9},
    QUOTE: {QUOTE: 1.0},
}

