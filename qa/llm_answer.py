"""An LLM answerer whose every sentence is checked against the passage it cites.

``QA_ANSWERER=llm`` (with ``QA_LLM_BASE_URL``, ``QA_LLM_MODEL``): the retrieved passages are sent,
numbered, to an OpenAI-compatible endpoint (:mod:`qa.llm_client`) with the instruction to answer
only from them and to end every sentence with ``[n]``. Each sentence of the reply is then checked
(:mod:`qa.support`): it must cite a passage that exists, its numbers must occur in that passage, and
its words and meaning must be close to one sentence of it. A supported sentence is kept and cited
by that sentence, verbatim, with its offsets in the document; an unsupported one is dropped (or,
``QA_LLM_UNSUPPORTED=mark``, shown marked) and a notice says so.

The configured extractive answerer is the fallback: it stands when nothing supported remains, when
the model says the passages do not hold the answer, and on every failure (endpoint down, timeout,
429, 5xx, malformed, empty or foreign-language reply, a retrieved passage addressing the model),
with a notice. When it refuses, the refusal stands and the model is not asked (``QA_LLM_WHEN_REFUSED``).

Citations are made, and the extractive short answer carried over to a kept quote that holds it,
by :mod:`qa.answer.compose`, as for every answerer.

:meth:`LLMAnswerer.stream` yields each checked sentence as soon as the next one begins, then the
final :class:`~qa.types.Answer`; the streamed pieces, joined, are exactly ``answer.text``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.answer.compose import carry_short_answer, cite
from qa.llm_client import ABSENT, LLMFailure, build_messages, injected_passages, reply_deltas
from qa.render import counted
from qa.streaming import StreamEvent
from qa.support import (
    GenSentence, SupportChecker, complete_sentences, foreign_script_share, misquoted, other_language, split_generated,
)
from qa.types import Answer, Citation, GeneratedSentence, Generation, Hit

UNSUPPORTED_MARK = "(Not supported by the documents: {claim})"
ABSENT_REASON = "the model says the passages do not hold the answer"


def _with_markers(claim: str, numbers: Sequence[int]) -> str:
    """``Ann won.`` + [1, 2] → ``Ann won [1][2].``"""
    marks = "".join(f"[{n}]" for n in numbers)
    body = claim.rstrip()
    end = len(body)
    while end > 0 and body[end - 1] in ".!?…":
        end -= 1
    return f"{body[:end].rstrip()} {marks}{body[end:]}"


class _Session:
    """Checks one reply's sentences as they arrive; numbers the citations; records every verdict."""

    def __init__(self, owner: "LLMAnswerer", hits: Sequence[Hit], vectors: Mapping[tuple[str, int], np.ndarray]):
        self.owner, self.hits, self.vectors = owner, hits, vectors
        self.records: list[GeneratedSentence] = []
        self.citations: dict[tuple[str, int], Citation] = {}
        self.shown: list[str] = []  # pieces streamed so far; "".join(shown) is the answer text
        self.held: list[str] = []  # marked sentences waiting for a supported one
        self.absent = False
        self.passage_text = " ".join(h.chunk.text for h in hits)

    def _cite(self, hit: Hit, index: int, score: float) -> int:
        s = hit.chunk.sentences[index]
        key = (hit.chunk.doc_id, s.start)
        if key not in self.citations:
            self.citations[key] = cite(len(self.citations) + 1, hit, s, score)
        return self.citations[key].n

    def _verdict(self, gs: GenSentence) -> tuple[str, float, tuple[int, ...]]:
        """(reason, support, citation numbers); reason "supported" when kept."""
        if ABSENT.search(gs.claim):
            self.absent = True
            return ABSENT_REASON, 0.0, ()
        if not gs.cited:
            return "cites no passage ([n] missing)", 0.0, ()
        valid = [n for n in gs.cited if 1 <= n <= len(self.hits)]
        if not valid:
            return f"cites [{', '.join(map(str, gs.cited))}], but only {len(self.hits)} passages were given", 0.0, ()
        wrong = misquoted(gs.raw, [h.chunk.text for h in self.hits])  # raw: the claim has lost its backticks
        if wrong is not None:
            short = wrong if len(wrong) <= 60 else wrong[:57].rstrip() + "..."
            return f"quotes words no passage holds (“{short}”)", 0.0, ()
        if foreign_script_share(gs.claim) > 0.3 and foreign_script_share(self.passage_text) < 0.05:
            return "not in the language of the passages", 0.0, ()
        checker = self.owner.checker
        vec = checker.embed_claims([gs.claim])[0]
        verdicts = [(n, checker.check(gs.claim, self.hits[n - 1].chunk, self.vectors, vec)) for n in valid]
        kept = [(n, v) for n, v in verdicts if v.supported]
        if not kept:
            n, v = max(verdicts, key=lambda x: x[1].score)
            return f"not supported by passage [{n}]: {v.reason}", v.score, ()
        numbers = tuple(dict.fromkeys(self._cite(self.hits[n - 1], v.sentence_index, v.score) for n, v in kept))
        return "supported", max(v.score for _, v in kept), numbers

    def _piece(self, text: str) -> str:
        piece = (" " if self.shown else "") + text
        self.shown.append(piece)
        return piece

    def add(self, gs: GenSentence) -> Iterator[StreamEvent]:
        if not gs.has_words and not gs.cited:
            return  # a stray fragment ("—", an unfinished marker)
        reason, support, numbers = self._verdict(gs)
        kept = reason == "supported"
        mark = not kept and self.owner.unsupported == "mark" and reason != ABSENT_REASON
        self.records.append(GeneratedSentence(gs.raw.strip(), gs.cited, kept, reason, support, numbers, kept or mark))
        if mark:
            self.held.append(UNSUPPORTED_MARK.format(claim=gs.claim))
        elif kept:
            for text in self.held + [_with_markers(gs.claim, numbers)]:
                yield StreamEvent("sentence", self._piece(text))
            self.held = []

    def flush(self) -> Iterator[StreamEvent]:
        """Marked sentences after the last supported one (shown only if something was kept)."""
        if self.shown:
            for text in self.held:
                yield StreamEvent("sentence", self._piece(text))
        self.held = []


@dataclass
class LLMAnswerer:
    """Answers with an LLM, keeping only the sentences the cited passages support.

    ``llm`` is a llama-index LLM (``chat``/``stream_chat``); ``fallback`` the extractive answerer;
    ``checker`` the :class:`~qa.support.SupportChecker`.
    """

    llm: Any
    fallback: Any
    checker: SupportChecker
    model: str = ""
    base_url: str = ""
    timeout: float = 30.0
    #: "drop" unsupported sentences, or "mark" them (shown, marked as not supported)
    unsupported: str = "drop"
    #: ask the model even when the fallback refuses
    when_refused: bool = False

    streams = True

    @property
    def reader(self) -> Any:  # for reports: the fallback's reader
        return getattr(self.fallback, "reader", None)

    @property
    def refusal_threshold(self) -> Any:
        return getattr(self.fallback, "refusal_threshold", None)

    def describe(self) -> dict[str, Any]:
        """What an evaluation report records about this answerer."""
        return {"llm_model": self.model, "llm_base_url": self.base_url, "fallback": type(self.fallback).__name__,
                "support_threshold": self.checker.threshold, "unsupported": self.unsupported}

    def answer(self, question: str, hits: Sequence[Hit], question_vector: np.ndarray | None,
               sentence_vectors: Mapping[tuple[str, int], np.ndarray]) -> Answer:
        final = None
        for event in self._run(question, hits, question_vector, sentence_vectors, stream=False):
            final = event
        assert final is not None and final.answer is not None
        return final.answer

    def stream(self, question: str, hits: Sequence[Hit], question_vector: np.ndarray | None,
               sentence_vectors: Mapping[tuple[str, int], np.ndarray]) -> Iterator[StreamEvent]:
        """Checked sentences as they complete (``kind="sentence"``), then ``kind="answer"``."""
        yield from self._run(question, hits, question_vector, sentence_vectors, stream=True)

    def _generation(self, used: bool, records: Sequence[GeneratedSentence] = (), reason: str = "") -> Generation:
        return Generation(model=self.model, used=used, sentences=tuple(records), fallback_reason=reason,
                          threshold=self.checker.threshold, unsupported=self.unsupported)

    def _fall_back(self, fallback: Answer, reason: str, notice: str | None, records: Sequence[GeneratedSentence] = ()) -> Answer:
        notices = fallback.notices + ((notice,) if notice else ())
        return dataclasses.replace(fallback, notices=notices, generation=self._generation(False, records, reason))

    def _skip(self, fallback: Answer, hits: Sequence[Hit]) -> Answer | None:
        """The answer when the model is not asked at all, else None."""
        if not hits:
            return self._fall_back(fallback, "no passages were retrieved", None)
        if fallback.refused and not self.when_refused:
            return self._fall_back(fallback, "the extractive answerer refused; the model was not asked", None)
        bad = injected_passages(hits)
        if bad:
            where = ", ".join(f"[{n}] ({hits[n - 1].chunk.doc_id})" for n in bad)
            return self._fall_back(
                fallback, f"passage {where} addresses the language model (possible prompt injection)",
                f"A retrieved passage ({where}) contains instructions addressed to a language model, so the model was "
                "not used for this question; the answer is quoted from the documents.")
        return None

    def _run(self, question: str, hits: Sequence[Hit], question_vector: np.ndarray | None,
             vectors: Mapping[tuple[str, int], np.ndarray], stream: bool) -> Iterator[StreamEvent]:
        fallback = self.fallback.answer(question, hits, question_vector, vectors)
        skipped = self._skip(fallback, hits)
        if skipped is not None:
            yield StreamEvent("answer", answer=skipped)
            return
        session = _Session(self, hits, vectors)
        reply, pending, error = "", "", None
        try:
            for delta in reply_deltas(self.llm, build_messages(question, hits), self.timeout, stream=stream):
                reply += delta
                pending += delta
                done, rest = complete_sentences(pending)
                for gs in done:
                    yield from session.add(gs)
                pending = pending[rest:]
        except LLMFailure as e:
            error = e
        if error is None:
            for gs in split_generated(pending):
                yield from session.add(gs)
        yield from session.flush()
        yield StreamEvent("answer", answer=self._finish(session, fallback, hits, reply, error))

    def _finish(self, session: _Session, fallback: Answer, hits: Sequence[Hit], reply: str, error: LLMFailure | None) -> Answer:
        records = session.records
        if not session.shown:
            if error is not None:
                reason, notice = f"{error.kind}: {error}", f"The language model could not be used ({error.notice}); the answer is quoted from the documents."
            elif other_language(reply, session.passage_text):
                reason, notice = "the reply is in another language", "The language model replied in another language; the answer is quoted from the documents."
            elif session.absent:
                reason = ABSENT_REASON
                notice = None if fallback.refused else "The language model found no answer in the passages; the answer below is quoted from the documents."
            else:
                reason = "no generated sentence is supported by the passage it cites"
                notice = (f"None of the {counted(len(records), 'sentence')} the language model wrote is supported by the passage it "
                          "cites, so it is not shown; the answer is quoted from the documents.") if records else None
            return self._fall_back(fallback, reason, notice, records)
        return self._compose(session, fallback, hits, error)

    def _compose(self, session: _Session, fallback: Answer, hits: Sequence[Hit], error: LLMFailure | None) -> Answer:
        citations = sorted(session.citations.values(), key=lambda c: c.n)
        notices = list(fallback.notices)
        unkept = sum(1 for r in session.records if not r.kept and r.reason != ABSENT_REASON)
        if unkept:
            how = "marked as unsupported" if self.unsupported == "mark" else "left out"
            notices.append(f"{counted(unkept, 'sentence')} the language model wrote {'is' if unkept == 1 else 'are'} {how}: "
                           "not supported by the passage cited (see the answer's generation record).")
        if error is not None:
            notices.append(f"The language model's reply was cut short ({error.notice}); the sentences shown were checked.")
        short, a_doc, a_start, a_end = carry_short_answer(citations, fallback)
        return Answer(
            question=fallback.question, text="".join(session.shown), short_answer=short, refused=False,
            citations=tuple(citations), passages=tuple(hits), answer_doc_id=a_doc, answer_start=a_start, answer_end=a_end,
            confidence=fallback.confidence, notices=tuple(notices), generation=self._generation(True, session.records),
        )


def build_llm_answerer(config: Any, embedder: Any, fallback: Any) -> LLMAnswerer:
    """The LLM answerer ``config`` describes (``QA_LLM_*``), checking with ``embedder``'s vectors."""
    from qa.llm_client import make_llm, normalise_base_url

    if not config.llm_base_url:
        raise ValueError("QA_ANSWERER=llm needs QA_LLM_BASE_URL, an OpenAI-compatible base such as "
                         "http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama.cpp's server)")
    if embedder is None:
        from qa.embed import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(config.model, device=config.device, batch_size=config.embed_batch_size)
    llm = make_llm(config.llm_base_url, config.llm_model, config.llm_api_key, config.llm_timeout, config.llm_max_tokens)
    checker = SupportChecker(embed=embedder.embed_texts, threshold=config.llm_support_threshold)
    return LLMAnswerer(llm=llm, fallback=fallback, checker=checker, model=config.llm_model,
                       base_url=normalise_base_url(config.llm_base_url), timeout=config.llm_timeout,
                       unsupported=config.llm_unsupported, when_refused=config.llm_when_refused)
