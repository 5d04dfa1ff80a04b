"""Like/dislike feedback from the chat, appended to ``<index_dir>/feedback.jsonl`` in the gold format.

Every line has the gold-set keys (``id``, ``question``, ``answers``, ``sources``, ``unanswerable``,
``type``) plus what the engine said (``answer``, ``short_answer``, ``citations``, ``refused``), the
``verdict`` (``"like"`` or ``"dislike"``), the question as typed (``asked``) and the time.

* A **liked** answer is a finished gold line: ``answers`` holds the short answer (or the first
  quote), ``sources`` the cited documents; a liked refusal is ``"unanswerable": true``.
* A **disliked** line needs a person: ``answers`` and ``sources`` are empty and ``needs_review`` is
  true; fill in the right answer (or set ``unanswerable``) before adding it to a gold set.

``gold_lines(path)`` returns the liked lines, ready for ``qa eval --gold``.

>>> rec = feedback_record({"question": "q", "searched_question": "q", "text": "Ann", "short_answer": "Ann",
...     "refused": False, "citations": [{"doc_id": "a.txt", "quote": "Ann did it."}]}, liked=True)
>>> rec["answers"], rec["sources"], rec["unanswerable"], rec["verdict"]
(['Ann'], ['a.txt'], False, 'like')
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

FEEDBACK_FILE = "feedback.jsonl"
_lock = threading.Lock()


def feedback_record(answer: dict[str, Any], liked: bool, asked: str | None = None) -> dict[str, Any]:
    """The JSONL record for a verdict on ``answer`` (an ``Answer.to_dict()``)."""
    question = answer.get("searched_question") or answer.get("question") or ""
    citations = answer.get("citations") or []
    refused = bool(answer.get("refused"))
    now = time.time()
    digest = hashlib.sha256(f"{question}\x00{answer.get('text', '')}\x00{now}".encode()).hexdigest()[:10]
    sources = list(dict.fromkeys(c.get("doc_id", "") for c in citations if c.get("doc_id")))
    if liked and not refused:
        short = answer.get("short_answer") or (citations[0].get("quote") if citations else None) or answer.get("text", "")
        answers, unanswerable = [short], False
    elif liked:
        answers, sources, unanswerable = [], [], True
    else:
        answers, sources, unanswerable = [], [], False
    rec: dict[str, Any] = {
        "id": f"fb-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}-{digest}",
        "question": question,
        "answers": answers,
        "sources": sources,
        "unanswerable": unanswerable,
        "type": "feedback",
        "verdict": "like" if liked else "dislike",
        "asked": asked if asked is not None else answer.get("question", question),
        "answer": answer.get("text", ""),
        "short_answer": answer.get("short_answer"),
        "refused": refused,
        "citations": [
            {k: c.get(k) for k in ("n", "doc_id", "title", "start", "end", "quote")} for c in citations
        ],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
    }
    if not liked:
        rec["needs_review"] = True
    return rec


def append_feedback(index_dir: str | Path, record: dict[str, Any]) -> Path:
    """Append one record (one line, flushed and synced) to ``index_dir/feedback.jsonl``."""
    path = Path(index_dir) / FEEDBACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return path


def read_feedback(path: str | Path) -> list[dict[str, Any]]:
    """All records of a feedback file (blank lines skipped)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def gold_lines(path: str | Path) -> list[dict[str, Any]]:
    """The liked records: finished gold-set lines."""
    return [r for r in read_feedback(path) if r.get("verdict") == "like"]
