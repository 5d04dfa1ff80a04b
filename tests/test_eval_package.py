"""Tests of the qa.eval package's shape (issue 12) and of the report's provenance and chart (issue 14 item 7).

The metric-by-metric, loader and end-to-end tests are in test_evaluate.py; these check what the split
promised: metrics importable without the engine, one registered unit per figure, a gold file checked
in full before any model loads, a chart with a title, named bars and labelled axes, and a report that
says which reader (format, training steps) and refusal threshold the engine actually used.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qa import eval as ev
from qa.eval import metrics
from qa.eval.registry import METRICS, summarize
from tests.test_evaluate import FakeEngine, FakeReader, answer, cite, gq, read_png, write_lines

ROOT = Path(__file__).resolve().parents[1]


# --- layering --------------------------------------------------------------------------------------


def test_metrics_import_no_engine() -> None:
    """qa.eval.metrics (what the reader's training scores with) loads neither the engine nor numpy/torch."""
    code = ("import sys, qa.eval.metrics; heavy = {'numpy', 'torch', 'chromadb', 'qa.engine', 'qa.pipeline', 'qa.store',"
            " 'qa.retrieve', 'qa.answer', 'qa.eval.runner'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_reader_training_imports_only_the_metrics() -> None:
    tree = ast.parse((ROOT / "qa" / "reader" / "train.py").read_text(encoding="utf-8"))
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    evals = {n for n in names if n == "qa.eval" or n.startswith("qa.eval.") or n == "qa.evaluate"}
    assert evals <= {"qa.eval.metrics"}, evals


def test_the_old_module_is_gone() -> None:
    assert not (ROOT / "qa" / "evaluate.py").exists()
    with pytest.raises(ImportError):
        __import__("qa.evaluate")


def test_package_names_load_lazily() -> None:
    """``qa.eval.NAME`` reaches every public name of the submodules; an unknown name is an AttributeError."""
    assert ev.f1 is metrics.f1 and ev.summarize is summarize and ev.evaluate_gold.__module__ == "qa.eval.runner"
    for name in ev.__all__:
        assert getattr(ev, name) is not None, name
    with pytest.raises(AttributeError):
        ev.no_such_name  # noqa: B018


def test_package_exports_every_public_name() -> None:
    """A function or class added to a submodule is reachable as ``qa.eval.NAME`` (listed in _EXPORTS)."""
    from qa.eval import _EXPORTS

    for module, names in _EXPORTS.items():
        tree = ast.parse((ROOT / "qa" / "eval" / f"{module}.py").read_text(encoding="utf-8"))
        public = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
        assert public <= set(names), (module, sorted(public - set(names)))


# --- metrics as units ------------------------------------------------------------------------------


def test_every_figure_is_one_registered_metric() -> None:
    keys = [m.key for m in METRICS]
    assert len(keys) == len(set(keys))
    assert all(m.kind in ("rate", "mrr", "ms", "count") and m.needs in metrics.NEEDS for m in METRICS)
    results = [
        ev.score_answer(gq("a"), answer("Denver Broncos", (cite(1, "a.txt", "Denver Broncos"),))),
        ev.score_answer(gq("b"), answer("Panthers", (cite(1, "b.txt", "Panthers"),))),
        ev.score_answer(gq("c", answers=(), sources=(), unanswerable=True), answer(None, (), refused=True)),
    ]
    overall = summarize(results, retrieval_depth=5)
    assert list(overall) == [m.key for m in METRICS if m.applies(results, retrieval_depth=5, paragraphs=False)]
    em = next(m for m in METRICS if m.key == "exact_match").run(results)
    assert em.to_dict() == {"score": 0.5, "individual_scores": [1.0, 0.0]}  # answerable questions only
    assert next(m for m in METRICS if m.key == "refusal_precision").run(results).score == 1.0


def test_a_new_metric_is_one_unit() -> None:
    """A figure defined outside the registry runs on the same results (haystack's evaluator shape)."""
    long_prediction = metrics.Metric("long_prediction", "prediction over 2 words", "rate",
                                     lambda r: len(r.prediction.split()) > 2, lambda r: not r.refused)
    results = [ev.score_answer(gq("a"), answer("the Denver Broncos team")), ev.score_answer(gq("b"), answer("Broncos"))]
    out = long_prediction.run(results)
    assert out.score == 0.5 and out.individual_scores == (True, False)


def test_hit_at_k_beyond_the_depth_is_not_measurable() -> None:
    hit5 = next(m for m in METRICS if m.key == "doc_hit@5")
    results = [ev.score_answer(gq("a"), answer("x", passages=()))]
    assert hit5.run(results, retrieval_depth=3).score is None and hit5.run(results, retrieval_depth=5).score == 0.0


# --- gold files: checked in full, before any model loads ---------------------------------------------


GOOD = {"id": "g1", "question": "Who?", "answers": ["Ann"], "sources": ["a.txt"], "unanswerable": False}


def test_load_gold_lists_every_bad_line(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "g.jsonl", [GOOD, "{oops", {**GOOD, "id": "g2", "answers": "Ann"}, GOOD, {**GOOD, "id": "g3"}])
    with pytest.raises(ev.GoldFormatError) as e:
        ev.load_gold(p)
    lines = str(e.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{p}:2", f"{p}:3", f"{p}:4"]
    assert "not valid JSON" in lines[0] and "'answers' must be a list" in lines[1] and "duplicate id 'g1'" in lines[2]


def test_load_gold_caps_the_list(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "g.jsonl", ["{bad"] * (ev.MAX_LISTED_PROBLEMS + 5))
    with pytest.raises(ev.GoldFormatError) as e:
        ev.load_gold(p)
    assert len(str(e.value).splitlines()) == ev.MAX_LISTED_PROBLEMS + 1 and str(e.value).endswith("… and 5 more bad lines")


def test_cli_checks_the_gold_file_before_building_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import cli

    def no_engine(ctx: Any, **extra: Any) -> Any:
        raise AssertionError("the engine was built for a malformed gold file")

    monkeypatch.setattr(cli, "_engine", no_engine)
    gold = write_lines(tmp_path / "g.jsonl", [GOOD, {**GOOD, "id": "g2", "unanswerable": "no"}, "[1]"])
    res = CliRunner().invoke(cli.main, ["eval", "--gold", str(gold)])
    assert res.exit_code == 2, res.output
    assert f"{gold}:2: 'unanswerable' must be true or false" in res.output and f"{gold}:3: expected a JSON object" in res.output


def test_evaluate_gold_takes_questions_already_loaded(tmp_path: Path) -> None:
    gold = write_lines(tmp_path / "g.jsonl", [GOOD])
    engine = FakeEngine()
    report = ev.evaluate_gold(engine, gold, questions=[ev.GoldQuestion("x", "Who won?", ("Denver Broncos",), ("a.txt",))])
    assert [r.id for r in report.results] == ["x"] and engine.asked == [("Who won?", None)]


# --- what ran ----------------------------------------------------------------------------------------


class ArtifactReader(FakeReader):
    """A reader with an artifact folder holding reader.json (format, steps), not loaded yet."""

    spec = "packaged"
    quantize = False

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def artifact_dir(self) -> Path:
        return self.folder


def test_report_records_the_reader_format_steps_and_threshold_of_the_engine(tmp_path: Path) -> None:
    from qa.answer import ReaderAnswerer

    art = tmp_path / "artifact"
    art.mkdir()
    (art / "reader.json").write_text(json.dumps({
        "format": "qa-reader-full/1", "steps": 600, "finetune": "full", "trained_at": "2026-11-30T15:46:39Z",
        "base_model": "base", "training_data": {"file": "train.json"}}), encoding="utf-8")
    engine = FakeEngine()
    engine.answerer = ReaderAnswerer(reader=ArtifactReader(art), refusal_threshold=0.47)  # type: ignore[attr-defined]
    report = ev.evaluate_gold(engine, write_lines(tmp_path / "g.jsonl", [GOOD]))
    meta = report.meta
    assert (meta["answerer"], meta["reader"], meta["reader_artifact"]) == ("ReaderAnswerer", "packaged", str(art))
    assert (meta["reader_format"], meta["reader_steps"], meta["reader_finetune"]) == ("qa-reader-full/1", 600, "full")
    assert meta["reader_runtime"] == "ArtifactReader" and meta["reader_int8"] is False
    assert meta["refusal_threshold"] == 0.47 and meta["reader_training_file"] == "train.json"
    assert meta["git_commit"] == ev.git_commit()[0]
    line = next(x for x in ev.describe_run(meta) if x.startswith("answerer:"))
    assert "format qa-reader-full/1" in line and "600 training steps" in line and str(art) in line
    md, _ = ev.write_markdown_report(report, tmp_path / "rep")
    text = md.read_text(encoding="utf-8")
    assert "refusal threshold: 0.47" in text and "**reader_steps**: 600" in text


# --- the chart ---------------------------------------------------------------------------------------


def ink_columns(png: bytes, y0: int, y1: int, x0: int, x1: int) -> int:
    """How many pixels in the box have the ink colour of text and axes."""
    w, _, raw = read_png(png)
    stride = 1 + 3 * w
    return sum(1 for y in range(y0, y1) for x in range(x0, x1) if raw[y * stride + 1 + 3 * x : y * stride + 4 + 3 * x] == bytes((60, 60, 60)))


def test_chart_has_a_title_named_bars_and_labelled_axes() -> None:
    values = [65.5, 76.4, 58.8]
    plain = ev.render_bar_chart_png(values, width=960, height=300)
    named = ev.render_bar_chart_png(values, width=960, height=300, labels=["exact match (EM)", "F1", "refusal recall"],
                                    title="qa eval (gold): main figures")
    assert read_png(named)[:2] == (960, 300)
    assert ink_columns(named, 0, 20, 0, 960) > ink_columns(plain, 0, 20, 0, 960) + 100  # the title
    assert ink_columns(named, 30, 250, 40, 200) > ink_columns(plain, 30, 250, 40, 200) + 100  # names, not numbers
    assert ink_columns(named, 270, 300, 400, 700) > 50  # the value axis title under the ticks


def test_chart_font_draws_every_label_and_title() -> None:
    """No label of a charted figure falls back to the font's "?" glyph."""
    from qa.eval.chart import _FONT
    from qa.eval.registry import label_of

    texts = [label_of(k) for k in ev.CHART_KEYS] + ["qa eval (squad-gold-paragraph), 300 questions: main figures", "percent"]
    missing = {ch for t in texts for ch in t.upper() if ch not in _FONT}
    assert not missing


def test_write_chart_falls_back_to_the_built_in_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.eval import chart

    monkeypatch.setattr(chart, "chart_with_matplotlib", lambda *a, **k: False)
    path = chart.write_chart(tmp_path / "c.png", ["F1"], [50.0], "t")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and zlib.decompress(data[data.index(b"IDAT") + 4 : -16])
