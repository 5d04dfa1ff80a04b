"""Question sets for ``qa eval``: a gold JSONL over the engine's own documents, and SQuAD v1.1/v2.0.

Everything here reads and checks files; nothing loads a model, so a malformed gold file is reported
(every bad line, as ``FILE:LINE: what is wrong``) before the engine starts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.eval.metrics import exact_match, f1, normalize_answer
from qa.types import Document

#: where users get SQuAD; shown when a --squad file is missing
SQUAD_URL = "https://rajpurkar.github.io/SQuAD-explorer/"

#: at most this many bad lines are listed in one error (a wrong file would list them all)
MAX_LISTED_PROBLEMS = 20


class GoldFormatError(ValueError):
    """A gold or SQuAD file cannot be read; the message names the file (and line) and what is wrong."""


@dataclass(frozen=True)
class GoldQuestion:
    """One question to evaluate.

    >>> q = GoldQuestion(id="g1", question="Who?", answers=("Ann",), sources=("a.txt",))
    >>> q.to_dict()["answers"]
    ['Ann']
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    unanswerable: bool = False
    #: the gold line's "type" (for the per-type breakdown), if any
    type: str | None = None
    #: the other keys of the gold line, kept as they were
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "question": self.question, "answers": list(self.answers), "sources": list(self.sources),
            "unanswerable": self.unanswerable, "type": self.type, "extra": dict(self.extra),
        }


_GOLD_KEYS = ("id", "question", "answers", "sources", "unanswerable")
#: what a line may leave out: an unanswerable question needs no answers, and sources are optional
_GOLD_DEFAULTS = {"answers": [], "sources": [], "unanswerable": False}


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return tuple(value)
    return None


def gold_line_problem(rec: Any) -> str | None:
    """What is wrong with one parsed gold line (None: nothing), ids aside (see :func:`load_gold`)."""
    if not isinstance(rec, dict):
        return f"expected a JSON object, got {_json_kind(rec)}"
    missing = [k for k in ("id", "question") if k not in rec]
    if missing:
        return (f"missing key(s) {', '.join(missing)} (each line needs id and question, and answers unless "
                "\"unanswerable\": true; sources are optional)")
    rec = {**_GOLD_DEFAULTS, **rec}
    qid = rec["id"]
    if not isinstance(qid, str) or qid == "":
        return "'id' must be a non-empty string" + (f' (write "{qid}")' if isinstance(qid, int) and not isinstance(qid, bool) else "")
    if not isinstance(rec["question"], str) or not rec["question"].strip():
        return "'question' must be a non-empty string"
    answers = _str_list(rec["answers"])
    if answers is None:
        return "'answers' must be a list of strings"
    if _str_list(rec["sources"]) is None:
        return "'sources' must be a list of document ids (strings)"
    if not isinstance(rec["unanswerable"], bool):
        return "'unanswerable' must be true or false"
    if not rec["unanswerable"] and not any(normalize_answer(a) for a in answers):
        return ("an answerable question needs at least one answer with a word or number in it "
                "(answers are compared without case, punctuation and articles)")
    if rec["unanswerable"] and (answers or rec["sources"]):
        has = " and ".join(k for k in ("answers", "sources") if rec[k])
        return f"an unanswerable question must have empty 'answers' and 'sources' (this one has {has}): empty them, or set \"unanswerable\": false"
    if "type" in rec and rec["type"] is not None and not isinstance(rec["type"], str):
        return "'type' must be a string (a label for the per-type breakdown)"
    return None


def _json_kind(value: Any) -> str:
    """The JSON name of a parsed value's kind ("null", "number", "array", …), not Python's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {list: "an array", str: "a string"}.get(type(value), type(value).__name__)


def _gold_question(rec: dict[str, Any]) -> GoldQuestion:
    rec = {**_GOLD_DEFAULTS, **rec}
    qtype = rec.get("type")
    return GoldQuestion(
        id=str(rec["id"]), question=rec["question"], answers=tuple(rec["answers"]), sources=tuple(rec["sources"]),
        unanswerable=rec["unanswerable"], type=None if qtype is None else str(qtype),
        extra={k: v for k, v in rec.items() if k not in _GOLD_KEYS and k != "type"},
    )


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold set: JSONL, one object per line with ``id``, ``question``, ``answers`` (list of
    str), ``sources`` (list of doc ids, optional) and ``unanswerable`` (bool, default false; an
    unanswerable line may leave out ``answers``). Other keys are kept (``type`` feeds the per-type
    breakdown). Blank lines are skipped.

    The whole file is checked before anything else runs: :class:`GoldFormatError` lists every
    malformed line, duplicate id and answerable question without answers, each as ``path:line:``
    (the first one first, at most :data:`MAX_LISTED_PROBLEMS`).
    """
    path = Path(path)
    out: list[GoldQuestion] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                if lineno == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # one message, not one per line
                    raise GoldFormatError(f"{path}: UTF-16 text; a gold set is JSONL in UTF-8 (save it as UTF-8)") from None
                problems.append(f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                                "a gold set is JSONL in UTF-8")
                continue
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:  # its own "line 1 column 5" counts within this line: say column
                problems.append(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})")
                continue
            problem = gold_line_problem(rec)
            if problem is None and str(rec["id"]) in seen:
                problem = f"duplicate id {str(rec['id'])!r} (first on line {seen[str(rec['id'])]})"
            if problem is not None:
                problems.append(f"{path}:{lineno}: {problem}")
                continue
            seen[str(rec["id"])] = lineno
            out.append(_gold_question(rec))
    if problems:
        more = len(problems) - MAX_LISTED_PROBLEMS
        raise GoldFormatError("\n".join(problems[:MAX_LISTED_PROBLEMS]) + (f"\n… and {more} more bad lines" if more > 0 else ""))
    if not out:
        raise GoldFormatError(f"{path}: no questions")
    return out


def sample_questions(questions: Sequence[GoldQuestion], n: int | None, seed: int = 0) -> list[GoldQuestion]:
    """A seeded random sample of ``n`` questions, kept in their original order (all when ``n`` is
    None or not smaller). The same ``questions``, ``n`` and ``seed`` always give the same sample.

    >>> qs = [GoldQuestion(str(i), "q?") for i in range(10)]
    >>> [q.id for q in sample_questions(qs, 3, seed=1)] == [q.id for q in sample_questions(qs, 3, seed=1)]
    True
    >>> len(sample_questions(qs, 3)), len(sample_questions(qs, None)), len(sample_questions(qs, 50))
    (3, 10, 10)
    """
    import random

    if n is None or n >= len(questions):
        return list(questions)
    picked = sorted(random.Random(seed).sample(range(len(questions)), n))
    return [questions[i] for i in picked]


def leave_out_trained(questions: Sequence[GoldQuestion], trained_on: Iterable[str]) -> tuple[list[GoldQuestion], dict[str, int]]:
    """Leave out the questions of articles a reader was trained on.

    Returns the questions kept and ``{title: questions left out}`` for the training articles that
    are actually among ``questions`` (empty when the reader's metadata names none of them, e.g. a
    reader trained on train.json evaluated on dev files). A set lookup per question: a metadata list
    of 442 titles costs nothing.

    >>> qs = [GoldQuestion("1", "q?", extra={"title": "A"}), GoldQuestion("2", "q?", extra={"title": "B"})]
    >>> kept, left = leave_out_trained(qs, ["B", "Z"])
    >>> [q.id for q in kept], left
    (['1'], {'B': 1})
    """
    trained = set(trained_on)
    if not trained:
        return list(questions), {}
    kept: list[GoldQuestion] = []
    left: Counter[str] = Counter()
    for q in questions:
        title = q.extra.get("title")
        if title in trained:
            left[title] += 1
        else:
            kept.append(q)
    return kept, dict(sorted(left.items()))


# =================================================================================================
# SQuAD v1.1 / v2.0
# =================================================================================================


@dataclass(frozen=True)
class SquadSet:
    """SQuAD questions (file order, files in the order given) and their paragraphs keyed by id.

    A paragraph's id is ``"<title>#<index>"`` (:func:`paragraph_id`); the same paragraph in several
    files (or in a ``corpus``) keeps one id, see :func:`load_squads`.
    """

    questions: tuple[GoldQuestion, ...]
    paragraphs: Mapping[str, Document]
    version: str = ""
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"questions": [q.to_dict() for q in self.questions], "paragraphs": sorted(self.paragraphs),
                "version": self.version, "files": list(self.files)}


def paragraph_id(title: str, index: int) -> str:
    """The id of paragraph ``index`` (0-based) of article ``title``: the ``id`` of paragraphs-all.jsonl.

    >>> paragraph_id("Super_Bowl_50", 0)
    'Super_Bowl_50#0'
    """
    return f"{title}#{index}"


def _squad_data(path: Path) -> tuple[list[Any], str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise GoldFormatError(f"{path}: not a SQuAD JSON file ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise GoldFormatError(f"{path}: not a SQuAD JSON file (expected an object with a 'data' list)")
    return data["data"], str(data.get("version", ""))


def load_squad(path: str | Path) -> SquadSet:
    """Read an official SQuAD v1.1 or v2.0 JSON file (``data[].paragraphs[].qas[]``).

    Each question's only source is its paragraph (:func:`paragraph_id`); its answers are the
    ``answers[].text`` strings (duplicates kept, as the official script does). A question with
    ``is_impossible: true`` or no answers is unanswerable (SQuAD 2.0).
    """
    return load_squads([path])


class _ParagraphIds:
    """Paragraph ids across files: a paragraph already known (by title and text, else by text)
    keeps its id; a new one gets ``"<title>#<index>"``, with ``~2``, ``~3`` … on a clash."""

    def __init__(self, corpus: Iterable[Document]):
        self.by_key: dict[tuple[str, str], str] = {}
        self.by_text: dict[str, str] = {}
        self.text_of: dict[str, str] = {}
        for d in corpus:
            self.by_key.setdefault((d.title or "", d.text), d.doc_id)
            self.by_text.setdefault(d.text, d.doc_id)
            self.text_of.setdefault(d.doc_id, d.text)

    def of(self, title: str, index: int, context: str) -> str:
        pid = self.by_key.get((title, context)) or self.by_text.get(context)
        if pid is not None:
            return pid
        pid = base = paragraph_id(title, index)
        n = 1
        while pid in self.text_of and self.text_of[pid] != context:
            n += 1
            pid = f"{base}~{n}"
        self.by_key[(title, context)] = pid
        self.by_text.setdefault(context, pid)
        self.text_of[pid] = context
        return pid


def load_squads(paths: Sequence[str | Path], corpus: Iterable[Document] = ()) -> SquadSet:
    """Read several SQuAD files (v1.1 or v2.0) as one set: questions in file order, files in order.

    Paragraph ids: a paragraph already known, by its title and text, keeps its id — from the
    ``corpus`` (e.g. paragraphs-all.jsonl, so open-retrieval paragraph recall finds it) or from an
    earlier file. That matters because a SQuAD 2.0 file that holds only some of an article's
    paragraphs numbers them differently from the v1.1 file (dev-half-unanswerable.json's
    ``1973_oil_crisis`` paragraph 5 is dev-half.json's paragraph 7). A new paragraph gets
    ``"<title>#<index in its file>"``, with ``~2``, ``~3`` … added if another paragraph holds that id.
    A question id given twice (e.g. the same file twice) is an error.

    >>> s = load_squads(["dev-half.json", "dev-half-unanswerable.json"])   # doctest: +SKIP
    """
    from qa.ingest import parse_document

    ids = _ParagraphIds(corpus)
    questions: list[GoldQuestion] = []
    paragraphs: dict[str, Document] = {}
    seen_ids: dict[str, str] = {}
    versions: list[str] = []
    for path in map(Path, paths):
        data, version = _squad_data(path)
        versions.append(version)
        try:
            for article in data:
                title = str(article["title"])
                for i, para in enumerate(article["paragraphs"]):
                    context = str(para["context"])
                    pid = ids.of(title, i, context)
                    if pid not in paragraphs:
                        paragraphs[pid] = parse_document(pid, context, path=f"{path}#{pid}", title=title)
                    for qa in para["qas"]:
                        qid = str(qa["id"])
                        if qid in seen_ids:
                            raise GoldFormatError(f"{path}: question id {qid!r} is also in {seen_ids[qid]} (the same file given twice?)")
                        seen_ids[qid] = str(path)
                        answers = tuple(str(a["text"]) for a in qa["answers"])
                        questions.append(GoldQuestion(
                            id=qid, question=str(qa["question"]), answers=answers, sources=(pid,),
                            unanswerable=bool(qa.get("is_impossible", False)) or not answers,
                            extra={"title": title, "paragraph": pid, "file": path.name},
                        ))
        except (KeyError, TypeError, AttributeError) as e:
            raise GoldFormatError(f"{path}: not in the SQuAD v1.1/v2.0 format (data[].paragraphs[].qas[]): missing {e}") from None
    return SquadSet(questions=tuple(questions), paragraphs=paragraphs, version=", ".join(dict.fromkeys(versions)),
                    files=tuple(str(Path(p)) for p in paths))


def score_predictions(squad_json_path: str | Path, predictions: Mapping[str, str]) -> dict[str, float]:
    """Score ``{question_id: answer_text}`` the way the official evaluate-v1.1.py does.

    Returns ``{"exact_match": %, "f1": %, "count": questions}``; a question without a prediction
    scores 0 (it stays in the denominator).
    """
    path = Path(squad_json_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError, TypeError) as e:
        raise GoldFormatError(f"{path}: not a SQuAD JSON file ({e})") from None
    em = f1_sum = 0.0
    total = 0
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                golds = [a["text"] for a in qa["answers"]]
                em += exact_match(predictions[qa["id"]], golds)
                f1_sum += f1(predictions[qa["id"]], golds)
    if total == 0:
        return {"exact_match": 0.0, "f1": 0.0, "count": 0}
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1_sum / total, "count": total}


def squad_missing_message(path: str | Path) -> str:
    """What to tell a user whose --squad file does not exist."""
    from qa.config import project_root

    shared = project_root().parent / "shared" / "benchmarks" / "squad-v1.1"
    return (
        f"SQuAD file not found: {path}\n"
        f"Get SQuAD v1.1 from its authors' site, {SQUAD_URL} (the dev set is dev-v1.1.json), "
        f"and pass its path to --squad.\n"
        f"For development, the project's own copy is in ../shared/benchmarks/squad-v1.1/ ({shared}): "
        f"dev-half.json, with paragraphs-all.jsonl for --corpus."
    )
