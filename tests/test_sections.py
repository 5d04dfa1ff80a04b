"""Markdown sections: a sentence is read and scored under the headings it stands under (a user's
recipe collection: "How much pumpkin is needed for the soup?" got the soup's keeping time, because
its ingredient list, in a chunk of its own, never said "soup")."""

from __future__ import annotations

import pytest

from qa.answer import ReaderAnswerer
from qa.answer.scoring import rank_sentences, section_of
from qa.ingest import chunk_document, parse_document
from qa.ingest.chunking import heading_of
from qa.types import Hit
from tests.conftest import indexed_engine
from tests.fakes import ScriptedReader

RECIPES = """# Family Recipes

Collected by Margaret, tested in 2024.

## Pumpkin Soup

Serves 4.

### Ingredients

- 1 kg pumpkin, peeled and cut into cubes
- 1 litre vegetable stock

### Method

Simmer the pumpkin in the stock for 25 minutes. The soup keeps for three days in the fridge.

## Beef Stew

Serves 6.

### Ingredients

- 1.2 kg braising steak, cut into pieces
- 2 onions, sliced
"""


def _hits(max_words: int = 14):
    doc = parse_document("recipes.md", RECIPES)
    return doc, [Hit(chunk=c, score=1.0) for c in chunk_document(doc, max_words)]


def test_each_sentence_knows_its_section_even_in_a_chunk_that_starts_inside_it():
    _, hits = _hits()
    where = {s.text: section_of(h.chunk, i) for h in hits for i, s in enumerate(h.chunk.sentences)}
    assert where["- 1 kg pumpkin, peeled and cut into cubes"] == "Pumpkin Soup › Ingredients"
    assert where["- 1.2 kg braising steak, cut into pieces"] == "Beef Stew › Ingredients"
    assert where["Serves 6."] == "Beef Stew"
    assert any(h.chunk.section and not h.chunk.sentences[0].text.startswith("#") for h in hits)  # a chunk started inside one


def test_the_heading_words_count_for_the_sentences_under_them_and_headings_never_answer():
    from dataclasses import replace

    _, hits = _hits()
    question, weights = "How much pumpkin is needed for the soup?", ReaderAnswerer().weights
    ranked = rank_sentences(question, "number", hits, None, {}, weights)
    blind = rank_sentences(question, "number", hits, None, {}, replace(weights, w_heading=0.0))
    lexical = {c.sentence.text: c.lexical for c in ranked}
    assert lexical["- 1 kg pumpkin, peeled and cut into cubes"] > {c.sentence.text: c.lexical for c in blind}["- 1 kg pumpkin, peeled and cut into cubes"]
    assert lexical["Serves 4."] > lexical["Serves 6."]  # "soup" and "pumpkin" are the headings' words
    texts = [c.sentence.text for c in ranked]
    assert texts.index("- 1 kg pumpkin, peeled and cut into cubes") < texts.index("- 1.2 kg braising steak, cut into pieces")
    assert not any(t.startswith("#") for t in texts)
    assert "Serves 4." in texts  # two words, one a number: an answer to "How many does it serve?"


def test_the_reader_reads_a_passage_under_its_headings_and_never_answers_from_them():
    doc, hits = _hits()
    seen: list[str] = []

    class Recording(ScriptedReader):
        def read(self, question, passages, top=3):
            seen.extend(passages)
            return super().read(question, passages, top)

    # "Pumpkin Soup" is proposed too: found only in the headings it is no sentence's, and not the answer
    reader = Recording([("Pumpkin Soup", 20.0), ("1 kg", 15.0), ("4", 9.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False, passages=True, read_top=8)
    a = answerer.answer("How much pumpkin goes into the soup?", hits, None, {})
    assert a.short_answer == "1 kg" and doc.text[a.answer_start : a.answer_end] == "1 kg"
    assert any(p.startswith("Pumpkin Soup\n### Ingredients") and "- 1 kg pumpkin" in p for p in seen), seen
    # a count is not a measured amount: "1 kg" does not say how many the soup serves
    assert answerer.answer("How many people does the pumpkin soup serve?", hits, None, {}).short_answer == "4"


CHANGELOG = """# Tessera Sync Changelog

All notable changes to Tessera Sync are documented here. Versions follow semantic versioning.

## [4.3.0] - 2025-09-18

### Added
- Support for Ubuntu 24.04 LTS desktop clients.

### Fixed
- Fixed a memory leak in the thumbnail cache that grew by about 40 MB per hour.

## [4.2.1] - 2025-07-30

### Fixed
- Fixed the login loop on macOS Sequoia when single sign-on was enabled, fixed by Dmitri Kowalczyk.

## [4.2.0] - 2025-06-12

### Removed
- Removed the old tray icon themes, which few users had kept after the redesign of the desktop client.
- Removed the bundled preview plug-in; previews now open in the viewer of the operating system.
- Removed the legacy FTP bridge, which had been deprecated since version 3.9.0.
"""


def test_a_changelog_heading_gives_the_version_and_date_of_its_entries_quoted_where_it_stands():
    """A user's changelog: "Which version fixed the memory leak in the thumbnail cache?" got "24.04" (a
    neighbouring entry), "When was version 4.3.0 released?" was refused: no entry holds its version."""
    doc = parse_document("CHANGELOG.md", CHANGELOG)
    chunks = chunk_document(doc, 30)
    assert any(c.section_spans and not c.sentences[0].text.startswith("#") for c in chunks)  # headings above the chunk
    hits = [Hit(chunk=c, score=1.0) for c in chunks]
    answerer = ReaderAnswerer(reader=ScriptedReader([("24.04", 9.0), ("3.9.0", 8.0)]), refusal_threshold=0.5, prefer_typed_rules=False,
                              passages=True, w_reader=1.0, reader_mid=0.0, reader_temp=1.0)
    for question, short, heading in [
        ("Which version fixed the memory leak in the thumbnail cache?", "4.3.0", "[4.3.0] - 2025-09-18"),
        ("When was version 4.3.0 released?", "2025-09-18", "[4.3.0] - 2025-09-18"),
        ("Which version removed the legacy FTP bridge?", "4.2.0", "[4.2.0] - 2025-06-12"),
        ("When was the legacy FTP bridge removed?", "2025-06-12", "[4.2.0] - 2025-06-12"),
    ]:
        a = answerer.answer(question, hits, None, {})
        assert a.short_answer == short and doc.text[a.answer_start : a.answer_end] == short, (question, a.short_answer)
        first = a.citations[0]
        assert first.quote == heading == doc.text[first.start : first.end]  # the heading's words, where they stand
        if not question.endswith("released?"):  # and the entry it answers for
            assert len(a.citations) == 2 and doc.text[a.citations[1].start : a.citations[1].end] == a.citations[1].quote
    for question in ("When was version 5.0.0 released?", "Who fixed the login loop in version 4.2.2?"):
        assert answerer.answer(question, hits, None, {}).refused, question


@pytest.mark.integration
def test_a_changelog_with_the_shipped_reader(tmp_path):
    """Real model, real Chroma, the shipped reader, on the user's kind of changelog."""
    engine = indexed_engine(tmp_path, {"CHANGELOG.md": CHANGELOG})
    assert engine.ask("Which version fixed the memory leak in the thumbnail cache?").short_answer == "4.3.0"
    assert engine.ask("When was version 4.2.1 released?").short_answer == "2025-07-30"
    assert engine.ask("When was the legacy FTP bridge removed?").short_answer == "2025-06-12"
    for question in ("Which version fixed the login loop on Windows?", "When was version 5.0.0 released?",
                     "Who fixed the login loop in version 4.2.2?"):
        answer = engine.ask(question)
        assert answer.refused, (question, answer.short_answer)


MINUTES = """# Minutes of the Board of Trustees

Meeting held on Tuesday 20 January 2026 at 6.30 pm in the Meeting Room, Eastgate Community Centre.

## 1. Welcome and apologies
The Chair welcomed everyone and noted that the meeting was quorate with five of seven trustees present.

## 2. Director's report
Sarah Lindqvist reported that 1,284 food parcels were given out in December 2025, the highest monthly number on record.
Queues on Saturday mornings reached up to 50 minutes, and 23 households were turned away when stock ran out.

## 3. Finance
David Hirst presented the draft accounts for 2025, showing a surplus of £32,140.
Decision: the board approved the 2026 budget of £312,000.

## 4. Thursday evening session
The board discussed opening an evening session for working families who cannot come during the day.
Decision: the board agreed to open a Thursday evening session at St Luke's Church Hall from 5 March 2026.

## 5. Volunteer recruitment
The board set a target of recruiting 40 new volunteers by the end of June 2026.
"""


def test_a_heading_never_ends_a_passage():
    """A user's minutes: "## 5. Thursday evening session" ended one passage and its decision began the
    next, so "What was decided under item 5?" had no item 5 to read the decision under."""
    chunks = chunk_document(parse_document("minutes.md", MINUTES), 40)
    assert len(chunks) > 2
    assert all(heading_of(c.sentences[-1].text) is None for c in chunks)


@pytest.mark.integration
@pytest.mark.parametrize("question, expected", [
    ("What was agenda item 4?", "Thursday evening session"),  # a heading's title: headings never answered
    ("What was decided under agenda item 3?", "the board approved the 2026 budget of £312,000"),
    ("What was decided under item 4?", "the board agreed to open a Thursday evening session at St Luke's Church Hall from 5 March 2026"),
])
def test_minutes_numbered_headings_are_items_a_question_names(minutes_engine, question, expected):
    """A user's minutes ("## 5. Thursday evening session"): "What was agenda item 5?" was refused
    ("5" is no search term, headings were never answers, "agenda" is a word minutes never say)."""
    assert minutes_engine.ask(question).short_answer == expected


@pytest.fixture(scope="module")
def minutes_engine(tmp_path_factory: pytest.TempPathFactory):
    return indexed_engine(tmp_path_factory.mktemp("minutes"), {"minutes.md": MINUTES})
