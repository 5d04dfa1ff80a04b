"""A committed state's snapshot saved beside its manifest, so a new process answers without the vector store.

``qa ask`` answers one question per process. With the index's rows in Chroma, that process paid
~0.7 s to import chromadb (and more to open its client) before the first question could be
retrieved, on a 25-chunk index whose rows are 40 kB. ``snapshot.npz`` holds the rows of the chunk and
sentence collections of one committed state (:class:`~qa.store.snapshot.VectorSnapshot`: ids,
vectors, metadata, documents), written when that state is committed (or by the first process that
finds it missing), and keyed by the manifest's :meth:`~qa.store.Manifest.digest`.

Why it cannot serve a wrong answer: it is used only while the manifest it was written for is the
one the process opened (the digest covers every document's content hash, chunk ids, the generation
and the commit time), and only when it holds exactly that manifest's chunk ids and every sentence
row they name. Anything else (another state's file, a truncated or foreign file, a read error) is
ignored, and the live collections answer as before. It is a cache: deleting it loses nothing, and
the vector store stays the source of truth. The file is written to a scratch name and renamed, so
a reader sees the old file or the new one, never half of one; no pickles are read.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.store.backend import IndexUnusable, Records
from qa.store.manifest import OWNED_PREFIXES, SNAPSHOT
from qa.store.snapshot import CommittedSnapshots, LiveCollection, SnapshotPolicy, VectorSnapshot, sentence_ids

log = logging.getLogger("qa.store")

SNAPSHOT_FILE = SNAPSHOT
#: scratch files while one is written (owned by the index: a rebuild wipes a crashed writer's)
SNAPSHOT_TMP_PREFIX = OWNED_PREFIXES[1]
FORMAT = 1


def _table(snap: VectorSnapshot) -> dict[str, Any]:
    return {"name": snap.name, "ids": list(snap.ids), "metadatas": list(snap.metadatas), "documents": list(snap.documents)}


def save_snapshots(index_dir: Path, digest: str, chunks: VectorSnapshot, sentences: VectorSnapshot | None) -> Path:
    """Write ``index_dir/snapshot.npz`` for the state of manifest ``digest`` (atomically: tmp + rename)."""
    header = {"format": FORMAT, "digest": digest, "chunks": _table(chunks),
              "sentences": _table(sentences) if sentences is not None else None}
    dim = chunks.vectors.shape[1] if chunks.vectors.ndim == 2 else 0
    arrays = {
        "digest": np.frombuffer(digest.encode(), dtype=np.uint8),
        "header": np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        "chunk_vectors": np.asarray(chunks.vectors, dtype=np.float32),
        "sentence_vectors": np.asarray(sentences.vectors if sentences is not None else np.zeros((0, dim)), dtype=np.float32),
    }
    path = index_dir / SNAPSHOT_FILE
    tmp = index_dir / f"{SNAPSHOT_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.npz"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def saved_digest(index_dir: Path) -> str:
    """The manifest digest the saved snapshot belongs to ("" when there is none or it is unreadable)."""
    try:
        with np.load(index_dir / SNAPSHOT_FILE, allow_pickle=False) as z:
            return bytes(z["digest"]).decode()
    except Exception:  # missing, truncated, foreign: not a snapshot of anything
        return ""


def _snapshot(table: dict[str, Any], vectors: np.ndarray) -> VectorSnapshot:
    n = len(table["ids"])
    if vectors.shape[0] != n or len(table["metadatas"]) != n or len(table["documents"]) != n:
        raise ValueError(f"{table['name']}: {n} ids, {vectors.shape[0]} vectors")
    rows = Records(ids=list(table["ids"]), metadatas=list(table["metadatas"]), documents=list(table["documents"]),
                   vectors=list(vectors))
    return VectorSnapshot.of(table["name"], rows, dimension=vectors.shape[1] if vectors.ndim == 2 else 0)


def load_snapshots(index_dir: Path, digest: str, committed: Sequence[str],
                   max_rows: int) -> tuple[VectorSnapshot, VectorSnapshot | None] | None:
    """The saved (chunks, sentences) of the state of manifest ``digest``, when the file is that state's
    and holds exactly its ``committed`` chunk ids and every sentence row they name (sentences None
    when there are more than ``max_rows``); else None."""
    path = index_dir / SNAPSHOT_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if bytes(z["digest"]).decode() != digest:
                return None
            header = json.loads(bytes(z["header"]).decode("utf-8"))
            if header.get("format") != FORMAT or header.get("digest") != digest:
                return None
            chunks = _snapshot(header["chunks"], z["chunk_vectors"])
            if set(chunks.ids) != set(committed) or chunks.count() != len(set(committed)):
                return None
            ids = sentence_ids(chunks)
            if ids is None or len(ids) > max_rows or header.get("sentences") is None:
                return chunks, None
            sentences = _snapshot(header["sentences"], z["sentence_vectors"])
            return (chunks, sentences) if set(sentences.ids) == set(ids) and sentences.count() == len(ids) else None
    except Exception as e:  # truncated, foreign or damaged: the live collections answer
        log.debug("saved snapshot %s not used: %s", path, e)
        return None


def save_state(store: Any, manifest: Any, chunks: VectorSnapshot, sentences: VectorSnapshot | None) -> bool:
    """Save the snapshot of ``manifest``'s state, when the saved file is not already of it (best
    effort: a cache). True when written."""
    digest = manifest.digest()
    return saved_digest(store.index_dir) != digest and _write(store, digest, chunks, sentences)


def save_committed(store: Any, policy: SnapshotPolicy | None = None) -> bool:
    """Read ``store``'s open committed state from its collections and save it (after a commit, so the
    next new process starts from it); nothing when it is saved already or kept no snapshot."""
    m = store.manifest
    digest = m.digest() if m is not None else ""
    if not digest or saved_digest(store.index_dir) == digest:
        return False
    names = m.names()
    snaps = CommittedSnapshots.for_store(store, LiveCollection(store, 0, names[0]), LiveCollection(store, 1, names[1]),
                                         replace(policy or SnapshotPolicy(), saved=False))
    got = snaps.read_rows() if snaps is not None else None
    return got is not None and _write(store, digest, *got)


def _write(store: Any, digest: str, chunks: VectorSnapshot, sentences: VectorSnapshot | None) -> bool:
    """Write the rows of the state ``digest`` while it is still ``store``'s open state (a commit may
    have come while they were read)."""
    live = store.manifest
    if live is None or live.digest() != digest:
        return False
    try:
        save_snapshots(store.index_dir, digest, chunks, sentences)
    except OSError as e:  # a full disk, a read-only folder: new processes read the vector store, as before
        log.debug("snapshot of %s not saved: %s", store.index_dir, e)
        return False
    return True


class SavedSnapshotMixin:
    """The saved snapshot of :class:`~qa.store.IndexStore`'s committed state, as its snapshots use it."""

    index_dir: Path

    def saved_snapshot(self, manifest: Any, committed: Sequence[str],
                       max_rows: int) -> tuple[VectorSnapshot, VectorSnapshot | None] | None:
        """The saved rows of ``manifest``'s state (:func:`load_snapshots`), or None."""
        return load_snapshots(self.index_dir, manifest.digest(), committed, max_rows)

    def has_saved_snapshot(self, manifest: Any) -> bool:
        """A saved snapshot names ``manifest``'s state (read only its digest; the rows are checked when loaded)."""
        return saved_digest(self.index_dir) == manifest.digest()

    def save_snapshot(self, manifest: Any, chunks: VectorSnapshot, sentences: VectorSnapshot | None) -> bool:
        """Save a snapshot of ``manifest``'s state for new processes, if it is the open state (:func:`save_state`)."""
        return save_state(self, manifest, chunks, sentences)

    def save_committed_snapshot(self) -> bool:
        """Save the open committed state for new processes, read from the collections (:func:`save_committed`;
        after a commit, and after an upload's background BM25 rebuild); a failure is logged, never raised."""
        try:
            return save_committed(self)
        except IndexUnusable:  # a store that cannot be read: that is what to report, not the cache
            raise
        except Exception as e:  # a cache: the committed index is complete without it
            log.warning("snapshot of the index not saved (%s: %s)", type(e).__name__, e)
            return False
