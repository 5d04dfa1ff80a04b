"""Where exported ONNX models live, and how they are keyed: no torch, no transformers here.

An export is a folder ``<cache>/<kind>-<key>/`` holding ``model.onnx``, the ``tokenizer.json`` it
was exported with and ``export.json`` (what it was made from, when, with which exporter, and the
check against torch made right after export). ``<cache>`` is ``<index_dir>/.onnx`` (hidden, so a
fresh index folder holding only exports is still an empty qa index, and ``qa index --rebuild`` never
deletes it); a copy goes to a per-user cache (:func:`shared_cache`, hard links where possible) where
other indexes look before exporting again. ``key`` is the SHA-256 of the source model's *contents* (every weight and tokenizer
file, plus the export recipe's version), so a replaced reader artifact or model gets a new export
and a stale one is never used.

Hashing 90 MB on every start would cost a fifth of the cold-start budget, so a file's hash is
remembered in the shared cache's ``hashes.json`` under its path, size, mtime and inode: a file replaced in any
way (a new artifact copied over, ``os.replace``) is hashed again.

A folder appears whole or not at all: it is written under a temporary name and renamed; two
processes exporting at once each write their own and the second rename loses harmlessly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

#: bump when the exported graph changes (inputs, outputs, pooling, fusions), so old exports are rebuilt
#: (2 was the reader fused by ONNX Runtime's transformer optimizer, reverted: see RESULTS)
#: (4: the softmax NaN guards dropped, same values: :func:`qa.runtime.export._drop_nan_guards`)
RECIPE_VERSION = 4
CACHE_DIRNAME = ".onnx"
MODEL_FILE = "model.onnx"
#: an export's dynamic int8 twin (per-channel int8 weights), made beside ``model.onnx`` on first use
INT8_MODEL_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_META = "export.json"
_HASHES = "hashes.json"
_lock = threading.Lock()


def cache_dir_for(index_dir: str | Path) -> Path:
    return Path(index_dir) / CACHE_DIRNAME


def _stat_key(p: Path) -> str:
    st = p.stat()
    return f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"


def _load_hashes(cache: Path) -> dict[str, str]:
    try:
        data = json.loads((cache / _HASHES).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def file_sha256(p: Path, memo_dir: Path | None = None) -> str:
    """SHA-256 of ``p``'s bytes, remembered in ``memo_dir`` (default: the shared cache) by path,
    size, mtime and inode."""
    memo_dir = memo_dir or shared_cache()
    key = _stat_key(p)
    memo = _load_hashes(memo_dir)
    if key in memo:
        return memo[key]
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _lock:
        prefix = key.split("|", 1)[0] + "|"
        memo = {k: v for k, v in _load_hashes(memo_dir).items() if not k.startswith(prefix)}
        memo[key] = digest
        try:
            _write_json(memo_dir / _HASHES, memo)
        except OSError:  # a read-only cache: hash again next time
            pass
    return digest


def content_key(files: Iterable[Path], extra: str = "", memo_dir: Path | None = None) -> str:
    """One key for a set of files (their names and contents) plus ``extra`` (the recipe)."""
    h = hashlib.sha256(f"recipe {RECIPE_VERSION}|{extra}".encode())
    for p in sorted(Path(f) for f in files):
        h.update(f"|{p.name}:{file_sha256(p, memo_dir)}".encode())
    return h.hexdigest()[:20]


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (MODEL_FILE, TOKENIZER_FILE, EXPORT_META))


def shared_cache() -> Path:
    """A cache shared by every index of this user (``QA_ONNX_CACHE``, default ``~/.cache/qa/onnx``):
    a new index, an evaluation index or a test's temporary one finds the exports there instead of
    exporting again."""
    env = os.environ.get("QA_ONNX_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qa" / "onnx"


def find_export(kind: str, key: str, caches: Iterable[Path]) -> Path | None:
    """The first complete ``<kind>-<key>`` folder among ``caches``, used where it is."""
    for cache in caches:
        folder = Path(cache) / f"{kind}-{key}"
        if is_complete(folder):
            return folder
    return None


def share(folder: Path, cache: Path) -> Path | None:
    """Put a copy of the export ``folder`` into ``cache`` (hard links where the file system allows);
    best effort: None when it cannot be written."""
    if folder.parent.resolve() == cache.resolve() or is_complete(cache / folder.name):
        return cache / folder.name
    try:
        return publish(cache, folder.name, lambda tmp: _link_tree(folder, tmp))
    except OSError:
        return None


def _link_tree(src: Path, dst: Path) -> None:
    for p in src.iterdir():
        try:
            os.link(p, dst / p.name)
        except OSError:
            shutil.copy2(p, dst / p.name)


def publish(cache: Path, name: str, write) -> Path:
    """Run ``write(tmp_folder)`` and rename the folder to ``cache/name``; returns the final folder.

    If another process published the same name meanwhile, its folder stands and ours is dropped."""
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / name
    tmp = cache / f".tmp-{name}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not is_complete(final):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_meta(folder: Path) -> dict:
    return json.loads((folder / EXPORT_META).read_text(encoding="utf-8"))


def write_meta(folder: Path, meta: dict) -> None:
    _write_json(folder / EXPORT_META, meta)


def int8_twin(folder: Path) -> Path:
    """The export's dynamic int8 twin (per-channel int8 weights), made once beside its fp32 graph;
    the fp32 graph when the folder cannot be written.

    Dynamic int8 scales each activation tensor by its maximum over the whole batch, so whoever runs
    the twin must run one input per pass for results that do not depend on what else was in it."""
    import logging

    target = folder / INT8_MODEL_FILE
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = folder / f"{INT8_MODEL_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic advises "pre-processing" on the root logger each time
    try:
        quantize_dynamic(str(folder / MODEL_FILE), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, target)
    except OSError as e:
        logging.getLogger(__name__).warning("cannot write an int8 model beside %s (%s): using fp32", folder, e)
        return folder / MODEL_FILE
    finally:
        root.setLevel(level)
        tmp.unlink(missing_ok=True)
    return target
