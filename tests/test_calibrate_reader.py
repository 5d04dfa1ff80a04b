"""benchmarks/calibrate_reader.py's threshold pick, on hand-made confidences (fast, no model).

The pick is stored in the shipped reader.json, so where it puts the threshold matters: midway
between the two nearest confidences, so that a score moved a little does not cross it.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def calib():
    spec = importlib.util.spec_from_file_location("qa_bench_calibrate", ROOT / "benchmarks" / "calibrate_reader.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pools(gold_ans, gold_una, squad_ans, squad_una):
    # rows: (confidence, correct with citation, F1)
    return {
        "gold_ans": [(c, True, 1.0) for c in gold_ans],
        "gold_una": [(c, False, 0.0) for c in gold_una],
        "squad_ans": [(c, False, 1.0) for c in squad_ans],
        "squad_una": [(c, False, 0.0) for c in squad_una],
    }


def test_threshold_sits_midway_between_the_nearest_confidences(calib):
    p = _pools(gold_ans=[5.0, 6.0], gold_una=[1.0, 2.0], squad_ans=[4.0, 7.0], squad_una=[0.5, 3.0])
    best = calib.best_threshold(p, max_gold=0, max_squad_pct=0.0)
    # refusing everything under 4.0 refuses every unanswerable question and no answerable one:
    # any threshold in (3.0, 4.0] does that, and the pick is the middle of the gap
    assert best["threshold"] == 3.5
    assert best["gold_unanswerable_refused"] == 2 and best["gold_answerable_refused"] == 0
    assert best["squad_unanswerable_refused_pct"] == 100.0 and best["squad_answerable_refused_pct"] == 0.0


def test_threshold_respects_the_answerable_budget(calib):
    # two unanswerable questions score above an answerable one: refusing them costs an answerable one
    p = _pools(gold_ans=[2.0, 6.0], gold_una=[1.0, 3.0, 3.2], squad_ans=[5.0], squad_una=[0.5])
    strict = calib.best_threshold(p, max_gold=0, max_squad_pct=0.0)
    assert strict["gold_answerable_refused"] == 0 and strict["threshold"] < 2.0
    loose = calib.best_threshold(p, max_gold=1, max_squad_pct=0.0)
    assert loose["gold_answerable_refused"] == 1 and loose["gold_unanswerable_refused"] == 3
    assert loose["threshold"] == 4.1  # midway between 3.2 (refused) and 5.0 (answered)
