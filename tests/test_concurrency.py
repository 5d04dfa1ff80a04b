"""Concurrency: many threads asking at once, and an upload indexed while questions are answered.

``QA.ask`` is documented as safe to call from several threads. Here 16 threads ask the same 20
gold questions (each several times, in different orders) and every answer must be identical to the
serial one: text, short answer, refusal, citations with their offsets. Then a document is added
(``add_document``: written, chunked, embedded, appended to the live index in place) while 8 threads
keep asking: no question may fail or change its answer, and the new document is citable afterwards.
Real model, real Chroma, on a private copy of the seed index.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import GOLD
from tests.test_hostile import copy_seed_engine

pytestmark = [pytest.mark.integration, pytest.mark.load]

THREADS = 16
NEW_DOC_NAME = "harbor-festival.md"
NEW_DOC = (
    "# Harbor Festival 2026\n"
    "The Harbor Festival lantern parade is led by Ilse Vandermeer.\n"
    "The parade starts at nine in the evening on the north pier.\n"
).encode("utf-8")
NEW_Q = "Who leads the Harbor Festival lantern parade?"
NEW_A = "Ilse Vandermeer"


def gold_questions(n: int = 20) -> list[str]:
    lines = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [g["question"] for g in lines[:n]]


def fingerprint(answer) -> tuple:
    """Everything a reader of the answer sees: text, short answer, refusal, citations and offsets."""
    return (
        answer.text, answer.short_answer, answer.refused, answer.answer_doc_id, answer.answer_start, answer.answer_end,
        tuple((c.n, c.doc_id, c.start, c.end, c.quote, c.answer_start, c.answer_end) for c in answer.citations),
        tuple((h.chunk.chunk_id, h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in answer.passages),
    )


@pytest.fixture(scope="module")
def engine(seed_engine, tmp_path_factory):
    return copy_seed_engine(seed_engine, tmp_path_factory.mktemp("concurrency"))


def test_sixteen_threads_give_exactly_the_serial_answers(engine):
    questions = gold_questions()
    assert len(questions) == 20
    serial = {q: fingerprint(engine.ask(q)) for q in questions}
    assert sum(1 for fp in serial.values() if not fp[2]) >= 5  # real answers with citations, not only refusals

    # every thread asks all 20 questions in its own order: 320 concurrent asks
    work = []
    for t in range(THREADS):
        order = list(questions)
        random.Random(t).shuffle(order)
        work.append(order)
    engine.embedder.clear()  # the question vectors are computed concurrently too, not read from cache
    barrier = threading.Barrier(THREADS)

    def run(order: list[str]) -> list[tuple[str, tuple]]:
        barrier.wait()  # all threads start together
        return [(q, fingerprint(engine.ask(q))) for q in order]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for rs in pool.map(run, work) for r in rs]
    assert len(results) == THREADS * 20
    mismatches = [q for q, fp in results if fp != serial[q]]
    assert not mismatches, f"{len(mismatches)} concurrent answers differ from serial, e.g. {mismatches[0]!r}"


def test_upload_while_questions_are_answered_loses_nothing(engine):
    questions = gold_questions()
    serial = {q: fingerprint(engine.ask(q)) for q in questions}
    assert all(c.doc_id != NEW_DOC_NAME for c in engine.ask(NEW_Q).citations)  # not in the collection yet

    stop = threading.Event()
    errors: list[BaseException] = []
    answered: list[tuple[str, tuple]] = []
    spans: list[tuple[float, float]] = []  # (start, end) of every question
    new_answers: list[object] = []
    lock = threading.Lock()

    def asker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            q = rng.choice(questions + [NEW_Q])
            t = time.monotonic()
            try:
                a = engine.ask(q)
            except BaseException as e:  # noqa: BLE001 - any failure is the finding
                with lock:
                    errors.append(e)
                return
            with lock:
                spans.append((t, time.monotonic()))
                if q == NEW_Q:
                    new_answers.append(a)
                else:
                    answered.append((q, fingerprint(a)))

    threads = [threading.Thread(target=asker, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # questions are in flight before the upload starts
    t0 = time.monotonic()
    added = engine.add_document(NEW_DOC_NAME, NEW_DOC)
    t1 = time.monotonic()
    # and go on after it, until more than 20 answers are in (a fixed pause counted fewer than that
    # when the shared machine was busy: the count is a floor on the work done, not a speed test)
    deadline = time.monotonic() + 60
    while time.monotonic() < t1 + 1.0 or (len(answered) <= 20 and time.monotonic() < deadline):
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)

    assert not errors, f"{len(errors)} questions failed during the upload: {errors[0]!r}"
    assert added.created and added.chunks >= 1 and added.report.added == (NEW_DOC_NAME,)
    # questions really were under way while it indexed (an upload of three lines takes well under a
    # second now, less than one answer on a busy machine: count the questions in flight, not finished)
    during = [s for s in spans if s[0] < t1 and s[1] > t0]
    assert during and len(answered) > 20
    wrong = [q for q, fp in answered if fp != serial[q]]
    assert not wrong, f"{len(wrong)} answers changed during the upload, e.g. {wrong[0]!r}"
    # the new question was answered either before its document existed or from it, never wrongly
    for a in new_answers:
        assert a.refused or NEW_A not in a.text or a.citations[0].doc_id == NEW_DOC_NAME

    after = engine.ask(NEW_Q)
    assert not after.refused and NEW_A in after.text and after.citations[0].doc_id == NEW_DOC_NAME
    quote = after.citations[0]
    text = (engine.config.documents_dir / NEW_DOC_NAME).read_text(encoding="utf-8")  # uploads: the user's folder
    assert text[quote.start:quote.end] == quote.quote
    # the seed answers are what they were
    assert {q: fingerprint(engine.ask(q))[:3] for q in questions} == {q: fp[:3] for q, fp in serial.items()}
