"""The extractive answerer on hand-made passages (no model: vectors are chosen by the test)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer import (
    DATE, NUMBER, ORG, OTHER, PERSON, PLACE, QUOTE, REASON, REFUSAL,
    ExtractiveAnswerer, head_noun, question_type, spans_of,
)
from qa.ingest import chunk_document, parse_document
from qa.types import Hit


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Who was sworn in as interim president?", PERSON),
        ("Which U.S. official announced the charges?", PERSON),
        ("When did the strike happen?", DATE),
        ("What year was he re-elected?", DATE),
        ("How many troops were deployed?", NUMBER),
        ("How much is the bounty?", NUMBER),
        ("Where did the firefights break out?", PLACE),
        ("In which city did the clashes take place?", PLACE),
        ("Which Telegram channel cited the councils?", ORG),
        ("What did Trump say about the raid?", QUOTE),
        ("How did the minister characterize the raid?", QUOTE),
        ("Why did tensions escalate?", REASON),
        ("How did the operation begin?", REASON),
        # only the first wh-phrase counts: "when" here is a clause
        ("What were they doing when the raid began?", OTHER),
        ("According to the official, what did U.S. forces come under?", OTHER),
    ],
)
def test_question_type(question, expected):
    assert question_type(question) == expected


def test_head_noun():
    assert head_noun("Which Telegram channel cited members?") == "channel"
    assert head_noun("What is the name of the cartel?") == "cartel"
    assert head_noun("Who was sworn in?") is None


def kinds(sentence: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sp in spans_of(sentence):
        out.setdefault(sp.kind, []).append(sp.text(sentence))
    return out


def test_spans_dates_numbers_people_places():
    k = kinds("On January 3, 2026, President Donald Trump ordered 4,000 troops and a $50 million bounty in Caracas.")
    assert "January 3, 2026" in k[DATE]
    assert {"4,000", "$50 million"} <= set(k[NUMBER])
    assert "Donald Trump" in k[PERSON]  # the title is not part of the name
    assert "Caracas" in k[PLACE]


def test_spans_skip_headline_capitals_and_keep_initialisms():
    assert PERSON not in kinds("Dozens Of Security Personnel Killed In Military Raid Targeting Inner Circle")
    assert any(t == "U.S." for ts in kinds("The strike was ordered by the U.S. on Saturday.").values() for t in ts)


def test_quote_spans_are_trimmed():
    k = kinds("“The United States has crossed a red line,” declared the minister.")
    assert k[QUOTE] == ["The United States has crossed a red line"]


# --- answering from hand-made passages -----------------------------------------------------------

TEXT_A = (
    "Interim Leader\n"
    "The clashes began hours after Delcy Rodríguez was sworn in as interim president.\n"
    "Gunfire was heard near the palace on January 6.\n"
)
TEXT_B = "Other Report\nDelcy Rodriguez was sworn in as interim president on Monday.\n"


def hits_and_vectors(question_vec, favour: dict[str, np.ndarray] | None = None):
    docs = [parse_document("a.txt", TEXT_A), parse_document("b.txt", TEXT_B)]
    hits, vectors = [], {}
    for rank, d in enumerate(docs):
        for c in chunk_document(d):
            hits.append(Hit(chunk=c, score=1.0 / (rank + 1)))
            for i, s in enumerate(c.sentences):
                v = (favour or {}).get(s.text)
                vectors[(c.chunk_id, i)] = v if v is not None else np.zeros_like(question_vec)
    return docs, hits, vectors


def unit(i: int, n: int = 8) -> np.ndarray:
    v = np.zeros(n, dtype=np.float32)
    v[i] = 1.0
    return v


def test_answer_quotes_verbatim_and_cuts_the_name():
    q = unit(0)
    docs, hits, vectors = hits_and_vectors(q, {
        "The clashes began hours after Delcy Rodríguez was sworn in as interim president.": unit(0),
    })
    a = ExtractiveAnswerer(refusal_threshold=0.3).answer("Who was sworn in as interim president?", hits, q, vectors)
    assert not a.refused
    assert a.short_answer == "Delcy Rodríguez"
    text = {d.doc_id: d.text for d in docs}
    for c in a.citations:
        assert text[c.doc_id][c.start : c.end] == c.quote
    c1 = a.citations[0]
    assert text[c1.doc_id][c1.answer_start : c1.answer_end] == "Delcy Rodríguez"
    assert a.text.startswith("Delcy Rodríguez") and "[1]" in a.text


def test_two_documents_stating_it_differently_are_both_cited():
    q = unit(0)
    _, hits, vectors = hits_and_vectors(q, {
        "The clashes began hours after Delcy Rodríguez was sworn in as interim president.": unit(0),
        "Delcy Rodriguez was sworn in as interim president on Monday.": unit(0) * 0.95 + unit(1) * 0.05,
    })
    a = ExtractiveAnswerer(refusal_threshold=0.3).answer("Who was sworn in as interim president?", hits, q, vectors)
    assert {c.doc_id for c in a.citations} == {"a.txt", "b.txt"}
    assert "[2]" in a.text


def test_weak_support_is_refused_with_the_nearest_passages():
    q = unit(7)
    _, hits, vectors = hits_and_vectors(q)
    a = ExtractiveAnswerer(refusal_threshold=0.36).answer("What is the boiling point of water?", hits, q, vectors)
    assert a.refused and a.text == REFUSAL
    assert a.citations == () and a.short_answer is None
    assert a.passages == tuple(hits)


@pytest.mark.parametrize("question", ["Who", "Who?", "Who said it?", "What happened?", "When was it?"])
def test_a_question_that_names_nothing_is_refused_with_a_note(question):
    """Found by a user: `qa ask Who` answered "Trump" on the seeds and was refused once unrelated
    documents were added; with no word to look for, any sentence fits as well as another."""
    from qa.answer.extractive import NOTHING_ASKED

    q = unit(0)
    _, hits, vectors = hits_and_vectors(q, {"Donald Trump said the raid was an amazing thing.": unit(0)})
    a = ExtractiveAnswerer(refusal_threshold=-1.0).answer(question, hits, q, vectors)
    assert a.refused and a.text == REFUSAL and a.notices == (NOTHING_ASKED,) and a.passages == tuple(hits)
    asked = ExtractiveAnswerer(refusal_threshold=-1.0).answer("Who said the raid was amazing?", hits, q, vectors)
    assert not asked.refused and asked.notices == ()


def test_no_passages_is_a_refusal():
    a = ExtractiveAnswerer().answer("Who?", [], unit(0), {})
    assert a.refused and a.text == REFUSAL and a.confidence == 0.0
