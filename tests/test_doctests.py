"""The examples in the answering and ingest modules' docstrings run as tests: they are the rules'
specifications (a user's case, and what it must not break), so they are kept true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "qa.answer.about", "qa.answer.anchored", "qa.answer.another", "qa.answer.dated", "qa.answer.asked", "qa.answer.bounds", "qa.answer.cells", "qa.answer.columns",
    "qa.answer.extent", "qa.answer.fit", "qa.answer.headed", "qa.answer.kinds", "qa.answer.labels", "qa.answer.letters", "qa.answer.parties", "qa.answer.measures", "qa.answer.money", "qa.answer.numbered", "qa.answer.question",
    "qa.answer.remedies", "qa.answer.signatures", "qa.answer.scoring", "qa.answer.spans", "qa.answer.speakers", "qa.answer.tables", "qa.answer.transposed",
    "qa.ingest.chunking",
    "qa.ingest.pdf", "qa.ingest.pdf_tables", "qa.followups", "qa.topics", "qa.pointers",
]


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail"
