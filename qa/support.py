"""Is a generated sentence supported by the passage it cites?

An LLM's reply is split into sentences (:func:`split_generated`), each with the passage numbers it
cites (``[1]``, ``[1, 3]``, ``[Passage 2]``). :class:`SupportChecker` then measures one sentence
(the *claim*) against one passage, sentence by sentence:

* **numbers**: every number in the claim (digits, or words such as "thirty-two") must occur in the
  passage, as digits or words — a hard rule;
* **names**: every capitalised word of the claim (not opening a sentence, titles such as
  "President" aside) must occur in the passage, allowing acronyms ("UN" for "United Nations") and
  demonyms ("Mexican" for "Mexico") — a hard rule;
* **quotations**: words in quotation marks must stand word for word in a retrieved passage
  (:func:`misquoted`) — a hard rule, checked by the answerer before the others;
* **words**: the share of the claim's content words (stemmed, stopwords left out) found in the
  passage sentence, and the share found anywhere in the passage (with its title);
* **meaning**: cosine between the claim's embedding and the passage sentence's.

``support = w_meaning·cosine + w_sentence·words in the sentence + w_passage·words in the passage``
for the best sentence of the passage (among those stating the claim's numbers, where one does);
the claim is supported when both rules pass and the support reaches ``threshold``. The weights
(0.3, 0.0, 0.7) and the threshold 0.76 are calibrated on the gold set by
``benchmarks/calibrate_support.py`` (supported and unsupported claims built from gold answers).
The best sentence is the citation: a verbatim slice of the document with exact offsets.

What this does *not* guarantee: that a kept sentence follows from the passage in the logical sense
(a negation, a swapped subject and object, or a hedge can keep the same words and meaning-vector),
nor that it answers the question. It does guarantee that every kept sentence cites a passage that
was retrieved, shares its numbers, and is close in words and meaning to a sentence quoted verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.answer.question import content_terms
from qa.ingest import split_sentences
from qa.types import Chunk, Document

# --- splitting a reply into sentences ------------------------------------------------------------

#: a citation marker: [1], [1, 3], [1-2], [Passage 2], [source 1; 4]
MARKER = re.compile(
    r"\[\s*(?:(?:passages?|sources?|documents?|docs?)\s*)?(\d{1,3}(?:\s*(?:,|;|and|-|–)\s*(?:(?:passages?|sources?)\s*)?\d{1,3})*)\s*\]",
    re.I,
)
# list bullets and Markdown emphasis: masked so "1. Delcy ..." is not a sentence "1."
_BULLET = re.compile(r"(?m)^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+")
_EMPHASIS = re.compile(r"\*\*|__|`")
_LETTER = re.compile(r"[^\W\d_]")
_OPEN_MARKER = re.compile(r"\[[^\]]*\Z")


@dataclass(frozen=True)
class GenSentence:
    """A sentence of a generated reply: ``claim`` is its text without markers; ``cited`` the
    passage numbers it gives; ``start``/``end`` its place in the reply, ``gap_end`` where the
    markers after it end (the next sentence starts there)."""

    claim: str
    cited: tuple[int, ...]
    raw: str
    start: int = 0
    end: int = 0
    gap_end: int = 0

    @property
    def has_words(self) -> bool:
        return bool(_LETTER.search(_OPEN_MARKER.sub("", self.claim)))


def _numbers_in_marker(body: str) -> list[int]:
    out: list[int] = []
    for a, b in re.findall(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?", body):
        lo, hi = int(a), int(b) if b else int(a)
        out.extend(range(lo, hi + 1) if 0 <= hi - lo <= 20 else (lo, hi))
    return out


def _mask(text: str) -> str:
    blank = lambda m: " " * len(m.group())  # noqa: E731 - keeps offsets
    return _EMPHASIS.sub(blank, _BULLET.sub(blank, MARKER.sub(blank, text)))


def _clean_claim(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s+([.,;:!?…])", r"\1", text).strip()


def split_generated(text: str) -> list[GenSentence]:
    """The sentences of a generated reply, each with the passage numbers it cites.

    Markers inside a sentence or right after its end belong to it ("... president [1]." and
    "... president. [1]" alike); a line break always ends a sentence; abbreviations ("U.S.") do not.

    >>> [(s.claim, s.cited) for s in split_generated("Delcy Rodríguez was sworn in [1]. The U.S. struck. [2][3]")]
    [('Delcy Rodríguez was sworn in.', (1,)), ('The U.S. struck.', (2, 3))]
    """
    masked = _mask(text)
    sents = split_sentences(Document(doc_id="reply", title="", text=masked))
    out: list[GenSentence] = []
    for i, s in enumerate(sents):
        gap_end = sents[i + 1].start if i + 1 < len(sents) else len(text)
        cited: list[int] = []
        for m in MARKER.finditer(text, s.start, gap_end):
            cited += [n for n in _numbers_in_marker(m.group(1)) if n not in cited]
        out.append(GenSentence(_clean_claim(s.text), tuple(cited), text[s.start:gap_end], s.start, s.end, gap_end))
    return out


def complete_sentences(buffer: str) -> tuple[list[GenSentence], int]:
    """While a reply streams in: the sentences of ``buffer`` that are complete (a later sentence
    with words has begun, so their markers are known), and the offset where the rest begins."""
    sents = split_generated(buffer)
    last = max((i for i, s in enumerate(sents) if s.has_words), default=-1)
    if last <= 0:
        return [], 0
    return sents[:last], sents[last].start


# --- numbers ---------------------------------------------------------------------------------------

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_WORD_VALUE = {w: i for i, w in enumerate(_UNITS)} | _TENS
_NUM_WORDS = re.compile(rf"\b(?:({'|'.join(_TENS)})(?:[\s-]+({'|'.join(_UNITS[1:10])}))?|({'|'.join(_UNITS)}))\b", re.I)
_DIGITS = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?\b")


# --- quotations ---------------------------------------------------------------------------------

#: “…”, "…", «…», „…“, 「…」, 『…』, ″…″, `…`, and ‘…’ or '…' opened after a space or a colon (a ’ or '
#: inside a word is an apostrophe, never a quotation)
_QUOTED = re.compile(
    r"“([^”]{1,800})”|\"([^\"]{1,800})\"|«\s?([^»]{1,800}?)\s?»|„([^“”]{1,800})[“”]|「([^」]{1,800})」|『([^』]{1,800})』"
    r"|″([^″]{1,800})″|`([^`]{1,800})`|‹([^›]{1,800})›"
    r"|(?:^|(?<=[\s(\[:]))‘([^’]{1,800})’(?![^\W\d_])|(?:^|(?<=[\s(\[:]))'([^']{1,800})'(?![^\W\d_])")
_ELISION = re.compile(r"\[?(?:\.\s?\.\s?\.|…)\]?")
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-",
                       "\u00a0": " "})


def _folded(text: str) -> str:
    return " ".join(text.translate(_FOLD).casefold().split())


def quotations(claim: str) -> list[str]:
    """The words ``claim`` puts in quotation marks (each part of an elided quotation on its own).

    >>> quotations('He said “we will respond … at once,” and left; the ‘plan’ is Maduro’s.')
    ['we will respond', 'at once', 'plan']
    >>> quotations("Gil said: 'The U.S. crossed a line' and «basta»; Maduro's men left.")
    ['The U.S. crossed a line', 'basta']
    """
    out = []
    for m in _QUOTED.finditer(claim):
        body = next(g for g in m.groups() if g is not None)
        for part in _ELISION.split(MARKER.sub(" ", body)):  # a [n] marker inside the marks is no quoted word
            part = " ".join(_EMPHASIS.sub(" ", part).split()).strip(".,;:!?").strip()
            if _LETTER.search(part):
                out.append(part)
    return out


def misquoted(claim: str, passages: Sequence[str]) -> str | None:
    """The first quotation of ``claim`` that none of ``passages`` holds word for word (letter case,
    spacing, quote and dash styles aside); None when every quotation is verbatim. A model that puts
    its own words in quotation marks would have them read as the documents' own."""
    texts = [_folded(p) for p in passages]
    for q in quotations(claim):
        if not any(_folded(q) in t for t in texts):
            return q
    return None


def numbers_in(text: str, words: bool = True, skip_one: bool = False) -> set[str]:
    """Numbers in ``text`` as canonical strings ("1,000" → "1000", "3rd" → "3", "thirty-two" → "32").

    >>> sorted(numbers_in("On January 3, 2026, thirty-two Cubans and 1,000 others"))
    ['1000', '2026', '3', '32']
    """
    out = set()
    for m in _DIGITS.finditer(text):
        tok = re.sub(r"(?:st|nd|rd|th|s)$", "", m.group()).replace(",", "")
        out.add(tok.rstrip("0").rstrip(".") if "." in tok else tok)
    if words:
        for m in _NUM_WORDS.finditer(text):
            if m.group(1):
                out.add(str(_TENS[m.group(1).lower()] + (_WORD_VALUE[m.group(2).lower()] if m.group(2) else 0)))
            elif not (skip_one and m.group(3).lower() in ("one", "zero")):  # "one of them" is rarely a count
                out.add(str(_WORD_VALUE[m.group(3).lower()]))
    return out


# --- names -----------------------------------------------------------------------------------------

_CAPITALISED = re.compile(r"(?<![\w’'\-])[A-ZÀ-ÖØ-Þ][\w’']*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(—–-]\s*|\n\s*)$")
#: capitalised words that name no one: titles and the like ("President Trump" where the passage says "Trump")
_GENERIC = frozenset("""president vice minister secretary general attorney senator governor mayor mr mrs ms dr sir
    prime foreign interior defense defence state states chief leader official officials spokesman spokeswoman
    former acting interim deputy senior u.s us united nation national government administration""".split())
_CONNECTORS = frozenset("of the and for de del la los las y".split())


def _fold(word: str) -> str:
    import unicodedata

    word = unicodedata.normalize("NFKD", word.lower())
    word = "".join(ch for ch in word if not unicodedata.combining(ch))
    return re.sub(r"[’']s?$", "", word)


def names_in(text: str) -> set[str]:
    """The capitalised words of ``text`` that are not at a sentence start and not titles, folded
    (lower case, no accents, no possessive): the names a sentence states.

    >>> sorted(names_in("Delcy Rodríguez met President Trump in Caracas."))
    ['caracas', 'rodriguez', 'trump']
    """
    from qa.answer.question import STOPWORDS

    out = set()
    for m in _CAPITALISED.finditer(text):
        if _SENTENCE_START.search(text[: m.start()]):
            continue
        word = _fold(m.group())
        if word in STOPWORDS or word in _GENERIC or len(word) < 2:
            continue
        out.add(word)
    return out


class PassageNames:
    """What a passage can vouch for: its words (folded) and the initials of its capitalised runs
    ("United Nations Security Council" → "unsc"), so "UN" and "Mexican" (for "Mexico") are found."""

    def __init__(self, text: str):
        words = re.findall(r"[\w’']+", text)
        self.words = {_fold(w) for w in words}
        runs, run = [], ""
        for w in words:
            if w[:1].isupper():
                run += w[0].lower()
            elif w.lower() not in _CONNECTORS:
                runs.append(run)
                run = ""
        self.initials = runs + [run]

    def has(self, name: str) -> bool:
        if name in self.words:
            return True
        if len(name) <= 6 and name.isalpha() and any(name in r for r in self.initials if len(r) >= 2):
            return True
        for w in self.words:  # demonyms and inflections: Venezuela/Venezuelan, Mexico/Mexican, Cuba/Cuban
            short, long_ = (w, name) if len(w) <= len(name) else (name, w)
            if len(short) >= 4 and long_.startswith(short):
                return True
            k = len(_common_prefix(w, name))
            if k >= 5 and len(w) - k <= 2 and len(name) - k <= 2:
                return True
        return False


def _common_prefix(a: str, b: str) -> str:
    import os

    return os.path.commonprefix([a, b])


# --- language --------------------------------------------------------------------------------------

_LATIN_MAX = 0x24F


def foreign_script_share(text: str) -> float:
    """Share of letters outside the Latin script (0 for English, ~1 for Chinese or Russian)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if ord(ch) > _LATIN_MAX) / len(letters) if letters else 0.0


_EN = frozenset("""the a an of and to in is was were are for on with by that this it as at from be been has have had
    not but or which who their its his her they he she will would said after over into than more about""".split())


def english_share(text: str) -> float:
    """Share of words that are common English function words (~0.3-0.5 in English prose)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(1 for w in words if w in _EN) / len(words) if words else 0.0


def other_language(reply: str, passages: str) -> bool:
    """Does ``reply`` look written in another language than ``passages``? (its script, or the share
    of English function words when the passages are English, for replies of 8 words or more)"""
    if foreign_script_share(passages) < 0.05 and foreign_script_share(reply) > 0.3 and sum(ch.isalpha() for ch in reply) >= 10:
        return True  # counted in letters: Chinese or Japanese has no spaces between words
    if len(re.findall(r"[^\W\d_]+", reply)) < 8:
        return False
    return english_share(passages) >= 0.2 and english_share(reply) < 0.08


# --- the support check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """The verdict on one claim against one passage."""

    supported: bool
    score: float
    #: index (in ``chunk.sentences``) of the best sentence: the citation
    sentence_index: int | None
    #: why not supported ("" when supported)
    reason: str = ""
    features: Mapping[str, float] = field(default_factory=dict)


#: calibrated by benchmarks/calibrate_support.py on gold/seeds.jsonl with the packaged MiniLM (see
#: README, "LLM answers"): 563 claims, 91.7% of supported ones kept, 1.5% of unsupported ones accepted
DEFAULT_THRESHOLD = 0.76
DEFAULT_WEIGHTS = (0.3, 0.0, 0.7)  # meaning (best sentence), words in that sentence, words in the passage


@dataclass
class SupportChecker:
    """Scores claims against passages; ``embed`` maps texts to unit-length row vectors."""

    embed: Callable[[Sequence[str]], np.ndarray]
    threshold: float = DEFAULT_THRESHOLD
    weights: tuple[float, float, float] = DEFAULT_WEIGHTS
    #: names (capitalised words, titles aside) in the claim must occur in the passage
    names: bool = True

    def embed_claims(self, claims: Sequence[str]) -> np.ndarray:
        return np.asarray(self.embed(list(claims)), dtype=np.float32)

    def _sentence_vectors(self, chunk: Chunk, vectors: Mapping[tuple[str, int], np.ndarray]) -> list[np.ndarray]:
        missing = [i for i in range(len(chunk.sentences)) if (chunk.chunk_id, i) not in vectors]
        extra = dict(zip(missing, self.embed([chunk.sentences[i].text for i in missing]))) if missing else {}
        return [np.asarray(vectors[(chunk.chunk_id, i)]) if i not in extra else extra[i] for i in range(len(chunk.sentences))]

    def features(self, claim: str, claim_vec: np.ndarray, chunk: Chunk,
                 vectors: Mapping[tuple[str, int], np.ndarray]) -> list[dict[str, float]]:
        """Per sentence of ``chunk``: meaning (cosine), sentence (word share), passage (word share)."""
        terms = set(content_terms(claim))
        passage_terms = set(content_terms(chunk.title + " " + chunk.text))
        in_passage = len(terms & passage_terms) / len(terms) if terms else 0.0
        out = []
        for s, vec in zip(chunk.sentences, self._sentence_vectors(chunk, vectors)):
            shared = len(terms & set(content_terms(s.text))) / len(terms) if terms else 0.0
            out.append({"meaning": float(np.dot(claim_vec, vec)), "sentence": shared, "passage": in_passage})
        return out

    def score(self, f: Mapping[str, float]) -> float:
        w_m, w_s, w_p = self.weights
        return w_m * f["meaning"] + w_s * f["sentence"] + w_p * f["passage"]

    def check(self, claim: str, chunk: Chunk, vectors: Mapping[tuple[str, int], np.ndarray] | None = None,
              claim_vec: np.ndarray | None = None) -> Support:
        """Does ``chunk`` support ``claim``? The best sentence is the one to cite."""
        numbers = numbers_in(claim, skip_one=True)
        if not content_terms(claim) and not numbers:
            return Support(False, 0.0, None, "says nothing that can be checked")
        if not chunk.sentences:
            return Support(False, 0.0, None, "the cited passage has no sentences")
        if claim_vec is None:
            claim_vec = self.embed_claims([claim])[0]
        feats = self.features(claim, claim_vec, chunk, vectors or {})
        holders = set(range(len(feats)))
        if self.names:
            vouched = PassageNames(chunk.title + " " + chunk.text)
            unknown = sorted(n for n in names_in(claim) if not vouched.has(n))
            if unknown:
                best = max(range(len(feats)), key=lambda i: self.score(feats[i]))
                return Support(False, self.score(feats[best]), best, f"name not in the cited passage: {', '.join(unknown)}", feats[best])
        if numbers:
            passage_numbers = numbers_in(chunk.title + " " + chunk.text)
            missing = sorted(numbers - passage_numbers)
            if missing:
                best = max(range(len(feats)), key=lambda i: self.score(feats[i]))
                return Support(False, self.score(feats[best]), best, f"number not in the cited passage: {', '.join(missing)}", feats[best])
            # cite a sentence that states the numbers, where one does
            holding = {i for i, s in enumerate(chunk.sentences) if numbers <= numbers_in(s.text)}
            holders = holding or holders
        best = max(holders, key=lambda i: (self.score(feats[i]), -i))
        score = self.score(feats[best])
        if score < self.threshold:
            return Support(False, score, best, f"support {score:.2f} is under {self.threshold:.2f}", feats[best])
        return Support(True, score, best, "", feats[best])
