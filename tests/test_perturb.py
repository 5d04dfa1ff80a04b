"""The changed questions that teach the reader to abstain (training data; fast, no model)."""

import random

from qa.reader.data import training_examples
from qa.reader.perturb import article_names, names_in, unanswerable_variant

CONTEXT = (
    "The lighthouse at Port Ellen was built in 1832 by the engineer Margaret Doyle. It was the first light on "
    "the island. Furthermore, its keeper lived in Bowmore."
)
POOL = ["Port Ellen", "Margaret Doyle", "Kilchoman Bay", "Bowmore", "Islay"]


def _variants(question: str, seeds=range(20)) -> set[str]:
    return {v for s in seeds if (v := unanswerable_variant(question, CONTEXT, POOL, random.Random(s)))}


def test_a_name_the_paragraph_holds_is_swapped_for_one_it_does_not():
    variants = _variants("Who built the lighthouse at Port Ellen?")
    assert variants == {"Who built the lighthouse at Kilchoman Bay?"}  # same shape (two words), absent from the text


def test_a_year_becomes_one_the_paragraph_does_not_mention():
    for v in _variants("Which lighthouse was built in 1832?"):
        year = v.rsplit(" ", 1)[1].rstrip("?")
        assert year.isdigit() and year != "1832" and year not in CONTEXT and 1790 <= int(year) <= 1875


def test_a_superlative_flips_only_when_the_paragraph_lacks_its_opposite():
    assert "Where was the last light on the island?" in _variants("Where was the first light on the island?")
    context = "The first and the last light on the island stood in Bowmore."
    assert unanswerable_variant("Where was the first light?", context, [], random.Random(0)) is None


def test_a_question_without_an_anchor_in_the_paragraph_is_left_alone():
    assert _variants("What colour is the sky?") == set()


def test_names_skip_question_words_and_sentence_starts():
    assert names_in("What did Margaret Doyle build?") == ["Margaret Doyle"]
    names = article_names({"paragraphs": [{"context": CONTEXT}]})
    assert "Port Ellen" in names and "Bowmore" in names
    assert "Furthermore" not in names and "It" not in names


def test_training_adds_changed_questions_as_no_answer_windows_deterministically():
    article = {"title": "Port_Ellen", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "q1", "question": "Who built the lighthouse at Port Ellen?", "answers": [{"text": "Margaret Doyle", "answer_start": CONTEXT.index("Margaret Doyle")}]},
    ]}, {"context": "Kilchoman Bay lies to the west of Bowmore.", "qas": []}]}
    first = training_examples([article], -1, 0.0, 0.0, seed=1, neg_perturbed=1.0)
    assert first == training_examples([article], -1, 0.0, 0.0, seed=1, neg_perturbed=1.0)
    (pos, neg) = first
    assert not pos.is_negative and neg.is_negative and neg.context == pos.context
    assert neg.question == "Who built the lighthouse at Kilchoman Bay?" and neg.qid == "q1#changed"


def test_a_content_word_is_swapped_for_one_of_the_articles_with_the_same_ending():
    plural = ["keepers", "engineers", "lamps", "harbours"]  # no "-er" or "-se" ending: nothing to swap in
    assert all(unanswerable_variant("Who was the engineer of the lighthouse?", CONTEXT, [], random.Random(s), plural) is None
               for s in range(10))
    # "lighthouse" (in the paragraph) can only become a word ending alike that the paragraph lacks
    assert unanswerable_variant("Who built the lighthouse?", CONTEXT, [], random.Random(0), ["warehouse", "keeper"]) == \
        "Who built the warehouse?"
