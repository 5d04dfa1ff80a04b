"""The ONNX Runtime query path against the torch one, with the real packaged models.

* embeddings equal sentence-transformers' to 1e-5 (max abs) on every seed sentence and chunk;
* the reader's windows are the ones transformers' tokenizer cuts, its logits the torch fp32
  reader's to 1e-4, its spans the same;
* answers are the same on the torch and the ONNX paths;
* answering (``QA().ask()``, ``qa ask``, ``/api/ask``) imports neither torch, transformers nor
  sentence-transformers (checked in fresh subprocesses);
* a reader artifact with changed weights gets a new export (a recalibrated one keeps its export).

The exports come from the per-user cache (``~/.cache/qa/onnx``) when an earlier run made them;
the first run exports once with torch.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import GOLD, ROOT, SEEDS

pytestmark = pytest.mark.integration
#: never needed to answer: the models' torch stack, tiktoken (llama-index's default splitter's BPE), and
#: llama-index itself (issue 13: ~380 modules, a second of every new process; only qa.llama imports it)
HEAVY = ("torch", "transformers", "sentence_transformers", "tiktoken", "llama_index")


def _seed_texts() -> list[str]:
    from qa.ingest import chunk_document, embedding_text, load_documents

    texts = []
    for doc in load_documents(SEEDS).documents:
        for chunk in chunk_document(doc, 110):
            texts.append(embedding_text(chunk))
            texts.extend(s.text for s in chunk.sentences)
    return texts


def _questions(n: int | None = None) -> list[str]:
    lines = [json.loads(x)["question"] for x in GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    return lines[:n] if n else lines


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory):
    from qa.config import Config
    from qa.runtime import make_embedder
    from qa.runtime.embedder import OnnxEmbedder

    emb = make_embedder(Config.resolve(index_dir=tmp_path_factory.mktemp("emb-index"), query_int8=False))
    assert isinstance(emb, OnnxEmbedder) and not emb.query_int8
    return emb


@pytest.fixture(scope="module")
def readers(tmp_path_factory):
    from qa.reader.model import TransformersReader
    from qa.runtime.reader import OnnxReader

    from qa.runtime import cache_dirs
    from qa.config import Config

    onnx = OnnxReader("packaged", cache_dirs=cache_dirs(Config.resolve(index_dir=tmp_path_factory.mktemp("rd-index"))))
    torch_fp32 = TransformersReader("packaged", quantize=False)
    onnx.load()
    torch_fp32.load()
    return torch_fp32, onnx


def test_embeddings_equal_sentence_transformers(onnx_embedder):
    from qa.embed import SentenceTransformerEmbedder

    texts = _seed_texts() + ["", "   spaces   ", "word " * 400]  # empty, blank, over 256 tokens
    st = SentenceTransformerEmbedder()
    ref = st.embed_texts(texts)
    got = onnx_embedder.embed_texts(texts)
    assert got.shape == ref.shape and got.dtype == np.float32
    assert np.abs(got - ref).max() <= 1e-5
    for q in _questions(12):
        assert np.abs(onnx_embedder.embed_query(q) - st.embed_query(q)).max() <= 1e-5
    assert onnx_embedder.name == st.name and onnx_embedder.dimension == st.dimension == 384


def test_int8_questions_find_what_fp32_questions_find_and_never_load_the_fp32_graph(onnx_embedder, tmp_path):
    """The default (``query_int8``): questions on the export's int8 twin, one per pass, so a vector
    does not depend on the questions it was batched with; documents still fp32, to 1e-5."""
    from qa.runtime.embedder import OnnxEmbedder

    int8 = OnnxEmbedder(onnx_embedder.name, onnx_embedder.model_dir, onnx_embedder.cache_dirs, query_int8=True)
    questions = _questions()
    vectors = np.stack([int8.embed_query(q) for q in questions])
    assert int8._session is None, "answering alone never opens the fp32 graph"
    assert (int8.export_dir / "model.int8.onnx").is_file()
    fp32 = np.stack([onnx_embedder.embed_query(q) for q in questions])
    assert float((vectors * fp32).sum(1).min()) >= 0.97  # unit vectors: cosine to the fp32 vector
    texts = _seed_texts()
    docs = onnx_embedder.embed_texts(texts)
    same_best = np.mean((vectors @ docs.T).argmax(1) == (fp32 @ docs.T).argmax(1))
    assert same_best >= 0.9, f"the best seed chunk or sentence is the same for {same_best:.0%} of gold questions"
    together = int8._embed_many(questions[:8])
    assert all(np.array_equal(v, int8._embed_many([q])[0]) for v, q in zip(together, questions[:8]))
    assert np.abs(int8.embed_texts(texts[:20]) - docs[:20]).max() <= 1e-5, "documents are embedded in fp32"


def _pairs() -> list[tuple[str, str]]:
    from qa.ingest import chunk_document, load_documents

    chunks = [ch.text for d in load_documents(SEEDS).documents for ch in chunk_document(d, 110)]
    questions = _questions()
    pairs = [(questions[i % len(questions)], ch) for i, ch in enumerate(chunks[:24])]
    long_passage = " ".join(chunks[:6])  # several overflowing windows with stride
    pairs += [(questions[0], long_passage), ("Who ordered it? " * 80, chunks[0]),  # a question clipped to 64 tokens
              ("Who?", "Ünïcödé — “quotes”, emoji 🎉, Delcy Rodríguez\n\nnew  lines\ttabs")]
    return pairs


def test_reader_windows_are_the_transformers_tokenizers(readers):
    from qa.reader.features import make_windows

    torch_reader, onnx_reader = readers
    qs, ps = zip(*_pairs())
    ref = make_windows(torch_reader._tokenizer, qs, ps, torch_reader.max_length, torch_reader.stride)
    got = onnx_reader.windows(qs, ps)
    assert len(got.input_ids) > len(qs)  # the long passage overflowed
    for field in ("input_ids", "token_type_ids", "attention_mask", "pair_index", "offsets"):
        assert getattr(got, field) == getattr(ref, field), field


def test_reader_logits_and_spans_equal_the_torch_reader(readers):
    from qa.reader.features import window_logits

    torch_reader, onnx_reader = readers
    qs, ps = zip(*_pairs())
    win = onnx_reader.windows(qs, ps)
    s1, e1 = window_logits(torch_reader._model, win, range(len(win.input_ids)))
    s2, e2 = onnx_reader.logits(win)
    for k, ids in enumerate(win.input_ids):
        n = len(ids)  # [CLS] (the null score) included
        assert np.abs(s1[k, :n] - s2[k, :n]).max() <= 1e-4 and np.abs(e1[k, :n] - e2[k, :n]).max() <= 1e-4
    for q, p in _pairs()[:10]:
        (a,), (b,) = torch_reader.read(q, [p]), onnx_reader.read(q, [p])
        assert [(x.start, x.end) for x in a] == [(x.start, x.end) for x in b]
        assert all(abs(x.score - y.score) <= 1e-4 and abs(x.null - y.null) <= 1e-4 for x, y in zip(a, b))
    import onnx  # these logits come without the softmax NaN guards torch exports (a fifth of a pass)

    assert "IsNaN" not in {n.op_type for n in onnx.load(str(onnx_reader.export_dir / "model.onnx")).graph.node}


def test_the_int8_reader_is_made_once_beside_the_export_and_reads_the_same_answer(readers):
    from qa.runtime.reader import INT8_MODEL_FILE, OnnxReader

    _, fp32 = readers
    int8 = OnnxReader("packaged", cache_dirs=fp32.cache_dirs, quantize=True)
    passage = "Delcy Rodríguez was sworn in as interim president on Monday, hours after the raid."
    (best,) = int8.read("Who was sworn in as interim president?", [passage], top=1)[0]
    assert int8.export_dir == fp32.export_dir and (int8.export_dir / INT8_MODEL_FILE).is_file()
    assert passage[best.start : best.end] == "Delcy Rodríguez"
    assert (int8.export_dir / INT8_MODEL_FILE).stat().st_size < (fp32.export_dir / "model.onnx").stat().st_size / 2
    # dynamic int8 scales activations over a whole pass: a window must read the same alone as among others
    qs, ps = zip(*_pairs())
    win = int8.windows(qs, ps)
    together_s, together_e = int8.logits(win, workers=2)
    for k in (0, 5, len(win.input_ids) - 1):
        alone = int8.windows([qs[win.pair_index[k]]], [ps[win.pair_index[k]]])
        j = [i for i, p in enumerate(win.pair_index) if p == win.pair_index[k]].index(k)
        s_alone, e_alone = int8.logits(alone)
        n = len(win.input_ids[k])
        assert np.array_equal(s_alone[j, :n], together_s[k, :n]) and np.array_equal(e_alone[j, :n], together_e[k, :n])
    # the torch path's int8 (QA_ONNX=0) likewise reads a passage the same with or without others
    from qa.reader.model import TransformersReader

    torch_int8 = TransformersReader("packaged", quantize=True)
    question, others = qs[0], list(ps[1:6])
    assert torch_int8.read(question, [ps[0]])[0] == torch_int8.read(question, [ps[0], *others])[0]


def test_answers_are_the_same_on_the_torch_and_onnx_paths(seed_engine):
    from qa import QA
    from qa.runtime import prepare_exports

    prepare_exports(seed_engine)
    cfg = seed_engine.config
    # fp32 on both sides: the ONNX path's default int8 reader and int8 questions are measured against
    # fp32 in RESULTS (and by test_int8_questions_*), not here
    onnx = QA(config=type(cfg).resolve(seeds_dir=cfg.seeds_dir, index_dir=cfg.index_dir, reader_int8=False, query_int8=False))
    torch = QA(config=type(cfg).resolve(seeds_dir=cfg.seeds_dir, index_dir=cfg.index_dir, onnx=False))
    for q in _questions()[::6]:
        a, b = onnx.ask(q).to_dict(), torch.ask(q).to_dict()
        for d in (a, b):
            d.pop("timings", None)
        _same(a, b, q)


def _same(a, b, where: str) -> None:
    """Equal, floats to 1e-4 (scores carry the logits' last-digit noise)."""
    if isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1e-4, where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}: {k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


#: the HEAVY packages loaded, any of their modules counting (llama_index.core, not only llama_index)
_CHECK = ("import sys, json; print('HEAVY=' + json.dumps(sorted({{m.partition('.')[0] for m in sys.modules}}"
          " & set({heavy!r}))))")


def _heavy(out: str) -> list[str]:
    line = [x for x in out.splitlines() if x.startswith("HEAVY=")]
    assert line, out[-2000:]
    return json.loads(line[-1][len("HEAVY="):])


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_answering_imports_no_torch(seed_engine):
    from qa.runtime import prepare_exports

    prepare_exports(seed_engine)  # what `qa index` leaves behind
    seed_engine.store.wait_bm25()  # and the committed rows saved for new processes (other tests uploaded)
    seed_engine.store.save_committed_snapshot()
    index = str(seed_engine.config.index_dir)
    # a one-question process opens not even the vector store: the index saved its committed rows
    # (qa.store.snapshot_file); the server opens it (uploads write to it)
    check = _CHECK.format(heavy=HEAVY + ("chromadb",))
    api = (f"from qa import QA\na = QA(seeds_dir={str(SEEDS)!r}, index_dir={index!r}).ask('Who was sworn in as interim president?')\n"
           f"assert a.short_answer == 'Delcy Rodríguez', a.short_answer\n{check}")
    assert _heavy(_run(api)) == []
    cli = (f"import sys, runpy\nsys.argv = ['qa', '--seeds', {str(SEEDS)!r}, '--index', {index!r}, 'ask', 'Who was sworn in?', '--json']\n"
           f"try:\n    runpy.run_module('qa.cli', run_name='__main__')\nexcept SystemExit as e:\n    assert not e.code, e.code\n{check}")
    out = _run(cli)
    assert '"citations"' in out and _heavy(out) == []
    serve = (f"import httpx\nfrom qa import QA\nfrom qa.config import ServeSettings\nfrom qa.server import create_app, prepare_engine\nfrom tests.webserver import ServerThread, free_port\n"
             f"e = QA(seeds_dir={str(SEEDS)!r}, index_dir={index!r}); prepare_engine(e); port = free_port()\n"
             f"s = ServerThread(create_app(e, ServeSettings(host='127.0.0.1', port=port)), host='127.0.0.1', port=port).start()\n"
             f"r = httpx.post(s.url + 'api/ask', json={{'question': 'Who was sworn in?'}}, timeout=120)\n"
             f"assert r.status_code == 200 and r.json()['citations'], r.text\ns.stop()\n{_CHECK.format(heavy=HEAVY)}")
    assert _heavy(_run(serve)) == []


def test_a_replaced_reader_artifact_gets_a_new_export(tmp_path):
    from qa.reader.model import ARTIFACT_DIR
    from qa.runtime import cache as c
    from qa.runtime.reader import OnnxReader

    art = tmp_path / "reader"
    caches = [tmp_path / "cache", tmp_path / "shared"]
    shutil.copytree(ARTIFACT_DIR, art)
    reader = OnnxReader(str(art), cache_dirs=caches)
    first = reader.ensure_export()
    assert c.read_meta(first)["kind"] == "reader" and c.read_meta(first)["checked_max_abs_diff"] <= 1e-4
    assert OnnxReader(str(art), cache_dirs=caches).ensure_export() == first  # cached
    meta = json.loads((art / "reader.json").read_text())
    # recalibrating (reader.json's answerer block) exports nothing new: the graph is the weights
    (art / "reader.json").write_text(json.dumps(dict(meta, answerer={"settings": {"w_reader": 1.0}})))
    assert OnnxReader(str(art), cache_dirs=caches).ensure_export() == first
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(art / "adapter.safetensors"))  # new weights, same architecture: a new export
    name = sorted(weights)[0]
    save_file(dict(weights, **{name: weights[name] * 1.01}), str(art / "adapter.safetensors"))
    second = OnnxReader(str(art), cache_dirs=caches).ensure_export()
    assert second != first and second.is_dir() and not first.exists()  # rebuilt; the stale one dropped
    assert (tmp_path / "shared" / second.name).is_dir()  # shared with other indexes
