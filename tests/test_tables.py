"""Table rows (qa.answer.tables): a user's pool prices and travel allowances, stored one row a line
with " | " between cells. "What does a 10-visit pass cost for a youth?" got the row's first price;
"What is the hotel limit per night in Manchester?" London's; "… in Paris?" (no such row) the header row."""

from __future__ import annotations

from qa.answer import ReaderAnswerer
from qa.answer.tables import asked_cell, asked_row, in_asked_row, is_header_row
from qa.ingest import chunk_document, parse_document
from qa.types import Hit
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
