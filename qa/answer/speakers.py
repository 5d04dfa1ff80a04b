"""Who said what: "What did Yván Gil say?" is answered only by a sentence that reports Gil's words,
and by the words themselves (the quotation, not the verb and what follows it).

Rules over the sentence text, no model: the reader (:mod:`qa.answer.reader`) reads, these decide
whose speech a sentence reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer.definitions import fold
from qa.answer.question import content_terms
from qa.answer.scoring import Candidate
from qa.answer.spans import Span

_SAID_BY = re.compile(
    r"\bwhat\s+(?:did|does|do|has|have|had)\s+(.+?)\s+(?:say|said|tell|told|claim|write|wrote|post|announce|declare|warn|add"
    r"|emphasi[sz]e|stress|explain|insist|argue|assert|note|tweet|promise|vow)\b",
    re.I,
)
#: verbs (and "according to") that attribute speech; the -ing forms only right after their speaker
#: ("with President Sheinbaum asserting that …"), since ", arguing that" belongs to the sentence's subject
_SPEECH_VERB = re.compile(
    r"\b(?:said|says|told|tells|stated|states|wrote|writes|posted|announced|declared|warned|warns|added|claimed|claims"
    r"|asserted|asserts|insisted|insists|noted|argued|argues|vowed|spoke|emphasi[sz]ed|emphasi[sz]es|stressed|stresses"
    r"|explained|explains|confirmed|denied|acknowledged|admitted|replied|responded|urged|tweeted|remarked|promised"
    r"|called|calls|answered|asked|recalled|commented|testified|joked|quipped|described|describes"
    r"|according to)\b", re.I)
_SPEECH_ING = re.compile(r"\b(?:saying|telling|stating|writing|announcing|declaring|warning|adding|claiming|asserting"
                         r"|insisting|noting|arguing|vowing|speaking|emphasi[sz]ing|stressing|explaining|urging)\b", re.I)
_QUOTE_MARK = re.compile(r"[“\"”‘]")
#: words a speaker may stand from the verb that attributes the speech to them ("declared Venezuelan
#: Foreign Minister Yván Gil": 4; "Maduro has declared": 1)
_SPEAKER_REACH = 6
#: spans read per passage for "What did X say?": the reader's best spans may all be another speaker's
#: quote in the same passage ("a precise counter-narcotics action" beside Yván Gil's words)
SPEAKER_SPANS = 20
#: words a quotation needs to be taken for what a speaker said rather than a quoted term
_SPEECH_WORDS = 5


def speaker_of(question: str) -> str | None:
    """The X of "What did X say ...?", or None: a name's last word, which a quote names ("Yván Gil" →
    "Gil"), or a description less its owner and determiners, which a quote may name with other
    words around it ("the foreign minister of Venezuela" → "foreign minister": not "minister", which
    the interior minister is too).

    >>> speaker_of("What did Trump say about the operation?"), speaker_of("What did Yván Gil say?")
    ('Trump', 'Gil')
    >>> speaker_of("What did the foreign minister of Venezuela say?"), speaker_of("What did Mexico’s president say?")
    ('foreign minister', 'president')
    >>> speaker_of("What did the Pentagon official say?"), speaker_of("Who was sworn in?")
    ('Pentagon official', None)
    """
    m = _SAID_BY.search(question)
    if not m:
        return None
    phrase = re.split(r"\s+of\s+", m.group(1), maxsplit=1)[0]  # "the minister of Venezuela": the minister
    phrase = re.sub(r"^.*?[\w.]+[’']s?\s+(?=\w)", "", phrase) if re.search(r"[’']s?\s+\w", phrase) else phrase
    words = [w for w in re.findall(r"[\w.'’-]+", phrase) if w.lower() not in ("the", "a", "an", "u.s.", "his", "her", "their", "its")]
    if not words:
        return None
    return words[-1] if words[-1][0].isupper() else " ".join(words)


def named_speaker(question: str) -> str | None:
    """:func:`speaker_of` when it is a name ("What did Yván Gil say?" → "Gil"), not a description
    ("What did Mexico's president say?", "What do they write?"): only a named speaker's question is
    answered by nothing but a sentence that reports their words.

    >>> named_speaker("What did Yván Gil say?"), named_speaker("What did Venezuela's foreign minister say?")
    ('Gil', None)
    """
    speaker = speaker_of(question)
    return speaker if speaker and speaker[0].isupper() else None


_CONTINUES = re.compile(r"^\W*(?:he|she|they|the president|[“\"‘])", re.I)


def _words_between(text: str, a: int, b: int) -> int:
    return len(text[min(a, b) : max(a, b)].split())


def _attributes_to(speaker: re.Pattern[str], sentence: str) -> bool:
    """Is speech in ``sentence`` attributed to ``speaker``: named as the sentence's subject (within its
    first words), next to a speech verb ("Trump said", "said Trump", "declared Minister Yván Gil"), or
    right before an -ing one with no comma between ("Sheinbaum asserting")?"""
    names = list(speaker.finditer(sentence))
    if not names:
        return False
    verbs = [m.start() for m in _SPEECH_VERB.finditer(sentence)]
    if any(_words_between(sentence, 0, n.start()) < _SPEAKER_REACH for n in names):
        return bool(verbs or _QUOTE_MARK.search(sentence) or _SPEECH_ING.search(sentence))
    if any(_words_between(sentence, n.start(), v) <= _SPEAKER_REACH for n in names for v in verbs):
        return True
    return any(0 <= g.start() - n.end() and "," not in sentence[n.end() : g.start()]
               and _words_between(sentence, n.end(), g.start()) <= 3 for n in names for g in _SPEECH_ING.finditer(sentence))


#: an e-mail's sender line, and the words by which a sentence speaks for its writer
_FROM = re.compile(r"^\s*From:\s*(.+)$", re.I)
#: a transcript's or minutes' line opened by who speaks: "[19:14] Priya Raman: …", "Jenna Ortiz: …"
_TURN = re.compile(r"^\s*(?:\[[^\]]{1,24}\]\s*|\d{1,2}[:.]\d{2}\s+)?([A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3}):\s+\S", re.I)
#: a speaker described by a title, and the title's abbreviation before a name ("What did the doctor say?" over "Dr. Patel: …")
_TITLE_ABBREVIATIONS = {"doctor": r"\bDr\b\.?", "professor": r"\bProf\b\.?", "nurse": r"\bNurse\b", "senator": r"\bSen\b\.",
                        "governor": r"\bGov\b\.", "general": r"\bGen\b\.", "captain": r"\bCapt\b\.?", "reverend": r"\bRev\b\.?"}
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I'll|I’ll|I've|I’ve|I'd|I’d|my|me|we|our)\b", re.I)


def quotes_speaker(speaker: str, sentence: str, previous: str | Sequence[str] = "") -> bool:
    """Does ``sentence`` report speech by ``speaker``: attributed to them in it (:func:`_attributes_to`),
    or continuing a ``previous`` sentence that does, or whose subject they are ("He added ...", an
    opening quote)? ``previous`` may list the sentences before, nearest first: a chain of sentences
    that each continue the one before leads back to the speaker ("Trump, for his part, …" / "He has
    praised …" / "‘She’s prepared to work with us,’ he said").
    A name elsewhere in the sentence is not enough: "He praised Rodriguez over Maria Corina Machado,
    arguing that …" reports nothing Machado said.

    >>> quotes_speaker("Trump", "Trump said the operation was a success.")
    True
    >>> quotes_speaker("Trump", "The foreign minister said it was an act of aggression.")
    False
    >>> quotes_speaker("Trump", "He added that oil would flow.", "Trump spoke on Saturday.")
    True
    >>> quotes_speaker("Machado", "He praised Rodriguez over opposition figure Maria Corina Machado, arguing that she was weak.")
    False
    >>> quotes_speaker("Trump", "‘She’s ready,’ he said.", ["He praised Rodriguez.", "Trump, for his part, stood firm."])
    True
    >>> quotes_speaker("Paul", "I will need a projector.", ["Happy to run it.", "From: Paul Okonkwo <paul@x.com>"])
    True
    >>> quotes_speaker("Priya", "[19:14] Priya Raman: Your Hub X3 looks healthy.")
    True
    >>> quotes_speaker("Priya", "It is the line card.", ["[19:15] Daniel Foster: Is it the router?", "[19:14] Priya Raman: Hi."])
    False
    >>> quotes_speaker("doctor", "Dr. Patel: Cut salt down to less than 5 grams a day."), quotes_speaker("doctor", "Maria: Thank you.")
    (True, False)
    """
    title = _TITLE_ABBREVIATIONS.get(speaker.lower())  # "the doctor" speaks in a transcript's "Dr. Patel:" lines
    pat = re.compile(rf"\b(?:{re.escape(fold(speaker))}\b{'|' + title if title else ''})", re.I)
    sentence = fold(sentence)
    earlier = [fold(p) for p in ([previous] if isinstance(previous, str) else previous) if p]
    if _attributes_to(pat, sentence):
        return True
    # a transcript's line speaks for the name it opens with ("[19:14] Priya Raman: Your Hub X3 …"),
    # and so do the sentences after it until another name opens a line
    turn = next((m for m in map(_TURN.match, [sentence, *earlier]) if m), None)
    if turn is not None and pat.search(turn.group(1)):
        return True
    # an e-mail's body speaks for its sender: "I will need a projector" under "From: Paul Okonkwo"
    sender = next((m for m in map(_FROM.match, earlier) if m), None)
    if sender is not None and pat.search(sender.group(1)) and _FIRST_PERSON.search(sentence):
        return True
    if not (earlier and _CONTINUES.search(sentence) and (_SPEECH_VERB.search(sentence) or _QUOTE_MARK.search(sentence))):
        return False
    for before in earlier:
        if _attributes_to(pat, before) or any(_words_between(before, 0, m.start()) < _SPEAKER_REACH
                                              for m in pat.finditer(before)):  # its subject
            return True
        if not _CONTINUES.search(before):
            return False
    return False


#: what a "What did X say about Y?" question asks about
_ABOUT = re.compile(r"\b(?:about|on|regarding|concerning)\s+(?:the\s+)?(.+?)\W*$", re.I)


def said_about(question: str, theirs: Sequence[str]) -> int | None:
    """The index of the one sentence of ``theirs`` (what the asked speaker is reported to have said)
    that names every word of what "What did X say about Y?" asks about, or None. "What did the doctor
    say about salt?" over a transcript is answered by "Dr. Patel: Cut salt down to less than 5 grams a
    day …" as surely as a looked-up line: the reader, trained on prose, was unsure of dialogue.

    >>> said_about("What did the doctor say about salt?", ["Dr. Patel: Cut salt down to 5 grams a day.", "Dr. Patel: Hello."])
    0
    >>> said_about("What did the doctor say?", ["Dr. Patel: Cut salt."]), said_about("What did she say about salt?", ["Salt.", "No salt."])
    (None, None)
    """
    m = _ABOUT.search(question) if _SAID_BY.search(question) else None
    terms = set(content_terms(m.group(1))) if m else set()
    if not terms:
        return None
    naming = [i for i, s in enumerate(theirs) if terms <= set(content_terms(s))]
    return naming[0] if len(naming) == 1 else None


def turn_words(sentence: str) -> Span | None:
    """What a transcript's line says, less who says it: "Cut salt down …" of "Dr. Patel: Cut salt down …".

    >>> s = "Dr. Patel: Cut salt down."; turn_words(s).text(s), turn_words("Salt is bad.")
    ('Cut salt down', None)
    """
    m = _TURN.match(sentence)
    if m is None:
        return None
    start, end = m.end() - 1, len(sentence.rstrip())
    while end > start and sentence[end - 1] in ".!?":
        end -= 1
    return Span(start, end, "turn")


def their_words(span: Span | None, quote: Span | None, sentence: str) -> Span | None:
    """What a speaker said: the reader's span, cut to the sentence's quotation when it runs past it
    ("What was done … to anyone,’ she warned during …"), or the quotation when the span is outside it: "“We are prepared to defend our peace …,” Maduro stated emphatically,
    dismissing any potential invasion" answers "What did Maduro say?" with his words, not with
    "emphatically, dismissing any potential invasion"."""
    if span is None or quote is None or quote.kind != "quote":
        return span
    if span.start < quote.end and quote.start < span.end:  # in the quotation: the part of it that is
        return Span(max(span.start, quote.start), min(span.end, quote.end), span.kind)
    # a few quoted words are a term, not speech: "entitled to stay, so long as … an “indirect quid pro quo”"
    return quote if len(quote.text(sentence).split()) >= _SPEECH_WORDS else span


def previous_sentences(c: Candidate) -> list[str]:
    """The (up to 3) sentences before ``c``'s in its passage, nearest first; then the "From:" line
    of the e-mail the sentence is in, if the passage holds it."""
    sentences = c.hit.chunk.sentences
    near = [sentences[i].text for i in range(c.index - 1, max(-1, c.index - 4), -1)]
    sender = next((sentences[i].text for i in range(c.index - 1, -1, -1) if _FROM.match(sentences[i].text)), None)
    return near + [sender] if sender and sender not in near else near


#: labels that name no speaker: days and months
_NOT_A_SPEAKER = re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|January|February|March|April|May|June|July|August"
                            r"|September|October|November|December", re.I)


def turn_label(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the span the name a transcript's line opens with, for a question that asks for no person?
    "What router model does Daniel have?" is not answered by the "Priya Raman" of "[19:07] Priya
    Raman: Which router do you have?" (a user's support chat).

    >>> s = "[19:07] Priya Raman: Which router do you have?"
    >>> turn_label("What router does Daniel have?", s, 8, 19), turn_label("Who asked about the router?", s, 8, 19)
    (True, False)
    >>> turn_label("On which day is the restaurant closed?", "Monday: closed", 0, 6)
    False
    >>> s = "Mayor Ortega: The developer is Kestrel Housing Cooperative."
    >>> turn_label("Who is building the homes?", s, 0, 12), turn_label("Who was first elected in 2021?", "Mayor Ortega: I was first elected in 2021.", 0, 12)
    (True, False)
    """
    turn = _TURN.match(sentence)  # a label with a number ("AI-2: …") is an item's, not a speaker's
    if turn is None or re.search(r"\d", turn.group(1)) or not (turn.start(1) <= start and end <= turn.end(1) + 1):
        return False
    said = sentence[turn.end(1) + 1 :].strip()
    if _NOT_A_SPEAKER.fullmatch(turn.group(1)) or (len(said.split()) <= 3 and not re.search(r"[.?!…]$", said)):
        return False  # "Monday: closed" is a list's line, no one's turn
    if not re.match(r"^\W*(?:who|whom|whose)\b", question, re.I):
        return True
    # who said or asked it is who speaks; who does something else, only when they say "I" ("Mayor
    # Ortega: The brickworks site will become … and we expect …" does not say who builds the homes)
    return not _SPEECH_VERB.search(question) and not re.search(r"\b(?:say|tell|ask|mention|promise|explain|answer)\b", question, re.I) \
        and not re.search(r"\bI(?:['’](?:m|ll|ve|d))?\b", sentence[turn.end(1):])
