"""Training data for the span reader: SQuAD examples cut to the windows the engine reads, plus
"no answer" windows so the reader learns when a passage does not hold the answer.

The engine reads a sentence with one neighbour each side, so training does too. Each question gives
one positive window (its answer's sentence ±``neighbours``) and, with some probability each, two kinds
of negative window labelled with the [CLS] position (the SQuAD 2.0 convention):

* a window of the *same paragraph* that does not contain the answer (same topic, same entities);
* the best BM25 window of *another paragraph of the same article* (near-topic, as retrieval finds them);
* the question's own window under a *changed question* the passage no longer answers (a name, number
  or superlative swapped: SQuAD 2.0's adversarial kind; see ``qa.reader.perturb``).

A negative that still contains an answer string is dropped (it would teach the model to ignore answers).
Training only: nothing here is imported on the query path.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """One (question, passage) pair; ``answer_start == -1`` marks a window without the answer."""

    qid: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_start: int

    @property
    def is_negative(self) -> bool:
        return self.answer_start < 0


def read_squad(path: str | Path) -> list[dict]:
    p = Path(path)
    if not p.exists():
        raise SystemExit(
            f"SQuAD file not found: {p}. The benchmarks live in ../shared/benchmarks/ beside the checkout "
            f"(squad-v1.1/train.json, squad-v1.1/dev-half.json); pass their path."
        )
    return json.loads(p.read_text(encoding="utf-8"))["data"]


def examples_of(articles: list[dict]) -> list[Example]:
    """Answerable questions only (SQuAD 2.0 files may mix in unanswerable ones)."""
    out = []
    for art in articles:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                if not answers or qa.get("is_impossible"):
                    continue
                out.append(
                    Example(
                        qid=qa["id"],
                        title=art["title"],
                        question=qa["question"].strip(),
                        context=para["context"],
                        answers=tuple(a["text"] for a in answers),
                        answer_start=int(answers[0]["answer_start"]),
                    )
                )
    return out


def _sentence_spans(context: str, cache: dict[str, list[tuple[int, int]]]) -> list[tuple[int, int]]:
    spans = cache.get(context)
    if spans is None:
        from qa.ingest import parse_document, split_sentences

        spans = cache[context] = [(s.start, s.end) for s in split_sentences(parse_document("p", context, title="p"))]
    return spans


def _windows(spans: list[tuple[int, int]], neighbours: int) -> list[tuple[int, int]]:
    """Every (start, end) window of 1 + 2*neighbours consecutive sentences (what the engine reads);
    ``neighbours < 0``: the whole paragraph, one window."""
    size = 1 + 2 * neighbours
    if len(spans) <= size or neighbours < 0:
        return [(spans[0][0], spans[-1][1])] if spans else []
    return [(spans[i][0], spans[i + size - 1][1]) for i in range(len(spans) - size + 1)]


def positive_window(ex: Example, spans: list[tuple[int, int]], neighbours: int) -> Example:
    """``ex`` cut to its answer's sentence plus ``neighbours`` sentences each side."""
    a0, a1 = ex.answer_start, ex.answer_start + len(ex.answers[0])
    i = next((k for k, (s, e) in enumerate(spans) if s <= a0 < e), None)
    if i is None:
        return ex
    j = next((k for k in range(i, len(spans)) if a1 <= spans[k][1]), len(spans) - 1)
    lo, hi = max(0, i - neighbours), min(len(spans) - 1, j + neighbours)
    start, end = spans[lo][0], spans[hi][1]
    return replace(ex, context=ex.context[start:end], answer_start=a0 - start)


_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been what which who whom whose when where why how "
    "did do does that this these those as it its his her their than into during about".split()
)


def _terms(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class ArticleBM25:
    """BM25 over every sentence window of one article, to find near-topic negatives for its questions."""

    def __init__(self, windows: list[tuple[str, str]], k1: float = 1.2, b: float = 0.75):
        #: (paragraph context, window text) pairs
        self.windows = windows
        self.tfs = [Counter(_terms(text)) for _, text in windows]
        lens = [sum(tf.values()) for tf in self.tfs]
        self.avg = (sum(lens) / len(lens)) if lens else 1.0
        self.lens = lens
        df: Counter = Counter()
        for tf in self.tfs:
            df.update(tf.keys())
        n = len(windows)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.k1, self.b = k1, b

    def best(self, question: str, exclude_context: str) -> str | None:
        q = set(_terms(question))
        best_score, best_text = 0.0, None
        for (ctx, text), tf, n in zip(self.windows, self.tfs, self.lens):
            if ctx == exclude_context:
                continue
            s = 0.0
            for t in q:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * n / self.avg))
            if s > best_score:
                best_score, best_text = s, text
        return best_text


def _holds_answer(text: str, answers: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(a.strip() and a.strip().lower() in low for a in answers)


def training_examples(
    articles: list[dict], neighbours: int, neg_same: float, neg_other: float, seed: int, neg_perturbed: float = 0.0
) -> list[Example]:
    """Positive windows for every question, plus negatives drawn with probabilities ``neg_same``,
    ``neg_other`` and ``neg_perturbed`` (see the module docstring). Deterministic for a seed."""
    from qa.reader.perturb import article_names, article_words, unanswerable_variant

    rng = random.Random(seed)
    cache: dict[str, list[tuple[int, int]]] = {}
    out: list[Example] = []
    for art in articles:
        exs = examples_of([art])
        if not exs:
            continue
        para_windows = {
            p["context"]: [p["context"][s:e] for s, e in _windows(_sentence_spans(p["context"], cache), neighbours)]
            for p in art["paragraphs"]
        }
        bm25 = ArticleBM25([(ctx, w) for ctx, ws in para_windows.items() for w in ws]) if neg_other > 0 else None
        names = article_names(art) if neg_perturbed > 0 else []
        words = article_words(art) if neg_perturbed > 0 else []
        for ex in exs:
            pos = positive_window(ex, cache.get(ex.context) or _sentence_spans(ex.context, cache), neighbours) if neighbours >= 0 else ex
            out.append(pos)
            if neg_perturbed > 0 and rng.random() < neg_perturbed:
                changed = unanswerable_variant(ex.question, pos.context, names, rng, words)
                if changed:
                    out.append(replace(pos, qid=ex.qid + "#changed", question=changed, answer_start=-1))
            if neg_same > 0 and rng.random() < neg_same:
                pool = [w for w in para_windows[ex.context] if not _holds_answer(w, ex.answers)]
                if pool:
                    out.append(replace(ex, qid=ex.qid + "#same", context=rng.choice(pool), answer_start=-1))
            if bm25 is not None and rng.random() < neg_other:
                text = bm25.best(ex.question, ex.context)
                if text and not _holds_answer(text, ex.answers):
                    out.append(replace(ex, qid=ex.qid + "#other", context=text, answer_start=-1))
    return out


def split_articles(data: list[dict], train_articles: int) -> tuple[list[dict], list[dict]]:
    """File order, not random: the split is then obvious from the titles recorded in the artifact."""
    if len(data) < 2:
        return data, data  # a tiny fixture: validate on what we train on (smoke runs only)
    n = min(max(train_articles, 1), len(data) - 1)
    return data[:n], data[n:]


def train_features(tokenizer, examples: list[Example], max_length: int, stride: int) -> list[tuple[list[int], list[int], int, int]]:
    """(input_ids, token_type_ids, start, end) per window; windows without the answer point at [CLS]."""
    from qa.reader.features import make_windows

    win = make_windows(tokenizer, [e.question for e in examples], [e.context for e in examples], max_length, stride)
    feats = []
    for k, idx in enumerate(win.pair_index):
        ex = examples[idx]
        start = end = 0
        offs = win.offsets[k]
        ctx = [i for i, o in enumerate(offs) if o is not None]
        a0 = ex.answer_start
        a1 = a0 + len(ex.answers[0])
        if not ex.is_negative and ctx and offs[ctx[0]][0] <= a0 and offs[ctx[-1]][1] >= a1:
            for i in ctx:
                if offs[i][0] <= a0 < offs[i][1] or (offs[i][0] >= a0 and start == 0):
                    start = i
                    break
            for i in reversed(ctx):
                if offs[i][0] < a1 <= offs[i][1] or (offs[i][1] <= a1 and end == 0):
                    end = i
                    break
            if end < start:
                start = end = 0
        feats.append((win.input_ids[k], win.token_type_ids[k], start, end))
    return feats
