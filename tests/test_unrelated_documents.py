"""Answers must not flip when unrelated documents join the collection.

A user uploaded a chess note and a lemon recipe, and "In which U.S. city is Maduro being detained?"
turned from an answer into a refusal: scores that decide refusals depended on what else the
collection held. Every gold question must get the same answer (refusal or not, short answer, first
citation) before and after unrelated uploads, except a question whose confidence sat within
``NEAR_THRESHOLD`` of the refusal threshold (see there why), and at most two of those.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import GOLD, SEEDS

UNRELATED = {
    "chess-openings.txt": (
        "Chess openings for beginners\n\nThe Italian Game begins with 1.e4 e5 2.Nf3 Nc6 3.Bc4. White develops quickly and "
        "aims at the f7 square. The Sicilian Defence answers 1.e4 with c5 and leads to sharp play. Beginners should "
        "castle early and connect their rooks. In 1997 the computer Deep Blue beat the world champion in New York.\n"
    ),
    "lemon-drizzle.md": (
        "# Lemon drizzle cake\n\nCream 225 g of butter with 225 g of caster sugar, then beat in four eggs. Fold in 275 g "
        "of self-raising flour and the zest of two lemons. Bake in a loaf tin at 180 C for 45 minutes. Pour the juice of "
        "one lemon mixed with sugar over the warm cake. The recipe was first printed in a London newspaper on Saturday.\n"
    ),
    "garden-notes.txt": (
        "Notes from the allotment\n\nThe tomatoes were planted out in May after the last frost. The president of the "
        "allotment society said the water supply would be restored next week. Twelve members attended the meeting, "
        "which was held in the city hall because of the rain.\n"
    ),
}


#: how near the refusal threshold a question's confidence may sit and still change. BM25's IDF is over
#: the whole collection, so new documents that share the question's words (the garden notes' "members",
#: "president") can reorder the news passages themselves, which moves a confidence by a few hundredths
#: (measured: at most 0.03 on the gold set); only a question that close to the threshold may flip
NEAR_THRESHOLD = 0.1


def fingerprint(answer) -> tuple:
    first = answer.citations[0] if answer.citations else None
    return (answer.refused, answer.short_answer, (first.doc_id, first.start, first.end) if first else None)


def far_from(threshold: float, answer) -> bool:
    return abs(answer.confidence - threshold) > NEAR_THRESHOLD


@pytest.mark.integration
def test_unrelated_uploads_keep_every_gold_answer(tmp_path):
    from qa import QA

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    engine = QA(seeds_dir=seeds, index_dir=tmp_path / "index")
    engine.index()
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    first = {g["id"]: engine.ask(g["question"]) for g in gold}
    before = {q: fingerprint(a) for q, a in first.items()}
    for name, text in UNRELATED.items():
        assert engine.add_document(name, text.encode("utf-8")).created
    assert engine.store.wait_bm25(120)  # BM25 over the new collection, not a race with its rebuild
    after = {g["id"]: fingerprint(engine.ask(g["question"])) for g in gold}
    threshold = engine.answerer.refusal_threshold
    changed = {q: (before[q], after[q]) for q in before if before[q] != after[q]}
    unexplained = {q: c for q, c in changed.items() if far_from(threshold, first[q])}
    assert not unexplained, f"{len(unexplained)} of {len(gold)} gold answers changed: {unexplained}"
    assert len(changed) <= 2, f"{len(changed)} gold answers flipped near the threshold: {changed}"
    # the unrelated documents are really in the collection and answerable
    assert engine.ask("Which computer beat the world champion in 1997?").short_answer == "Deep Blue"
