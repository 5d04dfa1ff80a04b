"""Calibrate the LLM answerer's support check (qa/support.py): weights and threshold.

There is no LLM here, so the claims an LLM would write are built from the gold set
(``gold/seeds.jsonl``), each paired with the passage (a chunk of the seeds, chunked as the index
chunks them) it would cite:

supported
  * ``copy``: the gold sentence itself (the chunk's sentence holding a gold answer);
  * ``clause``: the clause of that sentence holding the answer (split at , ; — :), if 4+ words;
  * ``statement``: the question turned into a statement with the gold answer
    ("Who was sworn in as interim president?" → "Delcy Rodríguez was sworn in as interim president.").

unsupported
  * ``wrong-fact``: the statement and the clause with another question's answer (of the same type
    where possible) that the passage does not hold, citing the same passage;
  * ``wrong-passage``: the statement and the clause citing the passage of another document that
    shares most words with the question and holds no gold answer (a wrong [n]);
  * ``hallucination``: unanswerable questions as statements with some other answer, citing the passage
    that shares most words with the question.

Every claim is scored by :class:`qa.support.SupportChecker` with the real packaged embedding model
(numbers rule included) for each weight triple on a grid and every threshold; the pick minimises
missed supported claims + 2 × accepted unsupported ones (accepting a false sentence costs more than
dropping a true one). Two-fold cross-validation (questions split by id parity) gives held-out rates.

    python benchmarks/calibrate_support.py [--gold gold/seeds.jsonl] [--seeds seeds] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_AUX = r"(?:is|was|are|were|did|does|do|has|had|have|will|would|can|could)"
WH = re.compile(rf"^(?:(?:on|in|at|by|for|from|to|of|with|since|during|near|after|before|under)\s+)?(?:what|which|whose|whom|when|where|why|how)"
                rf"(?:\s+(?:many|much|long|old|far|large|big|kind of|type of|sort of))?(?:\s+(?!{_AUX}\b)[\w.’'-]+){{0,2}}\s+(?:{_AUX}\s+)?", re.I)
WHO = re.compile(rf"^(?:who|what|which\s+[\w’'-]+)\s+({_AUX}\b.*|(?!{_AUX}\b)\w+ed\b.*)$", re.I)


@dataclass
class Claim:
    qid: str
    kind: str
    text: str
    chunk: object
    supported: bool


def statement(question: str, answer: str) -> str:
    """The question as a statement holding ``answer`` (a rough rewrite, as an LLM would phrase it)."""
    q = question.strip().rstrip("?").strip()
    who = WHO.match(q)
    if who:  # "Who was sworn in ..." → "Delcy Rodríguez was sworn in ..."
        return f"{answer} {who.group(1)}."
    m = WH.match(q)
    rest = q[m.end():] if m else q
    if not rest:
        return f"{answer}."
    return f"{rest[0].upper() + rest[1:]}: {answer}."


def clause_of(sentence: str, answer: str) -> str | None:
    parts = re.split(r"\s*(?:[,;:]|—|–)\s+", sentence)
    for p in parts:
        if answer in p and len(p.split()) >= 4 and p.strip() != sentence.strip():
            return p.strip().rstrip(".") + "."
    return None


def build_claims(gold_path: Path, chunks: list, seed: int = 0) -> list[Claim]:
    from qa.answer import content_terms, question_type
    from qa.eval.datasets import load_gold

    rng = random.Random(seed)
    questions = load_gold(gold_path)
    answers_by_type: dict[str, list[str]] = {}
    for q in questions:
        if not q.unanswerable:
            answers_by_type.setdefault(question_type(q.question), []).append(q.answers[0])
    all_answers = [a for v in answers_by_type.values() for a in v]

    def overlap_chunk(q, exclude_docs=(), avoid=()):
        terms = set(content_terms(q.question))
        pool = [c for c in chunks if c.doc_id not in exclude_docs and not any(a in c.text for a in avoid)]
        return max(pool, key=lambda c: (len(terms & set(content_terms(c.title + " " + c.text))), -len(c.text))) if pool else None

    def other_answer(q, chunk):
        same = [a for a in answers_by_type.get(question_type(q.question), []) if a not in q.answers]
        pool = [a for a in same + all_answers if a not in chunk.text and a not in q.question and a not in q.answers]
        return rng.choice(pool) if pool else None

    claims: list[Claim] = []
    for q in questions:
        if q.unanswerable:
            c = overlap_chunk(q)
            fake = rng.choice(all_answers)
            claims.append(Claim(q.id, "hallucination", statement(q.question, fake), c, False))
            continue
        found = [(a, c) for a in q.answers for c in chunks if c.doc_id in q.sources and a in c.text]
        if not found:
            continue
        answer, chunk = found[0]
        sentence = next(s.text for s in chunk.sentences if answer in s.text) if any(answer in s.text for s in chunk.sentences) else None
        stmt = statement(q.question, answer)
        claims.append(Claim(q.id, "statement", stmt, chunk, True))
        clause = clause_of(sentence, answer) if sentence else None
        if sentence:
            claims.append(Claim(q.id, "copy", sentence, chunk, True))
        if clause:
            claims.append(Claim(q.id, "clause", clause, chunk, True))
        wrong = other_answer(q, chunk)
        if wrong:
            claims.append(Claim(q.id, "wrong-fact", statement(q.question, wrong), chunk, False))
            if clause:
                claims.append(Claim(q.id, "wrong-fact", clause.replace(answer, wrong), chunk, False))
        other = overlap_chunk(q, exclude_docs=set(q.sources), avoid=q.answers)
        if other is not None:
            claims.append(Claim(q.id, "wrong-passage", stmt, other, False))
            if clause:
                claims.append(Claim(q.id, "wrong-passage", clause, other, False))
    return claims


def score_all(claims, claim_vecs, vectors, embed, weights, names=True) -> list[tuple[float, bool]]:
    """(score, passed the numbers and names rules) per claim under ``weights`` (threshold applied later)."""
    from qa.support import SupportChecker

    checker = SupportChecker(embed=embed, threshold=-1e9, weights=weights, names=names)
    out = []
    for c, v in zip(claims, claim_vecs):
        s = checker.check(c.text, c.chunk, vectors, v)
        out.append((s.score, s.supported))
    return out


def errors(claims, scored, t, idx=None) -> tuple[int, int, int, int]:
    """(missed supported, supported total, accepted unsupported, unsupported total)."""
    idx = range(len(claims)) if idx is None else idx
    fn = tp_n = fp = neg_n = 0
    for i in idx:
        ok = scored[i][1] and scored[i][0] >= t
        if claims[i].supported:
            tp_n += 1
            fn += not ok
        else:
            neg_n += 1
            fp += ok
    return fn, tp_n, fp, neg_n


def settings(claims, grid_scores, idx=None) -> list[tuple[int, tuple, float]]:
    """(cost, setting, threshold) for every setting at its best threshold, cheapest first."""
    out = []
    for w, scored in grid_scores.items():
        best = None
        for t in [x / 100 for x in range(20, 96)]:
            fn, _, fp, _ = errors(claims, scored, t, idx)
            cost = fn + 2 * fp
            if best is None or cost < best[0] or (cost == best[0] and t > best[2]):
                best = (cost, w, t)
        out.append(best)
    return sorted(out, key=lambda x: x[0])


def pick(claims, grid_scores, idx=None, slack: int = 2):
    """The setting with the most weight on meaning among those within ``slack`` of the cheapest:
    the synthetic claims reuse the passages' words more than a paraphrasing LLM would, so near-ties
    go to the embedding (robust to paraphrase) rather than to word overlap."""
    ranked = settings(claims, grid_scores, idx)
    near = [r for r in ranked if r[0] <= ranked[0][0] + slack]
    return max(near, key=lambda r: (r[1][0][0], -r[0], r[2]))


def print_kinds(claims, scored, t) -> None:
    for k in sorted({c.kind for c in claims}):
        idx = [i for i, c in enumerate(claims) if c.kind == k]
        ok = sum(1 for i in idx if scored[i][1] and scored[i][0] >= t)
        by_rules = sum(1 for i in idx if not scored[i][1])
        print(f"  {k:<14} {len(idx):>4} claims, {'kept' if claims[idx[0]].supported else 'accepted'} {ok} ({100 * ok / len(idx):.1f}%), "
              f"failed the numbers/names rules {by_rules}")


def cross_validate(claims, grid_scores) -> list[dict]:
    """Two folds by question id parity: pick on one half, count errors on the other."""
    folds = []
    for fold in (0, 1):
        train = [i for i, c in enumerate(claims) if int(re.sub(r"\D", "", c.qid) or 0) % 2 != fold]
        test = [i for i, c in enumerate(claims) if int(re.sub(r"\D", "", c.qid) or 0) % 2 == fold]
        _, fw, ft = pick(claims, grid_scores, train)
        e = errors(claims, grid_scores[fw], ft, test)
        folds.append({"weights": fw, "threshold": ft, "missed_supported": e[0], "supported": e[1], "accepted_unsupported": e[2], "unsupported": e[3]})
        print(f"  held-out fold {fold}: picked {fw} @ {ft:.2f} on the other half; missed supported {e[0]}/{e[1]}, accepted unsupported {e[2]}/{e[3]}")
    return folds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gold", default=str(ROOT / "gold" / "seeds.jsonl"))
    p.add_argument("--seeds", default=str(ROOT / "seeds"))
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    from qa.config import Config
    from qa.embed import SentenceTransformerEmbedder
    from qa.ingest import chunk_document, load_documents

    cfg = Config.resolve()
    docs = load_documents(args.seeds).documents
    chunks = [c for d in docs for c in chunk_document(d, cfg.chunk_words, cfg.chunk_overlap)]
    emb = SentenceTransformerEmbedder(cfg.model)
    vecs = emb.embed_texts([s.text for c in chunks for s in c.sentences])
    keys = [(c.chunk_id, i) for c in chunks for i in range(len(c.sentences))]
    vectors = dict(zip(keys, vecs))
    claims = build_claims(Path(args.gold), chunks)
    kinds = sorted({c.kind for c in claims})
    print(f"{len(claims)} claims: " + ", ".join(f"{k} {sum(c.kind == k for c in claims)}" for k in kinds))

    grid = [(m, s, round(1 - m - s, 2)) for m, s in itertools.product((0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.1, 0.2, 0.3, 0.4))
            if 1 - m - s >= -1e-9]
    claim_vecs = emb.embed_texts([c.text for c in claims])
    grid_scores = {(w, names): score_all(claims, claim_vecs, vectors, emb.embed_texts, w, names)
                   for w in grid for names in (True, False)}
    ranked = settings(claims, grid_scores)
    print("  cheapest settings (cost = missed supported + 2 x accepted unsupported): "
          + "; ".join(f"{w[0]}{'' if w[1] else ' no names'} @ {t:.2f}: {c}" for c, w, t in ranked[:10]))
    cost, w, t = pick(claims, grid_scores)
    fn, npos, fp, nneg = errors(claims, grid_scores[w], t)
    for names in (True, False):
        c2, w2, t2 = pick(claims, {k: v for k, v in grid_scores.items() if k[1] == names})
        e2 = errors(claims, grid_scores[w2], t2)
        print(f"  best with the names rule {'on ' if names else 'off'}: {w2[0]} @ {t2:.2f}: missed supported {e2[0]}/{e2[1]}, "
              f"accepted unsupported {e2[2]}/{e2[3]} (cost {c2})")
    print(f"pick: (weights (meaning, sentence words, passage words), names rule) = {w}, threshold {t:.2f}: "
          f"supported kept {npos - fn}/{npos} ({100 * (npos - fn) / npos:.1f}%), unsupported accepted {fp}/{nneg} ({100 * fp / nneg:.1f}%)")
    scored = grid_scores[w]
    print_kinds(claims, scored, t)
    folds = cross_validate(claims, grid_scores)
    near = [(x / 100, errors(claims, scored, x / 100)) for x in range(30, 81, 5)]
    print("  threshold sweep at the picked weights (missed supported, accepted unsupported): "
          + ", ".join(f"{x:.2f}: {e[0]}/{e[2]}" for x, e in near))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "weights": w, "threshold": t, "claims": len(claims), "missed_supported": fn, "supported": npos,
            "accepted_unsupported": fp, "unsupported": nneg, "folds": folds,
            "per_claim": [{"qid": c.qid, "kind": c.kind, "text": c.text, "doc_id": c.chunk.doc_id, "supported": c.supported,
                           "score": round(scored[i][0], 4), "numbers_ok": scored[i][1]} for i, c in enumerate(claims)],
        }, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
