"""Answers must not flip when unrelated documents join the collection.

A user uploaded a chess note and a lemon recipe, and "In which U.S. city is Maduro being detained?"
turned from an answer into a refusal: scores that decide refusals depended on what else the
collection held. Every gold question must get the same answer (refusal or not, short answer, first
citation) before and after unrelated uploads.
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


def fingerprint(answer) -> tuple:
    first = answer.citations[0] if answer.citations else None
    return (answer.refused, answer.short_answer, (first.doc_id, first.start, first.end) if first else None)


@pytest.mark.integration
def test_unrelated_uploads_keep_every_gold_answer(tmp_path):
    from qa import QA

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    engine = QA(seeds_dir=seeds, index_dir=tmp_path / "index")
    engine.index()
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    before = {g["id"]: fingerprint(engine.ask(g["question"])) for g in gold}
    for name, text in UNRELATED.items():
        assert engine.add_document(name, text.encode("utf-8")).created
    after = {g["id"]: fingerprint(engine.ask(g["question"])) for g in gold}
    changed = {q: (before[q], after[q]) for q in before if before[q] != after[q]}
    assert not changed, f"{len(changed)} of {len(gold)} gold answers changed: {changed}"
    # the unrelated documents are really in the collection and answerable
    assert engine.ask("Which computer beat the world champion in 1997?").short_answer == "Deep Blue"
