"""Tests of qa.eval: every metric on hand-made cases, gold/SQuAD loading, reports, the CLI.

Fast and model-free, except the tests marked ``integration``. The SQuAD baseline test reads the
shared benchmark copy (``../shared/benchmarks/squad-v1.1`` next to the checkout, or ``QA_SQUAD_DIR``)
and fails, rather than skips, when it is missing: CI always has it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from qa import eval as ev
from qa.types import Answer, Chunk, Citation, Hit
from tests.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]


def squad_dir() -> Path:
    env = os.environ.get("QA_SQUAD_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "benchmarks" / "squad-v1.1"


# --- builders ------------------------------------------------------------------------------------


def hit(doc_id: str, text: str, score: float = 1.0) -> Hit:
    return Hit(chunk=Chunk(chunk_id=f"{doc_id}:{hash(text) & 0xFFFF}", doc_id=doc_id, title=doc_id, start=0, end=len(text), text=text), score=score)


def cite(n: int, doc_id: str, quote: str) -> Citation:
    return Citation(n=n, doc_id=doc_id, title=doc_id, start=0, end=len(quote), quote=quote)


def answer(short: str | None = None, citations: tuple[Citation, ...] = (), passages: tuple[Hit, ...] = (),
           refused: bool = False, total_ms: float | None = 10.0, confidence: float = 0.5) -> Answer:
    return Answer(question="q", text="", short_answer=short, refused=refused, citations=citations, passages=passages,
                  confidence=confidence, timings={} if total_ms is None else {"total_ms": total_ms})


def gq(qid: str = "q1", answers: tuple[str, ...] = ("Denver Broncos",), sources: tuple[str, ...] = ("a.txt",),
       unanswerable: bool = False, qtype: str | None = None) -> ev.GoldQuestion:
    return ev.GoldQuestion(id=qid, question=f"question {qid}?", answers=answers, sources=sources, unanswerable=unanswerable, type=qtype)


# --- normalisation, EM, F1, containment ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, norm",
    [
        ("The Denver Broncos", "denver broncos"),
        ("  an   Apple,  a pear! ", "apple pear"),
        ("Theatre", "theatre"),  # "the" only as a whole word
        ("U.S.A.", "usa"),
        ("“quoted”", "“quoted”"),  # the official rules only strip ASCII punctuation
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, norm: str) -> None:
    assert ev.normalize_answer(raw) == norm


def test_exact_match_normalises_articles_punctuation_case() -> None:
    assert ev.exact_match("the Denver Broncos!", ["denver broncos"]) == 1.0
    assert ev.exact_match("A Broncos", ["Broncos"]) == 1.0
    assert ev.exact_match("Denver", ["Denver Broncos"]) == 0.0
    assert ev.exact_match("Broncos", ["Panthers", "Broncos"]) == 1.0  # any gold
    assert ev.exact_match("Broncos", "Broncos") == 1.0  # a single gold as a string
    assert ev.exact_match("Broncos", []) == 0.0


def test_f1_partial_overlap_and_max_over_golds() -> None:
    # 2 shared tokens: precision 2/3, recall 2/2 -> 0.8
    assert ev.f1("Denver Broncos team", ["Denver Broncos"]) == pytest.approx(0.8)
    assert ev.f1("Denver Broncos team", ["Carolina Panthers", "Denver Broncos"]) == pytest.approx(0.8)
    assert ev.f1("the Broncos", ["Broncos"]) == 1.0
    # repeated tokens count once per occurrence (Counter intersection)
    assert ev.f1("a a b", ["a b b"]) == pytest.approx(2 / 3)


def test_f1_empty_cases() -> None:
    assert ev.f1("", ["Broncos"]) == 0.0
    assert ev.f1("Broncos", []) == 0.0
    assert ev.f1("the", ["a"]) == 0.0  # both normalise to nothing: the official script gives 0
    assert ev.exact_match("the", ["a"]) == 1.0  # ... while EM compares "" == ""


def test_contains() -> None:
    assert ev.contains("Vice President Delcy Rodríguez, 56,", ["Delcy Rodríguez"])
    assert ev.contains("They beat the Denver Broncos.", ["denver broncos"])
    assert not ev.contains("", ["Broncos"])
    assert not ev.contains("2015", ["1"])  # never inside a word or number
    assert not ev.contains("focus", ["us"])
    # non-ASCII punctuation survives normalisation but still bounds a word
    assert ev.contains("rumors that Diosdado Cabello—long an ally—was", ["Diosdado Cabello"])
    assert ev.contains("there is “no way” troops can", ["no way"])
    assert not ev.contains("anything", ["the"])  # a gold that normalises to "" matches nothing


def test_prediction_string() -> None:
    q = (cite(1, "a.txt", "The Broncos won."),)
    assert ev.prediction_of(answer("Broncos", q)) == "Broncos"
    assert ev.prediction_of(answer(None, q)) == "The Broncos won."
    assert ev.prediction_of(answer(None, ())) == ""
    assert ev.prediction_of(answer(None, (), refused=True)) == ""


# --- citations, refusals -------------------------------------------------------------------------


def test_citation_precision_answer() -> None:
    a = answer("Broncos", (cite(1, "a.txt", "The Denver Broncos won."), cite(2, "b.txt", "It rained.")))
    assert ev.citation_precision_answer(a, ["Denver Broncos"]) == 0.5
    assert ev.citation_precision_answer(answer("x", ()), ["Denver Broncos"]) == 0.0  # no citations
    assert ev.citation_precision_answer(answer(None, (), refused=True), ["Denver Broncos"]) is None
    assert ev.citation_precision_answer(a, ["Denver Broncos"], unanswerable=True) is None


def test_citation_precision_source() -> None:
    a = answer("x", (cite(1, "a.txt", "q1"), cite(2, "b.txt", "q2"), cite(3, "a.txt", "q3")))
    assert ev.citation_precision_source(a, ["a.txt"]) == pytest.approx(2 / 3)
    assert ev.citation_precision_source(a, ["c.txt"]) == 0.0
    assert ev.citation_precision_source(a, []) is None  # no gold sources
    assert ev.citation_precision_source(answer("x", ()), ["a.txt"]) == 0.0
    assert ev.citation_precision_source(answer(None, (), refused=True), ["a.txt"]) is None
    assert ev.citation_precision_source(a, ["a.txt"], unanswerable=True) is None


def test_citation_recall() -> None:
    a = answer("x", (cite(1, "a.txt", "q1"), cite(2, "a.txt", "q2"), cite(3, "b.txt", "q3")))
    assert ev.citation_recall(a, ["a.txt", "b.txt", "c.txt", "d.txt"]) == 0.5
    assert ev.citation_recall(a, []) is None
    assert ev.citation_recall(answer(None, (), refused=True), ["a.txt"]) == 0.0  # a refusal cites nothing
    assert ev.citation_recall(a, ["a.txt"], unanswerable=True) is None


def test_refusal_accuracy() -> None:
    assert ev.refusal_correct(refused=True, unanswerable=True)
    assert ev.refusal_correct(refused=False, unanswerable=False)
    assert not ev.refusal_correct(refused=False, unanswerable=True)
    assert not ev.refusal_correct(refused=True, unanswerable=False)
    results = [
        ev.score_answer(gq("u1", (), (), True), answer(None, (), refused=True)),  # right
        ev.score_answer(gq("u2", (), (), True), answer("x", (cite(1, "a.txt", "x y z"),))),  # wrong
        ev.score_answer(gq("a1"), answer(None, (), refused=True)),  # wrong
        ev.score_answer(gq("a2"), answer("Denver Broncos", (cite(1, "a.txt", "the Denver Broncos won"),))),  # right
    ]
    o = ev.summarize(results)
    assert o["refusal_accuracy"] == 0.5
    assert o["unanswerable_refused"] == 0.5
    assert o["answerable_refused"] == 1
    assert (o["answerable"], o["unanswerable"]) == (2, 2)


# --- retrieval and latency -----------------------------------------------------------------------


def test_ranks() -> None:
    passages = (hit("x.txt", "Nothing here."), hit("a.txt", "Still nothing."), hit("b.txt", "The Denver Broncos won."))
    assert ev.rank_of_source(passages, ["a.txt", "b.txt"]) == 2
    assert ev.rank_of_source(passages, ["z.txt"]) is None
    assert ev.rank_of_source(passages, []) is None
    assert ev.rank_of_answer(passages, ["Denver Broncos"]) == 3
    assert ev.rank_of_answer(passages, ["Panthers"]) is None


def test_hit_at_k_and_mrr() -> None:
    ranks = [1, 2, None, 4]
    assert ev.hit_at_k(ranks, 1) == 0.25
    assert ev.hit_at_k(ranks, 3) == 0.5
    assert ev.hit_at_k(ranks, 5) == 0.75
    assert ev.mean_reciprocal_rank(ranks) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert ev.hit_at_k([], 1) is None and ev.mean_reciprocal_rank([]) is None


def test_summary_retrieval_figures_and_depth() -> None:
    passages = (hit("x.txt", "nothing"), hit("a.txt", "The Denver Broncos won."))
    r = ev.score_answer(gq(), answer("Denver Broncos", (cite(1, "a.txt", "The Denver Broncos won."),), passages))
    assert (r.source_rank, r.answer_rank, r.passages) == (2, 2, 2)
    o = ev.summarize([r], retrieval_depth=5, paragraphs=True)
    assert o["doc_hit@1"] == 0.0 and o["doc_hit@3"] == 1.0 and o["doc_mrr"] == 0.5
    assert o["answer_hit@5"] == 1.0 and o["answer_mrr"] == 0.5
    assert o["paragraph_recall@5"] == 1.0
    assert o["paragraph_recall@10"] is None  # deeper than the passages asked for
    assert "doc_hit@1" not in ev.summarize([r], retrieval_depth=None)


def test_percentiles() -> None:
    assert ev.percentile([10, 20, 30, 40], 50) == 25.0
    assert ev.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert ev.percentile([7.0], 95) == 7.0
    assert ev.percentile([], 50) is None
    results = [ev.score_answer(gq(f"q{i}"), answer(None, (), refused=True, total_ms=float(ms))) for i, ms in enumerate([30, 10, 20])]
    o = ev.summarize(results)
    assert (o["latency_p50_ms"], o["latency_p95_ms"]) == (20.0, pytest.approx(29.0))


# --- per-question results ------------------------------------------------------------------------


def test_passed_answerable() -> None:
    good = answer("Broncos", (cite(1, "a.txt", "The Denver Broncos won."),))
    r = ev.score_answer(gq(answers=("Broncos",)), good)
    assert r.passed and r.reason == "" and r.em == 1.0 and r.contains
    # right answer, but no quote holds it
    r = ev.score_answer(gq(answers=("Broncos",)), answer("Broncos", (cite(1, "a.txt", "They won."),)))
    assert not r.passed and r.reason == "no citation quotes a gold answer"
    # wrong answer
    r = ev.score_answer(gq(answers=("Panthers",)), good)
    assert not r.passed and "prediction matches no gold answer" in r.reason
    # containment is enough (no EM needed)
    r = ev.score_answer(gq(answers=("Broncos",)), answer(None, (cite(1, "a.txt", "The Denver Broncos won."),)))
    assert r.passed and r.em == 0.0 and r.contains


def test_passed_unanswerable_and_refusal_reason() -> None:
    r = ev.score_answer(gq(answers=(), sources=(), unanswerable=True), answer(None, (), refused=True))
    assert r.passed and r.em is None and r.citation_precision_answer is None and r.citation_recall is None
    r = ev.score_answer(gq(answers=(), sources=(), unanswerable=True), answer("x", (cite(1, "a.txt", "x"),), confidence=0.7))
    assert not r.passed and r.reason.startswith("answered an unanswerable question")
    r = ev.score_answer(gq(), answer(None, (), passages=(hit("a.txt", "nothing"),), refused=True, confidence=0.3))
    assert not r.passed
    assert r.reason == "refused an answerable question (confidence 0.30); no retrieved passage holds a gold answer"


def test_report_to_dict_is_json_and_has_fields() -> None:
    results = [
        ev.score_answer(gq("a", qtype="person"), answer("Denver Broncos", (cite(1, "a.txt", "Denver Broncos won"),))),
        ev.score_answer(gq("b", qtype="person"), answer(None, (), refused=True)),
        ev.score_answer(gq("c", (), (), True, qtype="offtopic"), answer(None, (), refused=True)),
    ]
    report = ev.EvalReport.build(results, meta={"mode": "gold"}, retrieval_depth=5)
    d = json.loads(json.dumps(report.to_dict()))
    for key in ("exact_match", "f1", "contains", "correct_with_citation", "citation_precision_answer",
                "citation_precision_source", "citation_recall", "refusal_accuracy", "unanswerable_refused",
                "answerable_refused", "doc_hit@1", "doc_mrr", "answer_hit@5", "answer_mrr", "latency_p50_ms", "latency_p95_ms"):
        assert key in d["overall"], key
    assert d["overall"]["correct_with_citation"] == 0.5
    assert d["by_type"]["person"]["questions"] == 2 and d["by_type"]["offtopic"]["refused"] == 1.0
    assert "(none)" not in d["by_type"]
    assert [q["id"] for q in d["questions"]] == ["a", "b", "c"]
    # a line without a type beside typed ones is a row of its own: the rows add up (an evaluator's 14 of 15)
    untyped = ev.EvalReport.build([*results, ev.score_answer(gq("d"), answer(None, (), refused=True))], meta={}, retrieval_depth=5)
    assert untyped.by_type()["(none)"]["questions"] == 1 and sum(t["questions"] for t in untyped.by_type().values()) == 4
    assert {"id", "question", "answers", "sources", "unanswerable", "prediction", "refused", "em", "f1", "contains",
            "passed", "reason", "latency_ms", "source_rank", "answer_rank"} <= set(d["questions"][0])
    with pytest.raises(Exception):
        results[0].em = 0.0  # type: ignore[misc]  # frozen


def test_console_table_failures_first() -> None:
    results = [
        ev.score_answer(gq("ok1"), answer("Denver Broncos", (cite(1, "a.txt", "Denver Broncos won"),))),
        ev.score_answer(gq("bad1"), answer("Panthers", (cite(1, "a.txt", "Panthers"),))),
    ]
    text = ev.format_report(ev.EvalReport.build(results), symbols=("ok", "X"))
    assert text.index("bad1") < text.index("ok1")
    assert "exact match (EM)" in text and "50.0%" in text
    assert "1 failed of 2" in text


# --- gold loading --------------------------------------------------------------------------------


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "g1", "question": "Who?", "answers": ["Ann"], "sources": ["a.txt"], "unanswerable": False, "type": "person", "note": "x"}


def test_load_gold_ok(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "g.jsonl", [GOOD, "", {"id": "g2", "question": "Why?", "answers": [], "sources": [], "unanswerable": True}])
    qs = ev.load_gold(p)
    assert [q.id for q in qs] == ["g1", "g2"]
    assert qs[0].type == "person" and qs[0].extra == {"note": "x"} and qs[0].answers == ("Ann",)
    assert qs[1].unanswerable and qs[1].type is None


def test_answers_sources_and_unanswerable_may_be_left_out(tmp_path: Path) -> None:
    """An evaluator's unanswerable line without "answers"/"sources" was refused for missing keys."""
    p = write_lines(tmp_path / "g.jsonl", [{"id": "u1", "question": "Who?", "unanswerable": True},
                                           {"id": "a1", "question": "Who won?", "answers": ["Ann"]}])
    u, a = ev.load_gold(p)
    assert u.unanswerable and u.answers == () and u.sources == ()
    assert not a.unanswerable and a.answers == ("Ann",) and a.sources == () and a.extra == {}


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ("null", "expected a JSON object, got null"),
        ('{"id": "g2", "question": "Q?",\n', "not valid JSON (Expecting property name enclosed in double quotes at column"),
        ({**GOOD, "id": 7}, "'id' must be a non-empty string (write \"7\")"),  # was taken silently as "7"
        ({**GOOD, "id": "g2", "type": ["person"]}, "'type' must be a string"),  # was turned into "['person']"
        ({"question": "Q?", "answers": ["a"]}, "missing key(s) id (each line needs id and question"),
        ({"id": "g2", "question": "Q?"}, "an answerable question needs at least one answer"),  # no answers, not unanswerable
        ({**GOOD, "id": "g2", "answers": "Ann"}, "'answers' must be a list of strings"),
        ({**GOOD, "id": "g2", "sources": [1]}, "'sources' must be a list"),
        ({**GOOD, "id": "g2", "unanswerable": "no"}, "'unanswerable' must be true or false"),
        ({**GOOD, "id": "g2", "question": "  "}, "'question' must be a non-empty string"),
        ({**GOOD, "id": "g2", "answers": []}, "an answerable question needs at least one answer with a word or number in it"),
        ({**GOOD, "id": "g2", "answers": ["..."]}, "needs at least one answer with a word or number in it (answers are compared"),
        ({**GOOD, "id": "g2", "unanswerable": True},
         "an unanswerable question must have empty 'answers' and 'sources' (this one has answers and sources)"),
        ({**GOOD, "id": "g2", "answers": [], "unanswerable": True}, "must have empty 'answers' and 'sources' (this one has sources)"),
        (GOOD, "duplicate id 'g1' (first on line 1)"),
    ],
)
def test_load_gold_errors_name_the_line(tmp_path: Path, bad: Any, message: str) -> None:
    p = write_lines(tmp_path / "g.jsonl", [GOOD, bad])
    with pytest.raises(ev.GoldFormatError) as e:
        ev.load_gold(p)
    assert str(e.value).startswith(f"{p}:2: ") and message in str(e.value)


def test_load_gold_empty(tmp_path: Path) -> None:
    p = tmp_path / "g.jsonl"
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ev.GoldFormatError, match="no questions"):
        ev.load_gold(p)


def test_project_gold_set_loads() -> None:
    qs = ev.load_gold(ROOT / "gold" / "seeds.jsonl")
    assert len(qs) >= 100 and any(q.unanswerable for q in qs) and all(q.type for q in qs)


# --- SQuAD ---------------------------------------------------------------------------------------

TINY_SQUAD = {
    "version": "1.1",
    "data": [
        {"title": "Rivers", "paragraphs": [
            {"context": "The Seine flows through Paris. It is 777 kilometres long.",
             "qas": [{"id": "r1", "question": "Which river flows through Paris?", "answers": [{"answer_start": 4, "text": "Seine"}, {"answer_start": 0, "text": "The Seine"}]},
                     {"id": "r2", "question": "How long is the Seine?", "answers": [{"answer_start": 42, "text": "777 kilometres"}]}]},
            {"context": "The Thames flows through London.",
             "qas": [{"id": "r3", "question": "Which river flows through London?", "answers": [{"answer_start": 4, "text": "Thames"}]}]},
        ]},
        {"title": "Mountains", "paragraphs": [
            {"context": "Mont Blanc is the highest mountain of the Alps.",
             "qas": [{"id": "m1", "question": "What is the highest mountain of the Alps?", "answers": [{"answer_start": 0, "text": "Mont Blanc"}]}]},
        ]},
    ],
}


def test_load_squad_paragraph_ids(tmp_path: Path) -> None:
    p = tmp_path / "squad.json"
    p.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    s = ev.load_squad(p)
    assert [q.id for q in s.questions] == ["r1", "r2", "r3", "m1"]  # file order
    assert [q.sources for q in s.questions] == [("Rivers#0",), ("Rivers#0",), ("Rivers#1",), ("Mountains#0",)]
    assert s.questions[0].answers == ("Seine", "The Seine")
    assert s.paragraphs["Rivers#1"].text == "The Thames flows through London."
    assert s.paragraphs["Rivers#1"].doc_id == "Rivers#1" and s.paragraphs["Rivers#1"].title == "Rivers"


def test_load_squad_bad_format(tmp_path: Path) -> None:
    p = tmp_path / "squad.json"
    p.write_text(json.dumps({"data": [{"title": "x"}]}), encoding="utf-8")
    with pytest.raises(ev.GoldFormatError, match=r"SQuAD v1.1/v2.0 format"):
        ev.load_squad(p)
    p.write_text("[]", encoding="utf-8")
    with pytest.raises(ev.GoldFormatError, match="not a SQuAD JSON file"):
        ev.load_squad(p)


def test_score_predictions_official_semantics(tmp_path: Path) -> None:
    p = tmp_path / "squad.json"
    p.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    preds = {"r1": "the Seine", "r2": "777 km", "r3": "Thames river"}  # m1 missing: counts 0
    got = ev.score_predictions(p, preds)
    assert got["count"] == 4
    assert got["exact_match"] == pytest.approx(100 * 1 / 4)
    assert got["f1"] == pytest.approx(100 * (1 + 0.5 + 2 / 3 + 0) / 4)


def test_logistic_regression_baseline_scores() -> None:
    d = squad_dir()
    dev, preds = d / "dev-half.json", d / "logistic-regression-baseline-predictions.json"
    if not (dev.is_file() and preds.is_file()):
        pytest.fail(
            f"SQuAD benchmark data not found in {d} (expected dev-half.json and "
            f"logistic-regression-baseline-predictions.json); CI provides ../shared next to the checkout, "
            f"or set QA_SQUAD_DIR to the folder that holds them"
        )
    got = ev.score_predictions(dev, json.loads(preds.read_text(encoding="utf-8")))
    assert got["count"] == 4961
    assert got["exact_match"] == pytest.approx(40.94, abs=0.01)
    assert got["f1"] == pytest.approx(50.89, abs=0.01)


def test_squad_paragraph_ids_match_the_shared_corpus() -> None:
    d = squad_dir()
    if not (d / "paragraphs-all.jsonl").is_file():
        pytest.fail(f"SQuAD benchmark data not found in {d}; set QA_SQUAD_DIR")
    corpus = {}
    with open(d / "paragraphs-all.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            corpus[rec["id"]] = rec["text"]
    squad = ev.load_squad(d / "dev-half.json")
    assert all(corpus.get(pid) == doc.text for pid, doc in squad.paragraphs.items())


# --- reports -------------------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Check signature and CRCs; return width, height and the raw scanlines."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        if tag == b"IHDR":
            size = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x02"  # 8-bit RGB
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert tag == b"IEND"
    raw = zlib.decompress(idat)
    assert len(raw) == size[1] * (1 + 3 * size[0])
    return size[0], size[1], raw


def test_png_bar_chart_is_valid_and_coloured() -> None:
    w, h, raw = read_png(ev.render_bar_chart_png([40.0, 100.0, 0.0, 55.5], width=320, height=200))
    assert (w, h) == (320, 200)
    colours = {raw[i : i + 3] for y in range(h) for i in range(y * (1 + 3 * w) + 1, (y + 1) * (1 + 3 * w), 3)}
    for c in ev.PALETTE[:2] + ev.PALETTE[3:4]:  # the 0% bar has no height
        assert bytes(c) in colours


def test_write_markdown_report(tmp_path: Path) -> None:
    results = [
        ev.score_answer(gq("a", qtype="person"), answer("Denver Broncos", (cite(1, "a.txt", "Denver Broncos won"),))),
        ev.score_answer(gq("b|c", qtype="date"), answer("Panthers", (cite(1, "b.txt", "Panthers"),))),
    ]
    md, png = ev.write_markdown_report(ev.EvalReport.build(results, meta={"mode": "gold"}, retrieval_depth=5), tmp_path / "out")
    text = md.read_text(encoding="utf-8")
    assert "## Overall" in text and "## By type" in text and "## Failures (1 of 2)" in text
    assert "b\\|c" in text and "**prediction**: Panthers" in text and "**gold**: Denver Broncos" in text
    assert "![main figures](chart.png)" in text and "1. exact match (EM): 50.0% (blue)" in text
    read_png(png.read_bytes())


# --- CLI -----------------------------------------------------------------------------------------


class FakeEngine:
    """Answers "Denver Broncos" from a.txt to everything; refuses questions mentioning 'unknown'."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int | None]] = []
        # the collection holds a.txt and b.txt (an index's manifest lists its documents)
        self.store = SimpleNamespace(manifest=SimpleNamespace(documents={"a.txt": {}, "b.txt": {}}))

    def index(self, progress: Any = None) -> None:
        return None

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        self.asked.append((question, top_k))
        passages = (hit("a.txt", "The Denver Broncos won the game."),)
        if "unknown" in question:
            return answer(None, (), passages, refused=True)
        return answer("Denver Broncos", (cite(1, "a.txt", "The Denver Broncos won the game."),), passages)


def test_cli_eval_gold_with_fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import cli

    engine = FakeEngine()
    monkeypatch.setattr(cli, "_engine", lambda ctx, **extra: engine)
    gold = write_lines(tmp_path / "g.jsonl", [
        {"id": "g1", "question": "Who won?", "answers": ["Denver Broncos"], "sources": ["a.txt"], "unanswerable": False, "type": "team"},
        {"id": "g2", "question": "Who lost?", "answers": ["Carolina Panthers"], "sources": ["b.txt"], "unanswerable": False, "type": "team"},
        {"id": "g3", "question": "Something unknown?", "answers": [], "sources": [], "unanswerable": True, "type": "offtopic"},
    ])
    out = tmp_path / "r.json"
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold), "--json", str(out), "--report", str(tmp_path / "rep"), "--top-k", "3"])
    assert res.exit_code == 0, res.output
    assert engine.asked[0] == ("Who won?", 3)
    assert "Overall (gold)" in res.output and "refusal accuracy" in res.output
    assert f"questions: gold {gold}, top_k 3" in res.output  # a top-k 3 run does not look like a top-k 5 one
    assert res.output.index("g2") < res.output.index("g1")  # failures first
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["overall"]["answerable"] == 2 and d["overall"]["correct_with_citation"] == 0.5
    assert d["overall"]["refusal_accuracy"] == 1.0 and d["overall"]["doc_hit@1"] == 0.5
    assert d["meta"]["mode"] == "gold"
    assert (tmp_path / "rep" / "report.md").is_file() and (tmp_path / "rep" / "chart.png").is_file()

    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold), "--limit", "1"])
    assert res.exit_code == 0 and "1 questions" in res.output


def test_cli_eval_argument_errors(tmp_path: Path) -> None:
    from qa import cli

    gold = write_lines(tmp_path / "g.jsonl", [GOOD])
    runner = CliRunner()
    res = runner.invoke(cli.main, ["eval"])
    assert res.exit_code == 2 and "exactly one of --gold FILE or --squad FILE" in res.output
    res = runner.invoke(cli.main, ["eval", "--gold", str(gold), "--squad", "x.json"])
    assert res.exit_code == 2 and "exactly one" in res.output
    res = runner.invoke(cli.main, ["eval", "--gold", str(gold), "--gold-paragraph"])
    assert res.exit_code == 2 and "go with --squad" in res.output
    res = runner.invoke(cli.main, ["eval", "--squad", str(tmp_path / "dev-v1.1.json")])
    assert res.exit_code == 2
    assert "https://rajpurkar.github.io/SQuAD-explorer/" in res.output and "dev-v1.1.json" in res.output
    assert "../shared/benchmarks/squad-v1.1/" in res.output


def test_cli_eval_bad_gold_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import cli

    monkeypatch.setattr(cli, "_engine", lambda ctx, **extra: FakeEngine())
    gold = write_lines(tmp_path / "g.jsonl", [GOOD, "{oops"])
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold)])
    assert res.exit_code == 2 and f"{gold}:2: not valid JSON" in res.output
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\x80garbage\n")
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(binary)])
    assert res.exit_code == 2 and f"{binary}:1: not UTF-8 text (byte 0x80 at column 1)" in res.output
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes(("\n".join(json.dumps({**GOOD, "id": f"g{i}"}) for i in range(5)) + "\n").encode("utf-16"))
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(utf16)])
    assert res.exit_code == 2 and res.output.strip() == f"error: {utf16}: UTF-16 text; a gold set is JSONL in UTF-8 (save it as UTF-8)"


def test_a_gold_source_the_collection_lacks_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in a gold line's sources would silently cost citation recall: the report names it."""
    from qa import cli

    monkeypatch.setattr(cli, "_engine", lambda ctx, **extra: FakeEngine())
    gold = write_lines(tmp_path / "g.jsonl", [{**GOOD, "sources": ["a.txt", "nope.txt"]}])
    out = tmp_path / "r.json"
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert f"warning: the gold set names source 'nope.txt' (question {GOOD['id']}), which the collection does not hold" in res.output
    assert json.loads(out.read_text(encoding="utf-8"))["meta"]["unknown_sources"] == ["nope.txt"]


@pytest.mark.parametrize("option", ["--json", "--report"])
def test_an_output_that_cannot_be_written_fails_before_the_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    """An evaluator's run answered every question, then died in a traceback writing under a file."""
    from qa import cli

    def no_engine(ctx: Any, **extra: Any) -> Any:
        raise AssertionError("the engine was built for an output that cannot be written")

    monkeypatch.setattr(cli, "_engine", no_engine)
    (tmp_path / "afile").write_text("x")
    gold = write_lines(tmp_path / "g.jsonl", [GOOD])
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold), option, str(tmp_path / "afile" / "out")])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert res.output.startswith("error: cannot write") and str(tmp_path / "afile") in res.output


# --- SQuAD end to end on a tiny corpus (real Chroma, a hashing embedder instead of the model; ~2 s)


def test_evaluate_squad_open_and_gold_paragraph(tmp_path: Path) -> None:
    from qa.config import Config

    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    cfg = Config.resolve(index_dir=tmp_path / "index", refusal_threshold=0.0)
    steps: list[tuple[int, int]] = []
    report = ev.evaluate_squad(squad, config=cfg, embedder=HashEmbedder(), progress=lambda d, t: steps.append((d, t)))
    idx = ev.default_squad_index_dir(squad, cfg)
    assert idx.parent == tmp_path / "index" / "eval" and (idx / "manifest.json").is_file()
    assert report.meta["mode"] == "squad-open" and report.meta["corpus_documents"] == 3
    assert report.overall["questions"] == 4 and steps[-1] == (4, 4)
    assert report.overall["paragraph_recall@10"] is not None and report.overall["paragraph_recall@3"] == 1.0

    limited = ev.evaluate_squad(squad, limit=2, gold_paragraph=True, config=cfg, embedder=HashEmbedder())
    assert [r.id for r in limited.results] == ["r1", "r2"]
    assert "doc_hit@1" not in limited.overall and limited.meta["mode"] == "squad-gold-paragraph"
    assert all(r.cited_docs in ((), ("Rivers#0",)) for r in limited.results)
    assert "index up to date" in limited.meta["index"]  # the second run re-embeds nothing


def test_an_eval_index_asked_directly_is_opened_not_resynced_with_the_documents_folder(tmp_path: Path) -> None:
    """`qa --index <eval index> ask` used to rebuild it from the seeds ("collection changed: squad -> qa");
    the eval index now records its corpus, so an engine with a documents folder opens it as it is. An
    eval index made before that is re-indexed once by the next evaluation."""
    import dataclasses

    from qa import QA
    from qa.config import Config
    from qa.store.manifest import Manifest

    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    cfg = Config.resolve(index_dir=tmp_path / "index", refusal_threshold=0.0)
    ev.evaluate_squad(squad, config=cfg, embedder=HashEmbedder())
    idx = ev.default_squad_index_dir(squad, cfg)
    made = Manifest.load(idx / "manifest.json")
    assert made.source.startswith("squad:3 paragraphs (sha256 ") and made.collection == "squad"

    seeds = tmp_path / "docs"
    seeds.mkdir()
    (seeds / "note.txt").write_text("The Danube flows through Vienna.", encoding="utf-8")
    asked = QA(config=dataclasses.replace(cfg, index_dir=idx, seeds_dir=seeds), embedder=HashEmbedder())
    hits = asked.retrieve("Which river flows through London?")
    assert {h.chunk.doc_id for h in hits} <= set(made.documents) and hits
    assert Manifest.load(idx / "manifest.json") == made  # not rebuilt, not re-synced

    legacy = json.loads((idx / "manifest.json").read_text(encoding="utf-8"))
    legacy["source"] = ""  # as written before eval indexes recorded their corpus
    (idx / "manifest.json").write_text(json.dumps(legacy), encoding="utf-8")
    again = ev.evaluate_squad(squad, config=cfg, embedder=HashEmbedder())
    assert again.overall["questions"] == 4
    assert Manifest.load(idx / "manifest.json").source == made.source

    # SQuAD 2.0 questions on the same paragraphs: the same index, nothing embedded again (a user's
    # second run with --squad dev-half-unanswerable.json added built a second copy of 913 paragraphs)
    squad2 = tmp_path / "squad2.json"
    squad2.write_text(json.dumps(TINY_SQUAD2), encoding="utf-8")
    both = ev.evaluate_squad([squad, squad2], gold_paragraph=True, config=cfg, embedder=HashEmbedder())
    assert both.overall["questions"] == 7 and "index up to date" in both.meta["index"]
    assert [p.name for p in (tmp_path / "index" / "eval").iterdir()] == [idx.name]


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_cli_eval_gold_for_real(tmp_path: Path) -> None:
    """`qa eval --gold gold/seeds.jsonl --json out.json` with the real model (a fresh index in tmp)."""
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "--index", str(tmp_path / "index"), "eval", "--gold", str(ROOT / "gold" / "seeds.jsonl"),
         "--json", str(out), "--rows", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=590,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Overall (gold)" in proc.stdout
    d = json.loads(out.read_text(encoding="utf-8"))
    o = d["overall"]
    assert o["questions"] == len(ev.load_gold(ROOT / "gold" / "seeds.jsonl"))
    for key in ("exact_match", "f1", "contains", "correct_with_citation", "citation_precision_answer",
                "citation_precision_source", "citation_recall", "refusal_accuracy", "unanswerable_refused",
                "answerable_refused", "doc_hit@5", "doc_mrr", "answer_hit@5", "answer_mrr", "latency_p50_ms", "latency_p95_ms"):
        assert key in o, key
    assert 0.0 <= o["correct_with_citation"] <= 1.0 and o["latency_p50_ms"] > 0
    assert len(d["questions"]) == o["questions"] and d["by_type"]


# --- SQuAD 2.0: refusals, several files, question types, what ran ---------------------------------

SQUAD2_FIXTURE = ROOT / "tests" / "fixtures" / "squad2-tiny.json"

# Unanswerable questions on TINY_SQUAD's paragraphs, in a SQuAD 2.0 file that holds only some of
# them: "The Thames flows through London." is paragraph 0 here but Rivers#1 in TINY_SQUAD.
TINY_SQUAD2 = {
    "version": "v2.0",
    "data": [
        {"title": "Rivers", "paragraphs": [
            {"context": "The Thames flows through London.",
             "qas": [{"id": "u1", "question": "Who painted the Thames in London?", "is_impossible": True, "answers": []},
                     {"id": "u2", "question": "When did the Thames freeze?", "is_impossible": True, "answers": []}]},
        ]},
        {"title": "Mountains", "paragraphs": [
            {"context": "Mont Blanc is the highest mountain of the Alps.",
             "qas": [{"id": "u3", "question": "How many climbers died on Mont Blanc?", "answers": []}]},  # no answers: unanswerable
        ]},
    ],
}


def test_refusal_precision_recall_on_a_hand_made_set() -> None:
    good = answer("Denver Broncos", (cite(1, "a.txt", "The Denver Broncos won."),))
    refused = answer(None, (), refused=True)
    results = [
        ev.score_answer(gq("u1", (), (), True), refused),  # right refusal
        ev.score_answer(gq("u2", (), (), True), refused),  # right refusal
        ev.score_answer(gq("u3", (), (), True), good),  # answered an unanswerable question
        ev.score_answer(gq("a1"), refused),  # refused an answerable question
        ev.score_answer(gq("a2"), good),  # EM 1
        ev.score_answer(gq("a3"), good),  # EM 1
        ev.score_answer(gq("a4", ("Carolina Panthers",)), good),  # EM 0, F1 0
        ev.score_answer(gq("a5", ("Broncos",)), good),  # EM 0, F1 2/3
    ]
    o = ev.summarize(results)
    assert o["refusal_precision"] == pytest.approx(2 / 3)  # 3 refusals, 2 on unanswerable questions
    assert o["refusal_recall"] == pytest.approx(2 / 3) == o["unanswerable_refused"]  # 2 of 3 unanswerable refused
    assert o["answerable_refused_rate"] == pytest.approx(1 / 5) and o["answerable_refused"] == 1
    assert o["exact_match"] == pytest.approx(2 / 5)  # answerable questions only, as before
    assert o["f1"] == pytest.approx((0 + 1 + 1 + 0 + 2 / 3) / 5)
    # SQuAD 2.0 style over all 8: a refused unanswerable question scores 1, an answered one 0
    assert o["exact_match_all"] == pytest.approx((1 + 1 + 0 + 2) / 8)
    assert o["f1_all"] == pytest.approx((1 + 1 + 0 + 0 + 1 + 1 + 0 + 2 / 3) / 8)
    assert o["refusal_accuracy"] == pytest.approx(6 / 8)
    # nothing refused: precision is not measurable; no unanswerable question: recall is not
    assert ev.refusal_precision([results[4]]) is None and ev.refusal_recall([results[4]]) is None
    assert ev.refusal_precision([results[3]]) == 0.0


@pytest.mark.parametrize(
    "qtype, text, ok",
    [
        ("when", "1832", True), ("when", "in the 1970s", True), ("when", "October 3", True), ("when", "on Monday", True),
        ("when", "12/10/2015", True), ("when", "yesterday", True), ("when", "at 9 am", True), ("when", "10:30", True),
        ("when", "the 19th century", True), ("when", "44 BC", True), ("when", "Margaret Doyle", False),
        ("when", "a small museum", False), ("when", "they may go", False), ("when", "", False),
        ("when", "after the war", True), ("when", "just hours after", False), ("when", "shortly before", False),
        ("who", "Margaret Doyle", True), ("who", "the Denver Broncos", True), ("who", "“Tupy Report”", True),
        ("who", "NASA", True), ("who", "engineers", False), ("who", "1832", False), ("who", "October 1832", False),
        ("who", "Twenty", False), ("who", "", False),
        ("how many", "34", True), ("how many", "three hours", True), ("how many", "a dozen", True),
        ("how many", "1.5 million", True), ("how many", "several", False), ("how many", "Margaret Doyle", False),
        ("date", "1832", True), ("person", "1832", False), ("number", "none", False),
        ("what", "anything", True), ("why", "", True), ("other", "x", True),
    ],
)
def test_looks_like(qtype: str, text: str, ok: bool) -> None:
    from qa.answer.question import looks_like

    assert looks_like(qtype, text) is ok


@pytest.mark.parametrize(
    "sentence, span, ok",
    [
        # a length of time related to the rest of the sentence dates nothing by itself
        ("The clashes occurred just hours after Delcy Rodríguez was sworn in.", "just hours", False),
        ("The vote came three days before the strike.", "three days", False),
        ("The vote came three days later.", "three days later", True),
        ("The bridge fell in 2016 after a storm.", "2016", True),
        ("It opened on Monday after repairs.", "Monday", True),
    ],
)
def test_a_when_span_must_date_something_itself(sentence: str, span: str, ok: bool) -> None:
    from qa.answer.question import plausible_in

    start = sentence.index(span)
    assert plausible_in("when", sentence, start, start + len(span)) is ok


@pytest.mark.parametrize(
    "question, word",
    [
        ("When was it built?", "when"), ("Who built it?", "who"), ("Whose idea was it?", "who"),
        ("How many people live there?", "how many"), ("How  much did it cost?", "how much"),
        ("Where is it?", "where"), ("What is it?", "what"), ("Which river flows through Paris?", "which"),
        ("Why did they move?", "why"), ("How did it end?", "how"), ("In what year was it built?", "what"),
        ("Name the river.", "other"), ("What were they doing when the raid began?", "what"),
    ],
)
def test_question_word(question: str, word: str) -> None:
    from qa.answer.question import QUESTION_WORDS, question_word

    assert question_word(question) == word and word in QUESTION_WORDS


def test_question_typing_is_pure_python() -> None:
    """qa.answer.question (question words, answer-type checks) imports nothing heavy: the evaluation
    and light tools can use it without the answerers."""
    code = ("import sys, qa.answer.question; bad = {'numpy', 'torch', 'chromadb', 'qa.answer.extractive', 'qa.answer.reader'}"
            " & set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def squad_question(qid: str, question: str, answers: tuple[str, ...] = (), unanswerable: bool = False) -> ev.GoldQuestion:
    return ev.GoldQuestion(id=qid, question=question, answers=answers, sources=("p",), unanswerable=unanswerable)


def test_breakdown_by_question_type_with_wrong_type_counts() -> None:
    cited = (cite(1, "p", "Margaret Doyle built it in 1832."),)
    results = [
        ev.score_answer(squad_question("w1", "When was it built?", ("1832",)), answer("1832", cited)),
        ev.score_answer(squad_question("w2", "When did it open?", ("1840",)), answer("Margaret Doyle", cited)),  # wrong type
        ev.score_answer(squad_question("w3", "When did it close?", unanswerable=True), answer(None, (), refused=True)),
        ev.score_answer(squad_question("p1", "Who built it?", ("Margaret Doyle",)), answer("Margaret Doyle", cited)),
        ev.score_answer(squad_question("p2", "Who paid?", ("the council",)), answer("1832", cited)),  # wrong type
        ev.score_answer(squad_question("n1", "How many metres tall is it?", ("34",)), answer("thirty-four metres", cited)),
        ev.score_answer(squad_question("x1", "What is it?", ("a lighthouse",)), answer("1832", cited)),  # not checked
        ev.score_answer(squad_question("o1", "Name the engineer.", ("Margaret Doyle",)), answer(None, (), refused=True)),
    ]
    assert [r.qword for r in results] == ["when", "when", "when", "who", "who", "how many", "what", "other"]
    assert [r.wrong_type for r in results] == [False, True, None, False, True, False, None, None]
    assert results[0].answer_type == "date" and results[3].answer_type == "person"  # the engine's own typing
    report = ev.EvalReport.build(results, meta={"mode": "squad-gold-paragraph"})
    t = report.by_question_type()
    assert list(t) == ["when", "who", "how many", "what", "other"]  # report order, empty classes left out
    assert (t["when"]["questions"], t["when"]["answerable"], t["when"]["unanswerable"]) == (3, 2, 1)
    assert t["when"]["exact_match"] == 0.5 and t["when"]["refused"] == pytest.approx(1 / 3)
    assert (t["when"]["wrong_type"], t["when"]["wrong_type_checked"]) == (1, 2)
    assert (t["who"]["wrong_type"], t["how many"]["wrong_type"]) == (1, 0)
    assert t["what"]["wrong_type"] is None and t["other"]["refused"] == 1.0
    assert report.by_answer_type()["date"]["wrong_type"] == 1
    d = json.loads(json.dumps(report.to_dict()))
    assert d["by_question_type"]["when"]["wrong_type"] == 1 and d["questions"][1]["qword"] == "when"
    text = ev.format_report(report, symbols=("ok", "X"))
    assert "By question type" in text and "1 of 2" in text


def test_leave_out_only_training_articles_in_the_file() -> None:
    """A reader trained on train.json (442 titles, none in the dev files) leaves out nothing."""
    questions = [ev.GoldQuestion(f"q{i}", "Who?", ("A",), extra={"title": f"Dev_{i % 48}"}) for i in range(10_000)]
    train_titles = [f"Train_{i}" for i in range(442)]
    import time

    t0 = time.perf_counter()
    kept, left = ev.leave_out_trained(questions, train_titles)
    assert time.perf_counter() - t0 < 0.5
    assert len(kept) == 10_000 and left == {}
    kept, left = ev.leave_out_trained(questions, train_titles + ["Dev_3", "Dev_5"])
    assert left == {"Dev_3": 209, "Dev_5": 209} and len(kept) == 10_000 - 418
    assert ev.describe_run({"excluded_reader_training_questions": 0, "left_out_articles": [], "reader_training_articles": 442}) == [
        "left out: none (the reader's metadata names 442 training articles, none of them in the evaluated files)"
    ]
    assert ev.describe_run({"excluded_reader_training_questions": 418, "left_out_articles": ["Dev_3", "Dev_5"],
                            "reader_training_articles": 444}) == [
        "left out: 418 questions of 2 article(s) the reader was trained on (Dev_3, Dev_5)"
    ]


class FakeReader:
    """A span reader that proposes nothing; its metadata names the articles it was 'trained' on."""

    spec = "fake-reader"

    def __init__(self, titles: tuple[str, ...] = ()) -> None:
        self.titles = titles

    def trained_on(self) -> tuple[str, ...]:
        return self.titles

    def read(self, question: str, passages: Any, top: int = 3) -> list[list[Any]]:
        return [[] for _ in passages]


def scripted_answerer(refuse: set[str], titles: tuple[str, ...] = (), threshold: float = -1e9) -> Any:
    """A ReaderAnswerer over FakeReader that never refuses on score, but refuses the questions in ``refuse``."""
    from qa.answer import REFUSAL, ReaderAnswerer

    class Scripted(ReaderAnswerer):
        def answer(self, question, hits, question_vector, sentence_vectors):  # type: ignore[override]
            if question in refuse:
                return Answer(question=question, text=REFUSAL, refused=True, passages=tuple(hits))
            return super().answer(question, hits, question_vector, sentence_vectors)

    return Scripted(reader=FakeReader(titles), refusal_threshold=threshold)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_squads_matches_paragraphs_across_files(tmp_path: Path) -> None:
    v1, v2 = write_json(tmp_path / "v1.json", TINY_SQUAD), write_json(tmp_path / "v2.json", TINY_SQUAD2)
    s = ev.load_squads([v1, v2])
    assert [q.id for q in s.questions] == ["r1", "r2", "r3", "m1", "u1", "u2", "u3"]
    assert [q.unanswerable for q in s.questions] == [False] * 4 + [True] * 3
    by_id = {q.id: q for q in s.questions}
    assert by_id["u1"].sources == ("Rivers#1",)  # the Thames paragraph keeps TINY_SQUAD's id
    assert by_id["u3"].sources == ("Mountains#0",) and by_id["u1"].extra["file"] == "v2.json"
    assert len(s.paragraphs) == 3 and s.files == (str(v1), str(v2)) and s.version == "1.1, v2.0"
    # alone, the v2 file numbers its own paragraphs
    assert ev.load_squad(v2).questions[0].sources == ("Rivers#0",)
    # a corpus gives the ids (paragraphs-all.jsonl): matched by text
    from qa.ingest import parse_document

    corpus = [parse_document("Rivers#1", "The Thames flows through London.", title="Rivers"),
              parse_document("Rivers#0", "Something else entirely.", title="Rivers")]
    s2 = ev.load_squads([v2], corpus=corpus)
    assert s2.questions[0].sources == ("Rivers#1",) and s2.paragraphs["Rivers#1"].text == "The Thames flows through London."
    # an unknown paragraph whose file index collides with another paragraph's id gets a suffix
    other = {"version": "v2.0", "data": [{"title": "Rivers", "paragraphs": [
        {"context": "The Danube flows through Vienna.", "qas": [{"id": "d1", "question": "Q?", "is_impossible": True, "answers": []}]}]}]}
    s3 = ev.load_squads([v1, write_json(tmp_path / "other.json", other)])
    assert s3.questions[-1].sources == ("Rivers#0~2",) and s3.paragraphs["Rivers#0~2"].text.startswith("The Danube")
    with pytest.raises(ev.GoldFormatError, match="the same file given twice"):
        ev.load_squads([v1, v1])


def test_sample_is_seeded_and_spans_files(tmp_path: Path) -> None:
    s = ev.load_squads([write_json(tmp_path / "v1.json", TINY_SQUAD), write_json(tmp_path / "v2.json", TINY_SQUAD2)])
    picks = {tuple(q.id for q in ev.sample_questions(s.questions, 4, seed)) for seed in range(20)}
    assert all(len(p) == 4 for p in picks) and len(picks) > 1
    assert any(set(p) & {"u1", "u2", "u3"} and set(p) & {"r1", "r2", "r3", "m1"} for p in picks)
    order = [q.id for q in s.questions]
    for p in picks:  # file order kept
        assert list(p) == sorted(p, key=order.index)
    assert ev.sample_questions(s.questions, 4, 7) == ev.sample_questions(s.questions, 4, 7)


def test_evaluate_squad_answerable_plus_unanswerable(tmp_path: Path) -> None:
    from qa.config import Config

    v1, v2 = write_json(tmp_path / "v1.json", TINY_SQUAD), write_json(tmp_path / "v2.json", TINY_SQUAD2)
    cfg = Config.resolve(index_dir=tmp_path / "index", reader="rules")
    # refuses two of the three unanswerable questions and one answerable one
    refuse = {"Who painted the Thames in London?", "When did the Thames freeze?", "How long is the Seine?"}
    for gold_paragraph in (True, False):
        report = ev.evaluate_squad([v1, v2], gold_paragraph=gold_paragraph, config=cfg, embedder=HashEmbedder(),
                                   answerer=scripted_answerer(refuse, threshold=-5.0))
        o, meta = report.overall, report.meta
        assert (o["questions"], o["answerable"], o["unanswerable"]) == (7, 4, 3)
        assert o["refusal_precision"] == pytest.approx(2 / 3) and o["refusal_recall"] == pytest.approx(2 / 3)
        assert o["answerable_refused_rate"] == 0.25 and o["unanswerable_refused"] == pytest.approx(2 / 3)
        assert o["exact_match_all"] == pytest.approx((sum(r.em for r in report.results if not r.unanswerable) + 2) / 7)
        assert meta["corpus_documents"] == 3  # the shared paragraphs are indexed once
        assert meta["squad_files"] == {"v1.json": 4, "v2.json": 3}
        assert meta["answerer"] == "Scripted" and meta["reader"] == "fake-reader" and meta["refusal_threshold"] == -5.0
        assert meta["excluded_reader_training_questions"] == 0 and meta["left_out_articles"] == []
        assert meta["git_commit"] != "" and "gold_paragraphs_not_in_corpus" not in meta
    assert "paragraph_recall@1" in report.overall  # the open-retrieval run
    text = ev.format_report(report, symbols=("ok", "X"))
    assert "refusal precision" in text and "left out: none" in text and "refusal threshold: -5.0" in text


def test_evaluate_squad_leaves_out_only_training_articles_in_the_files(tmp_path: Path) -> None:
    from qa.config import Config

    v1, v2 = write_json(tmp_path / "v1.json", TINY_SQUAD), write_json(tmp_path / "v2.json", TINY_SQUAD2)
    cfg = Config.resolve(index_dir=tmp_path / "index", reader="rules")
    train_titles = tuple(f"Train_article_{i}" for i in range(442))
    report = ev.evaluate_squad([v1, v2], gold_paragraph=True, config=cfg, embedder=HashEmbedder(),
                               answerer=scripted_answerer(set(), train_titles))
    assert report.overall["questions"] == 7 and report.meta["excluded_reader_training_questions"] == 0
    assert report.meta["reader_training_articles"] == 442 and report.meta["left_out_articles"] == []
    assert "left out: none (the reader's metadata names 442 training articles" in ev.format_report(report)
    report = ev.evaluate_squad([v1, v2], gold_paragraph=True, config=cfg, embedder=HashEmbedder(),
                               answerer=scripted_answerer(set(), train_titles + ("Mountains",)))
    assert [r.id for r in report.results] == ["r1", "r2", "r3", "u1", "u2"]
    assert report.meta["left_out_articles"] == ["Mountains"] and report.meta["excluded_reader_training_questions"] == 2
    # --sample and --limit apply after leaving out: the same seed gives the same questions
    a = ev.evaluate_squad([v1, v2], gold_paragraph=True, config=cfg, embedder=HashEmbedder(),
                          answerer=scripted_answerer(set()), sample=4, seed=3)
    b = ev.evaluate_squad([v1, v2], gold_paragraph=True, config=cfg, embedder=HashEmbedder(),
                          answerer=scripted_answerer(set()), sample=4, seed=3, limit=2)
    assert len(a.results) == 4 and [r.id for r in b.results] == [r.id for r in a.results][:2]
    assert a.meta["sample"] == 4 and a.meta["seed"] == 3


def test_report_records_answerer_reader_threshold_and_commit(tmp_path: Path) -> None:
    from qa.answer import ExtractiveAnswerer

    assert ev.describe_answerer(ExtractiveAnswerer(refusal_threshold=0.31)) == {
        "answerer": "ExtractiveAnswerer", "reader": "rules", "refusal_threshold": 0.31}
    d = ev.describe_answerer(scripted_answerer(set(), threshold=0.5))
    assert d["reader"] == "fake-reader" and d["refusal_threshold"] == 0.5
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    commit, dirty = ev.git_commit(ROOT)
    assert commit == (head.stdout.strip() if head.returncode == 0 else "unknown")
    assert ev.git_commit(tmp_path) == ("unknown", None)  # not a repository

    engine = FakeEngine()
    engine.answerer = ExtractiveAnswerer(refusal_threshold=0.29)  # type: ignore[attr-defined]
    gold = write_lines(tmp_path / "g.jsonl", [
        {"id": "g1", "question": "Who won?", "answers": ["Denver Broncos"], "sources": ["a.txt"], "unanswerable": False},
        {"id": "g2", "question": "When was the unknown game?", "answers": [], "sources": [], "unanswerable": True},
    ])
    report = ev.evaluate_gold(engine, gold)
    assert report.meta["answerer"] == "ExtractiveAnswerer" and report.meta["refusal_threshold"] == 0.29
    assert report.meta["git_commit"] == commit
    assert report.overall["refusal_precision"] == 1.0 and report.overall["refusal_recall"] == 1.0
    assert report.by_question_type()["who"]["wrong_type"] == 0
    md, _ = ev.write_markdown_report(report, tmp_path / "rep")
    text = md.read_text(encoding="utf-8")
    assert "## By question type" in text and "| who | 1 | 0 |" in text and "refusal threshold: 0.29" in text
    assert f"commit: {commit}" in text and "refusal precision" in text


def test_cli_eval_two_squad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`qa eval --squad A --squad B` end to end through the CLI, with a hashing embedder (fast)."""
    import functools

    from qa import cli

    monkeypatch.setenv("QA_READER", "rules")
    refuse = {"Who painted the Thames in London?", "When did the Thames freeze?"}
    monkeypatch.setattr(ev, "evaluate_squad", functools.partial(ev.evaluate_squad, embedder=HashEmbedder(),
                                                                answerer=scripted_answerer(refuse)))
    v1, v2 = write_json(tmp_path / "v1.json", TINY_SQUAD), write_json(tmp_path / "v2.json", TINY_SQUAD2)
    out = tmp_path / "r.json"
    runner = CliRunner()
    res = runner.invoke(cli.main, ["--index", str(tmp_path / "index"), "eval", "--squad", str(v1), "--squad", str(v2),
                                   "--gold-paragraph", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "refusal precision" in res.output and "By question type" in res.output and "left out: none" in res.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert (d["overall"]["answerable"], d["overall"]["unanswerable"]) == (4, 3)
    assert d["overall"]["refusal_precision"] == 1.0 and d["overall"]["refusal_recall"] == pytest.approx(2 / 3)
    assert set(d["by_question_type"]) >= {"who", "when", "how many", "which", "what"}
    assert d["meta"]["squad_files"] == {"v1.json": 4, "v2.json": 3}
    res = runner.invoke(cli.main, ["--index", str(tmp_path / "index"), "eval", "--squad", str(v1), "--squad", str(v2),
                                   "--gold-paragraph", "--sample", "3", "--seed", "1", "--json", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["overall"]["questions"] == 3 and (d["meta"]["sample"], d["meta"]["seed"]) == (3, 1)
    res = runner.invoke(cli.main, ["--index", str(tmp_path / "index"), "eval", "--squad", str(v1), "--squad", str(v2),
                                   "--gold-paragraph", "--limit", "2"])
    assert res.exit_code == 0 and "--sample N draws a seeded sample across all files" in res.output
    res = runner.invoke(cli.main, ["eval", "--squad", str(v1), "--squad", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "missing.json" in res.output


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_cli_eval_squad2_for_real(tmp_path: Path) -> None:
    """`qa eval --squad` on a SQuAD 2.0 fixture with the real model and reader, both modes (fresh index in tmp)."""
    fixture = ev.load_squad(SQUAD2_FIXTURE)
    unanswerable = sum(q.unanswerable for q in fixture.questions)
    assert unanswerable == 4 and len(fixture.questions) == 11
    for extra in (["--gold-paragraph"], ["--top-k", "3"]):
        out = tmp_path / "out.json"
        proc = subprocess.run(
            [sys.executable, "-m", "qa.cli", "--index", str(tmp_path / "index"), "eval", "--squad", str(SQUAD2_FIXTURE),
             *extra, "--json", str(out), "--report", str(tmp_path / "rep"), "--rows", "3"],
            cwd=ROOT, capture_output=True, text=True, timeout=440,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "refusal precision" in proc.stdout and "By question type" in proc.stdout and "left out: none" in proc.stdout
        d = json.loads(out.read_text(encoding="utf-8"))
        o, meta = d["overall"], d["meta"]
        assert (o["questions"], o["unanswerable"]) == (11, unanswerable)
        for key in ("refusal_precision", "refusal_recall", "answerable_refused_rate", "unanswerable_refused",
                    "exact_match", "f1", "exact_match_all", "f1_all"):
            assert key in o, key
        assert o["refusal_recall"] is not None and 0.0 <= o["f1_all"] <= 1.0
        refused = [q for q in d["questions"] if q["refused"]]
        if refused:
            assert o["refusal_precision"] == pytest.approx(sum(q["unanswerable"] for q in refused) / len(refused))
        assert {"when", "who", "how many"} <= set(d["by_question_type"])
        assert d["by_question_type"]["when"]["wrong_type_checked"] is not None
        assert meta["answerer"] and meta["reader"] and isinstance(meta["refusal_threshold"], float)
        assert meta["git_commit"] and meta["excluded_reader_training_questions"] == 0
        assert "## By question type" in (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
