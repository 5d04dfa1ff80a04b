"""qa.runtime without models: micro-batching, the export cache and its keys, which path a model takes.

The real models (equivalence with sentence-transformers and the torch reader, the torch-free
query path) are in tests/test_runtime_models.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from qa.runtime import cache as c
from qa.runtime.batching import Batcher
from qa.runtime.reader import length_groups


# --- micro-batching -----------------------------------------------------------------------------


def test_a_lone_caller_runs_at_once_with_its_own_item():
    seen = []
    b = Batcher(lambda xs: seen.append(list(xs)) or [x + 1 for x in xs], wait_ms=50)
    t = time.perf_counter()
    assert b(1) == 2 and b(2) == 3
    assert seen == [[1], [2]] and time.perf_counter() - t < 0.05  # no waiting for company


def test_concurrent_callers_share_passes_and_each_gets_its_own_result():
    gate = threading.Event()
    sizes = []

    def run(xs):
        if not sizes:
            gate.wait(2)  # the first pass is slow: everyone else queues behind it
        sizes.append(len(xs))
        return [x * 10 for x in xs]

    b = Batcher(run, max_items=32, wait_ms=5)
    results = {}

    def call(i):
        results[i] = b(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    threads[0].start()
    time.sleep(0.05)
    for t in threads[1:]:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == {i: i * 10 for i in range(12)}
    assert sum(sizes) == 12 and len(sizes) < 12 and max(sizes) > 1
    assert b.passes == len(sizes) and b.served == 12


def test_a_pass_never_exceeds_max_items_by_size():
    sizes = []
    gate = threading.Event()

    def run(items):
        gate.wait(2)
        sizes.append(sum(len(i) for i in items))
        return [len(i) for i in items]

    b = Batcher(run, max_items=5, wait_ms=0, size=len)
    threads = [threading.Thread(target=b, args=("abc",)) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert sum(sizes) == 18 and max(sizes) <= 5  # one 3-item caller per pass (two would be 6 > 5)


def test_a_failed_pass_raises_in_every_caller_and_the_next_pass_works():
    calls = []

    def run(xs):
        calls.append(xs)
        if len(calls) == 1:
            raise ValueError("boom")
        return xs

    b = Batcher(run)
    with pytest.raises(ValueError, match="boom"):
        b(1)
    assert b(2) == 2


def test_length_groups_cover_every_window_once_with_little_padding():
    lengths = [60, 121, 80, 79, 118, 61, 200, 30]
    groups = length_groups(lengths)
    assert sorted(k for g in groups for k in g) == list(range(len(lengths)))
    for g in groups:
        real = sum(lengths[k] for k in g)
        assert max(lengths[k] for k in g) * len(g) <= real * 1.1
    assert length_groups([]) == [] and length_groups([5]) == [[0]]


# --- the export cache ---------------------------------------------------------------------------


@pytest.fixture
def memo(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_ONNX_CACHE", str(tmp_path / "shared"))
    return tmp_path / "shared"


def test_the_key_follows_contents_not_timestamps(tmp_path, memo):
    a = tmp_path / "adapter.safetensors"
    a.write_bytes(b"weights v1")
    k1 = c.content_key([a], extra="reader")
    os.utime(a, ns=(1, 1))  # touched, same bytes
    assert c.content_key([a], extra="reader") == k1
    a.write_bytes(b"weights v2")  # a replaced artifact
    k2 = c.content_key([a], extra="reader")
    assert k2 != k1
    assert c.content_key([a], extra="embedder") != k2  # the recipe is part of the key
    assert (memo / "hashes.json").is_file()


def test_a_remembered_hash_is_used_until_the_file_changes(tmp_path, memo, monkeypatch):
    a = tmp_path / "model.safetensors"
    a.write_bytes(b"x" * 1000)
    first = c.file_sha256(a)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *args, **kw: opened.append(p) or real_open(p, *args, **kw))
    assert c.file_sha256(a) == first and a not in opened  # remembered: not read again
    a.write_bytes(b"y" * 1000)
    assert c.file_sha256(a) != first


def _fake_export(folder: Path, **meta) -> None:
    folder.mkdir(parents=True)
    (folder / c.MODEL_FILE).write_bytes(b"onnx")
    (folder / c.TOKENIZER_FILE).write_text("{}")
    c.write_meta(folder, meta)


def test_find_export_skips_incomplete_folders_and_looks_in_order(tmp_path):
    own, shared = tmp_path / "own", tmp_path / "shared"
    (own / "reader-k").mkdir(parents=True)  # a crashed copy without its files
    assert c.find_export("reader", "k", [own, shared]) is None
    _fake_export(shared / "reader-k", source="s")
    assert c.find_export("reader", "k", [own, shared]) == shared / "reader-k"
    _fake_export(own / "reader-k2", source="s")
    assert c.find_export("reader", "k2", [own, shared]) == own / "reader-k2"


def test_publish_is_all_or_nothing_and_a_second_writer_loses_harmlessly(tmp_path):
    def failing(tmp):
        (tmp / c.MODEL_FILE).write_bytes(b"half")
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError):
        c.publish(tmp_path, "embedder-k", failing)
    assert not (tmp_path / "embedder-k").exists() and not list(tmp_path.glob(".tmp-*"))

    def good(tmp):
        (tmp / c.MODEL_FILE).write_bytes(b"onnx")
        (tmp / c.TOKENIZER_FILE).write_text("{}")
        c.write_meta(tmp, {"n": 1})

    first = c.publish(tmp_path, "embedder-k", good)
    second = c.publish(tmp_path, "embedder-k", good)  # someone else got there first
    assert first == second and c.read_meta(first) == {"n": 1}


def test_share_links_an_export_into_another_cache(tmp_path):
    _fake_export(tmp_path / "own" / "embedder-k", source="s")
    shared = c.share(tmp_path / "own" / "embedder-k", tmp_path / "shared")
    assert shared == tmp_path / "shared" / "embedder-k" and c.is_complete(shared)


def test_a_new_export_prunes_older_exports_of_the_same_source(tmp_path):
    from qa.runtime.export import prune

    _fake_export(tmp_path / "reader-old", source="/art")
    _fake_export(tmp_path / "reader-other", source="/another")
    _fake_export(tmp_path / "reader-new", source="/art")
    prune(tmp_path, "reader", "/art", keep=tmp_path / "reader-new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reader-new", "reader-other"]


def test_an_index_folder_holding_only_exports_is_still_a_fresh_index(tmp_path, hash_embedder):
    from qa.store import IndexStore

    _fake_export(c.cache_dir_for(tmp_path / "idx") / "embedder-k", source="s")
    IndexStore(tmp_path / "idx", hash_embedder, {"chunk_words": 110}).load_manifest()  # no "not a qa index" error


# --- which path a model takes -------------------------------------------------------------------


def _st_folder(d: Path, pooling: str = "pooling_mode_mean_tokens", model_type: str = "bert") -> Path:
    (d / "1_Pooling").mkdir(parents=True)
    (d / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Transformer"},
                                                {"type": "sentence_transformers.models.Pooling"},
                                                {"type": "sentence_transformers.models.Normalize"}]))
    (d / "1_Pooling" / "config.json").write_text(json.dumps({pooling: True}))
    (d / "config.json").write_text(json.dumps({"model_type": model_type}))
    (d / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    (d / "tokenizer.json").write_text("{}")
    (d / "model.safetensors").write_bytes(b"w")
    return d


def test_exportable_sentence_transformers_folders(tmp_path):
    from qa.embed import resolve_model
    from qa.config import PACKAGED_MODEL
    from qa.runtime.embedder import exportable

    assert exportable(resolve_model(PACKAGED_MODEL)[1]) == ""
    assert exportable(_st_folder(tmp_path / "mean")) == ""
    assert "pooling" in exportable(_st_folder(tmp_path / "cls", pooling="pooling_mode_cls_token"))
    assert "model type" in exportable(_st_folder(tmp_path / "xlm", model_type="xlm-roberta"))
    assert exportable("sentence-transformers/all-mpnet-base-v2")  # a hub name: the torch path


def test_the_packaged_models_take_the_onnx_path_unless_turned_off(tmp_path, monkeypatch):
    from qa.config import Config
    from qa.embed import SentenceTransformerEmbedder
    from qa.reader.loader import load_reader
    from qa.reader.model import TransformersReader
    from qa.runtime import make_embedder
    from qa.runtime.embedder import OnnxEmbedder
    from qa.runtime.reader import OnnxReader

    cfg = Config.resolve(index_dir=tmp_path / "idx")
    emb = make_embedder(cfg)
    assert isinstance(emb, OnnxEmbedder) and emb.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert emb.cache_dirs[0] == tmp_path / "idx" / ".onnx"
    assert isinstance(load_reader("packaged"), OnnxReader)
    assert isinstance(make_embedder(Config.resolve(index_dir=tmp_path, onnx=False)), SentenceTransformerEmbedder)
    assert isinstance(make_embedder(Config.resolve(index_dir=tmp_path, model="some/hub-model")), SentenceTransformerEmbedder)
    assert type(load_reader("distilbert-base-cased-distilled-squad")) is TransformersReader
    monkeypatch.setenv("QA_ONNX", "0")
    assert type(load_reader("packaged")) is TransformersReader
    assert isinstance(make_embedder(Config.resolve(index_dir=tmp_path)), SentenceTransformerEmbedder)


def test_an_engine_points_its_reader_at_its_own_index(tmp_path, hash_embedder):
    from qa import QA

    engine = QA(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "idx", embedder=hash_embedder)
    assert engine.answerer.reader.cache_dirs[0] == tmp_path / "idx" / ".onnx"
    torch_reader = QA(seeds_dir=tmp_path / "docs", index_dir=tmp_path / "i2", embedder=hash_embedder, onnx=False).answerer.reader
    assert getattr(torch_reader, "onnx", False) is False and torch_reader.quantize is False  # torch reads in fp32


def test_preload_never_exports_in_the_background(tmp_path, memo, monkeypatch):
    from qa.runtime.embedder import OnnxEmbedder

    emb = OnnxEmbedder("m", _st_folder(tmp_path / "model"), [tmp_path / "cache"])
    monkeypatch.setattr(emb, "load", lambda: pytest.fail("no export cached: nothing may load"))
    emb.preload()  # no export cached: no thread, no torch
    assert threading.active_count() == 1 or not any(t.name == "qa-onnx-preload" for t in threading.enumerate())


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_many_callers_all_served_with_at_most_parallel_passes_at_once(parallel):
    import random

    lock = threading.Lock()
    now, peak = [0], [0]

    def run(xs):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(random.random() * 0.003)
        with lock:
            now[0] -= 1
        return [x * 2 for x in xs]

    b = Batcher(run, max_items=4, wait_ms=1, parallel=parallel)
    results, errors = {}, []

    def call(i):
        try:
            time.sleep(random.random() * 0.01)
            results[i] = b(i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and results == {i: i * 2 for i in range(200)}
    assert 1 <= peak[0] <= parallel and b._running == 0 and not b._queue
    assert b.served == 200


# --- the exported graph -------------------------------------------------------------------------


def _attention_like(path: Path) -> None:
    """scores + mask → Softmax → Where(IsNaN(p), 0, p) → MatMul with values, as torch exports attention;
    and one IsNaN that is no such guard (its Where keeps another tensor), which must stay."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    zero = helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.zeros((), np.float32)))
    nodes = [
        zero,
        helper.make_node("Add", ["scores", "mask"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["p"], axis=-1),
        helper.make_node("IsNaN", ["p"], ["nan"]),
        helper.make_node("Where", ["nan", "zero", "p"], ["guarded"]),
        helper.make_node("MatMul", ["guarded", "values"], ["out"]),
        helper.make_node("IsNaN", ["scores"], ["snan"]),
        helper.make_node("Where", ["snan", "zero", "mask"], ["other"]),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, f, [2, 3]) for n in ("scores", "mask")] + [helper.make_tensor_value_info("values", f, [3, 2])],
        [helper.make_tensor_value_info("out", f, [2, 2]), helper.make_tensor_value_info("other", f, [2, 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_the_softmax_nan_guards_go_and_every_value_stays(tmp_path):
    import numpy as np
    import onnx
    import onnxruntime as ort

    from qa.runtime.export import _drop_nan_guards

    before, after = tmp_path / "before.onnx", tmp_path / "after.onnx"
    _attention_like(before)
    _attention_like(after)
    assert _drop_nan_guards(after) == 1
    ops = [n.op_type for n in onnx.load(str(after)).graph.node]
    assert ops.count("IsNaN") == 1 and ops.count("Where") == 1  # the other IsNaN is not a guard: kept
    assert "Constant" in ops  # the zero still feeds that Where
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = np.where(rng.random((2, 3)) < 0.4, np.float32(-3.4e38), np.float32(0.0)).astype(np.float32)
        mask[:, 0] = 0.0  # as in every window: the first token ([CLS]) is never masked
        feeds = {"scores": rng.normal(size=(2, 3)).astype(np.float32), "mask": mask,
                 "values": rng.normal(size=(3, 2)).astype(np.float32)}
        got = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feeds) for p in (before, after)]
        assert all(np.array_equal(x, y) for x, y in zip(*got))
    assert _drop_nan_guards(after) == 0  # nothing left to drop: the file is not rewritten
