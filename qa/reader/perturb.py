"""Unanswerable questions made from answerable ones, for teaching the reader to abstain.

SQuAD 2.0's unanswerable questions were written to look answerable from their paragraph: most swap an
entity or number for one the paragraph does not mention, or turn a word into its antonym (Rajpurkar et
al. 2018, table 2: entity swap 21 %, antonym 20 %, mutual exclusion 15 %, negation 9 %). Its training
set is not here, so training makes such questions from SQuAD v1.1's: a question whose anchor (a name,
a number, a superlative) the paragraph holds is changed so the paragraph no longer holds it. Paired with
the unchanged paragraph and labelled "no answer", they are the near-miss negatives a reader that only
saw other paragraphs never meets.

A change is made only when the result is absent from the paragraph (so the paragraph cannot answer
it by the changed term); the changes are rules, not a language model, so a few are still answerable in
spirit: the noise of any synthetic label. Training only: nothing here is on the query path.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

#: capitalised phrases ("Denver Broncos", "Super Bowl 50"): the entities of a question or paragraph
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z0-9][\w'’.-]*)*")
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w,])|(?<![\w.,])\d+(?:\.\d+)?(?![\w,]|\.\d)")
_YEAR = re.compile(r"^(1[0-9]|20)\d\d$")
#: question words and other capitalised words that are not entities
_NOT_NAMES = frozenset(
    "What Which Who Whom Whose When Where Why How In On At Of For By To From The A An And Or Is Are Was Were Did Do Does "
    "Has Have Had Can Could Would Should Will After Before During Along Besides Name According Other".split()
)
_ANTONYMS = dict(
    pair
    for a, b in (
        ("first", "last"), ("largest", "smallest"), ("highest", "lowest"), ("earliest", "latest"), ("oldest", "youngest"),
        ("longest", "shortest"), ("most", "least"), ("maximum", "minimum"), ("before", "after"), ("larger", "smaller"),
        ("higher", "lower"), ("older", "younger"), ("increase", "decrease"), ("increased", "decreased"), ("north", "south"),
        ("northern", "southern"), ("east", "west"), ("eastern", "western"), ("won", "lost"), ("win", "lose"),
        ("major", "minor"), ("upper", "lower"), ("inner", "outer"), ("internal", "external"), ("public", "private"),
        ("best", "worst"), ("strongest", "weakest"), ("fastest", "slowest"), ("began", "ended"), ("start", "end"),
        ("positive", "negative"), ("maximum", "minimum"), ("rich", "poor"), ("richest", "poorest"), ("top", "bottom"),
        ("early", "late"), ("legal", "illegal"), ("allowed", "banned"), ("supported", "opposed"), ("common", "rare"),
    )
    for pair in ((a, b), (b, a))
)
_WORD = re.compile(r"[A-Za-z]+")


def _present(text: str, context_low: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(text.lower()) + r"(?!\w)", context_low) is not None


_MONTHS = frozenset("January February March April May June July August September October November December".split())


def _phrases(match: str) -> list[list[str]]:
    """A capitalised run cut where a sentence ends inside it ("Europe. Eisenhower": two phrases;
    "U.S. Army", "St. Louis": one)."""
    out, cur = [], []
    for word in match.split():
        cur.append(word)
        if word.endswith(".") and len(word) > 4 and word[-2].islower():
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def names_in(text: str) -> list[str]:
    """Capitalised phrases of ``text``, without a leading question word ("What Denver" -> "Denver");
    a single capitalised word the text also writes in lower case ("Later", "Dogs") is a sentence's
    first word, not a name."""
    lower_words = _lower_words(text)
    out = []
    for m in _NAME.finditer(text):
        for words in _phrases(m.group(0)):
            while words and words[0] in _NOT_NAMES:
                words = words[1:]
            name = " ".join(words).rstrip(".'’")
            if not name or (len(words) == 1 and name.lower() in lower_words):
                continue
            out.append(name)
    return out


def _lower_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text) if w.islower()}


def _shape(name: str) -> tuple:
    """What a swap keeps: word count, digits or not, a month or not ("Britain" never becomes "November")."""
    words = name.split()
    return len(words), any(c.isdigit() for c in name), any(w in _MONTHS for w in words)


def _swap_name(question: str, context: str, pool: list[str], rng: random.Random) -> str | None:
    context_low, lower_words = context.lower(), _lower_words(context)
    anchors = [n for n in names_in(question) if _present(n, context_low) and n.lower() not in lower_words]
    rng.shuffle(anchors)
    for name in anchors:
        options = [p for p in pool if _shape(p) == _shape(name) and p != name and not _present(p, context_low)]
        if options:
            return question.replace(name, rng.choice(options), 1)
    return None


def _swap_number(question: str, context_low: str, rng: random.Random) -> str | None:
    anchors = [m for m in _NUMBER.finditer(question) if _present(m.group(0), context_low)]
    if not anchors:
        return None
    m = rng.choice(anchors)
    text = m.group(0)
    value = int(text.replace(",", "")) if text.replace(",", "").isdigit() else None
    for _ in range(8):
        if value is None:
            new = f"{float(text) * rng.choice((0.5, 2, 3, 1.5)):g}"
        elif _YEAR.match(text):
            new = str(value + rng.choice((-1, 1)) * rng.randint(2, 40))
        else:
            new = f"{max(2, value + rng.choice((-1, 1)) * max(1, value * rng.randint(1, 9) // 10)):,}"
            new = new if "," in text else new.replace(",", "")
        if new != text and not _present(new, context_low):
            return question[: m.start()] + new + question[m.end():]
    return None


def _swap_antonym(question: str, context_low: str, rng: random.Random) -> str | None:
    words = [m for m in _WORD.finditer(question) if m.group(0).lower() in _ANTONYMS]
    rng.shuffle(words)
    for m in words:
        word = m.group(0)
        new = _ANTONYMS[word.lower()]
        if _present(new, context_low):
            continue  # "last" is in the paragraph too: the changed question may still be answerable
        new = new.capitalize() if word[0].isupper() else new
        return question[: m.start()] + new + question[m.end():]
    return None


#: words a swap never touches: they carry the question's form, not what it asks about
_KEEP = frozenset(
    "what which who whom whose when where why how many much does did have has had were was are is been being the this "
    "that these those than then there their they them from with into about also other some such most more many after "
    "before during between under over first last name kind type used called known make made year years".split()
)


def _swap_word(question: str, context_low: str, words: Sequence[str], rng: random.Random) -> str | None:
    """A content word the paragraph holds ("quadratic *equations*") swapped for one of the article's
    that it does not, with the same ending (a rough part of speech: "-ions" for "-ions")."""
    anchors = [m for m in _WORD.finditer(question)
               if len(m.group(0)) >= 4 and m.group(0).islower() and m.group(0) not in _KEEP and _present(m.group(0), context_low)]
    rng.shuffle(anchors)
    for m in anchors:
        word = m.group(0)
        options = [w for w in words if w[-2:] == word[-2:] and w != word and not _present(w, context_low)]
        if options:
            return question[: m.start()] + rng.choice(options) + question[m.end():]
    return None


def unanswerable_variant(question: str, context: str, pool: list[str], rng: random.Random, words: Sequence[str] = ()) -> str | None:
    """``question`` changed so that ``context`` no longer answers it, or None when no rule applies.

    ``pool``: names from elsewhere (the article's other paragraphs) to swap in; ``words``: the
    article's common content words, for swapping a noun or verb (SQuAD 2.0's entity swaps are as
    often "the *mayor*" as a name). Rules are tried in a seeded order so the mix follows what
    applies to each question, not a fixed preference."""
    context_low = context.lower()
    rules = [
        lambda: _swap_name(question, context, pool, rng),
        lambda: _swap_number(question, context_low, rng),
        lambda: _swap_antonym(question, context_low, rng),
    ]
    if words:
        rules.append(lambda: _swap_word(question, context_low, words, rng))
    rng.shuffle(rules)
    for rule in rules:
        changed = rule()
        if changed and changed != question:
            return changed
    return None


def article_words(article: dict, min_count: int = 2) -> list[str]:
    """The article's lower-case content words seen at least ``min_count`` times (its topic's vocabulary)."""
    from collections import Counter

    counts = Counter(w for p in article["paragraphs"] for w in _WORD.findall(p["context"])
                     if w.islower() and len(w) >= 4 and w not in _KEEP)
    return sorted(w for w, n in counts.items() if n >= min_count)


def article_names(article: dict) -> list[str]:
    """Every distinct capitalised phrase of an article's paragraphs: the swap pool for its questions.
    A one-word phrase must also stand capitalised mid-sentence somewhere ("Furthermore" at a sentence's
    start is no name; "Denver" after "in" is)."""
    text = "\n".join(p["context"] for p in article["paragraphs"])
    seen: dict[str, None] = {}
    for name in names_in(text):
        if len(name) > 2 and name not in seen and (" " in name or re.search(r"[a-z,;] " + re.escape(name) + r"\b", text)):
            seen[name] = None
    return list(seen)
