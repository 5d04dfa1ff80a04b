"""What ran, for the report: the answerer, the reader (artifact, format, training steps), the refusal
threshold, all read from the engine that answered (never from defaults), and the git commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: reader.json keys copied into the report (report key, reader.json key)
_READER_KEYS = (("reader_format", "format"), ("reader_steps", "steps"), ("reader_finetune", "finetune"),
                ("reader_trained_at", "trained_at"), ("reader_base_model", "base_model"))


def git_commit(root: str | Path | None = None) -> tuple[str, bool | None]:
    """(``git rev-parse --short HEAD`` of the project, whether tracked files have uncommitted
    changes); ("unknown", None) without git or outside a repository."""
    import subprocess

    if root is None:
        from qa.config import project_root

        root = project_root()
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown", None
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=30)
        return head.stdout.strip(), (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def _reader_meta(reader: Any, art: Any) -> dict[str, Any]:
    """The reader's reader.json: what the loaded reader holds, else the artifact's file."""
    meta: dict[str, Any] = dict(getattr(reader, "meta", None) or {})
    if not meta:
        try:
            meta = json.loads((Path(art) / "reader.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
    return meta


def describe_reader(reader: Any) -> dict[str, Any]:
    """Which reader: its spec, the class that runs it (ONNX or torch), its artifact folder, and from
    the artifact's reader.json the format, training steps, fine-tuning, date, training file and base."""
    out: dict[str, Any] = {"reader": str(getattr(reader, "spec", type(reader).__name__)), "reader_runtime": type(reader).__name__}
    try:
        art = reader.artifact_dir() if hasattr(reader, "artifact_dir") else None
    except Exception:  # noqa: BLE001 - a report must not fail on a reader's metadata
        art = None
    if art is not None:
        out["reader_artifact"] = str(art)
        meta = _reader_meta(reader, art)
        training_file = (meta.get("training_data") or {}).get("file")
        for key, source in _READER_KEYS:
            if meta.get(source) not in (None, ""):
                out[key] = meta[source]
        if training_file:
            out["reader_training_file"] = training_file
    if getattr(reader, "quantize", None) is not None:
        out["reader_int8"] = bool(reader.quantize)
    return out


def describe_answerer(answerer: Any) -> dict[str, Any]:
    """Which answerer and reader ran, and the refusal threshold the answerer object actually uses.

    >>> from qa.answer import ExtractiveAnswerer
    >>> describe_answerer(ExtractiveAnswerer(refusal_threshold=0.3))
    {'answerer': 'ExtractiveAnswerer', 'reader': 'rules', 'refusal_threshold': 0.3}
    """
    out: dict[str, Any] = {"answerer": type(answerer).__name__}
    reader = getattr(answerer, "reader", None)
    out.update({"reader": "rules"} if reader is None else describe_reader(reader))
    threshold = getattr(answerer, "refusal_threshold", None)
    out["refusal_threshold"] = float(threshold) if isinstance(threshold, (int, float)) else threshold
    if callable(getattr(answerer, "describe", None)):  # e.g. the LLM answerer: model, endpoint, support threshold
        out.update(answerer.describe())
    return out


def engine_meta(engine: Any) -> dict[str, Any]:
    """The index, collection and model of ``engine``, its answerer (:func:`describe_answerer`) and
    the commit; the threshold is None where the engine has no answerer object to read it from."""
    cfg = getattr(engine, "config", None)
    emb = getattr(engine, "embedder", None)
    meta: dict[str, Any] = {}
    if cfg is not None:
        meta.update(index_dir=str(cfg.index_dir), collection=cfg.collection, model=getattr(emb, "name", cfg.model))
    answerer = getattr(engine, "answerer", None)
    if answerer is not None:
        meta.update(describe_answerer(answerer))
    elif cfg is not None:
        meta["refusal_threshold"] = None  # not known: no answerer object to read it from
    meta["git_commit"], meta["git_dirty"] = git_commit()
    return meta
