"""Calibrate how the reader's span score joins the sentence score, and the refusal threshold.

For each (w_reader, reader_mid, reader_temp) on a small grid the gold set is answered once with no
refusal, and the SQuAD gold-paragraph F1 is measured on a sample of the reader's *held-out* articles;
then every refusal threshold is scored from the recorded confidences. Reader outputs are memoised,
so the grid costs one reading per question.

    python benchmarks/calibrate_reader.py --squad ../shared/benchmarks/squad-v1.1/dev-half.json

Prints one row per setting and the pick: the best gold correct-with-citation plus SQuAD F1, then the
highest threshold that refuses at most ``--max-answerable-refused`` answerable gold questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Memo:
    def __init__(self, inner):
        self.inner, self.cache = inner, {}

    def read(self, question, passages, top=3):
        key = (question, tuple(passages), top)
        if key not in self.cache:
            self.cache[key] = self.inner.read(question, passages, top=top)
        return self.cache[key]

    def trained_on(self):
        return self.inner.trained_on()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", help="SQuAD v1.1 JSON the reader's held-out articles come from (dev-half.json)")
    ap.add_argument("--sample", type=int, default=150, help="held-out SQuAD questions to score")
    ap.add_argument("--gold", default=str(ROOT / "gold" / "seeds.jsonl"))
    ap.add_argument("--max-answerable-refused", type=int, default=1)
    ap.add_argument("--json", help="write all rows here")
    args = ap.parse_args(argv)

    import random

    from qa import QA
    from qa.answer import ReaderAnswerer
    from qa.evaluate import answer_from_paragraph, evaluate_gold, f1, load_squad, prediction_of

    engine = QA(index_dir=Path(tempfile.mkdtemp(prefix="qa-calib-")))
    engine.index()
    base: ReaderAnswerer = engine.answerer
    assert isinstance(base, ReaderAnswerer), "set QA_READER to a trained reader"
    memo = Memo(base.reader)
    # the grid changes only how scores combine: retrieval, vectors and reading are memoised
    retriever = engine._ensure_ready()
    search, vectors, embed = retriever.search, engine.store.sentence_vectors, engine.embedder.embed_query
    cache: dict = {}

    def memo_call(key, fn, *a):
        if key not in cache:
            cache[key] = fn(*a)
        return cache[key]

    retriever.search = lambda q, k: memo_call(("s", q, k), search, q, k)
    engine.store.sentence_vectors = lambda chunks: memo_call(("v", tuple(c.chunk_id for c in chunks)), vectors, chunks)
    engine.embedder.embed_query = lambda q: memo_call(("e", q), embed, q)
    embed_texts = engine.embedder.embed_texts
    engine.embedder.embed_texts = lambda texts, progress=None: memo_call(("t", tuple(texts)), embed_texts, texts)
    engine._follow_other_writers = lambda: None
    squad_qs = []
    if args.squad:
        squad = load_squad(args.squad)
        held = set(json.loads((Path(base.reader.artifact_dir()) / "reader.json").read_text())["training_data"]["validation_articles"])
        pool = [q for q in squad.questions if q.extra.get("title") in held]
        squad_qs = random.Random(0).sample(pool, min(args.sample, len(pool)))

    rows = []
    grid = itertools.product((0.05, 0.1, 0.2, 0.4), (5.0, 8.0), (3.0,), (False, True), (-1e9, 5.0, 8.0, 11.0))
    for w, mid, temp, typed, span_min in grid:
        engine.answerer = dataclasses.replace(base, reader=memo, w_reader=w, reader_mid=mid, reader_temp=temp,
                                              prefer_typed_rules=typed, span_min=span_min, refusal_threshold=-1e9)
        rep = evaluate_gold(engine, args.gold)
        res = rep.results
        sq_f1 = None
        if squad_qs:
            sq_f1 = 100 * sum(
                f1(prediction_of(answer_from_paragraph(engine, q.question, squad.paragraphs[q.sources[0]])), q.answers)
                for q in squad_qs) / len(squad_qs)
        answerable = [r for r in res if not r.unanswerable]
        unans = [r for r in res if r.unanswerable]
        confs = sorted({r.confidence for r in res})
        best_t = None
        for t in [c + 1e-9 for c in confs]:
            if sum(r.confidence < t for r in answerable) > args.max_answerable_refused:
                break
            best_t = t
        t = best_t if best_t is not None else -1e9
        row = {
            "w_reader": w, "reader_mid": mid, "reader_temp": temp, "prefer_typed_rules": typed, "span_min": span_min,
            "gold_correct_no_refusal": 100 * sum(r.passed for r in answerable) / len(answerable),
            "gold_f1": 100 * sum(r.f1 or 0 for r in answerable) / len(answerable),
            "gold_em": 100 * sum(r.em or 0 for r in answerable) / len(answerable),
            "squad_f1": sq_f1, "threshold": round(t, 4),
            "gold_correct": 100 * sum(r.passed and r.confidence >= t for r in answerable) / len(answerable),
            "unanswerable_refused": 100 * sum(r.confidence < t for r in unans) / max(1, len(unans)),
            "answerable_refused": sum(r.confidence < t for r in answerable),
        }
        rows.append(row)
        print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    pick = max(rows, key=lambda r: (r["gold_correct"] + (r["squad_f1"] or 0) + r["unanswerable_refused"] / 4))
    print("pick:", json.dumps(pick))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "pick": pick}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
