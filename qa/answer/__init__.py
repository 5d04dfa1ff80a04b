"""Answering: from retrieved passages to a cited :class:`~qa.types.Answer`.

* :mod:`qa.answer.question` — what a question asks for (answer type, wh-word class, answer shapes);
  pure Python, no numpy;
* :mod:`qa.answer.spans` — typed candidate spans in a sentence (regular expressions);
* :mod:`qa.answer.scoring` — every retrieved sentence scored, best first;
* :mod:`qa.answer.compose` — ranked candidates to a cited answer (or :data:`REFUSAL`), shared by
  every answerer;
* :mod:`qa.answer.extractive` — :class:`ExtractiveAnswerer` (rules, no model) and the
  :class:`Answerer` protocol;
* :mod:`qa.answer.reader` — :class:`ReaderAnswerer` (short answers from the trained span reader);
* :mod:`qa.answer.definitions` — "Who is X?" answered by X's description, never another name;
* :mod:`qa.answer.speakers` — "What did X say?" answered by a sentence reporting X's words;
* :mod:`qa.answer.fit` — spans of the right type that still cannot answer (a date for "where", a
  volume for a price, the one joined to the person asked about);
* :mod:`qa.answer.about` — sentences that speak of something else than the asked thing (another
  year, role, numbered or ranked item; no word of the death, birth or marriage asked about);
* :mod:`qa.answer.extent` — how far a reader's span reaches (a percent, a whole name, a date that
  stops where its clause does);
* :mod:`qa.answer.tables` — a table row's answer: the cell under the column the question names.

The LLM answerer (:mod:`qa.llm_answer`) and the registry that picks one by name
(:mod:`qa.answerers`) sit beside this package. Names are loaded on first use, so importing
:mod:`qa.answer.question` alone stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.answer.asked import restates
    from qa.answer.compose import REFUSAL
    from qa.answer.extractive import Answerer, ExtractiveAnswerer
    from qa.answer.question import (
        DATE, ENTITY, NUMBER, ORG, OTHER, PERSON, PLACE, QUOTE, REASON, STOPWORDS, content_terms, head_noun,
        question_type, stem,
    )
    from qa.answer.reader import ReaderAnswerer
    from qa.answer.scoring import Candidate
    from qa.answer.spans import Span, is_title_case, spans_of
    from qa.answer.speakers import quotes_speaker, speaker_of

# public name -> the submodule defining it
_HOME = {
    "REFUSAL": "compose",
    "Answerer": "extractive", "ExtractiveAnswerer": "extractive",
    "ReaderAnswerer": "reader", "quotes_speaker": "speakers", "restates": "asked", "speaker_of": "speakers",
    "Candidate": "scoring",
    "Span": "spans", "is_title_case": "spans", "spans_of": "spans",
    **{name: "question" for name in (
        "DATE", "ENTITY", "NUMBER", "ORG", "OTHER", "PERSON", "PLACE", "QUOTE", "REASON", "STOPWORDS",
        "content_terms", "head_noun", "question_type", "stem",
    )},
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'qa.answer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qa.answer.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
