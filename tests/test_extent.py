"""How far a reader's span reaches (qa.answer.extent), and what a count is not (qa.answer.fit): each case is one a
user's documents showed."""

from __future__ import annotations

from typing import Any

import pytest

from qa.answer import ReaderAnswerer
from qa.answer.extent import clause_end, reach
from qa.ingest import chunk_document, parse_document
from qa.types import Hit
from tests.fakes import ScriptedReader

RELEASE = ("Revenue was $412.6 million, an increase of 18 percent compared with a year earlier. "
           "The company was founded in 2005 by Ingrid Halvorsen and Tor Lunde in Drammen, Norway. "
           "The company signed a five-year agreement with Nordmarkt Retail Group to deploy 1,500 units. "
           "A dividend of $0.15 per share is payable on November 20, 2025 to shareholders of record on November 6, 2025. "
           "For the fourth quarter, Halvorsen expects revenue between $430 million and $450 million and gross margin of approximately 41 percent. "
           "Interior Minister Diosdado Cabello spoke first.")


def _hits_of(name: str, text: str) -> tuple[Any, list[Hit]]:
    doc = parse_document(name, text)
    return doc, [Hit(chunk=c, score=1.0) for c in chunk_document(doc, 200, 0)]


def _confident(spans: list[tuple[str, float]]) -> ReaderAnswerer:
    """An answerer whose scripted reader's span scores decide (confidence = sigmoid(score))."""
    return ReaderAnswerer(reader=ScriptedReader(spans), refusal_threshold=0.2, prefer_typed_rules=False, w_reader=1.0, reader_mid=0.0)


def _reach(question: str, sentence_part: str, read: str) -> str:
    sentence = next(s + "." for s in RELEASE.split(". ") if sentence_part in s)
    a = sentence.index(read)
    return sentence[slice(*reach(question, sentence, a, a + len(read)))]


@pytest.mark.parametrize("question, sentence, read, expected", [
    # a number keeps its percent
    ("By what percentage did revenue increase?", "Revenue was", "18", "18 percent"),
    # a name is kept whole, and two founders joined by "and" both answer
    ("Which retailer signed the agreement?", "Nordmarkt", "Nordmarkt", "Nordmarkt Retail Group"),
    ("Who founded the company?", "founded in 2005", "Ingrid Halvorsen", "Ingrid Halvorsen and Tor Lunde"),
    # ... but not into the name the question asks about
    ("What post does Diosdado Cabello hold?", "Interior Minister", "Interior Minister", "Interior Minister"),
    ("Who worked with Tor Lunde?", "founded in 2005", "Ingrid Halvorsen", "Ingrid Halvorsen"),
    # a date or an amount ends where the next clause starts; a range stays whole
    ("When is the dividend payable?", "dividend", "November 20, 2025 to shareholders of record on November 6, 2025",
     "November 20, 2025"),
    ("What revenue does Halvorsen expect?", "fourth quarter", "between $430 million and $450 million and gross margin",
     "between $430 million and $450 million"),
    ("How much is the dividend?", "dividend", "$0.15 per share", "$0.15 per share"),
    # a reason or a quotation is a clause: left as read
    ("Why is the dividend payable?", "dividend", "November 20, 2025 to shareholders", "November 20, 2025 to shareholders"),
])
def test_a_span_reaches_the_boundary_its_sentence_shows(question, sentence, read, expected):
    assert _reach(question, sentence, read) == expected


def test_the_answerer_quotes_the_reached_span_at_its_offsets():
    doc, hits = _hits_of("release.txt", RELEASE)
    reader = ScriptedReader([("18", 15.0), ("Ingrid Halvorsen", 15.0), ("November 20, 2025 to shareholders", 15.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)
    for question, expected in [("By what percentage did revenue increase?", "18 percent"),
                               ("Who founded the company in Drammen?", "Ingrid Halvorsen and Tor Lunde"),
                               ("When is the dividend payable?", "November 20, 2025")]:
        a = answerer.answer(question, hits, None, {})
        assert a.short_answer == expected, (question, a.text)
        assert doc.text[a.answer_start : a.answer_end] == expected


@pytest.mark.parametrize("question, span, set_aside", [
    ("How many people does the pumpkin soup serve?", "1 kg", True),
    ("How many people does the pumpkin soup serve?", "4", False),
    ("How many grams of sugar go in?", "225 g", False),  # the question counts the unit itself
    ("How many bombs hit Plymouth?", "1,000 tons of bombs", False),
    ("How many years after the extinction did recovery begin?", "4M to 6M", False),  # M is million, not metres
    ("How much flour goes in?", "200 g", False),  # an amount, not a count
])
def test_a_count_is_not_a_measured_amount(question, span, set_aside):
    from qa.answer.fit import wrong_kind

    assert wrong_kind(question, span) is set_aside


def test_a_person_named_by_another_role_does_not_answer_and_an_acronym_is_found_spelled_out():
    """From a user's earnings release: "Who is the Chief Operating Officer?" and "Who is the CFO?" got
    the chief executive. A sentence naming the asked role, in words or as its acronym, answers."""
    text = ("“A strong quarter,” said Ingrid Halvorsen, Chief Executive Officer of the company. "
            "“Our balance sheet is sound,” said Marcus Oyelaran, Chief Financial Officer.")
    _, hits = _hits_of("release.txt", text)
    answerer = _confident([("Ingrid Halvorsen", 15.0), ("Marcus Oyelaran", 9.0)])
    assert answerer.answer("Who is the Chief Executive Officer?", hits, None, {}).short_answer == "Ingrid Halvorsen"
    assert answerer.answer("Who is the CEO?", hits, None, {}).short_answer == "Ingrid Halvorsen"
    assert answerer.answer("Who is the Chief Financial Officer?", hits, None, {}).short_answer == "Marcus Oyelaran"
    assert answerer.answer("Who is the CFO?", hits, None, {}).short_answer == "Marcus Oyelaran"
    assert answerer.answer("Who is the Chief Operating Officer?", hits, None, {}).refused


def test_an_acronym_counts_as_the_words_it_stands_for():
    from qa.answer.about import other_role
    from qa.answer.scoring import Weights, rank_sentences

    _, hits = _hits_of("release.txt", "Marcus Oyelaran is the Chief Financial Officer. The office opened in Oslo. "
                                      "Its clean air delivery rate is 320 cubic metres an hour.")
    ranked = rank_sentences("Who is the CFO?", "person", hits, None, {}, Weights())
    assert ranked[0].sentence.text.startswith("Marcus") and ranked[0].lexical > 0
    ranked = rank_sentences("What is the CADR?", "other", hits, None, {}, Weights())
    assert ranked[0].sentence.text.startswith("Its clean air") and ranked[0].lexical > 0
    # a vice president is another role than a chief technology officer (a user's attendee list)
    assert other_role("Who is the Chief Technology Officer?", "- Aisha Bello, VP of Sales")
    assert not other_role("Who is the VP of Sales?", "- Aisha Bello, VP of Sales")


def test_a_numbered_item_the_documents_do_not_have_is_not_answered_by_its_siblings_and_a_listed_price_is_its_own():
    """From a user's manual of the Nimbus 200, 400 and 600: "How much does the Nimbus 800 cost?" got
    the 600's filter price; "How much does a replacement filter for the Nimbus 400 cost?" the 200's."""
    text = ("# Nimbus manual\n\n## Nimbus 400\n\nThe recommended retail price is $279.\n\n## Filters\n\n"
            "Replacement filters cost $39 for the Nimbus 200, $49 for the Nimbus 400 and $69 for the Nimbus 600.\n")
    doc, hits = _hits_of("manual.md", text)
    answerer = _confident([("$39", 15.0), ("$279", 12.0)])
    a = answerer.answer("How much does a replacement filter for the Nimbus 400 cost?", hits, None, {})
    assert a.short_answer == "$49" and doc.text[a.answer_start : a.answer_end] == "$49"
    assert answerer.answer("How much does the Nimbus 800 cost?", hits, None, {}).refused


@pytest.mark.parametrize("question, sentence, number, set_aside", [
    ("How much salt goes into the stew?", "Serves 6.", "6", True),  # a user's recipes: a count of servings
    ("How much flour goes in?", "Add 200 g flour.", "200", False),
    ("How much did the ticket cost?", "It cost $35.", "35", False),
    ("By how much did revenue rise?", "It rose 18 percent.", "18", False),
    ("How much was a dollar worth in rials?", "A dollar bought 16,000 in early 2012.", "16,000", True),  # SQuAD's one
])
def test_a_bare_number_is_no_amount(question, sentence, number, set_aside):
    from qa.answer.fit import unitless_amount

    a = sentence.index(number)
    assert unitless_amount(question, sentence, a, a + len(number)) is set_aside


def test_a_rank_the_documents_do_not_give_is_not_answered_by_another_rank():
    """From a user's town history: "Who was the second burgess?" got the first burgess. The first is
    still answered, and a rank written as a number is the same rank spelled out."""
    _, hits = _hits_of("history.md", "The borough was incorporated in 1831. "
                                      "Its first burgess was Samuel Whitcombe, a lawyer from Philadelphia.")
    answerer = _confident([("Samuel Whitcombe", 15.0)])
    assert answerer.answer("Who was the first burgess?", hits, None, {}).short_answer == "Samuel Whitcombe"
    assert answerer.answer("Who was the second burgess?", hits, None, {}).refused
    _, hits = _hits_of("history.md", "Its 5th mayor was Rosa Delgado.")
    assert _confident([("Rosa Delgado", 15.0)]).answer("Who was the fifth mayor?", hits, None, {}).short_answer == "Rosa Delgado"


def test_a_name_does_not_run_on_into_the_next_clause():
    """A user's programme: "Who is the programme chair?" was answered "Mette Kjær and logistics are led by Rasmus Lund"."""
    s = "The programme chair is Mette Kjær and logistics are led by Rasmus Lund."
    a = s.index("Mette")
    assert s[slice(*reach("Who is the programme chair?", s, a, s.index(" Lund") + 5))] == "Mette Kjær"


def test_a_question_asking_for_several_gets_the_names_listed_together():
    """A user's onboarding guide: "Which days are the team days?" was answered "Thursday"."""
    s = "Employees come in two days a week, with Tuesday and Thursday as team days."
    a = s.index("Thursday")
    assert s[slice(*reach("Which days are the team days?", s, a, a + 8))] == "Tuesday and Thursday"
    assert s[slice(*reach("Which day is a team day?", s, a, a + 8))] == "Thursday"


def test_the_name_given_the_asked_role_answers_when_a_sentence_gives_several():
    """A user's grant call: "Who is the Grants Officer?" got the programme manager named first."""
    s = "The programme is led by Dr. Sofia Lindqvist, Programme Manager, with support from Tomas Ferreira, Grants Officer."
    a = s.index("Dr.")
    assert s[slice(*reach("Who is the Grants Officer?", s, a, a + 19))] == "Tomas Ferreira"
    assert s[slice(*reach("Who is the Programme Manager?", s, a, a + 19))] == "Dr. Sofia Lindqvist"


def test_an_amount_after_its_currency_sign_ends_before_the_next_item_s():
    """A user's museum guide: "How much is a cream tea in the cafe?" got "£6.75 and a pot of tea £2.40"."""
    s = "It serves light lunches and cream teas; a cream tea costs £6.75 and a pot of tea £2.40."
    a, b = s.index("£6.75"), s.index("£2.40") + 5
    assert s[a : clause_end("How much is a cream tea in the cafe?", s, a, b)] == "£6.75"
    r = "Revenue should reach between $430 million and $450 million this year."
    a = r.index("between")
    assert r[a : clause_end("How much revenue?", r, a, r.index(" this"))] == "between $430 million and $450 million"
