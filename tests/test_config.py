"""Configuration: defaults, QA_* environment variables, explicit overrides, validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from qa.config import PACKAGED_MODEL, Config, project_root
from qa.ingest import CHUNKER_VERSION

ROOT = Path(__file__).resolve().parents[1]
FIELDS = [f.name for f in dataclasses.fields(Config)]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No QA_* variable from the caller's shell leaks into these tests."""
    for name in FIELDS:
        monkeypatch.delenv("QA_" + name.upper(), raising=False)


def test_project_root_is_the_checkout():
    assert project_root() == ROOT
    assert (project_root() / "seeds").is_dir()


def test_defaults_point_at_repo_seeds_and_index():
    cfg = Config.resolve()
    assert cfg.seeds_dir == ROOT / "seeds"
    assert cfg.documents_dir == ROOT / "documents"  # uploads: git-ignored, never the shipped seeds
    assert "/documents/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert cfg.index_dir == ROOT / "index"
    assert cfg.seeds_dir.is_absolute() and cfg.index_dir.is_absolute()
    assert cfg.model == PACKAGED_MODEL
    assert cfg.top_k == 5 and cfg.chunk_words == 110 and cfg.chunk_overlap == 0
    # calibrated on the gold set: the README's configuration table must state the value in force
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| refusal_threshold | `QA_REFUSAL_THRESHOLD` | {cfg.refusal_threshold} |" in readme
    assert f"| reader_refusal_threshold | `QA_READER_REFUSAL_THRESHOLD` | {cfg.reader_refusal_threshold} |" in readme
    # None: the packaged reader's own calibrated threshold for the default precision, which the README states
    meta = json.loads((ROOT / "qa" / "reader" / "artifact" / "reader.json").read_text())
    calibrated = meta["answerer_int8" if cfg.reader_int8 else "answerer"]["settings"]
    assert f"(packaged reader: {calibrated['refusal_threshold']}" in readme
    assert cfg.reader == "packaged" and f"| reader | `QA_READER` | `{cfg.reader}` |" in readme


def test_env_overrides_are_coerced(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_TOP_K", "7")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("QA_REFUSAL_THRESHOLD", "0.55")
    monkeypatch.setenv("QA_MODEL", "sentence-transformers/other")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "1")
    cfg = Config.resolve()
    assert cfg.top_k == 7 and type(cfg.top_k) is int
    assert cfg.index_dir == tmp_path / "idx" and isinstance(cfg.index_dir, Path)
    assert cfg.refusal_threshold == 0.55 and type(cfg.refusal_threshold) is float
    assert cfg.model == "sentence-transformers/other"
    assert cfg.chunk_overlap == 1
    assert cfg.seeds_dir == ROOT / "seeds"  # untouched fields keep their defaults


def test_env_path_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QA_SEEDS_DIR", "~/docs")
    assert Config.resolve().seeds_dir == tmp_path / "docs"


def test_empty_env_variable_is_ignored(monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "")
    monkeypatch.setenv("QA_INDEX_DIR", "")
    cfg = Config.resolve()
    assert cfg.top_k == 5 and cfg.index_dir == ROOT / "index"


def test_explicit_overrides_beat_env(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_TOP_K", "7")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "env-index"))
    cfg = Config.resolve(top_k=3, index_dir=tmp_path / "arg-index")
    assert cfg.top_k == 3
    assert cfg.index_dir == tmp_path / "arg-index"


def test_string_overrides_are_coerced(tmp_path):
    cfg = Config.resolve(top_k="4", index_dir=str(tmp_path), refusal_threshold="0.3")
    assert cfg.top_k == 4 and type(cfg.top_k) is int
    assert cfg.index_dir == tmp_path and isinstance(cfg.index_dir, Path)
    assert cfg.refusal_threshold == 0.3


def test_none_overrides_are_ignored(monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "7")
    cfg = Config.resolve(top_k=None, index_dir=None, model=None)
    assert cfg.top_k == 7
    assert cfg.index_dir == ROOT / "index"
    assert cfg.model == PACKAGED_MODEL


def test_unknown_key_raises_type_error():
    with pytest.raises(TypeError, match="top_kk"):
        Config.resolve(top_kk=3)


@pytest.mark.parametrize(
    "env,value",
    [("QA_TOP_K", "abc"), ("QA_CHUNK_WORDS", "1.5"), ("QA_REFUSAL_THRESHOLD", "high"), ("QA_TOP_K", "0"),
     ("QA_TOP_K", "1000")],  # 1000 was taken, while --top-k stops at 100
)
def test_bad_env_values_raise_value_error_naming_the_field_and_its_variable(monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    field = env[3:].lower()
    with pytest.raises(ValueError, match=rf"{field} \({env}\)"):
        Config.resolve()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"top_k": 0}, "top_k"),
        ({"top_k": -3}, "top_k"),
        ({"chunk_words": 5}, "chunk_words"),
        ({"chunk_overlap": -1}, "chunk_overlap"),
        ({"max_question_chars": 3}, "max_question_chars"),
        ({"top_k": "abc"}, "top_k"),
    ],
)
def test_bad_override_values_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        Config.resolve(**overrides)


def test_boundary_values_are_accepted():
    cfg = Config.resolve(top_k=1, chunk_words=10, chunk_overlap=0, max_question_chars=10)
    assert (cfg.top_k, cfg.chunk_words, cfg.chunk_overlap, cfg.max_question_chars) == (1, 10, 0, 10)


def test_config_is_frozen():
    cfg = Config.resolve()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.top_k = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.index_dir = Path("/elsewhere")  # type: ignore[misc]
    assert cfg.top_k == 5


def test_resolve_returns_equal_configs_for_equal_inputs():
    assert Config.resolve(top_k=3) == Config.resolve(top_k=3)
    assert Config.resolve(top_k=3) != Config.resolve(top_k=4)


def test_chunking_settings():
    cfg = Config.resolve(chunk_words=80, chunk_overlap=2)
    ch = cfg.chunking()
    assert ch == {"chunk_words": 80, "chunk_overlap": 2, "version": CHUNKER_VERSION}
    assert Config.resolve().chunking() != ch
    # settings that do not change chunk boundaries are not part of it
    assert Config.resolve(top_k=9).chunking() == Config.resolve().chunking()


def test_documents_dir_comes_from_env_or_override(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_DOCUMENTS_DIR", str(tmp_path / "mine"))
    assert Config.resolve().documents_dir == tmp_path / "mine"
    assert Config.resolve(documents_dir=tmp_path / "other").documents_dir == tmp_path / "other"


def test_server_settings_read_the_environment_the_same_way(monkeypatch):
    """One reader of QA_* variables: an empty one is unset, for the engine and the server alike."""
    from qa.config import ServeSettings, env

    for name in ("QA_HOST", "QA_PORT", "QA_AUTH", "QA_MAX_UPLOAD_BYTES", "QA_MAX_BODY_BYTES", "QA_KEEP_ALIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QA_PORT", "")
    assert env("port") is None and ServeSettings.resolve().port == 7860
    monkeypatch.setenv("QA_PORT", "8123")
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    s = ServeSettings.resolve(port=9000)
    assert (s.host, s.port) == ("0.0.0.0", 9000)  # a flag beats its variable
    monkeypatch.setenv("QA_PORT", "99999")
    with pytest.raises(ValueError, match="out of range"):
        ServeSettings.resolve()


@pytest.mark.parametrize("given", [True, 2.5, [3], b"3"])
def test_a_number_setting_given_in_python_must_be_a_number(given):
    """``QA(top_k=True)`` read one passage and ``top_k=2.5`` two, silently."""
    with pytest.raises(ValueError, match=r"config top_k must be an integer"):
        Config.resolve(top_k=given)
    with pytest.raises(ValueError, match=r"config chunk_words must be an integer"):
        Config.resolve(chunk_words=given)


def test_whole_floats_and_numeric_text_are_numbers():
    assert Config.resolve(top_k=3.0).top_k == 3 and Config.resolve(top_k="3").top_k == 3
    assert Config.resolve(llm_timeout=5).llm_timeout == 5.0
    with pytest.raises(ValueError, match="llm_timeout must be a number"):
        Config.resolve(llm_timeout=True)


def test_the_rules_threshold_set_with_the_reader_says_which_one_applies(monkeypatch, caplog):
    """An evaluator set QA_REFUSAL_THRESHOLD=100 and got the default run's figures: the reader
    refuses under QA_READER_REFUSAL_THRESHOLD, on another scale. Now it says so."""
    import logging

    from qa import answerers
    from qa.reader import loader

    class Calibrated:
        def answerer_settings(self):
            return {"refusal_threshold": 6.25}

    monkeypatch.setattr(loader, "load_reader", lambda *a, **k: Calibrated())
    with caplog.at_level(logging.WARNING, logger="qa.answerers"):
        kept = answerers.extractive_answerer(Config.resolve(refusal_threshold=100))
    assert kept.refusal_threshold == 6.25
    assert "QA_REFUSAL_THRESHOLD" in caplog.text and "QA_READER_REFUSAL_THRESHOLD" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="qa.answerers"):
        assert answerers.extractive_answerer(Config.resolve(reader_refusal_threshold=3.0)).refusal_threshold == 3.0
    assert caplog.text == ""
