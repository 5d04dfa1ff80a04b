"""Moved to :mod:`qa.conversation` (typed turns, :meth:`qa.QA.ask` with ``history``).

What remains here is the old interface, for callers not yet switched: a :class:`Turn` holding the
previous question and a short-answer string, and :func:`previous_turn`, which reads that back from
rendered chat text. Both go once nothing imports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from qa.conversation import PERSON_PRONOUNS, THING_PRONOUNS, names_in, needs_context, rewrite_text

__all__ = ["PERSON_PRONOUNS", "THING_PRONOUNS", "Turn", "names_in", "needs_context", "previous_turn", "rewrite"]


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question searched for and the short answer (or first line) given."""

    question: str
    answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rewrite(question: str, previous: Turn | None) -> str:
    """``question`` with its pronouns replaced from ``previous`` (:func:`qa.conversation.rewrite_text`)."""
    return question if previous is None else rewrite_text(question, previous.question, previous.answer)


def previous_turn(history: Iterable[tuple[str, str]]) -> Turn | None:
    """The last complete (question, answer) pair in a ``(role, text)`` history, answers reduced
    to their first line (the short answer, when there is one)."""
    last_q: str | None = None
    turn: Turn | None = None
    for role, text in history:
        if role == "user":
            last_q = text
        elif role == "assistant" and last_q is not None:
            first = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
            turn = Turn(question=last_q, answer=None if first.startswith(("“", "\"", "Not found")) else first)
            last_q = None
    return turn
