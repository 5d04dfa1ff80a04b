"""What an earlier question was about, for a follow-up's "it": its noun phrase.

"When will it launch?" after "How long did his prototype run in field testing?" means the
prototype, not "his prototype run in field testing" (a user's chat, searched for as
"When will his prototype run in field testing launch?"). :func:`topic_of` takes the question less its
question word and auxiliaries, starts at the phrase a thing's article opens, and after "did",
"will", "can"… ends the subject's phrase at its verb. Pure Python, no model.

>>> topic_of("How long did his prototype run in field testing?")
'the prototype'
>>> topic_of("Who ordered the operation that captured Maduro?")
'the operation that captured Maduro'
"""

from __future__ import annotations

import re

WH = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how"}
AUX = {
    "is", "are", "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "can", "could",
    "will", "would", "should", "may", "might", "must", "shall", "much", "many", "long", "old", "often", "far",
}
DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "its"}
WORD = re.compile(r"\b[^\W\d_]+(?:[’'][^\W\d_]+)?\b", re.UNICODE)
#: auxiliaries after which the subject comes before its bare verb ("did the storm reach …")
_DO = {"do", "does", "did", "will", "would", "can", "could", "should", "may", "might", "must", "shall"}
_PREPOSITIONS = {"in", "on", "at", "for", "to", "from", "by", "with", "about", "into", "during", "after", "before",
                 "of", "over", "under", "through", "across", "against"}
#: a possessive whose owner the earlier question never named ("his" left unresolved) reads as "the"
_UNOWNED = {"his", "her", "their", "its"}


def topic_of(question: str) -> str:
    """What ``question`` was about: the question without its wh-word and auxiliaries, and without
    the verb in "Who VERB the …" ("Who ordered the operation that captured Maduro?" → "the
    operation that captured Maduro"; "Who was sworn in as interim president?" → "sworn in as
    interim president"; "Where did Trump watch the operation?" → "the operation"; "When did the
    storm reach the coast?" → "the storm").

    >>> topic_of("When did the United States launch the military strike?"), topic_of("When did the storm reach the coast?")
    ('the military strike', 'the storm')
    >>> topic_of("How much notice must the tenant give to end the tenancy?")
    'the tenant'

    """
    q = question.strip().rstrip("?.! ")
    words = q.split()
    i = 0
    while i < len(words) and words[i].lower() in WH | AUX:
        i += 1
    rest = words[i:]
    # "Who ordered the operation that …": drop the verb right after the wh-word when an article follows
    if i == 1 and len(rest) >= 2 and rest[1].lower() in {"the", "a", "an", "this", "that", "his", "her", "their"}:
        rest = rest[1:]
    # "Where did Trump watch the operation?": what "it" can be is the noun phrase, not "Trump watch …";
    # "When did the United States launch the military strike?": the strike, not the country (an
    # article before a lower-case word opens a thing's phrase, one before a capital a name's)
    articles = [k for k, w in enumerate(rest) if w.lower() in DETERMINERS - {"this", "that", "these", "those"}]
    common = [k for k in articles if k + 1 < len(rest) and rest[k + 1][:1].islower()]
    start = (common or articles or [0])[0]
    phrase = rest[start:]
    after_do = rest[start - 1].lower() in _DO if start else 0 < i < len(words) and words[i - 1].lower() in _DO
    if after_do and len(phrase) > 2:  # "How much notice must the tenant give …": the tenant
        phrase = _subject(phrase)
    if phrase and phrase[0].lower() in _UNOWNED:
        phrase = ["the", *phrase[1:]]
    return " ".join(phrase)


def _subject(phrase: list[str]) -> list[str]:
    """The subject of "did the storm reach the coast": the words before the verb, taken to be the
    first lower-case word after the subject's first two that an article or a preposition follows."""
    for k in range(2, len(phrase) - 1):
        if phrase[k][:1].islower() and phrase[k + 1].lower() in DETERMINERS | _PREPOSITIONS:
            return phrase[:k]
    if len(phrase) > 2 and phrase[-1][:1].islower() and phrase[-1].isalpha():  # "did the troops stay": the verb ends it
        return phrase[:-1]
    return phrase


def without_shared_tail(topic: str, question: str) -> str:
    """``topic`` less its last words that the follow-up says itself: "How fast is it retreating?"
    after "How fast is the glacier retreating?" puts "the glacier" for "it", not "the glacier
    retreating" (which read "the glacier retreating retreating"); the article and a noun stay."""
    words, asked = topic.split(), {w.lower() for w in WORD.findall(question)}
    while len(words) > 2 and words[-1].lower().strip(",.;:") in asked:
        words.pop()
    return " ".join(words)


#: "and in Porto?", "what about Leeds?": the previous question again, for another name
_OTHER_SLOT = re.compile(r"^\W*(?i:and|but|so|what about|how about)\s+(?:(in|for|at|on|of|with|by|from|to|during)\s+)?"
                         r"((?:the\s+)?[A-ZÀ-ÖØ-Þ0-9][\w’'.-]*(?:\s+[A-ZÀ-ÖØ-Þ0-9][\w’'.-]*){0,3})\s*[?.!]*\s*$")
_CAPITALISED = re.compile(r"(?<![\w’'])[A-ZÀ-ÖØ-Þ][\w’'.-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w’'.-]*)*")


def with_other_slot(question: str, previous: str) -> str | None:
    """The previous question asked for the name a follow-up offers instead: "and in Porto?" after
    "What is the annual leave in Leeds?" is "What is the annual leave in Porto?" (a user's chat got
    the sentence naming both offices). The name after the same preposition, else the last name, is
    swapped; without either, "in Porto" is added. None when ``question`` is no such follow-up.

    >>> with_other_slot("and in Porto?", "What is the annual leave in Leeds?"), with_other_slot("What about Leeds?", "Who runs the Porto office?")
    ('What is the annual leave in Porto?', 'Who runs the Leeds office?')
    >>> with_other_slot("and in Porto?", "What is the annual leave?"), with_other_slot("Where is Porto?", "Who runs it?")
    ('What is the annual leave in Porto?', None)
    """
    m = _OTHER_SLOT.match(question)
    if not m or not previous.strip():
        return None
    prep, new = m.group(1), re.sub(r"^the\s+", "", m.group(2))
    body = previous.strip().rstrip("?.! ")
    slots = list(re.finditer(rf"\b{prep}\s+(?:the\s+)?({_CAPITALISED.pattern})", body)) if prep else []
    if not slots:  # the last name, not the question's first word
        slots = [n for n in re.finditer(f"({_CAPITALISED.pattern})", body) if n.start() > 0]
    if slots:
        at = slots[-1]
        return f"{body[: at.start(1)]}{new}{body[at.end(1):]}?"
    return f"{body} {prep} {new}?" if prep else None
