"""The trained span reader's answerer: sentence ranking as in the extractive answerer, short
answers cut (and refusals decided) by a trained extractive reader (:mod:`qa.reader`).

The reader itself is loaded lazily by :func:`qa.reader.loader.load_reader` (ONNX Runtime, or torch
when it cannot run there); nothing here imports a model library.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from qa.answer.extractive import ExtractiveAnswerer
from qa.answer.definitions import defined_name, description_span, names_another, next_to
from qa.answer.question import (
    ALIASES, CHECKED, REASON, content_terms, plausible, plausible_in, question_word, wrong_kind,
)
from qa.answer.scoring import Candidate
from qa.answer.spans import TYPE_ACCEPTS, Span, trim
from qa.types import Hit

_WHY = re.compile(r"\b(?:why|how come|for what reason)\b", re.I)


class ReadWindow(NamedTuple):
    """A stretch of a passage given to the reader: sentences ``first``..``last`` of ``cand``'s chunk,
    starting at document offset ``start``."""

    cand: Candidate
    first: int
    last: int
    start: int
    text: str


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


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
    """The X of "What did X say ...?" (its last word, which a quote names), or None.

    >>> speaker_of("What did Trump say about the operation?")
    'Trump'
    >>> speaker_of("What did the foreign minister of Venezuela say?") is None
    False
    >>> speaker_of("Who was sworn in?") is None
    True
    """
    m = _SAID_BY.search(question)
    if not m:
        return None
    words = [w for w in re.findall(r"[\w.'’-]+", m.group(1)) if w.lower() not in ("the", "a", "an", "of", "u.s.")]
    return words[-1] if words else None


def named_speaker(question: str) -> str | None:
    """:func:`speaker_of` when it is a name ("What did Yván Gil say?" → "Gil"), not a description
    ("What did Mexico's president say?", "What do they write?"): only a named speaker's question is
    answered by nothing but a sentence that reports their words.

    >>> named_speaker("What did Yván Gil say?"), named_speaker("What did Venezuela's foreign minister say?")
    ('Gil', None)
    """
    speaker = speaker_of(question)
    return speaker if speaker and speaker[0].isupper() else None


def restates(q_terms: set[str], span: str) -> bool:
    """Is ``span`` mostly the question's own words (at least two, and half of them)? Such a span
    answers nothing: "just hours after Delcy Rodríguez was sworn in" for "When was Delcy Rodríguez
    sworn in?".

    >>> q = set(content_terms("When was Delcy Rodríguez sworn in?"))
    >>> restates(q, "just hours after Delcy Rodríguez was formally sworn in"), restates(q, "on Monday")
    (True, False)
    """
    hits = len(q_terms & set(content_terms(span)))
    return hits >= 2 and hits * 2 >= len(q_terms)


_CONTINUES = re.compile(r"^\W*(?:he|she|they|the president|[“\"‘])", re.I)


def _fold(text: str) -> str:
    """``text`` without accents, character for character ("Rodríguez" and "Rodriguez" are one name)."""
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in text)


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
    """
    pat = re.compile(rf"\b{re.escape(_fold(speaker))}\b", re.I)
    sentence = _fold(sentence)
    earlier = [_fold(p) for p in ([previous] if isinstance(previous, str) else previous) if p]
    if _attributes_to(pat, sentence):
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


def _their_words(span: Span | None, quote: Span | None, sentence: str) -> Span | None:
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


def _previous(c: Candidate) -> list[str]:
    """The (up to 3) sentences before ``c``'s in its passage, nearest first."""
    sentences = c.hit.chunk.sentences
    return [sentences[i].text for i in range(c.index - 1, max(-1, c.index - 4), -1)]


@dataclass
class ReaderAnswerer(ExtractiveAnswerer):
    """Sentence ranking as in :class:`ExtractiveAnswerer`, short answers cut by a trained span reader.

    The best ``read_top`` sentences are read with ``context_sentences`` neighbours on each side (a
    window, not the whole passage, to stay fast). A reader trained with "no answer" windows
    (``reader.knows_no_answer()``) scores each span by its *margin* over the window's no-answer
    score, so a passage on the topic that does not hold the answer scores low:
    ``score = sentence score + w_reader * sigmoid((evidence - reader_mid) / reader_temp)``, where
    evidence is the margin (or the span logit for an older reader), and the refusal threshold
    applies to that sum. Answers keep the asked type: for "when", "who" and "how many" only spans
    that look like a time, a name or a number count (:func:`qa.answer.question.plausible`); a sentence
    without one loses ``type_penalty``. "What did X say?" is answered only by a sentence that
    reports X's words. The citation is the sentence holding the span; the span's offsets are the
    answer's offsets.

    >>> from qa.reader.loader import load_reader
    >>> answerer = ReaderAnswerer(reader=load_reader("packaged"))            # doctest: +SKIP
    """

    reader: Any = None
    #: sentences read (with their neighbours), or passages read when ``passages``
    read_top: int = 4
    context_sentences: int = 1
    #: read whole passages (a reader trained on paragraphs: ``reader.reads_passages()``), not sentence windows
    passages: bool = False
    w_reader: float = 0.4
    reader_mid: float = 2.0
    reader_temp: float = 4.0
    # w_reader, reader_mid, reader_temp, type_penalty and the refusal threshold (config
    # reader_refusal_threshold 0.61): calibrated for the packaged reader's no-answer margin by
    # benchmarks/calibrate_reader.py (benchmarks/calibration-reader.json)
    #: keep the rules' typed span (a person for "who", a date for "when", ...) where it found one:
    #: on typed questions the rules are precise, and the reader then only scores the sentence
    prefer_typed_rules: bool = True
    #: under this span score the reader is unsure of its cut: quote the sentence, give no short answer
    span_min: float = -1e9
    #: "why" questions are answered by the sentence: a reason is a clause, and the reader (trained on
    #: SQuAD, where few answers are reasons) cuts a noun phrase out of it
    quote_reasons: bool = True
    #: spans read per window: enough that one of the asked type is usually among them
    read_spans: int = 8
    #: what a sentence loses when it holds no span of the asked type (or is not the asked speaker's)
    type_penalty: float = 0.3
    #: read passages in rounds, leaving unread those that cannot change the answer (:meth:`_worth_reading`)
    prune: bool = True

    def reader_confidence(self, logit: float) -> float:
        return _sigmoid((logit - self.reader_mid) / self.reader_temp)

    def _uses_margin(self) -> bool:
        knows = getattr(self.reader, "knows_no_answer", None)
        return bool(knows()) if callable(knows) else False

    def _windows(self, cands: Sequence[Candidate]) -> list[ReadWindow]:
        """(candidate, first sentence, last sentence, char start, text) of each window to read: the best
        ``read_top`` sentences with ``context_sentences`` neighbours, or (``passages``) the whole passages
        holding the best sentences, ``read_top`` of them."""
        windows: list[ReadWindow] = []
        seen = set()
        for c in cands if self.passages else cands[: self.read_top]:
            ch = c.hit.chunk
            if self.passages:
                lo, hi = 0, len(ch.sentences) - 1
            else:
                lo = max(0, c.index - self.context_sentences)
                hi = min(len(ch.sentences) - 1, c.index + self.context_sentences)
            if (ch.chunk_id, lo, hi) in seen:
                continue
            seen.add((ch.chunk_id, lo, hi))
            start, end = ch.sentences[lo].start, ch.sentences[hi].end
            windows.append(ReadWindow(c, lo, hi, start, ch.text[start - ch.start : end - ch.start]))
            if len(windows) >= self.read_top:
                break
        return windows

    def rank(
        self,
        question: str,
        qtype: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> list[Candidate]:
        """The extractive ranking, then the best sentences read: re-scored by the reader's evidence
        and the asked type, best first (only the sentences read, when the reader found anything)."""
        cands = super().rank(question, qtype, hits, question_vector, sentence_vectors)
        if not cands or self.reader is None:
            return cands
        speaker = named_speaker(question)
        windows = self._windows(cands)
        rules_span = {id(c): c.span for c in cands}
        kind = ALIASES.get(qtype) or (question_word(question) if question_word(question) in CHECKED else None)
        read_cands: list[Candidate] = []
        pending: list[Candidate] = []  # read, not yet rescored: wait until we know the reader found something
        size = len(windows) if speaker else self._round_size(len(windows))
        bounds = self._bounds(cands)  # before any rescoring: what each passage's sentences could reach
        todo = list(windows)
        while todo:
            done, todo = todo[:size], todo[size:]
            self._read(question, cands, done, kind, spans=SPEAKER_SPANS if speaker else self.read_spans)
            keys = {(w.cand.hit.chunk.chunk_id, i) for w in done for i in range(w.first, w.last + 1)}
            pending += [c for c in cands if (c.hit.chunk.chunk_id, c.index) in keys]
            if kind or any(c.reader_score is not None for c in read_cands + pending):
                self._rescore(question, qtype, pending, rules_span, kind)
                read_cands += pending
                pending = []
                todo = self._worth_reading(read_cands, bounds, todo)
        if pending:  # the reader found nothing anywhere, and the question asks for no type
            return cands
        read_cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
        if speaker:  # "What did Yván Gil say?": only what Gil is reported to have said answers it
            read_cands = [c for c in read_cands if quotes_speaker(speaker, c.sentence.text, _previous(c))]
            for c in read_cands:
                c.span = _their_words(c.span, rules_span[id(c)], c.sentence.text)
        return read_cands

    def _round_size(self, windows: int) -> int:
        """Passages read per round: as many as the reader reads at once (one per core), when
        :meth:`_worth_reading` may leave some unread; every window at once otherwise."""
        at_once = getattr(self.reader, "reads_at_once", None)
        if not (self.prune and self.passages and callable(at_once)):
            return max(1, windows)
        return max(1, int(at_once()))

    def _bounds(self, cands: Sequence[Candidate]) -> dict[str, float]:
        """Per passage (chunk id), the most any of its sentences can score once read: a read
        sentence's score only gains ``w_reader`` times a confidence under 1 (and may lose penalties),
        so its best ranking score + ``w_reader``. Computed once, before reading: the sentences of a
        passage not yet read keep their ranking scores."""
        best: dict[str, float] = {}
        for c in cands:
            cid = c.hit.chunk.chunk_id
            best[cid] = max(best.get(cid, c.score), c.score)
        return {cid: score + self.w_reader for cid, score in best.items()}

    def _worth_reading(self, read_cands: Sequence[Candidate], bounds: dict[str, float],
                       unread: Sequence[ReadWindow]) -> list[ReadWindow]:
        """The ``unread`` passages that could still change the answer. A passage whose bound
        (:meth:`_bounds`) stays under the best read score less the corroboration margin could change
        neither the best sentence, nor the refusal, nor the corroborating quotes: left unread, the
        answer is the one the whole read gives, for less work (``prune``; passages do not overlap,
        so the sentences read are scored for good, and the best read score only grows, so a passage
        dropped stays dropped)."""
        if not read_cands:
            return list(unread)
        floor = max(c.score for c in read_cands) - self.corroboration_margin
        return [w for w in unread if bounds[w.cand.hit.chunk.chunk_id] >= floor]

    def _read(self, question: str, cands: Sequence[Candidate], windows: Sequence[ReadWindow],
              kind: str | None, spans: int) -> None:
        """Read ``windows`` (the best ``spans`` of each); each sentence holding a span keeps its best one
        (of the asked ``kind``, not restating the question) as ``span`` and its evidence as ``reader_score``."""
        by_key = {(c.hit.chunk.chunk_id, c.index): c for c in cands}
        margin = self._uses_margin()
        q_terms = set(content_terms(question))
        defined = defined_name(question)  # "Who is Cilia Flores?": a description, never another name
        read = self.reader.read(question, [w.text for w in windows], top=spans)
        for (c, lo, _, w_start, _), spans in zip(windows, read):
            ch = c.hit.chunk
            for sp in spans:
                a, b = w_start + sp.start, w_start + sp.end
                # the sentence holding the span's start; a span running past its end is cut there
                idx = next((i for i in range(lo, len(ch.sentences)) if ch.sentences[i].start <= a < ch.sentences[i].end), None)
                owner = by_key.get((ch.chunk_id, idx)) if idx is not None else None
                if owner is None:
                    continue
                sent = ch.sentences[idx]
                rs, re_ = trim(sent.text, a - sent.start, min(b, sent.end) - sent.start)
                if defined and re_ > rs:
                    rs, re_ = description_span(sent.text, rs, re_, defined)
                text = sent.text[rs:re_]
                if re_ <= rs or (kind and not plausible_in(kind, sent.text, rs, re_)) or restates(q_terms, text) \
                        or wrong_kind(question, text) \
                        or (defined and (names_another(text, defined) or not next_to(sent.text, rs, re_, defined))):
                    continue
                evidence = sp.margin if margin and sp.margin is not None else sp.score
                if owner.reader_score is None or evidence > owner.reader_score:
                    owner.reader_score = evidence
                    owner.span = Span(rs, re_, "reader")

    def _rescore(self, question: str, qtype: str, read_cands: Sequence[Candidate], rules_span: dict[int, Span | None],
                 kind: str | None) -> None:
        """Add the reader's confidence to each read sentence's score and pick its span: the rules'
        typed span where it fits, the reader's otherwise, none for reasons or an unsure cut. A
        sentence with nothing of the asked type, or not the asked speaker's, loses ``type_penalty``."""
        typed = qtype in TYPE_ACCEPTS and not defined_name(question)  # the rules find names: "Who is X?" asks no name
        speaker = speaker_of(question)
        for c in read_cands:
            rules = rules_span[id(c)]
            if c.reader_score is None:
                # nothing of the asked type here (or the reader found nothing): keep a typed rules span
                # if there is one, and score the sentence as no reader evidence
                c.span = rules if (typed and rules is not None and (not kind or plausible(kind, rules.text(c.sentence.text)))) else None
                c.score -= self.type_penalty if kind and c.span is None else 0.0
                continue
            c.score = c.score + self.w_reader * self.reader_confidence(c.reader_score)
            if self.prefer_typed_rules and typed and rules is not None and (not kind or plausible(kind, rules.text(c.sentence.text))):
                c.span = rules
            elif c.reader_score < self.span_min or (self.quote_reasons and qtype == REASON and _WHY.search(question)):
                c.span = None
        if speaker:
            for c in read_cands:
                if not quotes_speaker(speaker, c.sentence.text, _previous(c)):
                    c.score -= self.type_penalty
