"""The trained span reader: window features, adapters, training script, engine integration.

Fast tests use a tiny random BERT and a deterministic fake reader; the integration tests train a few
steps through the real ``qa train-reader`` command and load the shipped artifact over the packaged
MiniLM, offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.answer import REFUSAL, ExtractiveAnswerer, ReaderAnswerer
from qa.ingest import chunk_document, parse_document
from qa.reader.features import best_spans
from qa.reader.loader import load_reader
from qa.reader.model import ARTIFACT_DIR, ReadSpan, is_rules
from qa.types import Hit
from tests.fakes import ScriptedReader

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "squad-tiny.json"


# --- span decoding ------------------------------------------------------------------------------


def test_best_spans_picks_the_highest_valid_span_and_maps_offsets():
    offsets = [None, None, (0, 5), (6, 11), (12, 17), None]  # [CLS] q [ctx ctx ctx] [SEP]
    start = np.array([9.0, 0, 1.0, 5.0, 0.5, 9.0])
    end = np.array([9.0, 0, 0.2, 1.0, 4.0, 9.0])
    spans = best_spans(start, end, offsets, max_answer_tokens=30, top=2)
    # the [CLS]/[SEP] logits are highest but are not passage tokens
    assert spans[0] == (9.0, 6, 17)
    assert spans[1][1:] == (6, 11)


def test_best_spans_respects_order_and_length():
    offsets = [(0, 1), (2, 3), (4, 5)]
    start = np.array([0.0, 0.0, 10.0])
    end = np.array([10.0, 0.0, 0.0])
    # end before start is never a span; the best legal one wins
    (score, a, b), = best_spans(start, end, offsets, top=1)
    assert (a, b) != (4, 1) and a <= b
    assert best_spans(np.array([5.0, 0, 0]), np.array([0, 0, 5.0]), offsets, max_answer_tokens=2, top=5)[0][1:] != (0, 5)


def _best_spans_by_loops(start, end, offsets, max_answer_tokens=30, n_best=20, top=1):
    """best_spans as first written (two Python loops): the vectorised one must give exactly this."""
    valid = np.array([o is not None for o in offsets[: len(start)]])
    if not valid.any():
        return []
    s = np.where(valid, start[: len(valid)], -np.inf)
    e = np.where(valid, end[: len(valid)], -np.inf)
    found = []
    for i in np.argsort(-s)[:n_best]:
        if not np.isfinite(s[i]):
            break
        for j in np.argsort(-e)[:n_best]:
            if not np.isfinite(e[j]) or j < i or j - i + 1 > max_answer_tokens:
                continue
            found.append((float(s[i] + e[j]), offsets[i][0], offsets[j][1]))
    found.sort(key=lambda t: -t[0])
    seen, out = set(), []
    for score, a, b in found:
        if (a, b) not in seen:
            seen.add((a, b))
            out.append((score, a, b))
        if len(out) >= top:
            break
    return out


def test_best_spans_equals_the_loops_it_replaced_ties_and_shared_offsets_included():
    rng = np.random.default_rng(11)
    for case in range(300):
        n = int(rng.integers(3, 120))
        # coarse logits: many exact ties; some tokens outside the passage; word pieces sharing a char span
        start = (rng.integers(-8, 8, n) / 2).astype(np.float32)
        end = (rng.integers(-8, 8, n) / 2).astype(np.float32)
        offsets = [None if rng.random() < 0.15 else (k // 2 * 3, k // 2 * 3 + 2) for k in range(n)]
        args = dict(max_answer_tokens=int(rng.integers(1, 31)), n_best=int(rng.integers(1, 25)), top=int(rng.integers(1, 9)))
        assert best_spans(start, end, offsets, **args) == _best_spans_by_loops(start, end, offsets, **args), case


def test_rules_spec_means_no_reader():
    assert is_rules("rules") and is_rules("") and is_rules(None) and is_rules("off")
    assert load_reader("rules") is None


# --- adapters -----------------------------------------------------------------------------------


def _tiny_bert():
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                     max_position_embeddings=32)
    return BertForQuestionAnswering(cfg).eval()


@pytest.mark.integration
def test_adapter_merge_equals_the_adapted_model():
    """Training runs the wrapped model; loading merges B@A into plain weights: both must agree."""
    import copy

    import torch

    from qa.reader.lora import adapter_state, add_adapters, merge_into

    base = _tiny_bert()
    plain = copy.deepcopy(base)
    wrapped = add_adapters(base, rank=4, alpha=8)
    assert len(wrapped) == 2 * 6  # six linear layers per block
    torch.manual_seed(1)
    for name, p in base.named_parameters():
        if "lora_B" in name or "LayerNorm" in name or name.startswith("qa_outputs"):
            with torch.no_grad():
                p.add_(torch.randn_like(p) * 0.1)
    base.eval()
    ids = torch.randint(1, 50, (2, 12))
    want = base(input_ids=ids)
    state = adapter_state(base)
    assert all(("lora_" in k) or ("LayerNorm" in k) or k.startswith("qa_outputs") for k in state)
    applied = merge_into(plain, state, scale=8 / 4)
    got = plain(input_ids=ids)
    assert applied > 0
    torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-5, rtol=1e-4)


def test_merge_rejects_an_artifact_for_another_architecture():
    import torch

    from qa.reader.lora import merge_into

    with pytest.raises(KeyError):
        merge_into(_tiny_bert(), {"bert.encoder.layer.9.attention.self.query.lora_A": torch.zeros(2, 16),
                                  "bert.encoder.layer.9.attention.self.query.lora_B": torch.zeros(16, 2)}, 1.0)


# --- the answerer with a deterministic reader ------------------------------------------------------


class FakeReader:
    """Proposes the first occurrence of ``answer`` in any passage, with a fixed score."""

    def __init__(self, answer: str, score: float = 14.0):
        self.answer, self.score, self.calls = answer, score, []

    def read(self, question, passages, top=3):
        self.calls.append(list(passages))
        out = []
        for p in passages:
            i = p.find(self.answer)
            out.append([ReadSpan(i, i + len(self.answer), self.score)] if i >= 0 else [])
        return out


TEXT = (
    "The storm reached the coast on Tuesday. Officials said the harbour was closed for two days. "
    "Mayor Alice Brandt ordered the evacuation of the lower town. Schools reopened on Friday."
)


def _hits(text=TEXT):
    doc = parse_document("storm.txt", text)
    return doc, [Hit(chunk=c, score=1.0) for c in chunk_document(doc, 110, 0)]


def test_reader_answer_is_a_verbatim_span_cited_by_its_sentence():
    doc, hits = _hits()
    reader = FakeReader("the evacuation of the lower town")
    ans = ReaderAnswerer(reader=reader, refusal_threshold=0.1).answer("What did the mayor order?", hits, None, {})
    assert not ans.refused
    assert ans.short_answer == "the evacuation of the lower town"
    cit = ans.citations[0]
    assert cit.quote == "Mayor Alice Brandt ordered the evacuation of the lower town."
    assert doc.text[cit.start : cit.end] == cit.quote
    assert doc.text[ans.answer_start : ans.answer_end] == ans.short_answer
    assert cit.answer_start == ans.answer_start
    # the reader read windows (sentence plus neighbours), not whole documents
    assert reader.calls and all(len(p) <= len(TEXT) for p in reader.calls[0])


def test_a_low_span_score_refuses():
    _, hits = _hits()
    sure = ReaderAnswerer(reader=FakeReader("Alice Brandt", 20.0), refusal_threshold=0.5)
    unsure = ReaderAnswerer(reader=FakeReader("Alice Brandt", -5.0), refusal_threshold=0.5)
    q = "Who ordered the evacuation?"
    a, b = sure.answer(q, hits, None, {}), unsure.answer(q, hits, None, {})
    assert a.confidence > b.confidence
    assert not a.refused and a.short_answer == "Alice Brandt"
    assert b.refused and b.text == REFUSAL


def test_without_any_span_the_rules_ranking_stands():
    _, hits = _hits()
    rules = ExtractiveAnswerer(refusal_threshold=0.0).answer("Who ordered the evacuation?", hits, None, {})
    none = ReaderAnswerer(reader=FakeReader("not in the text"), refusal_threshold=0.0).answer(
        "Who ordered the evacuation?", hits, None, {})
    assert none.short_answer == rules.short_answer and none.citations[0].quote == rules.citations[0].quote


# --- training and the shipped artifact (real model) --------------------------------------------


@pytest.mark.integration
def _train(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "qa.cli", "train-reader", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.integration
@pytest.mark.parametrize("finetune,context", [("lora", 1), ("full", 1), ("full", -1)])
def test_smoke_training_through_the_cli_writes_a_loadable_artifact(tmp_path, finetune, context):
    """context -1 is how the shipped reader trains: whole paragraphs, the engine then gives it whole passages."""
    out = tmp_path / "reader"
    common = ["--squad", str(TINY), "--out", str(out), "--batch-size", "4", "--train-articles", "1", "--log-every", "1",
              "--seed", "7", "--finetune", finetune, "--neg-same", "1", "--neg-other", "1", "--neg-perturbed", "1", "--checkpoint-every", "2",
              "--context-sentences", str(context), "--device", "auto"]
    proc = _train(common + ["--max-steps", "2"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "step 2/2" in proc.stderr and "validate final" in proc.stderr
    # a stopped run continues where it stopped: same data order, optimiser and schedule state
    proc = _train(common + ["--max-steps", "3", "--resume"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from" in proc.stderr and "at step 2" in proc.stderr and "step 3/3" in proc.stderr
    assert "step 1/" not in proc.stderr
    meta = json.loads((out / "reader.json").read_text())
    assert meta["hyperparameters"]["seed"] == 7 and meta["finetune"] == finetune
    assert meta["trained_on"]["device"] == "cpu"  # where it trained, for the model card (a GPU gives its name)
    assert meta["training_data"]["train_articles"] == ["Port_Ellen"]
    assert meta["training_data"]["validation_articles"] == ["Corran_River"]
    # "no answer" windows were trained on: the [CLS] label of SQuAD 2.0 readers
    assert meta["training_data"]["negative_windows"] > 0 and meta["no_answer"] == "trained"
    assert meta["training_data"]["changed_questions"] > 0  # SQuAD 2.0's kind: a name or number swapped
    assert "CC BY-SA 4.0" in meta["licence"] and "--resume" not in meta["command"]
    assert (out / "adapter.safetensors").stat().st_size < 25 * 2**20
    assert set(meta["validation"]) >= {"em", "f1", "n"}

    from qa.reader.model import TransformersReader

    reader = TransformersReader(str(out))
    assert reader.trained_on() == ("Port_Ellen",) and reader.knows_no_answer()
    assert reader.reads_passages() == (context < 0)
    passage = "The Corran river rises in the Blackmount hills."
    (spans,) = reader.read("Where does the river rise?", [passage])
    assert spans and all(0 <= s.start < s.end <= len(passage) and s.null is not None for s in spans)


@pytest.mark.integration
def test_the_shipped_artifact_is_small_and_documented():
    meta = json.loads((ARTIFACT_DIR / "reader.json").read_text())
    size = (ARTIFACT_DIR / "adapter.safetensors").stat().st_size
    assert size <= 25 * 2**20
    assert "CC BY-SA 4.0" in meta["licence"] and meta["command"].startswith("qa train-reader")
    held_out = set(meta["training_data"]["validation_articles"])
    assert held_out and not held_out & set(meta["training_data"]["train_articles"])
    assert meta["validation"]["f1"] > 30  # a trained reader, not an initialised head


@pytest.mark.integration
def test_shipped_reader_answers_offline_in_the_engine(seed_engine):
    from tests.conftest import seed_text

    assert isinstance(seed_engine.answerer, ReaderAnswerer), "the packaged reader is the default answerer"
    a = seed_engine.ask("Who was sworn in as interim president?")
    assert a.short_answer == "Delcy Rodríguez"
    assert a.citations[0].doc_id == "001_08e073e419b132d4.txt"
    text = seed_text(a.citations[0].doc_id)
    assert text[a.answer_start : a.answer_end] == "Delcy Rodríguez"
    assert text[a.citations[0].start : a.citations[0].end] == a.citations[0].quote
    assert a.citations[0].start <= a.answer_start < a.answer_end <= a.citations[0].end
    # a "when" question gets a time expression or a refusal, never "interim president"
    from qa.answer.question import looks_like

    when = seed_engine.ask("When was Delcy Rodríguez sworn in?")
    assert when.refused or looks_like("when", when.short_answer or ""), when.short_answer
    # the seeds only say the clashes came "just hours after" she was sworn in: no time of her own
    if not when.refused:
        from qa.answer.question import plausible_in

        cite = when.citations[0]
        assert plausible_in("when", cite.quote, when.answer_start - cite.start, when.answer_end - cite.start), when.short_answer


@pytest.mark.integration
def test_a_very_long_question_is_clipped_not_an_error():
    from transformers import AutoTokenizer

    from qa.reader.features import MAX_QUESTION_TOKENS, make_windows
    from qa.reader.train import base_model_path

    tok = AutoTokenizer.from_pretrained(base_model_path())
    question = "Who ordered the evacuation of the lower town " * 200
    win = make_windows(tok, [question], [TEXT], max_length=256, stride=96)
    assert win.input_ids and all(len(ids) <= 256 for ids in win.input_ids)
    # the passage is read whole: its last character is inside a window
    assert max(o[1] for o in win.offsets[0] if o is not None) >= len(TEXT) - 1
    assert sum(1 for t in win.token_type_ids[0] if t == 0) <= MAX_QUESTION_TOKENS + 2


def test_why_questions_are_answered_by_the_sentence():
    """A reason is a clause: the reader's noun-phrase cut would lose it, so the sentence is the answer."""
    _, hits = _hits()
    reader = FakeReader("the harbour")
    why = ReaderAnswerer(reader=reader, refusal_threshold=-1.0).answer("Why was the harbour closed for two days?", hits, None, {})
    what = ReaderAnswerer(reader=reader, refusal_threshold=-1.0).answer("What was closed for two days?", hits, None, {})
    assert why.short_answer is None and "harbour was closed" in why.citations[0].quote
    assert what.short_answer == "the harbour"


# --- reader v2: no-answer margin, answers of the asked type, the asked speaker -----------------------


def test_when_question_takes_the_reader_span_that_is_a_time_not_its_best_span():
    _, hits = _hits()
    reader = ScriptedReader([("the coast", 16.0), ("Tuesday", 9.0)])
    a = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False).answer(
        "When did the storm reach the coast?", hits, None, {})
    assert a.short_answer == "Tuesday"


def test_when_question_without_any_time_in_the_passages_is_refused():
    _, hits = _hits("The storm reached the coast near the harbour. Officials closed the harbour and the schools.")
    reader = ScriptedReader([("the coast", 16.0), ("the harbour", 12.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=0.15)
    when = answerer.answer("When did the storm reach the coast?", hits, None, {})
    what = answerer.answer("What did the storm reach?", hits, None, {})
    assert when.refused, when.text
    assert not what.refused and what.short_answer == "the coast"


def test_the_no_answer_score_lowers_confidence():
    _, hits = _hits()
    q = "Who ordered the evacuation?"
    answers = ReaderAnswerer(reader=ScriptedReader([("Alice Brandt", 10.0)], null=0.0), refusal_threshold=-9)
    null_wins = ReaderAnswerer(reader=ScriptedReader([("Alice Brandt", 10.0)], null=14.0), refusal_threshold=-9)
    assert answers.answer(q, hits, None, {}).confidence > null_wins.answer(q, hits, None, {}).confidence + 0.1


def test_what_did_x_say_quotes_x_not_someone_else_in_the_passage():
    text = ("Officials said the harbour would stay closed for two days. "
            "Mayor Alice Brandt said the lower town must be evacuated before night. Schools reopened on Friday.")
    doc, hits = _hits(text)
    reader = ScriptedReader([("the harbour would stay closed for two days", 15.0), ("the lower town must be evacuated", 9.0)])
    a = ReaderAnswerer(reader=reader, refusal_threshold=-1.0).answer("What did Brandt say about the town?", hits, None, {})
    assert "Brandt" in a.citations[0].quote


SPEAKERS = ("Officials said the harbour would stay closed for two days, that the ferry would not run and that "
            "the market would move inland. Mayor Alice Brandt said the lower town must be evacuated before night. "
            "The council praised harbour master Carl Jensen, arguing that the new walls had held.")


def test_a_named_speaker_is_answered_only_by_what_they_are_reported_to_say():
    """Found by a user: "What did Yván Gil say?" quoted a Pentagon official from the same passage, and
    "What did Maria Corina Machado say?" a sentence that only names her. The reader's ten best spans
    here are all the officials' words; the mayor's lie further down its list."""
    _, hits = _hits(SPEAKERS)
    officials = ["the harbour would stay closed for two days", "the harbour would stay closed", "the ferry would not run",
                 "that the ferry would not run", "the market would move inland", "the market would move",
                 "two days", "closed for two days", "the ferry", "the market"]
    reader = ScriptedReader([(t, 20.0 - i) for i, t in enumerate(officials)] + [("the lower town must be evacuated", 5.0),
                                                                                ("the new walls had held", 4.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0)
    for question in ("What did Alice Brandt say?", "What did Alice Brändt say?"):  # accents aside, one name
        a = answerer.answer(question, hits, None, {})
        assert a.short_answer == "the lower town must be evacuated" and "Brandt said" in a.citations[0].quote, question
    jensen = answerer.answer("What did Carl Jensen say?", hits, None, {})
    assert jensen.refused, jensen.text  # named, praised, never quoted: nothing he said is in the documents
    described = answerer.answer("What did the officials say?", hits, None, {})  # a description, not a name: ranked as before
    assert not described.refused


def test_a_speakers_sentence_the_passage_read_missed_is_read_on_its_own():
    """Found in review: "What did Gil say?" was refused while "What did Yván Gil say?" was answered.
    Read with its passage, the reader's twenty best spans were all variants of a Pentagon official's
    quote; Gil's sentence, read alone, holds his words."""
    _, hits = _hits(SPEAKERS)
    from qa.answer.speakers import SPEAKER_SPANS

    words = SPEAKERS.split(" Mayor")[0].split()[2:]
    officials = list(dict.fromkeys(" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)))[:30]
    reader = ScriptedReader([(t, 30.0 - i * 0.1) for i, t in enumerate(officials)] + [("the lower town must be evacuated", 5.0)])
    assert len(officials) > SPEAKER_SPANS  # more than the reader gives per passage
    a = ReaderAnswerer(reader=reader, passages=True, refusal_threshold=-1.0).answer("What did Brandt say?", hits, None, {})
    assert a.short_answer == "the lower town must be evacuated" and "Brandt said" in a.citations[0].quote, a.text


def test_a_described_speaker_is_matched_by_the_whole_description():
    """"What did the foreign minister say?" quoted a Pentagon official (a description took only the
    type penalty), and matched by its last word alone it would take the interior minister's words."""
    from qa.answer.speakers import speaker_of

    assert speaker_of("What did the foreign minister of Venezuela say?") == "foreign minister"
    assert speaker_of("What did Mexico’s president say?") == "president"
    assert speaker_of("What did Yván Gil say?") == "Gil"
    text = ("Interior minister Carl Jensen said the troops would guard the border. "
            "“The harbour is closed,” declared foreign minister Ida Holm. A spokesman said talks would go on.")
    _, hits = _hits(text)
    reader = ScriptedReader([("the troops would guard the border", 15.0), ("talks would go on", 14.0),
                             ("The harbour is closed", 6.0)])
    a = ReaderAnswerer(reader=reader, refusal_threshold=-1.0).answer("What did the foreign minister say?", hits, None, {})
    assert a.short_answer == "The harbour is closed", a.text
    anyone = ReaderAnswerer(reader=reader, refusal_threshold=-1.0).answer("What did the ambassador say?", hits, None, {})
    assert not anyone.refused  # a description no sentence matches: ranked as before, not refused


def test_who_did_it_to_x_is_not_answered_by_whoever_is_joined_to_x():
    """Found by a user audit: "Who captured Maduro?" got "Flores", from "The capture of Maduro and
    Flores": the one joined to the asked name by "and" shares its fate, it did not do it. Asked for a
    companion ("with"), or a relation ("Brandt's deputy"), the joined name is the answer."""
    text = ("The rescue of Mayor Alice Brandt and Carl Jensen ended the siege. "
            "The rescue, led by harbour master Ida Holm, took all night.")
    _, hits = _hits(text)
    reader = ScriptedReader([("Carl Jensen", 15.0), ("Mayor Alice Brandt and Carl Jensen", 14.0), ("Ida Holm", 9.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)  # as the packaged reader
    assert answerer.answer("Who rescued Alice Brandt?", hits, None, {}).short_answer == "Ida Holm"
    assert answerer.answer("Who was rescued with Alice Brandt?", hits, None, {}).short_answer == "Carl Jensen"
    assert answerer.answer("Who is Brandt's companion?", hits, None, {}).short_answer == "Carl Jensen"


def test_a_price_is_not_a_volume_or_a_length_of_time():
    """From a user's own documents: "How much does a replacement cartridge cost?" got "600 litres",
    "How much does an infusion cost?" "between 15 minutes and one hour"."""
    text = "A replacement cartridge lasts 600 litres and costs $35 at any dealer. An infusion takes an hour."
    _, hits = _hits(text)
    reader = ScriptedReader([("600 litres", 15.0), ("$35", 9.0), ("an hour", 14.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)
    assert answerer.answer("How much does a replacement cartridge cost?", hits, None, {}).short_answer == "$35"
    assert answerer.answer("How much water does a cartridge filter?", hits, None, {}).short_answer == "600 litres"
    assert answerer.answer("How much does an infusion cost?", hits, None, {}).short_answer == "$35"


def test_who_is_not_answered_by_a_place():
    """From a user's biography: "Who founded the Coral Futures Institute?" got "Mombasa", from "she
    … founded the Coral Futures Institute in Mombasa"."""
    text = "In 2004 she founded the Coral Futures Institute in Mombasa. Helena Okafor led it until 2023."
    _, hits = _hits(text)
    reader = ScriptedReader([("Mombasa", 15.0), ("Helena Okafor", 9.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)
    assert answerer.answer("Who founded the Coral Futures Institute?", hits, None, {}).short_answer == "Helena Okafor"
    assert answerer.answer("Where was the institute founded?", hits, None, {}).short_answer == "Mombasa"


def test_a_weekday_takes_the_date_after_it():
    """From a user's minutes: "When is the spring planting day?" got "Saturday" from "Saturday, April 26"."""
    text = "Spring planting day is Saturday, April 26, at the garden."
    _, hits = _hits(text)
    answerer = ReaderAnswerer(reader=ScriptedReader([("Saturday", 15.0)]), refusal_threshold=-1.0, prefer_typed_rules=False)
    assert answerer.answer("When is the spring planting day?", hits, None, {}).short_answer == "Saturday, April 26"
    assert answerer.answer("What day of the week is planting day?", hits, None, {}).short_answer == "Saturday"


def test_answers_of_another_time_or_another_kind_of_contact_are_set_aside():
    """From a user's earnings release and itinerary: "What was the population in 1990?" got "5,200"
    from "…by 1970"; "What time does flight UA 837 depart?" got "Friday"; "What is the tenants' phone
    number?" got "17" (a parking space); "What is the agent's email address?" got "Priya Raman";
    "+47 32 21 45 00" lost its "+"."""
    text = ("The town had 9,000 people by 1920 and 5,200 by 1970. Flight UA 837 departs on Friday at 11:25. "
            "The tenants have parking space 17. Your agent is Priya Raman, reachable at +47 32 21 45 00.")
    _, hits = _hits(text)
    reader = ScriptedReader([("5,200", 15.0), ("Friday", 14.0), ("11:25", 9.0), ("17", 13.0), ("Priya Raman", 12.0),
                             ("47 32 21 45 00", 8.0)])
    answerer = ReaderAnswerer(reader=reader, refusal_threshold=-1.0, prefer_typed_rules=False)
    assert answerer.answer("What was the population in 1990?", hits, None, {}).short_answer != "5,200"
    assert answerer.answer("What was the population in 1970?", hits, None, {}).short_answer == "5,200"
    assert answerer.answer("What time does flight UA 837 depart?", hits, None, {}).short_answer == "11:25"
    assert answerer.answer("What is the agent's phone number?", hits, None, {}).short_answer == "+47 32 21 45 00"
    assert answerer.answer("What is the agent's email address?", hits, None, {}).short_answer != "Priya Raman"


def test_who_is_x_is_answered_by_what_stands_beside_x_never_by_another_name():
    """Found by a user audit: "Who is Cilia Flores?" got "Venezuelan President Nicolás Maduro" and
    "Who is Reggie Carrera?" "Jesus Linares", the reader's best spans of the same sentences. The
    answer to "Who is X?" is a description beside X; a span naming someone else is cut to the part
    beside X or set aside; with no description at all there is no short answer (the real reader's
    confidence then falls under the refusal threshold: "Who is Jesus Linares?" is refused)."""
    text = ("Forces captured Mayor Alice Brandt and her deputy, Carl Jensen, at dawn. "
            "Harbour master Ida Holm watched from the pier. Otto Berg was seen at the market.")
    _, hits = _hits(text)
    spans = [("Mayor Alice Brandt", 15.0), ("Mayor Alice Brandt and her deputy", 12.0), ("Harbour master", 9.0),
             ("Ida Holm", 8.0), ("the market", 7.0)]
    answerer = ReaderAnswerer(reader=ScriptedReader(spans), refusal_threshold=-1.0)
    assert answerer.answer("Who is Carl Jensen?", hits, None, {}).short_answer == "her deputy"
    assert answerer.answer("Who is Ida Holm?", hits, None, {}).short_answer == "Harbour master"
    assert answerer.answer("Who is Otto Berg?", hits, None, {}).short_answer is None  # named, never described
    ordinary = answerer.answer("Who was captured at dawn?", hits, None, {})  # not "Who is X?": ranked as before
    assert ordinary.short_answer == "Alice Brandt"


def test_a_named_speaker_gets_their_quoted_words_not_the_words_around_them():
    """"What did Maduro say?" was answered "emphatically, dismissing any potential invasion", the words
    after his quotation; a span running past the quotation is cut to it; a short quoted term stays a term."""
    text = ("“We will defend the lower town and every harbour wall,” Mayor Alice Brandt said firmly, pointing at the river. "
            "Judge Carl Jensen held that the town was entitled to stay, as an “indirect quid pro quo” applied.")
    _, hits = _hits(text)
    outside = ReaderAnswerer(reader=ScriptedReader([("firmly, pointing at the river", 9.0)]), refusal_threshold=-1.0)
    assert outside.answer("What did Alice Brandt say?", hits, None, {}).short_answer == (
        "We will defend the lower town and every harbour wall")
    from qa.answer.speakers import their_words
    from qa.answer.spans import Span

    sentence = hits[0].chunk.sentences[0].text
    quote = Span(1, 53, "quote")  # the words inside “…”
    past = Span(sentence.index("every"), sentence.index(" Alice"), "reader")  # "every harbour wall,” Mayor"
    assert their_words(past, quote, sentence).text(sentence) == "every harbour wall"
    judge = hits[0].chunk.sentences[1].text  # a quoted term of four words is no speech: the span stays
    term, stay = judge.index("indirect"), judge.index("stay")
    assert their_words(Span(stay, stay + 4, "reader"), Span(term, term + 21, "quote"), judge).text(judge) == "stay"


@pytest.mark.parametrize("speaker, sentence, previous, quoted", [
    ("Gil", "“The United States has crossed a red line,” declared Venezuelan Foreign Minister Yván Gil in Caracas.", "", True),
    ("Sheinbaum", "Mexico has stated it will not permit U.S. forces, with President Claudia Sheinbaum asserting that “no”.", "", True),
    ("Machado", "He has praised Rodriguez over opposition figure Maria Corina Machado, arguing that she is weak.", "", False),
    ("Machado", "‘She’s prepared to work with us,’ he said.", "He has praised Rodriguez over opposition figure Maria Corina Machado.", False),
    ("Rodriguez", "‘It can be done to anyone,’ she warned.", "Socialist Vice President Delcy Rodríguez has been vocal.", True),
    ("Trump", "‘It was an amazing thing,’ he said.", "President Trump, in a rare public address on Fox News, claimed he watched.", True),
])
def test_quotes_speaker_needs_the_speech_attributed_to_them(speaker, sentence, previous, quoted):
    from qa.answer.speakers import quotes_speaker

    assert quotes_speaker(speaker, sentence, previous) is quoted


def test_unrelated_passages_do_not_change_the_answer_or_its_confidence():
    """A recipe retrieved beside the news (even ranked first) must not shift scores that decide refusals."""
    _, hits = _hits()
    recipe = parse_document("lemon.txt", "Cream the butter with the sugar. Fold in the flour and the zest of two lemons.")
    unrelated = [Hit(chunk=c, score=1.0) for c in chunk_document(recipe, 110, 0)]
    q = "Who ordered the evacuation of the lower town?"
    for answerer in (ExtractiveAnswerer(refusal_threshold=0.0),
                     ReaderAnswerer(reader=ScriptedReader([("Alice Brandt", 12.0)]), refusal_threshold=0.0)):
        alone, mixed = answerer.answer(q, hits, None, {}), answerer.answer(q, unrelated + hits, None, {})
        assert alone.short_answer == mixed.short_answer == "Alice Brandt"
        assert alone.confidence == pytest.approx(mixed.confidence)


# --- a reader trained on whole paragraphs reads whole passages, with its own calibration -----------


def test_a_passage_reader_reads_each_passage_whole_and_cites_the_sentence():
    doc, hits = _hits()
    reader = FakeReader("Alice Brandt")
    ans = ReaderAnswerer(reader=reader, refusal_threshold=0.1, passages=True).answer("Who ordered the evacuation?", hits, None, {})
    assert not ans.refused and ans.short_answer == "Alice Brandt"
    assert reader.calls == [[hits[0].chunk.text]]  # one passage, read once, whole
    assert ans.citations[0].quote == "Mayor Alice Brandt ordered the evacuation of the lower town."
    assert doc.text[ans.answer_start : ans.answer_end] == "Alice Brandt"


def _artifact(tmp_path, **meta):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "reader.json").write_text(json.dumps(meta), encoding="utf-8")
    return str(tmp_path)


def test_reader_metadata_says_how_it_reads_and_how_it_was_calibrated(tmp_path):
    from qa.reader.model import TransformersReader

    passage = TransformersReader(_artifact(tmp_path / "p", hyperparameters={"context_sentences": -1}, no_answer="trained",
                                           answerer={"settings": {"w_reader": 1.6, "refusal_threshold": 0.9}}))
    window = TransformersReader(_artifact(tmp_path / "w", hyperparameters={"context_sentences": 1}))
    assert passage.reads_passages() and passage.knows_no_answer()
    assert passage.answerer_settings() == {"w_reader": 1.6, "refusal_threshold": 0.9}
    assert not window.reads_passages() and window.answerer_settings() == {} and not window.knows_no_answer()
    # int8 keeps its own calibration when it has one, else takes fp32's
    both = _artifact(tmp_path / "b", answerer={"settings": {"w_reader": 1.6}}, answerer_int8={"settings": {"w_reader": 6.0}})
    assert TransformersReader(both, quantize=True).answerer_settings() == {"w_reader": 6.0}
    assert TransformersReader(both).answerer_settings() == {"w_reader": 1.6}
    assert TransformersReader(_artifact(tmp_path / "p8", answerer={"settings": {"w_reader": 1.6}}), quantize=True).answerer_settings() == {"w_reader": 1.6}


def test_the_answerer_takes_the_readers_calibration_unless_the_config_overrides_it(tmp_path, monkeypatch):
    from qa import answerers
    from qa.config import Config
    from qa.reader.model import TransformersReader

    reader = TransformersReader(_artifact(tmp_path, hyperparameters={"context_sentences": -1},
                                          answerer={"settings": {"w_reader": 1.6, "prefer_typed_rules": False,
                                                                 "refusal_threshold": 0.9, "not_a_field": 1}}))
    monkeypatch.setattr("qa.reader.loader.load_reader", lambda spec, quantize=False, onnx=None: reader)
    monkeypatch.delenv("QA_READER_REFUSAL_THRESHOLD", raising=False)
    built = answerers.extractive_answerer(Config.resolve())
    assert isinstance(built, ReaderAnswerer) and built.passages and built.w_reader == 1.6 and not built.prefer_typed_rules
    assert built.refusal_threshold == 0.9
    assert answerers.extractive_answerer(Config.resolve(reader_refusal_threshold=0.3)).refusal_threshold == 0.3
    monkeypatch.setenv("QA_READER_REFUSAL_THRESHOLD", "0.4")
    assert answerers.extractive_answerer(Config.resolve()).refusal_threshold == 0.4
    monkeypatch.setenv("QA_READER_REFUSAL_THRESHOLD", "")  # empty: back to the reader's own
    assert answerers.extractive_answerer(Config.resolve()).refusal_threshold == 0.9


@pytest.mark.timeout(20)
def test_a_list_of_numbers_is_typed_in_linear_time():
    """A reader span such as Mongolia's banknote list once hung `qa eval`: the date pattern's
    overlapping alternatives backtracked exponentially when the list ended in a word."""
    from qa.answer.question import looks_like, plausible

    notes = "₮1, 5, 10, 20, 50, 100, 500, 1,000, 5,000, 10,000, 20,000, 50,000 and 100,000 tögrög " * 3
    assert plausible("who", notes) and not looks_like("who", notes) and looks_like("how many", notes)
    assert plausible("who", "1,000, 5,000, 10,000") is False and looks_like("when", "in the 1990s")


def test_where_is_never_a_date_and_how_long_never_a_bare_date():
    """Found by a user audit: "How long did the raid last?" got "January 3, 2026" and "Where did the
    raid take place?" a span starting with that date. Such spans are set aside for these questions
    (and only these: "When …?" takes the date)."""
    text = "The raid took place on January 3, 2026 in the old harbour. It lasted all night."
    _, hits = _hits(text)
    spans = [("January 3, 2026", 15.0), ("January 3, 2026 in the old harbour", 14.0), ("the old harbour", 9.0),
             ("all night", 8.0)]
    answerer = ReaderAnswerer(reader=ScriptedReader(spans), refusal_threshold=-1.0)
    assert answerer.answer("Where did the raid take place?", hits, None, {}).short_answer == "the old harbour"
    assert "January" not in (answerer.answer("How long did the raid last?", hits, None, {}).short_answer or "")
    assert answerer.answer("When did the raid take place?", hits, None, {}).short_answer == "January 3, 2026"


def test_a_speaker_is_followed_through_sentences_that_continue_and_more_speech_verbs():
    """Found by a user audit: "‘She’s prepared to work with us,’ he said" two sentences after "Trump,
    for his part, …" was not taken for Trump's words, and "Marco Rubio emphasized that …" was no
    speech ("emphasized" was not a speech verb), so both questions were refused."""
    from qa.answer.speakers import named_speaker, quotes_speaker

    chain = ["He has praised the harbour crew, arguing that the walls held.", "Mayor Alice Brandt, for her part, stood firm."]
    assert quotes_speaker("Brandt", "‘They are ready to rebuild,’ she said.", chain)
    assert not quotes_speaker("Brandt", "‘They are ready to rebuild,’ she said.", [chain[0], "The storm ended."])
    assert quotes_speaker("Brandt", "Mayor Alice Brandt emphasized that the town would rebuild.")
    assert named_speaker("What did Alice Brandt emphasize?") == "Brandt"
    assert named_speaker("What does the Islamic State lack?") is None  # "State" is no verb here


def test_a_description_stands_beside_the_name_as_a_noun_phrase():
    """"The lighthouse keeper is Arne Dahl" describes him ("Who is Arne Dahl?" was refused), while
    "Cabello is widely believed to …" does not ("Who is Cabello?" got "widely believed")."""
    from qa.answer.definitions import next_to

    s = "The lighthouse keeper is Arne Dahl. Cabello is widely believed to lead them. Ann Lee is the mayor."
    at = lambda text: (s.index(text), s.index(text) + len(text))  # noqa: E731
    assert next_to(s, *at("The lighthouse keeper"), "Arne Dahl")
    assert not next_to(s, *at("widely believed"), "Cabello")
    assert next_to(s, *at("the mayor"), "Ann Lee")


def test_spans_keep_addresses_and_times_whole_and_descriptions_pass_titles_and_brackets():
    """From a user's own documents: "people@northwind-robotics.example" was cut at ".example", "5 p.m."
    lost its last period, "her long-time deputy, Dr. Wanjiru Kamau" and "Luis Ortega (chair)" were
    not taken for descriptions, and "Richard Haynes, later called it “…”" was not his speech."""
    from qa.answer.definitions import next_to
    from qa.answer.spans import trim
    from qa.answer.speakers import quotes_speaker

    s = "Write to people@northwind-robotics.example or see https://example.org/help. It opens at 5 p.m."
    cut = lambda a, b: s[slice(*trim(s, a, b))]  # noqa: E731
    assert cut(s.index("people"), s.index(".example")) == "people@northwind-robotics.example"
    assert cut(s.index("https"), s.index("/help")) == "https://example.org/help"
    assert cut(s.index("5 p.m."), len(s)) == "5 p.m."
    d = "She was succeeded by her long-time deputy, Dr. Wanjiru Kamau. Present: Luis Ortega (chair), Ann Lee."
    assert next_to(d, d.index("her long"), d.index(", Dr."), "Wanjiru Kamau")
    assert next_to(d, d.index("chair"), d.index("), Ann"), "Luis Ortega")
    assert not next_to(d, d.index("chair"), d.index("), Ann"), "Ann Lee")
    assert quotes_speaker("Haynes", 'Her supervisor, Richard Haynes, later called it "the most careful fieldwork I saw."')
