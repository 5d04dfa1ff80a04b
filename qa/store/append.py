"""Adding documents in place: the live generation grows, guarded by an append intent (``append.json``).

Copying every vector of a large collection per upload is what made one upload cost minutes, so a
sync whose only change is *added* documents (and :meth:`AppendMixin.commit_append`, the upload path)
writes no generation. Under the writer lock it writes ``append.json`` (the generation and the chunk
ids about to be added, fsynced), adds the new rows to the live collections batch by batch, then
commits by renaming a new manifest (same generation, the new documents listed) over
``manifest.json`` and removes the intent. Readers only ever return chunks of documents listed in
the manifest they opened, so rows added but not committed are never answered from. Recovery
(:meth:`AppendMixin._recover_append`): an intent whose documents are not in the committed manifest
has its rows deleted; one whose documents are is simply removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.ingest import Chunk, embedding_text
from qa.store import generations, records
from qa.store.backend import VectorCollection
from qa.store.manifest import (
    MANIFEST,
    MANIFEST_FORMAT,
    AppendRefused,
    Manifest,
    PreparedAppend,
    Progress,
    SyncReport,
    document_entry,
    fsync_dir,
    write_batch_chunks,
    write_json_durably,
)
from qa.types import Document

log = logging.getLogger("qa.store")

#: chunk id -> (chunk vector, sentence vectors)
Vectors = dict[str, tuple[np.ndarray, np.ndarray]]


def _check_ids(documents: Sequence[Document]) -> None:
    seen: set[str] = set()
    for d in documents:
        if d.doc_id in seen:
            raise ValueError(f"duplicate document id: {d.doc_id!r}")
        seen.add(d.doc_id)


class AppendMixin:
    """The append path of :class:`~qa.store.index.IndexStore` (which provides the rest)."""

    index_dir: Path
    manifest: Manifest | None
    embedder: Any
    _lock: threading.RLock
    _bm25_scratch: Path | None

    @staticmethod
    def _only_added(documents: Sequence[Document], base: dict[str, dict[str, Any]]) -> list[Document]:
        """The added documents when nothing was removed or edited (else [], and [] when nothing was added)."""
        _check_ids(documents)
        added: list[Document] = []
        for d in documents:
            was = base.get(d.doc_id)
            if was is None:
                added.append(d)
            elif was["sha256"] != d.sha256:
                return []
        if len(documents) - len(added) != len(base):  # some indexed document is gone
            return []
        return added

    def _append_refusal(self, m: Manifest | None, source: str) -> str:
        """Why documents cannot be added in place to the index ``m`` ("" when they can)."""
        if m is None:
            return f"no index at {self.index_dir} yet"
        if not m.generation:
            return "an index written by an earlier version (the next full sync moves it to generations)"
        why = self._mismatch(m)
        if why:
            return why
        if m.source != source:
            return "the index holds documents of another source"
        return ""

    def _embed_chunks(self, chunks: Sequence[Chunk], progress: Callable[[float], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk vectors, sentence vectors in chunk order) of ``chunks``; ``progress`` gets the share done (0..1)."""
        texts = [embedding_text(c) for c in chunks] + [s.text for c in chunks for s in c.sentences]
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None and texts:
                progress(min(1.0, done / len(texts)))

        vecs = self.embedder.embed_texts(texts, step) if progress is not None else self.embedder.embed_texts(texts)
        return vecs[: len(chunks)], vecs[len(chunks) :]

    def _embed_batch(self, batch: Sequence[Chunk], start: int, total: int, progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_embed_chunks` of one batch, reporting (passages done, total) as it goes."""
        def share(x: float) -> None:
            if progress:
                progress(min(total, start + int(len(batch) * x)), total)

        return self._embed_chunks(batch, share if progress else None)

    def prepare_append(self, documents: Sequence[Document], progress: Progress | None = None, source: str = "") -> PreparedAppend:
        """Chunk and embed ``documents`` for :meth:`commit_append`, holding no lock and writing nothing.

        This is where an upload spends its time (embedding its own chunks and sentences), so other
        uploads, questions and syncs go on meanwhile. ``progress`` gets (passages embedded, passages).
        Raises :class:`AppendRefused` when the documents cannot be added in place (use :meth:`sync`),
        ``ValueError`` for a duplicate id.
        """
        live = self.load_manifest()
        why = self._append_refusal(live, source)
        if why:
            raise AppendRefused(why)
        assert live is not None
        _check_ids(documents)
        todo: list[Document] = []
        present: list[str] = []
        for d in documents:
            was = live.documents.get(d.doc_id)
            if was is None:
                todo.append(d)
            elif was["sha256"] == d.sha256:
                present.append(d.doc_id)
            else:
                raise AppendRefused(f"{d.doc_id} is already indexed with other content")
        chunks = {d.doc_id: self.chunk(d) for d in todo}
        vectors = self._embed_all([c for cs in chunks.values() for c in cs], progress)
        return PreparedAppend(documents=todo, chunks=chunks, vectors=vectors, source=source, present=tuple(present))

    def _embed_all(self, flat: Sequence[Chunk], progress: Progress | None) -> Vectors:
        """chunk id -> (chunk vector, its sentence vectors) of ``flat``, in batches; ``progress`` gets
        (passages embedded, passages) from (0, n) to (n, n)."""
        total = len(flat)
        if progress:
            progress(0, total)
        step = write_batch_chunks()
        vectors: Vectors = {}
        for i in range(0, total, step):
            batch = flat[i : i + step]
            chunk_vecs, sent_vecs = self._embed_batch(batch, i, total, progress)
            k = 0
            for c, v in zip(batch, chunk_vecs):
                vectors[c.chunk_id] = (v, sent_vecs[k : k + len(c.sentences)])
                k += len(c.sentences)
            if progress:
                progress(i + len(batch), total)
        return vectors

    def commit_append(self, prepared: PreparedAppend, progress: Progress | None = None) -> SyncReport:
        """Add what :meth:`prepare_append` embedded to the live generation and commit it (crash-safe).

        Takes the writer lock for the writes only. Documents that another writer committed meanwhile
        with the same content are skipped. Raises :class:`AppendRefused` when the index changed
        meanwhile so that the documents cannot be added in place (another model, a document indexed
        with other content).
        """
        t0 = time.perf_counter()
        self._check_folder()
        with self._lock, self._writer.hold():
            live = self.load_manifest()
            why = self._append_refusal(live, prepared.source)
            if why:
                raise AppendRefused(why)
            assert live is not None
            self.cleanup(live)
            items = []
            for d in prepared.documents:
                was = live.documents.get(d.doc_id)
                if was is None:
                    items.append((d, prepared.chunks[d.doc_id]))
                elif was["sha256"] != d.sha256:
                    raise AppendRefused(f"{d.doc_id} was indexed meanwhile with other content")
            if not items:
                self._open_collections(live)
                self.manifest = live
                return SyncReport(unchanged=tuple(live.documents), seconds=time.perf_counter() - t0)
            return self._append(live, items, progress, prepared.vectors, t0)

    def _append(self, live: Manifest, items: list[tuple[Document, list[Chunk]]], progress: Progress | None,
                vectors: Vectors | None, t0: float) -> SyncReport:
        """Add ``items`` to ``live``'s collections and commit (the store lock and the writer lock are held).

        ``vectors`` were embedded beforehand; without them each batch is embedded here.
        """
        flat = [c for _, cs in items for c in cs]
        intent = {
            "format": 1, "index_id": live.index_id, "generation": live.generation, "pid": os.getpid(),
            "documents": [d.doc_id for d, _ in items], "chunks": [[c.chunk_id, len(c.sentences)] for c in flat],
        }
        self._open_collections(live)
        cols = (self._chunks, self._sentences)
        assert cols[0] is not None and cols[1] is not None
        write_json_durably(self.append_path, intent)  # first: from here on a crash is undone by name
        scratch: Path | None = None
        try:
            generations.checkpoint("append-intent")
            self._add_rows(cols[0], cols[1], flat, progress, vectors)
            documents = dict(live.documents) | {d.doc_id: document_entry(d, cs) for d, cs in items}
            new = replace(live, documents=documents, format=MANIFEST_FORMAT)
            scratch = self._reserve_bm25_scratch()  # before the commit: other processes see a builder at once
            tmp = new.write_tmp(self.manifest_path)
            generations.checkpoint("append-switch")
            os.replace(tmp, self.manifest_path)  # the commit point
        except Exception:  # an ordinary error: take the uncommitted vectors out again now
            with contextlib.suppress(Exception):
                records.delete_vectors(cols[0], cols[1], [(c.chunk_id, len(c.sentences)) for c in flat])
                self.append_path.unlink(missing_ok=True)
                (self.index_dir / (MANIFEST + ".tmp")).unlink(missing_ok=True)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        fsync_dir(self.index_dir)
        generations.checkpoint("append-committed")
        self._after_append(new, scratch)
        return SyncReport(
            added=tuple(d.doc_id for d, _ in items), unchanged=tuple(live.documents), chunks_added=len(flat), appended=True,
            seconds=time.perf_counter() - t0,
        )

    def _add_rows(self, chunks_col: VectorCollection, sents_col: VectorCollection, flat: list[Chunk],
                  progress: Progress | None, vectors: Vectors | None) -> None:
        """Add ``flat`` batch by batch, embedding each batch unless ``vectors`` has it."""
        total = len(flat)
        if progress:
            progress(0, total)
        step = write_batch_chunks()
        for i in range(0, total, step):
            batch = flat[i : i + step]
            if vectors is not None:
                chunk_vecs = np.stack([vectors[c.chunk_id][0] for c in batch])
                parts = [vectors[c.chunk_id][1] for c in batch]
                sent_vecs = np.concatenate(parts) if parts else np.zeros((0, chunk_vecs.shape[1]), np.float32)
            else:
                chunk_vecs, sent_vecs = self._embed_batch(batch, i, total, progress)
            records.add_vectors(chunks_col, sents_col, batch, chunk_vecs, sent_vecs)
            if progress:
                progress(i + len(batch), total)
            generations.checkpoint("append-embed")

    def _after_append(self, new: Manifest, scratch: Path | None) -> None:
        """After the commit: remove the intent, adopt the manifest, rebuild BM25 in the background."""
        self.append_path.unlink(missing_ok=True)
        fsync_dir(self.index_dir)
        self.manifest = new
        if scratch is not None:
            if self._bm25_scratch is not None:
                shutil.rmtree(self._bm25_scratch, ignore_errors=True)
            self._bm25_scratch = scratch
        self._schedule_bm25()  # the BM25 in memory (a subset) answers until the new one is installed

    def _recover_append(self, live: Manifest | None, finishing: bool = False) -> list[str]:
        """Finish or undo an append that a dead process left (``append.json``); the writer lock is held.

        Documents of the intent that the committed manifest lists were committed: kept. The chunks and
        sentences of the others were never committed: deleted from the live collections. Returns the
        deleted chunk ids.
        """
        path = self.append_path
        if not path.exists():
            return []
        try:
            intent = json.loads(path.read_text(encoding="utf-8"))
            docs, chunks = list(intent["documents"]), [(str(c), int(n)) for c, n in intent["chunks"]]
        except (ValueError, TypeError, KeyError, OSError) as e:  # written by rename: only outside damage does this
            log.warning("ignoring unreadable append intent %s (%s)", path, e)
            path.unlink(missing_ok=True)
            return []
        orphans: list[tuple[str, int]] = []
        if live is not None and live.generation and (intent.get("index_id"), intent.get("generation")) == (live.index_id, live.generation):
            committed = {cid for d in docs if d in live.documents for cid in live.documents[d]["chunks"]}
            orphans = [(cid, n) for cid, n in chunks if cid not in committed]
        if orphans:
            assert live is not None
            # ``finishing``: a committed delete or replace deleting its old rows (qa.store.change), no accident
            (log.info if finishing else log.warning)(
                "removing %d chunk(s) of %s (%s) from the live collections", len(orphans),
                "a committed change" if finishing else "an interrupted append", ", ".join(docs)[:200])
            ch_name, se_name = live.names()
            records.delete_vectors(self.backend.open(ch_name), self.backend.open(se_name), orphans)
        path.unlink(missing_ok=True)
        fsync_dir(self.index_dir)
        return [cid for cid, _ in orphans]
