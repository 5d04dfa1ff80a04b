"""Calibrate how the reader's evidence joins the sentence score, and the refusal threshold.

Three sets decide it together (the issue's operating point):

* the seeds gold set (``gold/seeds.jsonl``: 87 answerable, 17 unanswerable questions);
* a seeded sample of the SQuAD dev half's answerable questions, each read in its own paragraph;
* a seeded sample of SQuAD 2.0's unanswerable questions on the same paragraphs.

For each (w_reader, reader_mid, reader_temp, type_penalty) on a small grid, every question is
answered once with refusals off and its confidence recorded (reader outputs, retrieval and vectors
are memoised, so the grid costs one reading per question); then every threshold is scored from the
confidences. A threshold is *admissible* when it refuses at most ``--max-answerable-refused``
answerable gold questions and at most ``--max-squad-answerable-refused`` % of the SQuAD answerable
ones; the pick maximises SQuAD unanswerable refused % + gold unanswerable refused % + gold
correct-with-citation % + SQuAD F1 among admissible points.

    QA_READER=/path/to/reader python benchmarks/calibrate_reader.py \\
        --squad ../shared/benchmarks/squad-v1.1/dev-half.json \\
        --unanswerable ../shared/benchmarks/squad-v2.0/dev-half-unanswerable.json --sample 300

Prints one row per setting and the pick (with ``--json``, all rows are written too).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Memo:
    """A reader whose readings are remembered: the grid changes only how scores combine."""

    def __init__(self, inner):
        self.inner, self.cache = inner, {}

    def read(self, question, passages, top=3):
        key = (question, tuple(passages), top)
        if key not in self.cache:
            self.cache[key] = self.inner.read(question, passages, top=top)
        return self.cache[key]

    def __getattr__(self, name):
        return getattr(self.inner, name)


def memoise_engine(engine) -> None:
    """Retrieval, vectors and embeddings of ``engine`` remembered across grid points."""
    retriever = engine._ensure_ready()
    search, vectors, embed = retriever.search, engine.store.sentence_vectors, engine.embedder.embed_query
    embed_texts = engine.embedder.embed_texts
    cache: dict = {}

    def memo(key, fn, *a):
        if key not in cache:
            cache[key] = fn(*a)
        return cache[key]

    retriever.search = lambda q, k=None: memo(("s", q, k), search, q, k)
    engine.store.sentence_vectors = lambda chunks: memo(("v", tuple(c.chunk_id for c in chunks)), vectors, chunks)
    engine.embedder.embed_query = lambda q: memo(("e", q), embed, q)
    engine.embedder.embed_texts = lambda texts, progress=None: memo(("t", tuple(texts)), embed_texts, texts)
    engine._follow_other_writers = lambda: None


def squad_sample(answerable: str, unanswerable: str, n: int, seed: int):
    from qa.eval.datasets import load_squads

    files = [answerable] + ([unanswerable] if unanswerable else [])
    squad = load_squads(files)
    rng = random.Random(seed)
    ans = [q for q in squad.questions if not q.unanswerable]
    una = [q for q in squad.questions if q.unanswerable]
    return squad, rng.sample(ans, min(n, len(ans))), rng.sample(una, min(n, len(una)))


def points(engine, gold_path, squad, s_ans, s_una) -> dict:
    """Per question: (confidence, correct?) for the gold set and both SQuAD samples."""
    from qa.eval.metrics import f1, prediction_of
    from qa.eval.runner import answer_from_paragraph, evaluate_gold

    rep = evaluate_gold(engine, gold_path)
    out = {
        "gold_ans": [(r.confidence, bool(r.passed), r.f1 or 0.0) for r in rep.results if not r.unanswerable],
        "gold_una": [(r.confidence, False, 0.0) for r in rep.results if r.unanswerable],
    }
    for key, qs in (("squad_ans", s_ans), ("squad_una", s_una)):
        rows = []
        for q in qs:
            a = answer_from_paragraph(engine, q.question, squad.paragraphs[q.sources[0]])
            rows.append((a.confidence, False, f1(prediction_of(a), q.answers) if q.answers else 0.0))
        out[key] = rows
    return out


def score_threshold(p: dict, t: float) -> dict:
    def refused(rows):
        return sum(c < t for c, _, _ in rows)

    ga, gu, sa, su = p["gold_ans"], p["gold_una"], p["squad_ans"], p["squad_una"]
    return {
        "threshold": round(t, 4),
        "gold_correct": round(100 * sum(ok and c >= t for c, ok, _ in ga) / max(1, len(ga)), 1),
        "gold_answerable_refused": refused(ga),
        "gold_unanswerable_refused": refused(gu),
        "squad_f1": round(100 * sum(f for c, _, f in sa if c >= t) / max(1, len(sa)), 1),
        "squad_answerable_refused_pct": round(100 * refused(sa) / max(1, len(sa)), 1),
        "squad_unanswerable_refused_pct": round(100 * refused(su) / max(1, len(su)), 1),
    }


def best_threshold(p: dict, max_gold: int, max_squad_pct: float) -> dict | None:
    confs = sorted({c for rows in p.values() for c, _, _ in rows})
    # every threshold in (c_i, c_i+1] refuses the same questions; the midpoint keeps the widest margin
    # both ways, so a score moved a little (another precision, the collection's other documents shifting
    # a passage's rank) does not cross it, as c_i + epsilon would for the question right under it
    cuts = [(lo + hi) / 2 for lo, hi in zip(confs, confs[1:])] + [confs[-1] + 1.0] if confs else []
    best = None
    for t in [-1e9] + cuts:
        row = score_threshold(p, t)
        if row["gold_answerable_refused"] > max_gold or row["squad_answerable_refused_pct"] > max_squad_pct:
            continue
        n_una = max(1, len(p["gold_una"]))
        row["objective"] = round(row["squad_unanswerable_refused_pct"] + 100 * row["gold_unanswerable_refused"] / n_una
                                 + row["gold_correct"] + row["squad_f1"], 2)
        if best is None or row["objective"] > best["objective"]:
            best = row
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", required=True, help="SQuAD dev half (answerable), e.g. ../shared/benchmarks/squad-v1.1/dev-half.json")
    ap.add_argument("--unanswerable", default="", help="SQuAD 2.0 unanswerable questions on the same paragraphs")
    ap.add_argument("--sample", type=int, default=300, help="questions drawn from each SQuAD set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gold", default=str(ROOT / "gold" / "seeds.jsonl"))
    ap.add_argument("--max-answerable-refused", type=int, default=1, help="answerable gold questions a threshold may refuse")
    ap.add_argument("--max-squad-answerable-refused", type=float, default=10.0, help="percent of SQuAD answerable refused at most")
    ap.add_argument("--json", help="write all rows here")
    ap.add_argument("--w-reader", default="0.4,1,1.6,3", help="grid of w_reader values (comma-separated)")
    ap.add_argument("--reader-mid", default="-2,0,2,4", help="grid of reader_mid values")
    ap.add_argument("--reader-temp", default="2,4", help="grid of reader_temp values")
    ap.add_argument("--typed-rules", default="false,true", help="prefer_typed_rules values to try")
    ap.add_argument("--write-artifact", action="store_true",
                    help="store the pick in the reader's reader.json (its 'answerer' block, 'answerer_int8' with "
                         "QA_READER_INT8=1), where the engine reads it")
    args = ap.parse_args(argv)

    from qa import QA
    from qa.answer import ReaderAnswerer

    engine = QA(index_dir=Path(tempfile.mkdtemp(prefix="qa-calib-")))
    engine.index()
    base = engine.answerer
    assert isinstance(base, ReaderAnswerer), "set QA_READER to a trained reader"
    memo = Memo(base.reader)
    memoise_engine(engine)
    squad, s_ans, s_una = squad_sample(args.squad, args.unanswerable, args.sample, args.seed)
    rows = []
    floats = lambda text: [float(x) for x in text.split(",") if x.strip()]  # noqa: E731
    grid = itertools.product(floats(args.w_reader), floats(args.reader_mid), floats(args.reader_temp), (0.3,),
                             [x.strip().lower() == "true" for x in args.typed_rules.split(",")])
    for w, mid, temp, penalty, typed in grid:
        engine.answerer = dataclasses.replace(base, reader=memo, w_reader=w, reader_mid=mid, reader_temp=temp,
                                              type_penalty=penalty, prefer_typed_rules=typed, refusal_threshold=-1e9)
        p = points(engine, args.gold, squad, s_ans, s_una)
        best = best_threshold(p, args.max_answerable_refused, args.max_squad_answerable_refused)
        row = {"w_reader": w, "reader_mid": mid, "reader_temp": temp, "type_penalty": penalty, "prefer_typed_rules": typed,
               **(best or {"objective": -1})}
        rows.append(row)
        print(json.dumps(row), flush=True)
    pick = max(rows, key=lambda r: r["objective"])
    print("pick:", json.dumps(pick))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "pick": pick, "args": vars(args)}, indent=1))
    if args.write_artifact:
        print("wrote", write_pick(base.reader, pick, args, argv))
    return 0


SETTINGS = ("w_reader", "reader_mid", "reader_temp", "type_penalty", "prefer_typed_rules")


def write_pick(reader, pick: dict, args, argv) -> Path:
    """The pick, as the engine reads it (``answerer.settings``), with what it scored and how to redo it."""
    art = reader.artifact_dir()
    if art is None:
        raise SystemExit("--write-artifact: the reader is not an artifact folder")
    meta = json.loads((art / "reader.json").read_text(encoding="utf-8"))
    # the int8 reader's scores differ a little from fp32's: each precision keeps its own calibration
    meta["answerer_int8" if getattr(reader, "quantize", False) else "answerer"] = {
        "settings": {**{k: pick[k] for k in SETTINGS}, "refusal_threshold": pick["threshold"]},
        "scores": {k: v for k, v in pick.items() if k not in SETTINGS},
        "command": "python benchmarks/calibrate_reader.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    tmp = art / "reader.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(art / "reader.json")
    return art / "reader.json"


if __name__ == "__main__":
    raise SystemExit(main())
