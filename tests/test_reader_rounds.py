"""The reader answerer reads passages in rounds and stops once the unread ones cannot change the
answer (:meth:`qa.answer.reader.ReaderAnswerer._worth_reading`): the same answer as reading every
passage, for fewer reads."""

from __future__ import annotations

import dataclasses
import random

from qa.answer import ReaderAnswerer
from qa.ingest import chunk_document, parse_document
from qa.reader.model import ReadSpan
from qa.types import Hit

NAMES = ["Alice Brandt", "Jonas Weber", "Mira Okafor", "Tomas Lind", "Ruth Adeyemi", "Pavel Novak"]
PLACES = ["lower town", "harbour", "old bridge", "north quarter", "river bank"]


class RoundReader:
    """Each name is a span with its own score and one null score per passage; reads ``at_once``
    passages per round and records every call."""

    def __init__(self, scores: dict[str, float], null: float = 0.0, at_once: int = 1):
        self.scores, self.null, self.at_once, self.calls = scores, null, at_once, []

    def knows_no_answer(self) -> bool:
        return True

    def reads_at_once(self) -> int:
        return self.at_once

    def read(self, question, passages, top=3):
        self.calls.append(len(passages))
        out = []
        for p in passages:
            found = [ReadSpan(p.find(n), p.find(n) + len(n), s, self.null) for n, s in self.scores.items() if n in p]
            out.append(sorted(found, key=lambda r: -r.score)[:top])
        return out


def _passages(rng: random.Random, n: int) -> list[Hit]:
    hits = []
    for d in range(n):
        sentences = [f"{rng.choice(NAMES)} ordered the evacuation of the {rng.choice(PLACES)} on Monday."
                     if rng.random() < 0.6 else f"The {rng.choice(PLACES)} was quiet after the storm."
                     for _ in range(rng.randint(1, 4))]
        doc = parse_document(f"doc{d}.txt", " ".join(sentences))
        hits += [Hit(chunk=c, score=1.0 - d / 10) for c in chunk_document(doc, 110, 0)]
    return hits


def _hits_of(*texts: str) -> list[Hit]:
    """One document per text, in order, every chunk a hit."""
    return [Hit(chunk=c, score=1.0) for i, t in enumerate(texts) for c in chunk_document(parse_document(f"d{i}.txt", t), 110, 0)]


def _answer(answerer: ReaderAnswerer, question: str, hits: list[Hit]) -> dict:
    d = answerer.answer(question, hits, None, {}).to_dict()
    d.pop("timings", None)
    return d


def test_stopping_early_gives_the_answer_of_reading_everything():
    rng = random.Random(7)
    questions = ["Who ordered the evacuation of the lower town?", "Who ordered the evacuation?",
                 "What was quiet after the storm?", "Who ordered the evacuation of the old bridge on Monday?"]
    saved = 0
    for case in range(60):
        hits = _passages(rng, rng.randint(2, 6))
        scores = {n: rng.uniform(-4, 16) for n in NAMES}
        reader = RoundReader(scores, null=rng.uniform(-2, 6), at_once=rng.choice([1, 2]))
        every = ReaderAnswerer(reader=reader, refusal_threshold=rng.uniform(0, 3), passages=True, read_top=4,
                               w_reader=rng.choice([1.0, 6.0]), reader_mid=4.0, reader_temp=2.0, prune=False)
        q = rng.choice(questions)
        reader.calls.clear()
        full = _answer(every, q, hits)
        full_reads = sum(reader.calls)
        reader.calls.clear()
        pruned = _answer(dataclasses.replace(every, prune=True), q, hits)
        assert pruned == full, f"case {case}: {q}"
        assert sum(reader.calls) <= full_reads
        saved += full_reads - sum(reader.calls)
    assert saved > 0, "some cases stop before the last passage"


def test_a_sure_answer_in_the_first_passage_leaves_weaker_passages_unread():
    hits = _hits_of("Mayor Alice Brandt ordered the evacuation of the lower town on Monday.",
                    "The harbour was quiet. Jonas Weber sold fish.")
    reader = RoundReader({"Alice Brandt": 30.0, "Jonas Weber": 2.0}, at_once=1)
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=0.0, passages=True, w_reader=1.0, reader_mid=4.0, reader_temp=2.0)
    ans = answerer.answer("Who ordered the evacuation of the lower town?", hits, None, {})
    assert ans.short_answer == "Alice Brandt"
    assert reader.calls == [1], "the second passage could not have won: not read"


def test_an_unread_passage_that_could_still_win_is_read():
    hits = _hits_of("Mayor Alice Brandt ordered the evacuation of the lower town on Monday.",
                    "Jonas Weber ordered the evacuation of the lower town on Tuesday.")
    reader = RoundReader({"Alice Brandt": 3.0, "Jonas Weber": 30.0}, at_once=1)
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=0.0, passages=True, w_reader=6.0, reader_mid=4.0, reader_temp=2.0)
    ans = answerer.answer("Who ordered the evacuation of the lower town?", hits, None, {})
    assert reader.calls == [1, 1]
    assert ans.short_answer == "Jonas Weber"


def test_a_reader_without_rounds_reads_every_passage_at_once():
    hits = _passages(random.Random(3), 4)

    class Plain(RoundReader):
        reads_at_once = None  # an older reader: no rounds

    reader = Plain({n: 10.0 for n in NAMES})
    ReaderAnswerer(reader=reader, refusal_threshold=0.0, passages=True).answer("Who ordered the evacuation?", hits, None, {})
    assert len(reader.calls) == 1


def test_a_later_round_reads_only_the_passages_that_could_still_matter():
    """Round two holds a passage that could still win and one that cannot: only the first is read."""
    hits = _hits_of("Mayor Alice Brandt ordered the evacuation of the lower town on Monday.",
                    "Jonas Weber ordered the evacuation of the lower town on Tuesday.",
                    "Mira Okafor ordered the evacuation of the lower town on Friday.",
                    "The weather stayed quiet. Ruth Adeyemi sold fish at the market.")
    reader = RoundReader({"Alice Brandt": 9.0, "Jonas Weber": 2.0, "Mira Okafor": 1.0, "Ruth Adeyemi": 1.0}, at_once=2)
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=0.0, passages=True, w_reader=1.0, reader_mid=4.0, reader_temp=2.0)
    q = "Who ordered the evacuation of the lower town?"
    ans = answerer.answer(q, hits, None, {})
    assert reader.calls == [2, 1], "the market passage cannot reach the answer: not read"
    reader.calls.clear()
    assert _answer(dataclasses.replace(answerer, prune=False), q, hits) == _answer(answerer, q, hits)
    assert ans.short_answer == "Alice Brandt"
