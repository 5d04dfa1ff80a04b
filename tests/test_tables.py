"""Table rows (qa.answer.tables): a user's pool prices and travel allowances, stored one row a line
with " | " between cells. "What does a 10-visit pass cost for a youth?" got the row's first price;
"What is the hotel limit per night in Manchester?" London's; "… in Paris?" (no such row) the header row."""

from __future__ import annotations

import pytest

from qa.answer import ReaderAnswerer
from qa.answer.tables import asked_cell, header_of, asked_row, in_asked_row, is_header_row, looked_up
from qa.ingest import chunk_document, parse_document
from qa.types import Hit
from tests.conftest import indexed_engine
from tests.fakes import ScriptedReader

PRICES = ["Admission prices include tax.", "Ticket | Adult (18-64) | Youth (4-17) | Senior (65+)",
          "Single visit | $7.50 | $4.00 | $5.00", "10-visit pass | $65.00 | $35.00 | $45.00",
          "Children under 4 swim free."]
LIMITS = "Hotel limits per city are below.\nCity | Hotel limit per night | Daily meal allowance\nLondon | £220 | £55\nManchester | £140 | £40\n"


def test_the_cell_under_the_named_column_of_the_named_row():
    row = PRICES[3]
    assert row[slice(*asked_cell("What does a 10-visit pass cost for a youth?", PRICES, 3))] == "$35.00"
    assert asked_cell("What does a 10-visit pass cost?", PRICES, 3) is None  # no column named
    assert asked_row("What does a 10-visit pass cost for a youth?", PRICES, 2) == 3
    assert is_header_row(PRICES, 1) and not is_header_row(PRICES, 2) and not is_header_row(PRICES, 0)
    index, a, b = in_asked_row("How much is a 10-visit pass?", PRICES, 2, PRICES[2].index("$7.50"), PRICES[2].index("$7.50") + 5)
    assert (index, PRICES[index][a:b]) == (3, "$65.00")  # the reader's column, the question's row


OFFICES = ["City | Address | Opening hours | Office manager",
           "Berlin | Torstrasse 140, 10119 Berlin | 08:30-19:00 Monday to Friday | Lukas Brenner",
           "Krakow | ul. Pawia 9, 31-154 Krakow | 07:30-17:00 Monday to Friday | Piotr Zielinski"]


@pytest.mark.parametrize("question, expected", [
    ("What is the address of the Berlin office?", "Torstrasse 140, 10119 Berlin"),  # not "Office manager": named by half
    ("Who is the office manager in Berlin?", "Lukas Brenner"),
    ("What are the opening hours of the Berlin office?", "08:30-19:00 Monday to Friday"),
])
def test_of_two_columns_named_alike_the_one_named_whole_is_asked(question, expected):
    """A user's handbook: "What is the address of the Berlin office?" named "Address" and half of
    "Office manager", and was answered with the postcode the reader took."""
    assert OFFICES[1][slice(*asked_cell(question, OFFICES, 1))] == expected


PLAN = ["| Week | Easy runs | Long run (Sun) | Weekly total |", "|---|---|---|---|", "| 4 (recovery week) | 2 x 4 km | 8 km | 21 km |",
        "| 7 | 2 x 6 km | 14 km | 33 km |", "| 10 (peak week) | 2 x 7 km | 18 km | 40 km |"]


def test_a_row_is_named_by_its_number_as_the_header_names_it():
    """A user's training plan: "How long is the long run in week 7?" got the "4 (recovery week)" row
    (the only one whose first cell says "week"), and "… in week 13?" (no such week) too."""
    q = "How long is the long run in week 7?"
    assert asked_row(q, PLAN, 2) == 3
    assert PLAN[3][slice(*looked_up(q, PLAN, 3))] == "14 km"
    assert PLAN[4][slice(*looked_up("What is the weekly total in week 10?", PLAN, 4))] == "40 km"
    assert looked_up("How long is the long run in week 13?", PLAN, 2) is None


SESSIONS = ["Time | Room | Speaker | Talk title", "11:20-11:40 | Seminar Room B | Chen Wei | Caffeine timing and slow-wave sleep"]


@pytest.mark.parametrize("question, expected", [
    ("What time does Chen Wei's talk start?", "11:20-11:40"),  # the first column, the row named by another cell
    ("In which room does Chen Wei speak?", "Seminar Room B"),  # not "Speaker", whose cell names the row
    ("What is the title of Chen Wei's talk?", "Caffeine timing and slow-wave sleep"),
    ("Who speaks at 11:20?", "Chen Wei"),
])
def test_a_programme_s_columns_are_asked_for_whichever_cell_names_the_row(question, expected):
    """A user's conference programme: "What time does Chen Wei's talk start?" got the talk's title
    (the "Time" column was never asked for: a first column names the row)."""
    assert SESSIONS[1][slice(*asked_cell(question, SESSIONS, 1))] == expected


TERMS = ["Term | First day for pupils | Half term | Last day",
         "Spring 2026 | Tuesday 6 January 2026 | Monday 16 February to Friday 20 February 2026 | Friday 27 March 2026"]


@pytest.mark.parametrize("question, expected", [
    ("When does the spring term end?", "Friday 27 March 2026"),
    ("When does the spring term start?", "Tuesday 6 January 2026"),
    ("When does the spring half term begin?", "Monday 16 February to Friday 20 February 2026"),  # named whole
])
def test_when_a_thing_starts_or_ends_names_its_first_or_last_day(question, expected):
    """A user's term calendar: "When does the spring term end?" answered "2026" (the cell naming the
    row); no column was named, as "end" is not "Last day"."""
    assert TERMS[1][slice(*asked_cell(question, TERMS, 1))] == expected


FIGURES = ["Measure | 2025 | 2024", "Meals served in the community kitchen | 48,610 | 39,200"]


@pytest.mark.parametrize("question, expected", [
    ("How many meals were served in the community kitchen in 2025?", "48,610"),
    ("How many meals were served in 2024?", "39,200"),
])
def test_years_naming_columns_make_a_header(question, expected):
    """A user's annual report: "Measure | 2025 | 2024" held values (years), so the table had no header
    and "How many meals were served in 2025?" got the 2024 figure."""
    assert header_of(FIGURES, 1) == 0
    assert FIGURES[1][slice(*asked_cell(question, FIGURES, 1))] == expected


BENEFITS = ["Service | Co-pay | Coverage | Notes", "Physiotherapy | EUR 25 | 70% | Up to 20 sessions per plan year"]


def test_a_count_is_answered_by_the_cell_that_counts_it():
    """A user's insurance table: "How many physiotherapy sessions are covered per year?" got the
    "Coverage" cell, "70%" ("covered" named the column)."""
    q = "How many physiotherapy sessions are covered per year?"
    assert BENEFITS[1][slice(*asked_cell(q, BENEFITS, 1))] == "Up to 20 sessions per plan year"
    assert BENEFITS[1][slice(*asked_cell("What is the coverage for physiotherapy?", BENEFITS, 1))] == "70%"


def test_a_row_cut_by_an_abbreviation_in_a_cell_is_still_one_row():
    """"ul. Pawia 9" cut Krakow's row in two sentences, so "Who is the office manager in Krakow?"
    was answered "Pawia", from a row with no first cell."""
    doc = parse_document("offices.md", "Our offices.\n" + "\n".join(OFFICES) + "\n")
    texts = [s.text for c in chunk_document(doc) for s in c.sentences]
    assert OFFICES[2] in texts
    krakow = OFFICES.index(OFFICES[2])
    assert OFFICES[krakow][slice(*asked_cell("Who is the office manager in Krakow?", OFFICES, krakow))] == "Piotr Zielinski"


def test_the_answerer_reads_a_table_by_its_row_and_column_and_never_answers_with_the_header():
    doc = parse_document("policy.txt", LIMITS)
    hits = [Hit(chunk=c, score=1.0) for c in chunk_document(doc, 200, 0)]
    reader = ScriptedReader([("£220", 15.0), ("Daily meal allowance", 14.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)
    a = answerer.answer("What is the hotel limit per night in Manchester?", hits, None, {})
    assert a.short_answer == "£140" and doc.text[a.answer_start : a.answer_end] == "£140"
    assert a.citations[0].quote == "Manchester | £140 | £40"
    assert answerer.answer("What is the daily meal allowance in London?", hits, None, {}).short_answer == "£55"
    header_only = ReaderAnswerer(reader=ScriptedReader([("Daily meal allowance", 14.0)]), refusal_threshold=-1.0, prefer_typed_rules=False)
    assert "Daily meal allowance" not in (header_only.answer("What is the hotel limit per night in Paris?", hits, None, {}).short_answer or "")


# --- a third user's documents: Markdown tables, a contacts table, a README's list of maintainers -------

OPTIONS = ("## Configuration\n\n| Option | Default | Description |\n|---|---|---|\n| min_size | 2 | Connections kept open |\n"
           "| max_size | 20 | Largest number of connections |\n\nSetting `max_size` below `min_size` raises a `ConfigError`.\n")
CONTACTS = ("# Key Contacts\n\nName | Role | Email | Extension\nHarriet Osei | Head of People Operations | h.osei@example.io | 2101\n"
            "Daniel Kowalczyk | IT Service Desk Lead | d.kowalczyk@example.io | 2230\n")
MAINTAINERS = "## Maintainers\n\n- Jonas Ekdahl, lead maintainer\n- Beatriz Souza, release manager\n- Kenji Watanabe, Redis integration\n"


def _answer(name: str, text: str, question: str, spans: list[tuple[str, float]], threshold: float = -1.0, shipped: bool = False):
    """The answer of a scripted reader's ``spans``: calibrated as 1/0/1, or (``shipped``) as the shipped int8 reader."""
    doc = parse_document(name, text)
    hits = [Hit(chunk=c, score=1.0) for c in chunk_document(doc, 200, 0)]
    w_reader, temp = (12.0, 2.0) if shipped else (1.0, 1.0)
    answerer = ReaderAnswerer(reader=ScriptedReader(spans), refusal_threshold=threshold, prefer_typed_rules=False,
                              w_reader=w_reader, reader_mid=0.0, reader_temp=temp)
    return doc, answerer.answer(question, hits, None, {})


def test_a_markdown_table_is_read_by_its_header_and_a_looked_up_cell_wins_over_a_surer_reader():
    """"What is the default value of max_size?" got "below `min_size" (the reader, never trained on
    tables, was surer of the prose); the row and the column named make the "20" a lookup."""
    from qa.answer.tables import cells, looked_up

    rows = OPTIONS.splitlines()
    assert [rows[5][a:b] for a, b in cells(rows[5])] == ["max_size", "20", "Largest number of connections"]
    assert looked_up("What is the default value of max_size?", rows, 5) is not None
    doc, a = _answer("README.md", OPTIONS, "What is the default value of max_size?", [("below `min_size", 3.0), ("20", 1.0)])
    assert a.short_answer == "20" and doc.text[a.answer_start : a.answer_end] == "20"


def test_the_whole_row_the_reader_took_moves_to_the_row_the_question_names():
    """"What is Daniel Kowalczyk's extension?" got Harriet Osei's: the reader's span was her whole row."""
    whole = "Harriet Osei | Head of People Operations | h.osei@example.io | 2101"
    doc, a = _answer("guide.docx", CONTACTS, "What is Daniel Kowalczyk's extension?", [(whole, 9.0)])
    assert a.short_answer == "2230" and doc.text[a.answer_start : a.answer_end] == "2230"


def test_a_list_item_without_the_question_words_does_not_answer_for_its_neighbour():
    """"Who works on the Redis integration?" got the lead maintainer, "Who is the release manager?" the
    next line's name (the reader took the name after the role)."""
    _, a = _answer("README.md", MAINTAINERS, "Who works on the Redis integration?", [("Jonas Ekdahl", 9.0), ("Kenji Watanabe", 5.0)])
    assert a.short_answer == "Kenji Watanabe"
    _, a = _answer("README.md", MAINTAINERS, "Who is the release manager?", [("Kenji Watanabe", 9.0), ("manager", 8.0)], threshold=0.5)
    assert a.short_answer != "Kenji Watanabe" and a.short_answer != "manager"


def test_a_table_that_fits_a_chunk_is_not_cut_from_its_header():
    intro = "The benefits differ by office. " * 20
    table = "Benefit | Leeds | Rotterdam | Porto\nHealth insurance provider | Bupa | Zilveren Kruis | Médis\n"
    chunks = chunk_document(parse_document("guide.txt", intro + "\n" + table), 110, 0)
    holding = [c for c in chunks if "Zilveren Kruis" in c.text]
    assert len(holding) == 1 and "Benefit | Leeds | Rotterdam | Porto" in holding[0].text


def test_a_troubleshooting_record_that_fits_a_chunk_is_not_cut_between_its_problem_and_its_remedy():
    """A user's dishwasher manual: "does not drain" ended one chunk and its "Solution: Clean the
    filter …" began the next, so "What should I do if the dishwasher does not drain?" was answered
    from another passage ("reduces water use by about 30 percent")."""
    intro = "Read the safety instructions before the first use and keep this manual for reference. " * 6
    record = ("Problem: The dishwasher does not drain.\nCause: The filter is blocked or the drain hose is kinked.\n"
              "Solution: Clean the filter assembly under running water and straighten the drain hose.\n")
    chunks = chunk_document(parse_document("manual.txt", intro + "\n" + record + record.replace("drain", "dry")), 110, 0)
    for problem in ("does not drain.", "does not dry."):
        holding = [c for c in chunks if problem in c.text]
        assert len(holding) == 1 and "Solution: Clean the filter" in holding[0].text.split(problem, 1)[1]
    long_record = "Problem: It stops.\n" + "Cause: One of many things went wrong at once. " * 30 + "\nSolution: Call us.\n"
    assert len(chunk_document(parse_document("manual.txt", long_record), 110, 0)) > 1  # longer than a chunk: cut as before


def test_rows_of_one_table_read_from_two_passages_compete_by_the_question_words_they_hold():
    """A user's programme: "Who gives the opening keynote?" got the speaker of the "Closing keynote"
    row, which the reader was surer of; the table was long, its rows in two passages."""
    text = ("Programme of Day 1.\n09:15 | Opening keynote: Boring Technology | Kari Nordmann | Main Hall\n\n"
            "Afternoon sessions follow the lunch break.\n15:00 | Closing keynote: Twenty Years | Anders Holm | Main Hall\n")
    chunks = chunk_document(parse_document("programme.html", text), 14, 0)
    assert not any("Kari" in c.text and "Anders" in c.text for c in chunks)  # the rows lie in two passages
    hits = [Hit(chunk=c, score=1.0) for c in chunks]
    answerer = ReaderAnswerer(reader=ScriptedReader([("Anders Holm", 6.0), ("Kari Nordmann", 1.0)]), refusal_threshold=-1.0,
                              prefer_typed_rules=False, w_reader=12.0, reader_mid=0.0, reader_temp=2.0)  # the shipped int8 calibration
    assert answerer.answer("Who gives the opening keynote?", hits, None, {}).short_answer == "Kari Nordmann"


def test_a_header_row_does_not_compete_with_the_rows():
    """A user's training plan: the header row "| Week | … | Weekly total |" (read, in the passage above
    its rows) shares more words with "What is the weekly total in week 4?" than the week-4 row, so the
    row lost its answer and the question was refused."""
    from qa.answer.competing import rows_asked_less
    from qa.answer.scoring import Candidate

    text = ("## The 12 weeks\n\n| Week | Long run | Weekly total |\n|---|---|---|\n"
            "| 3 | 10 km | 26 km |\n| 4 (recovery week) | 8 km | 21 km |\n")
    (chunk,) = chunk_document(parse_document("plan.md", text), 110, 0)
    hit = Hit(chunk=chunk, score=1.0)
    rows = [Candidate(0, hit, i, s) for i, s in enumerate(chunk.sentences) if "|" in s.text and "---" not in s.text]
    for c, words in zip(rows, ({"week", "weekly", "total"}, set(), {"week"})):
        c.reader_score, c.matched = 1.0, words
    assert [c.sentence.text for c in rows_asked_less(rows)] == ["| 3 | 10 km | 26 km |"]
    (alone,) = chunk_document(parse_document("plan.md", "Plan\n\n| Week | Long run | Weekly total |\n|---|---|---|\n"), 110, 0)
    head = Candidate(0, Hit(chunk=alone, score=1.0), 1, alone.sentences[1])
    head.reader_score, head.matched = 1.0, {"week", "weekly", "total"}
    assert rows_asked_less([head, *rows[1:]]) == [rows[1]]  # the header ending a passage is none of the rows


def test_a_named_cell_answers_when_the_reader_finds_nothing_else():
    """A user's maintenance log: "What was the issue in ticket QH-107?" was refused. The reader's only
    spans were in another ticket's note (set aside), so no sentence had reader evidence and the table's
    cell, row and column both named, was never looked up."""
    text = ("## Repair tickets\n\n| Ticket | Date reported | Issue | Contractor |\n|---|---|---|---|\n"
            "| QH-103 | 14 January 2025 | Black mould in bedroom | DryHome Surveys |\n"
            "| QH-107 | 12 May 2025 | Entrance barrier fault | GateTech Systems |\n\n"
            "## Notes\n\n- QH-103: the surveyor found condensation caused by a blocked trickle vent.\n")
    hits = [Hit(chunk=c, score=1.0) for c in chunk_document(parse_document("log.md", text), 110, 0)]
    answerer = ReaderAnswerer(reader=ScriptedReader([("condensation", 9.0)]), refusal_threshold=0.5, prefer_typed_rules=False,
                              w_reader=12.0, reader_mid=0.0, reader_temp=2.0)
    assert answerer.answer("What was the issue in ticket QH-107?", hits, None, {}).short_answer == "Entrance barrier fault"


def test_which_row_holds_a_value_is_answered_by_the_row_name():
    """A user's menu: "Which dessert contains tree nuts?" got "egg", a cell of the right row."""
    menu = "## Desserts\n\n| Dish | Price | Allergens |\n|---|---|---|\n| Sticky toffee pudding | £8.00 | gluten, milk, egg |\n" \
           "| Dark chocolate torte | £8.50 | milk, egg, tree nuts |\n"
    doc, a = _answer("menu.md", menu, "Which dessert contains tree nuts?", [("egg, tree", 9.0)])
    assert a.short_answer == "Dark chocolate torte" and doc.text[a.answer_start : a.answer_end] == "Dark chocolate torte"


def test_a_table_longer_than_a_chunk_carries_its_header_row_to_every_chunk():
    """A table longer than a chunk was cut: its later rows, in passages without the header row, could
    not say which column was which ("What is the Sunday fare to Harbour Road?" got the row's first cell)."""
    from qa.ingest import chunk_to_node, embedding_text, node_to_chunk

    head = "Stop | Weekday fare | Sunday fare"
    rows = "\n".join(f"Stop number {n} Elm Street | €{n}.10 | €{n}.60" for n in range(1, 40))
    text = f"Fares on route 7.\n{head}\n{rows}\nHarbour Road | €2.40 | €3.90\n"
    doc = parse_document("fares.txt", text)
    chunks = chunk_document(doc, 60, 0)
    assert len(chunks) > 3
    assert chunks[0].table_head == "" and all(c.table_head == head for c in chunks[1:])
    last = chunks[-1]
    assert node_to_chunk(chunk_to_node(last)) == last and head in embedding_text(last)  # it travels to the store and back
    hits = [Hit(chunk=last, score=1.0)]
    answerer = ReaderAnswerer(reader=ScriptedReader([("€2.40", 9.0)]), refusal_threshold=-1.0, prefer_typed_rules=False,
                              w_reader=1.0, reader_mid=0.0, reader_temp=1.0)
    a = answerer.answer("What is the Sunday fare to Harbour Road?", hits, None, {})
    assert a.short_answer == "€3.90" and doc.text[a.answer_start : a.answer_end] == "€3.90"
    a = answerer.answer("What is the weekday fare to Harbour Road?", hits, None, {})
    assert a.short_answer == "€2.40"


LIBRARY = ("# Millbrook Public Library\n\nThe library is on 14 Cedar Lane, next to the town hall.\n\n## Opening hours\n\n"
           "- Monday: 09:00 to 18:00\n- Tuesday: 09:00 to 20:00\n- Wednesday: closed\n- Saturday: 10:00 to 16:00\n"
           "- Sunday: 12:00 to 17:00\n\n## Borrowing\n\n- Books: 21 days, up to 12 items\n- DVDs: 7 days, up to 4 items\n"
           "- Late fee: 20 cents per item per day\n\nThe head librarian is Ingrid Solberg.\n")


def test_a_labelled_line_the_question_names_answers_with_its_value_and_no_other_label_answers():
    """A user's opening hours: "When is the library open on Sunday?" was refused (the reader, trained
    on prose, proposed only Monday's and Saturday's lines); "How long can I borrow magazines?" got the
    books' "21 days"; "How many books can I borrow?" the "21" of "21 days"."""
    doc, a = _answer("library.md", LIBRARY, "When is the library open on Sunday?", [("Monday: 09:00 to 18:00", 9.0), ("Saturday", 8.0)])
    assert a.short_answer == "12:00 to 17:00" and doc.text[a.answer_start : a.answer_end] == "12:00 to 17:00"
    _, a = _answer("library.md", LIBRARY, "How long can I borrow magazines?", [("21 days", 9.0)], threshold=0.5)
    assert a.refused, a.short_answer
    _, a = _answer("library.md", LIBRARY, "How many books can I borrow?", [("21", 9.0), ("12", 3.0)])
    assert a.short_answer == "12"
    _, a = _answer("library.md", LIBRARY, "What are the opening hours?", [("Monday", 9.0), ("09:00 to 18:00", 3.0)])
    assert a.short_answer == "09:00 to 18:00"  # a label is no value
    _, a = _answer("library.md", LIBRARY, "Which day is the library closed?", [("Wednesday", 9.0)])
    assert a.short_answer == "Wednesday"  # unless the question gives the value


def _timetable() -> str:
    stops = ["Central Station", "Market Square", "Elm Street", "Riverside Park", "Harbour Road", "Old Mill", "Hospital",
             "University", "Oak Avenue", "Fire Station", "Library", "Stadium", "North Gate", "Lakeside", "Airport Terminal"]
    rows = "".join(f"<tr><td>{route}</td><td>{stop}</td><td>{6 + i // 4:02d}:{i * 4 % 60:02d}</td><td>{15 + i // 4:02d}:{(i * 4 + 7) % 60:02d}</td></tr>"
                   for route in ("7", "12") for i, stop in enumerate(stops))
    return ("<html><head><title>Millbrook Buses: Timetable</title></head><body><h1>Millbrook Buses: Timetable</h1>"
            "<p>Weekday departures for routes 7 and 12. Buses do not run on public holidays.</p>"
            f"<table><tr><th>Route</th><th>Stop</th><th>First bus</th><th>Last bus</th></tr>{rows}</table></body></html>")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    return indexed_engine(tmp_path_factory.mktemp("tables"), {"library.md": LIBRARY, "timetable.html": _timetable()})


@pytest.mark.integration
@pytest.mark.parametrize("question, expected", [
    ("When is the library open on Sunday?", "12:00 to 17:00"),
    ("How many books can I borrow?", "12"),
    ("How long can I borrow DVDs?", "7 days"),
    ("How long can I borrow magazines?", None),
    ("What are the opening hours on Thursday?", None),
    ("When does the last bus leave Airport Terminal on route 12?", "18:03"),  # a row deep in a table cut over passages
    ("When is the first bus at Stadium on route 12?", "08:44"),
    ("When does the last bus leave Airport Terminal on route 9?", None),
])
def test_labelled_lists_and_long_tables_with_the_shipped_reader(engine, question, expected):
    """Real model, real Chroma, the shipped reader: a user's library page and a bus timetable whose
    table is longer than a passage (its later passages carry the header row, ``Chunk.table_head``)."""
    answer = engine.ask(question)
    if expected is None:
        assert answer.refused, answer.short_answer
    else:
        assert answer.short_answer == expected, (answer.short_answer, answer.citations[:1])


ACTIONS = ("Action items\nAI-1: Add pool size validation to the linter. Owner: Jonas Weber. Due date: 2025-11-07.\n"
           "AI-2: Extend the canary stage. Owner: Rafael Ortiz. Due date: 2025-11-14.\n"
           "AI-3: Keep a prebuilt rollback image. Owner: Mei Lin Chao. Due date: 2025-11-21.\n")


def test_the_fields_of_a_labelled_item_answer_for_that_item_only():
    """A user's postmortem: "Who owns action item AI-3?" got AI-1's owner (the "Owner:" sentences lost
    their item's label) or "Keep" (a capital after the colon); "When is AI-2 due?" AI-1's date."""
    doc, a = _answer("postmortem.txt", ACTIONS, "Who owns action item AI-3?", [("Jonas Weber", 9.0), ("Keep", 3.0), ("Mei Lin Chao", -2.0)])
    assert a.short_answer == "Mei Lin Chao" and doc.text[a.answer_start : a.answer_end] == "Mei Lin Chao"
    _, a = _answer("postmortem.txt", ACTIONS, "When is action item AI-2 due?", [("2025-11-07", 9.0)])
    assert a.short_answer == "2025-11-14"
    _, a = _answer("postmortem.txt", ACTIONS, "Who owns action item AI-7?", [("Jonas Weber", 9.0)], threshold=0.5)
    assert a.refused, a.short_answer
    _, a = _answer("postmortem.txt", ACTIONS, "Which action item does Rafael Ortiz own?", [("AI-2", 5.0)])
    assert a.short_answer == "AI-2"  # the item whose line names him, though his name is in another sentence of it


def test_a_code_no_row_of_a_keyed_table_has_is_refused():
    """A user's API reference: "What does error 418 mean?" got the 413 row's meaning."""
    codes = "## Error codes\nCode | Name | Meaning\n404 | not_found | The file does not exist.\n413 | payload_too_large | The upload is too big.\n"
    _, a = _answer("api.html", codes, "What does error 418 mean?", [("The upload is too big.", 9.0)], threshold=0.5)
    assert a.refused, a.short_answer
    _, a = _answer("api.html", codes, "What does error 413 mean?", [("The upload is too big.", 9.0)], threshold=0.5)
    assert a.short_answer == "The upload is too big."


MINUTES = ("## Agenda\n1. Call to order and approval of the agenda\n2. Adoption of the minutes\n4. Skate park lighting at Riverside Park\n\n"
           "## Summary of motions\nMotion | Subject | Moved by\n2025-41 | Minutes | Grace Whitfield\n2025-42 | Library roof | Daniel Okafor\n")
FEES = "## Fees\nAge group | Season fee\nUnder-8 | $120\nUnder-12 | $165\nAdults (18+) | $280\n\n- Bulky items: booked collection, $35 per item, at most four items per booking\n"


def test_numbered_items_keyed_rows_and_counts_from_a_town_s_documents():
    """A user's minutes and club page: "What was agenda item 4?" was refused (the reader read past the
    list, and the item without the question's words was set aside for the one saying "agenda"); "Who
    moved motion 2025-47?" (no such motion) got a row of the motions' table, "the Under-18 age group"
    the adults' fee; "How many bulky items per booking?" got "$35"."""
    doc, a = _answer("minutes.docx", MINUTES, "What was agenda item 4?", [("order and approval of the agenda", 3.0)], shipped=True)
    assert a.short_answer == "Skate park lighting at Riverside Park" and doc.text[a.answer_start : a.answer_end] == a.short_answer
    _, a = _answer("minutes.docx", MINUTES, "Who moved motion 2025-47?", [("Grace Whitfield", 9.0)], threshold=0.5)
    assert a.refused, a.short_answer
    _, a = _answer("minutes.docx", MINUTES, "Who moved motion 2025-42?", [("Grace Whitfield", 9.0)])
    assert a.short_answer == "Daniel Okafor"
    _, a = _answer("club.md", FEES, "How much is the season fee for the Under-18 age group?", [("$280", 9.0)], threshold=0.5)
    assert a.refused, a.short_answer
    _, a = _answer("club.md", FEES, "How many bulky items can be collected per booking?", [("35", 9.0), ("four", 2.0)])
    assert a.short_answer == "four"


BINS = ("## Bins and collection days\n- Glass: green bin, collected every second Tuesday\n"
        "- Plastics (types 1, 2 and 5): yellow bin, collected every Thursday\n- Food scraps: brown caddy, collected every Wednesday\n"
        "- General waste: black bin, collected every Friday\n")
TIMELINE = ("Timeline\n14:02 UTC - Error rates rose and the first PagerDuty alert fired.\n14:09 UTC - Helena Frost declared a SEV-1 incident.\n"
            "15:20 UTC - Rafael Ortiz enabled rate limiting on the retry queue.\n")


def _answers_each(cases: list[tuple[str, str, list[tuple[str, float]], str | None]], name: str) -> None:
    """Each (document text, question, the scripted reader's spans, the short answer or None for a
    refusal), read with the shipped calibration; a short answer stands at its offsets."""
    for text, question, spans, expected in cases:
        doc, a = _answer(name, text, question, spans, threshold=6.0, shipped=True)
        assert (None if a.refused else a.short_answer) == expected, (question, a.short_answer)
        if expected:
            assert doc.text[a.answer_start : a.answer_end] == expected


MOTIONS = ("Motions\nMotion | Item | Mover | Vote | Result\n2025-41 | Parking fees | Priya Nair | 4-3 | Carried\n"
           "2025-42 | Library roof contract | Daniel Okafor | 6-1 | Carried\n"
           "The roof contract was carried 6-1, with Councillor Tomas Lindqvist opposed.\n")


def test_a_looked_up_cell_of_the_wrong_type_answers_nothing():
    """A user's council minutes: "Which councillor voted against the library roof contract?" named
    the row and the "Vote" column, and was answered "6-1", a count for a person."""
    cases = [
        (MOTIONS, "Which councillor voted against the library roof contract?", [("6-1", 9.0), ("Tomas Lindqvist", 3.0)],
         "Tomas Lindqvist"),
        (MOTIONS, "What was the vote on the library roof contract?", [("Daniel Okafor", 3.0)], "6-1"),
        # the first column ("Motion") is asked only when it is named better than another
        (MOTIONS, "What was the vote on the parking fees motion?", [("Priya Nair", 3.0)], "4-3"),
    ]
    _answers_each(cases, "minutes.docx")


CHRONICLE = ("## The sixteenth and seventeenth centuries\n"
             "- **1571**: The grammar school is founded by the wool merchant William Haddow.\n"
             "- **1644**: Royalist troops occupy the town for six weeks during the Civil War.\n")


def test_a_markdown_timeline_s_bold_years_answer_when_and_only_when():
    """A user's town chronicle: "Who founded the grammar school?" was answered "**1571**" (the
    line's label, with its Markdown), "How long did Royalist troops occupy the town?" "**1644**"."""
    cases = [
        (CHRONICLE, "Who founded the grammar school?", [("**1571**", 9.0), ("William Haddow", 3.0)], "William Haddow"),
        (CHRONICLE, "How long did Royalist troops occupy the town?", [("**1644**", 9.0), ("six weeks", 3.0)], "six weeks"),
        (CHRONICLE, "When did Royalist troops occupy the town?", [("six weeks", 3.0)], "1644"),
    ]
    _answers_each(cases, "chronicle.md")


EMAIL = ("From: Ruth Callaghan <r.callaghan@example.ac.uk>\nTo: Helena Marsh\nCc: Aisha Bello\nSubject: Freezer order\n\n"
         "I have placed purchase order PO-55031 for an Arctiko ULUF 450 freezer.\n")


def test_an_e_mail_s_header_field_is_never_the_answer():
    """A user's e-mail thread: "What is the purchase order number for the freezer?" was answered
    "Subject" (the label of "Subject: Freezer order", which holds two of its words)."""
    cases = [(EMAIL, "What is the purchase order number for the freezer?", [("PO-55031", 3.0)], "PO-55031")]
    _answers_each(cases, "emails.txt")


SIGNED = ("Time | Room | Speaker | Talk title\n09:15 | Theatre 1 | Helena Marsh | Opening remarks\n\n"
          "Kind regards,\nHelena\n\n--\nDr Helena Marsh\nReader in Sleep Psychology, University of Eastbridge\n\n"
          "Kind regards,\nDaniel Price\n\n--\nDaniel Price\nAccount Manager, Somnotrack UK Ltd\n")


def test_a_signature_s_name_line_answers_and_a_table_without_the_asked_column_does_not():
    """A user's e-mails: "Who is the account manager at Somnotrack UK?" was refused (a line of two
    words, "Daniel Price", was never read for an answer), and "What is Helena Marsh's job title?"
    was answered from a programme's row, whose table has no column for it."""
    cases = [
        (SIGNED, "Who is the account manager at Somnotrack UK?", [("Daniel Price", 3.0)], "Daniel Price"),
        (SIGNED, "What is Helena Marsh's job title?", [("Theatre 1", 9.0), ("Reader in Sleep Psychology", 3.0)],
         "Reader in Sleep Psychology"),
    ]
    _answers_each(cases, "emails.txt")


DOSES = ("Dosage by age\nAge | Body weight | Single dose | How often in 24 hours\n"
         "1 to 3 years | 10 to 15 kg | 5 ml | up to 3 times\n4 to 6 years | 16 to 20 kg | 7.5 ml | up to 3 times\n"
         "6 to 12 months | 7.6 to 9 kg | 2.5 ml | up to 4 times\n")


def test_a_row_quoted_by_its_range_answers_and_a_row_of_another_range_does_not():
    """A user's dose table (a PDF's): "What is the dose … for children aged 4 to 6 years?" got the
    leaflet's prose (every row says "years"), and "How often … aged 6 to 12 months" another row's."""
    cases = [
        (DOSES, "What is the dose for children aged 4 to 6 years?", [("5 ml", 9.0)], "7.5 ml"),
        (DOSES, "How often in 24 hours can a baby aged 6 to 12 months have it?", [("up to 3 times", 9.0)], "up to 4 times"),
        (DOSES, "What is the single dose for a child weighing 16 to 20 kg?", [("16 to 20 kg", 9.0), ("7.5 ml", 3.0)], "7.5 ml"),
        (DOSES, "What is the dose for children aged 7 to 9 years?", [("7.5 ml", 9.0)], None),  # no such row
    ]
    _answers_each(cases, "leaflet.pdf")


TROUBLE = ("3. Troubleshooting\nProblem: The dishwasher does not drain. Cause: The filter is blocked. "
           "Solution: Clean the filter and straighten the drain hose.\n"
           "Problem: Dishes are not dry. Cause: The rinse aid is empty. Solution: Refill the rinse aid.\n")


def test_a_troubleshooting_record_s_remedy_answers_what_to_do_about_its_problem():
    """A user's manual: "What should I do if the dishwasher does not drain?" got the section's heading
    "Troubleshooting" (a numbered title line is no answer) when the reader was unsure of the record."""
    errors = "Problem: Error code E24 is shown. Cause: The water inlet tap is closed. Solution: Open the tap.\n"
    doc, a = _answer("manual.pdf", errors, "What does error code E15 mean?", [("The water inlet tap is closed", 9.0)], 6.0, True)
    assert a.refused, a.short_answer  # another code's cause (a user's manual: "E15" got E24's)
    doc = parse_document("manual.pdf", TROUBLE)
    hits = [Hit(chunk=c, score=1.0) for c in chunk_document(doc, 200, 0)]
    for question, spans, expected in [
        ("What should I do if the dishwasher does not drain?", [("Troubleshooting", 9.0)], "Clean the filter and straighten the drain hose"),
        ("What should I do if the dishes are not dry?", [("The rinse aid is empty", 3.0)], "Refill the rinse aid"),
    ]:  # read as the shipped reader reads: whole passages
        answerer = ReaderAnswerer(reader=ScriptedReader(spans), refusal_threshold=6.0, prefer_typed_rules=False,
                                  w_reader=12.0, reader_mid=0.0, reader_temp=2.0, passages=True)
        a = answerer.answer(question, hits, None, {})
        assert a.short_answer == expected and doc.text[a.answer_start : a.answer_end] == expected, (question, a.short_answer)


SEASONS = "Opening hours\nWinter season (1 October to 31 March): Wednesday to Sunday, 10:30 to 16:00.\n"
TRAINING = ("Training times\n- Under-8: Saturdays from 9:00 to 10:00 a.m.\n"
            "- Under-12: Tuesdays and Thursdays from 5:30 to 6:45 p.m. at Kingsmead Field\n")


def test_a_range_or_pair_of_weekdays_is_answered_whole():
    """Users' museum guide and club FAQ: "Which days is the museum open in the winter season?" got
    "Wednesday" of "Wednesday to Sunday", "Which days does the Under-12 team train?" "Tuesday" of
    "Tuesdays and Thursdays" (plural weekdays were no time at all)."""
    cases = [
        (SEASONS, "Which days is the museum open in the winter season?", [("Wednesday", 9.0)], "Wednesday to Sunday"),
        (TRAINING, "Which days does the Under-12 team train?", [("Tuesday", 9.0)], "Tuesdays and Thursdays"),
    ]
    _answers_each(cases, "guide.md")


def test_a_labelled_line_answers_for_its_label_and_its_label_for_its_value():
    """A user's recycling guide and postmortem: "What goes in the brown caddy?" was refused, "When are
    plastics collected?" got Monday (a label with brackets was no label), "What goes in the purple
    bin?" got the black bin's day, "What happened at 15:20 UTC?" the line of 15:05, and "When did
    the first PagerDuty alert fire?" the next line's time."""
    cases = [
        (BINS, "What goes in the brown caddy?", [("brown caddy", 9.0)], "Food scraps"),
        (BINS, "When are plastics collected?", [("every Tuesday", 3.0)], "Thursday"),
        (BINS, "What goes in the purple bin?", [("General waste", 9.0)], None),
        (TIMELINE, "What happened at 15:20 UTC?", [("Helena Frost declared a SEV-1 incident.", 3.0)],
         "Rafael Ortiz enabled rate limiting on the retry queue."),
        (TIMELINE, "When did the first PagerDuty alert fire?", [("14:09 UTC", 3.0)], "14:02 UTC"),
        # a who-question is never answered by its line's time (a user's postmortem: "Who started the rollback?")
        (TIMELINE, "Who enabled rate limiting on the retry queue?", [("15:20 UTC", 9.0), ("Rafael Ortiz", 3.0)], "Rafael Ortiz"),
    ]
    _answers_each(cases, "guide.pdf")


EXAMS = ("## Timetable\nCourse code | Course title | Date | Room | Invigilator\n"
         "CHEM 1010 | General Chemistry I | 2026-04-20 | Sandvik Hall A-101 | Dr. Paulo Ferreira\n"
         "CHEM 3350 | Toxicology | 2026-05-07 | Gym North | Dr. Samuel Oyelaran\n"
         "CHEM 4400 | Forensic Chemistry | 2026-05-20 | Gym North | Dr. Samuel Oyelaran\n")
POLICY = ("Excess amounts:\nCompulsory excess: GBP 250\nTheft excess: GBP 400\nYoung driver excess: GBP 300\n\n"
          "Named drivers:\nMain driver: Daniel Okafor\nNamed driver: Priya Nair\n")
RULES = "Rule 4: Never work alone; two people must be present after 18:00.\nRule 7: Label every bottle.\n"


def test_rows_named_by_any_cell_columns_by_a_verb_and_labels_by_their_most_specific_words():
    """Users' exam timetable, insurance summary and safety manual: "Who invigilates the CHEM 4400
    exam?" and "Which room is the Toxicology exam in?" were refused (no column named "invigilates", a
    row named by its title), "What room is the CHEM 2415 exam in?" (no such course) got a row,
    "Who is the named driver?" the main driver, "the young driver excess" the compulsory one, "the
    excess for vandalism claims" (none) the compulsory one, and "Rule 4" answered how many."""
    cases = [
        (EXAMS, "Who invigilates the CHEM 4400 exam?", [("CHEM 4400", 3.0)], "Dr. Samuel Oyelaran"),
        (EXAMS, "When is the CHEM 3350 exam?", [("Toxicology", 3.0)], "2026-05-07"),
        (EXAMS, "Which room is the Toxicology exam in?", [("Sandvik Hall A-101", 3.0)], "Gym North"),
        (EXAMS, "What room is the CHEM 2415 exam in?", [("Sandvik Hall A-101", 9.0)], None),
        (POLICY, "Who is the named driver?", [("Daniel Okafor", 13.0)], "Priya Nair"),
        (POLICY, "What is the young driver excess?", [("GBP 250", 9.0)], "GBP 300"),
        (POLICY, "What is the excess for vandalism claims?", [("GBP 250", 9.0)], None),
        (RULES, "How many people must be present in the lab after 18:00?", [("Rule 4", 9.0), ("two", 3.0)], "two"),
        (RULES, "What does rule 7 say?", [("Never work alone", 3.0)], "Label every bottle."),
    ]
    _answers_each(cases, "doc.html")


def test_a_numbered_clause_and_a_day_s_heading_from_a_lease_and_an_itinerary():
    """A user's lease: "What does clause 4.2 say?" was refused (a clause is no "Label: value" line);
    an itinerary: "Which hotel do we stay at on day 6?" got day 4's hotel (the day is a heading)."""
    lease = ("## 4. Obligations of the Tenant\n4.1 The tenant shall keep the flat clean.\n"
             "4.2 The tenant shall not keep any pets in the flat without the written consent of the landlord.\n")
    doc, a = _answer("lease.docx", lease, "What does clause 4.2 say?", [("The tenant shall keep the flat clean", 3.0)], shipped=True)
    assert a.short_answer == "The tenant shall not keep any pets in the flat without the written consent of the landlord."
    _, a = _answer("lease.docx", lease, "What does clause 9.9 say?", [("The tenant shall keep the flat clean", 9.0)], threshold=6.0, shipped=True)
    assert a.refused, a.short_answer
    trip = "## Day 4 — Porto\n\n- Check in at Hotel Infante Sagres, confirmation code IS-77812.\n\n## Day 5 — Porto\n\n- Port tasting.\n"
    _, a = _answer("trip.md", trip, "Which hotel do we stay at on day 6?", [("Hotel Infante Sagres", 9.0)], threshold=6.0, shipped=True)
    assert a.refused, a.short_answer


def test_the_label_of_the_one_short_value_the_question_gives():
    """A user's menu: "On which day is Trattoria Luciana closed?" got "Tuesday to Friday: 12:00 to
    22:30" ("Monday: closed" was too short to be a candidate, and "Monday:" passed for a speaker)."""
    menu = "# Trattoria Luciana\n## Opening hours\nMonday: closed\nTuesday to Friday: 12:00 to 22:30\nSaturday: 12:00 to 23:30\n"
    doc, a = _answer("menu.html", menu, "On which day is Trattoria Luciana closed?", [("Tuesday to Friday: 12:00 to 22:30", 9.0)],
                     threshold=6.0, shipped=True)
    assert a.short_answer == "Monday" and doc.text[a.answer_start : a.answer_end] == "Monday"


def test_a_label_named_is_asked_for_its_value_not_read_backwards():
    """A user's FAQ: "How much is tuition per semester?" was refused: "95 EUR per semester" of the
    union fee's line gave the question's words back, and its label was taken for the one asked."""
    fees = "## Fees\n- Tuition per semester: 4,850 EUR\n- Student union fee: 95 EUR per semester\n- Thesis binding fee: 60 EUR\n"
    doc, a = _answer("faq.md", fees, "How much is tuition per semester?", [("95 EUR", 9.0)], threshold=6.0, shipped=True)
    assert a.short_answer in ("4,850 EUR", "4,850") and doc.text[a.answer_start : a.answer_end] == a.short_answer


def test_cost_names_a_price_column_and_a_word_naming_the_row_names_no_column():
    """Users' price list and school calendar: "How much does the E-700 cost?" named no column ("Price"),
    and "When is the INSET day in November?" got the "Day" column's "Friday" (its "day" names the row)."""
    prices = ["Code | Product | Capacity | Price | Weight", "E-700 | Espresso Machine Duo | 2.5 l | €1,149.00 | 14.2 kg"]
    assert prices[1][slice(*asked_cell("How much does the E-700 cost?", prices, 1))] == "€1,149.00"
    assert prices[1][slice(*asked_cell("How much does the E-700 weigh?", prices, 1))] == "14.2 kg"
    dates = ["Event | Day | Date | Time", "INSET day (school closed) | Friday | 21 November 2025 | All day"]
    assert dates[1][slice(*asked_cell("When is the INSET day in November?", dates, 1))] == "21 November 2025"
    assert dates[1][slice(*asked_cell("At what time is the INSET day?", dates, 1))] == "All day"


def test_which_club_runs_on_a_day_is_the_row_the_day_names_and_who_asks_for_its_leader():
    """A user's clubs page: "Which club runs on Monday?" was refused (every row's name says "Club",
    so the kind asked named them all), "Who runs football?" named no column ("Leader"), and "the
    e-mail address of the SENCo" no "Contact"."""
    clubs = ["Club | Day | Leader | Room", "Chess Club | Friday | Mr David Reyes | Library", "Coding Club | Wednesday | Mr Tom Fletcher | ICT suite",
             "Football | Monday | Coach Mark Bennett | Field"]
    assert asked_row("Which club runs on Monday?", clubs, 1) == 3
    assert clubs[1][slice(*asked_cell("Which club runs on Friday?", clubs, 1))] == "Chess Club"
    assert clubs[3][slice(*asked_cell("Who runs football?", clubs, 3))] == "Coach Mark Bennett"
    staff = ["Name | Role | Contact", "Ms Priya Shah | SENCo | senco@ashgrove.sch.uk"]
    assert staff[1][slice(*asked_cell("What is the e-mail address of the SENCo?", staff, 1))] == "senco@ashgrove.sch.uk"


def test_a_word_naming_both_the_row_and_the_only_column_still_names_the_column_and_a_more_specific_item_no_row():
    """Users' running plan and clinic fees: "What is the goal race pace?" asks for the "Pace" of the
    "Goal race pace" row; "the yellow fever vaccine" is not the "Flu vaccine" row."""
    paces = ["| Run type | Pace |", "|---|---|", "| Easy run | 6:45 to 7:00 min/km |", "| Goal race pace | 6:10 min/km |"]
    assert paces[3][slice(*asked_cell("What is the goal race pace?", paces, 3))] == "6:10 min/km"
    fees = ["Service | Price", "Flu vaccine | EUR 30", "Travel vaccination consultation | EUR 45"]
    assert looked_up("How much does the yellow fever vaccine cost?", fees, 1) is None
    assert fees[1][slice(*looked_up("How much does the flu vaccine cost?", fees, 1))] == "EUR 30"
    club = ["| Member | Annual fee | Monthly fee |", "|---|---|---|", "| Adults (18+) | $280 | $55 |"]  # a 20-ride card is no member
    assert looked_up("What does a 20-ride card cost for an adult?", club, 2) is None
    assert club[2][slice(*looked_up("What is the annual fee for adults?", club, 2))] == "$280"


def test_opening_hours_are_asked_of_a_weekday_s_line_that_never_says_open():
    """A user's shop policies list "Thursday: 9:00 to 19:00" under "Our customer service team is
    available at these times:"; "What are the opening hours on Thursday?" was refused."""
    from qa.answer.labels import asked_value

    lines = ["Our customer service team is available at these times:", "Monday: 9:00 to 17:00", "Thursday: 9:00 to 19:00"]
    value = asked_value("What are the opening hours on Thursday?", lines, 2, None, None, about="\n".join(lines))
    assert value is not None and lines[2][slice(*value)] == "9:00 to 19:00"
    assert asked_value("What are the opening hours on Thursday?", lines, 1, None, None, about="\n".join(lines)) is None


def test_a_markdown_header_above_its_rule_names_columns_even_with_a_quarter_in_it():
    """A user's sales report: "| Product line | July | … | Q3 total | Growth vs Q2 |" holds digits, so
    it did not count as the header, and "How many accessories were sold in Q3?" got "255 | 233"."""
    rows = ["| Product line | July | August | September | Q3 total | Growth vs Q2 |", "|---|---|---|---|---|---|",
            "| Grinders | 142 | 128 | 187 | 457 | +9.8% |", "| Accessories | 255 | 233 | 388 | 876 | +14.2% |"]
    assert rows[3][slice(*looked_up("How many accessories were sold in Q3?", rows, 3))] == "876"
    assert rows[2][slice(*looked_up("How many grinders were sold in September?", rows, 2))] == "187"


def test_a_label_joining_two_things_is_named_by_either_and_a_place_is_its_whole_value():
    """A user's shop policies: "Where is the showroom?" over "Showroom and warehouse: Karl-Liebknecht-Straße
    42, 04275 Leipzig, Germany" was refused (the label's every word was required), then answered "42"."""
    from qa.answer.labels import asked_value

    lines = ["E-mail: hello@beanandburr.de", "Showroom and warehouse: Karl-Liebknecht-Straße 42, 04275 Leipzig, Germany"]
    value = asked_value("Where is the showroom?", lines, 1, "where", None, about="\n".join(lines))
    assert value is not None and lines[1][slice(*value)] == "Karl-Liebknecht-Straße 42, 04275 Leipzig, Germany"


def test_of_rows_named_alike_the_one_whose_range_holds_the_age_asked():
    """A user's ticket prices: "What does a ticket for a child aged 10 cost?" got the adult price."""
    rows = ["Ticket | Price", "Adult | £8.50", "Child (5 to 16) | £3.50", "Child under 5 | Free"]
    assert asked_row("What does a ticket for a child aged 10 cost?", rows, 1) == 2
    assert asked_row("What does a ticket for a child aged 3 cost?", rows, 1) == 3
