"""The trained span reader's answerer: sentence ranking as in the extractive answerer, short
answers cut (and refusals decided) by a trained extractive reader (:mod:`qa.reader`).

The reader itself is loaded lazily by :func:`qa.reader.loader.load_reader` (ONNX Runtime, or torch
when it cannot run there); nothing here imports a model library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from qa.answer.anchored import anchored_value
from qa.answer.asked import Asked
from qa.answer.bounds import bounded_amount, paired_count, part_of_whole, range_end_asked
from qa.answer.definitions import defined_name, description_span
from qa.answer.extent import reach
from qa.answer.extractive import ExtractiveAnswerer
from qa.answer.fit import day_before, day_range, paired_amount, whole_day
from qa.answer.headed import from_heading, from_numbered_heading
from qa.answer.labels import asked_label, asked_value, line_label
from qa.answer.question import (
    ALIASES, CHECKED, REASON, plausible, question_word, with_roles_both_ways,
)
from qa.answer.competing import letters_fitting_less, rows_asked_less
from qa.answer.letters import letter_header, named_address
from qa.answer.parties import defined_party, defining_first
from qa.answer.remedies import remedy
from qa.answer.signatures import signature_value
from qa.answer.scoring import Candidate, section_of
from qa.answer.spans import TYPE_ACCEPTS, Span, past_numbering, trim
from qa.answer.speakers import (
    SPEAKER_SPANS, named_speaker, previous_sentences, quotes_speaker, said_about, speaker_of, their_words, turn_words,
)
from qa.answer.transposed import transposed_cell
from qa.answer.tables import CELL_SEP, in_asked_row, label_asked, lines_of, looked_up, table_span
from qa.types import Hit

#: the kind of a span a labelled line's lookup gave (:meth:`ReaderAnswerer._look_up_labels`): no later reading replaces it
LOOKED_UP = "looked up"
_WHY = re.compile(r"\b(?:why|how come|for what reason)\b", re.I)


class ReadWindow(NamedTuple):
    """A stretch of a passage given to the reader: sentences ``first``..``last`` of ``cand``'s chunk,
    starting at document offset ``start``."""

    cand: Candidate
    first: int
    last: int
    start: int
    text: str


def _about(ch: Any) -> str:
    """What a chunk's sentences are about, for :meth:`qa.answer.asked.Asked.sets_aside`: its title, headings and text."""
    return f"{ch.title}\n{ch.section_text}\n{ch.text}"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def _cell_named(question: str, cands: Sequence[Candidate]) -> bool:
    """Does the question name a table cell (its row and column) among ``cands``?"""
    return any(CELL_SEP in c.sentence.text and looked_up(question, lines_of(c.hit.chunk), c.index) for c in cands)


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
            text = ch.text[start - ch.start : end - ch.start]
            # a passage is read under its headings ("Pumpkin Soup › Ingredients\n- 1 kg pumpkin …"); a
            # span found in them starts before the passage and so is no sentence's (:meth:`_read`)
            heads = section_of(ch, lo) if self.passages else ""
            if heads:
                text, start = heads + "\n" + text, start - len(heads) - 1
            windows.append(ReadWindow(c, lo, hi, start, text))
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
        windows = self._windows(defining_first(question, cands))  # a contract's 'Landlord' defined: read, whatever its rank
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
            # a table's row and column both named is an answer too, when the reader found nothing ("ticket QH-107")
            if kind or any(c.reader_score is not None for c in read_cands + pending) or _cell_named(question, pending):
                self._rescore(question, qtype, pending, rules_span, kind)
                read_cands += pending
                pending = []
                todo = self._worth_reading(read_cands, bounds, todo)
        head = speaker_of(question)  # the named speaker, or a description ("the foreign minister")
        if head:
            read_cands, pending = self._read_speakers_sentences(question, qtype, head, cands, read_cands, pending, rules_span, kind)
        if pending:  # the reader found nothing anywhere, and the question asks for no type
            return cands
        for losing in (rows_asked_less, lambda cs: letters_fitting_less(question, cs, LOOKED_UP)):
            for c in losing(read_cands):  # table rows, letters: the one the question names more of wins
                self._unread(c)
        read_cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
        theirs = [c for c in read_cands if head and quotes_speaker(head, c.sentence.text, previous_sentences(c))]
        if speaker or theirs:  # "What did Yván Gil say?": only what Gil is reported to have said answers it
            read_cands = theirs
            for c in read_cands:
                c.span = their_words(c.span, rules_span[id(c)], c.sentence.text)
            sure = said_about(question, [c.sentence.text for c in theirs])
            if sure is not None:  # the one line of theirs that names what they are asked about: all of it
                self._made_sure(theirs[sure])
                theirs[sure].span = turn_words(theirs[sure].sentence.text) or theirs[sure].span
                read_cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
        # a changelog's "## [4.3.0] - 2025-09-18" is the version and date of its entries
        read = {id(c) for c in read_cands}
        sure, unread = self.w_reader * self.reader_confidence(self.reader_mid + 5 * self.reader_temp), [c for c in cands if id(c) not in read]
        return from_numbered_heading(question, from_heading(question, read_cands, sure, unread=unread), sure, unread=unread)

    def _unread(self, c: Candidate) -> None:
        """``c`` without its span and its reader evidence (and the score that evidence gave)."""
        if c.reader_score is not None:
            c.score -= self.w_reader * self.reader_confidence(c.reader_score)
        c.reader_score, c.span = None, None

    def _made_sure(self, c: Candidate) -> None:
        """``c``'s reader evidence raised to a lookup's (:meth:`_look_up_labels`), its score with it."""
        sure = self.reader_mid + 5 * self.reader_temp
        if c.span is not None and c.reader_score is not None and c.reader_score < sure:
            c.score += self.w_reader * (self.reader_confidence(sure) - self.reader_confidence(c.reader_score))
            c.reader_score = sure

    def _read_speakers_sentences(self, question: str, qtype: str, head: str, cands: Sequence[Candidate],
                                 read_cands: list[Candidate], pending: list[Candidate],
                                 rules_span: dict[int, Span | None], kind: str | None) -> tuple[list[Candidate], list[Candidate]]:
        """When no sentence reporting the asked speaker's words gave a span read with its passage, those
        sentences read again on their own: read whole, the reader's best spans may all be another
        speaker's quote ("a precise counter-narcotics action" beside Yván Gil's “The United States has
        crossed a red line”). Only then: a sentence read alone scores higher than one read in its
        passage, so re-read beside found ones it would outrank them for no better reason.
        Returns the read candidates and those still pending (as in :meth:`rank`)."""
        theirs = [c for c in cands if quotes_speaker(head, c.sentence.text, previous_sentences(c))]
        again = [c for c in theirs if c.reader_score is None][: self.read_top]
        if not again or any(c.reader_score is not None for c in theirs):
            return read_cands, pending
        self._read(question, cands, [ReadWindow(c, c.index, c.index, c.sentence.start, c.sentence.text) for c in again],
                   kind, spans=self.read_spans)
        fresh = [c for c in again if c.reader_score is not None]
        if not fresh:
            return read_cands, pending
        todo = list({id(c): c for c in pending + fresh}.values())
        self._rescore(question, qtype, todo, rules_span, kind)
        seen = {id(c) for c in read_cands}
        return read_cands + [c for c in todo if id(c) not in seen], []

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
        asked = Asked.of(question, kind)
        # the reader is told what a role's acronym stands for: it finds no "CTO" in "Chief Technology Officer"
        read = self.reader.read(with_roles_both_ways(question), [w.text for w in windows], top=spans)
        for (c, lo, hi, w_start, _), spans in zip(windows, read):
            ch = c.hit.chunk
            lines, about = lines_of(ch), _about(ch)
            for sp in spans:
                a, b = w_start + sp.start, w_start + sp.end
                # the sentence holding the span's start; a span running past its end is cut there
                idx = next((i for i in range(lo, len(ch.sentences)) if ch.sentences[i].start <= a < ch.sentences[i].end), None)
                if idx is not None and CELL_SEP in ch.sentences[idx].text:  # a table: the row the question names
                    idx, a, b = in_asked_row(question, lines, idx, a - ch.sentences[idx].start, b - ch.sentences[idx].start)
                    a, b = label_asked(question, lines[idx], a, b)
                    a, b = a + ch.sentences[idx].start, b + ch.sentences[idx].start
                owner = by_key.get((ch.chunk_id, idx)) if idx is not None else None
                evidence = sp.margin if margin and sp.margin is not None else sp.score
                if owner is None or not (owner.reader_score is None or evidence > owner.reader_score) \
                        or (owner.span and owner.span.kind == LOOKED_UP):
                    continue  # it could not replace the owner's span: no need to check it
                sent = ch.sentences[idx]
                rs, re_ = trim(sent.text, a - sent.start, min(b, sent.end) - sent.start)
                past = past_numbering(question, sent.text, rs, re_)
                if rs < re_ and past[0] >= past[1]:
                    continue  # only the line's number ("3.1"): no answer
                rs, re_ = past
                if asked.defined and re_ > rs:
                    rs, re_ = description_span(sent.text, rs, re_, asked.defined)
                elif re_ > rs:
                    rs, re_ = reach(question, sent.text, rs, re_)
                rs, re_ = day_before(question, sent.text, rs, re_), whole_day(question, sent.text, rs, day_range(sent.text, rs, re_))
                rs, re_ = paired_amount(question, sent.text, rs, re_)  # "GBP 120 for a student", not the delegate's
                rs, re_ = bounded_amount(question, sent.text, rs, re_)  # "up to a maximum of 10%" for the maximum
                rs, re_ = range_end_asked(question, sent.text, rs, re_)  # "7 April" of "7 April to 12 May" for a start
                rs, re_ = paired_count(question, sent.text, rs, re_)  # "72 in the clear-lens group", not the total
                rs, re_ = part_of_whole(question, sent.text, rs, re_)  # "five of seven trustees present": five
                rs, re_ = anchored_value(question, sent.text, rs, re_)  # "finishes at 11:30", not "starts at 06:00"
                if asked.sets_aside(ch, idx, rs, re_, lines, about):
                    continue
                owner.reader_score = evidence
                owner.span = Span(rs, re_, "reader")
            self._look_up_labels(asked, ch, range(lo, hi + 1), lines, about, by_key)

    def _look_up_labels(self, asked: Asked, ch: Any, indexes: range, lines: Sequence[str], about: str,
                        by_key: Mapping[tuple[str, int], Candidate]) -> None:
        """A labelled line the question names answers with its value, or the reader's span in it: "12:00
        to 17:00" of "- Sunday: 12:00 to 17:00" for "When is it open on Sunday?" (the reader, trained on
        prose, read past it), :func:`qa.answer.labels.asked_value`; or, for the question giving its value,
        its label (:func:`qa.answer.labels.asked_label`); or a troubleshooting record's remedy for the problem
        the question describes (:func:`qa.answer.remedies.remedy`). As sure as a table's looked-up cell, when the
        span passes the checks every span does, and kept when a later window reads the line again."""
        labels = [line_label(ch, i) for i in range(len(ch.sentences))]
        for idx in indexes:
            owner = by_key.get((ch.chunk_id, idx))
            if owner is None:
                continue
            value = asked_value(asked.question, lines, idx, asked.kind, owner.span if owner.reader_score is not None else None,
                                labels, about) or asked_label(asked.question, lines, idx, asked.kind) \
                or remedy(asked.question, lines, idx) \
                or signature_value(asked.question, lines, idx) \
                or defined_party(asked.question, lines[idx]) or letter_header(asked.question, lines, idx) \
                or named_address(asked.question, lines, idx) \
                or transposed_cell(asked.question, lines, idx)
            # a remedy of the problem described; "Ext. 5587" under a name; (the "Landlord"); a letter's "From:" or
            # "Date:"; a signature block's "Name" row under "For the Landlord"
            if value is not None:
                value = value[0], day_range(lines[idx], *value)  # "Wednesday to Sunday", not its first day
            if value is None or asked.sets_aside(ch, idx, *value, lines, about):
                continue
            owner.reader_score = max(owner.reader_score if owner.reader_score is not None else -math.inf, self.reader_mid + 5 * self.reader_temp)
            owner.span = Span(*value, LOOKED_UP)

    def _rescore(self, question: str, qtype: str, read_cands: Sequence[Candidate], rules_span: dict[int, Span | None],
                 kind: str | None) -> None:
        """Add the reader's confidence to each read sentence's score and pick its span: the rules'
        typed span where it fits, the reader's otherwise, none for reasons or an unsure cut. A
        sentence with nothing of the asked type, or not the asked speaker's, loses ``type_penalty``."""
        typed = qtype in TYPE_ACCEPTS and not defined_name(question)  # the rules find names: "Who is X?" asks no name
        speaker = speaker_of(question)
        asked = Asked.of(question, kind)
        for c in read_cands:
            rules, ch = rules_span[id(c)], c.hit.chunk
            lines = lines_of(ch)
            cell = looked_up(question, lines, c.index) if CELL_SEP in c.sentence.text else None
            if cell is not None and asked.sets_aside(ch, c.index, *cell, lines, _about(ch)):
                cell = None  # "Which councillor voted against?" names the "Vote" column: "6-1" is nobody; a row under Thursday's heading
            if cell is not None:  # the row and the column both named: a lookup, sure whatever the reader (never trained on tables) says
                c.reader_score = max(c.reader_score if c.reader_score is not None else -math.inf, self.reader_mid + 5 * self.reader_temp)
                c.span = Span(*cell, "table")
                rules_span[id(c)] = c.span
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
        for c in read_cands:  # a table row answers with the cell under the column the question names, if of the asked type
            if c.span is not None:
                c.span = table_span(question, c.hit.chunk, c.index, c.span)
                if c.span is None or (kind and c.span.kind == "table" and not plausible(kind, c.span.text(c.sentence.text))):
                    self._unread(c)  # a header row, a row whose table has no column for what is asked, a cell of the wrong type
        if speaker:
            for c in read_cands:
                if not quotes_speaker(speaker, c.sentence.text, previous_sentences(c)):
                    c.score -= self.type_penalty
