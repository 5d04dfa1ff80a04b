"""Moved to :mod:`qa.answer.question`; this name stays until its last importer switches."""

from qa.answer.question import ALIASES, CHECKED, QUESTION_WORDS, looks_like, plausible, question_word

__all__ = ["ALIASES", "CHECKED", "QUESTION_WORDS", "looks_like", "plausible", "question_word"]
