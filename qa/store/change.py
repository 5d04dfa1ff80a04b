"""Deleting and replacing documents in place: the live generation changes, guarded by the append intent.

A delete must not cost a new generation (copying every vector of the collection), so it reuses the
append protocol (:mod:`qa.store.append`) and its recovery unchanged. Under the writer lock,
:meth:`ChangeMixin.commit_change` writes ``append.json`` naming the documents concerned and every
chunk row it will add *or* remove (with its sentence count), adds the rows of new content, renames
a manifest that no longer lists the deleted documents (and lists replaced ones with their new
chunks) over ``manifest.json`` (the commit point), then deletes the rows of the old content and
removes the intent.

Why the append recovery is right for this too: it deletes every row the intent names that the
committed manifest does not list under the intent's documents. Before the commit the manifest
still lists the old chunks: the rows of new content are deleted, the old ones stay (the change never
happened). After it, the manifest lists only the new chunks: the old rows are deleted (the change is
finished). Readers only return chunks of the manifest they opened, so rows not yet deleted are never
answered from; BM25 is rebuilt in the background as after an append (the retriever filters what the
previous one still holds by the committed chunk ids).

A replaced document keeps the rows of chunks whose id (a hash of document id, offset and text) is
unchanged: they are neither added nor deleted, so the intent never names them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from qa.ingest import Chunk
from qa.store import generations, records
from qa.store.append import Vectors, _check_ids
from qa.store.backend import VectorCollection
from qa.store.manifest import (
    MANIFEST, MANIFEST_FORMAT, AppendRefused, Manifest, PreparedAppend, Progress, SyncReport, document_entry,
    fsync_dir, write_json_durably,
)
from qa.types import Document

log = logging.getLogger("qa.store")


class UnknownDocument(KeyError):
    """A document id the index does not list."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is read by people
        return str(self.args[0]) if self.args else ""


def sentence_counts(sentences: VectorCollection, doc_id: str) -> dict[str, int]:
    """chunk id -> number of sentence rows of ``doc_id`` (read from the rows: the manifest lists chunks only)."""
    got = sentences.get(where={"doc_id": doc_id})
    counts: dict[str, int] = {}
    for sid in got.ids:
        cid, _, i = sid.rpartition(":")
        counts[cid] = max(counts.get(cid, 0), int(i) + 1)
    return counts


class ReaderGate:
    """Questions in flight, by the epoch they started in: a change waits for those that began before
    it committed (never for later ones, so a busy server cannot starve it) before deleting old rows."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._epoch = 0
        self._active: dict[int, int] = {}

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            epoch = self._epoch
            self._active[epoch] = self._active.get(epoch, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._active[epoch] -= 1
                if not self._active[epoch]:
                    del self._active[epoch]
                self._cond.notify_all()

    def wait_for_earlier(self, timeout: float = 30.0) -> bool:
        """Wait until every reading that started before this call has ended (False: timed out)."""
        with self._cond:
            self._epoch += 1
            mark = self._epoch
            return self._cond.wait_for(lambda: not any(e < mark for e in self._active), timeout)


class ChangeMixin:
    """Delete and replace of :class:`~qa.store.index.IndexStore` (which provides the rest)."""

    index_dir: Path
    manifest: Manifest | None
    _lock: threading.RLock
    _chunks: VectorCollection | None
    _sentences: VectorCollection | None

    def prepare_change(self, documents: Sequence[Document], progress: Progress | None = None, source: str = "") -> PreparedAppend:
        """Chunk and embed ``documents`` (new ones or new contents of indexed ones) for :meth:`commit_change`,
        holding no lock. Only chunks the indexed version lacks are embedded; an identical document is ``present``."""
        live = self.load_manifest()  # type: ignore[attr-defined]
        why = self._append_refusal(live, source)  # type: ignore[attr-defined]
        if why:
            raise AppendRefused(why)
        assert live is not None
        _check_ids(documents)
        todo = [d for d in documents if live.documents.get(d.doc_id, {}).get("sha256") != d.sha256]
        present = tuple(d.doc_id for d in documents if live.documents.get(d.doc_id, {}).get("sha256") == d.sha256)
        chunks = {d.doc_id: self.chunk(d) for d in todo}  # type: ignore[attr-defined]
        kept = {cid for d in todo for cid in live.documents.get(d.doc_id, {}).get("chunks", ())}
        flat = [c for cs in chunks.values() for c in cs if c.chunk_id not in kept]
        vectors: Vectors = self._embed_all(flat, progress)  # type: ignore[attr-defined]
        return PreparedAppend(documents=todo, chunks=chunks, vectors=vectors, source=source, present=present)

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Wrap a question's reads (the engine's retrieval): :meth:`finish_change` waits for them."""
        gate = self.__dict__.setdefault("_reader_gate", ReaderGate())
        return gate.reading()

    def finish_change(self, timeout: float = 30.0) -> list[str]:
        """After ``commit_change(..., purge=False)`` and once this process answers from the new manifest:
        wait for the questions that started before (at most ``timeout`` s), then delete the old rows
        and remove the intent (what the next writer's recovery would do). Returns the deleted chunk ids."""
        gate = self.__dict__.setdefault("_reader_gate", ReaderGate())
        if not gate.wait_for_earlier(timeout):
            log.warning("questions still under way after %.0fs; deleting the old rows anyway", timeout)
        with self._lock, self._writer.hold():  # type: ignore[attr-defined]
            return self._recover_append(self.load_manifest(), finishing=True)  # type: ignore[attr-defined]

    def remove_documents(self, doc_ids: Sequence[str], purge: bool = True) -> SyncReport:
        """Delete ``doc_ids`` (their chunks, sentence vectors and, in the background, BM25 entries); crash-safe.

        Raises :class:`UnknownDocument` for an id the index does not list (nothing changes then).
        ``purge``: see :meth:`commit_change`.
        """
        return self.commit_change(None, doc_ids, purge)

    def commit_change(self, prepared: PreparedAppend | None, removed: Sequence[str] = (), purge: bool = True) -> SyncReport:
        """Commit ``prepared`` (added or replaced documents) and the removal of ``removed`` as one change.

        Takes the writer lock for the writes only. Raises :class:`AppendRefused` when the index cannot
        be changed in place (none yet, another model, chunking or source): a full sync is the way.
        With ``purge=False`` the old rows stay (never answered: the manifest no longer lists them) until
        :meth:`finish_change`: a question already under way in this process may still be reading
        them, and the embedded Chroma fails a query whose rows are deleted under it.
        """
        t0 = time.perf_counter()
        self._check_folder()  # type: ignore[attr-defined]
        with self._lock, self._writer.hold():  # type: ignore[attr-defined]
            live = self.load_manifest()  # type: ignore[attr-defined]
            source = prepared.source if prepared is not None else (live.source if live is not None else "")
            why = self._append_refusal(live, source)  # type: ignore[attr-defined]
            if why:
                raise AppendRefused(why)
            assert live is not None
            self.cleanup(live)  # type: ignore[attr-defined]  # an earlier crashed change is undone or finished first
            unknown = [d for d in removed if d not in live.documents]
            if unknown:
                raise UnknownDocument(f"not in the index: {', '.join(unknown)}")
            items = [] if prepared is None else [
                (d, prepared.chunks[d.doc_id]) for d in prepared.documents
                if live.documents.get(d.doc_id, {}).get("sha256") != d.sha256 and d.doc_id not in removed
            ]
            if not items and not removed:
                self._open_collections(live)  # type: ignore[attr-defined]
                self.manifest = live
                return SyncReport(unchanged=tuple(live.documents), seconds=time.perf_counter() - t0)
            return self._change(live, items, list(removed), prepared.vectors if prepared else {}, t0, purge)

    def _change(self, live: Manifest, items: list[tuple[Document, list[Chunk]]], removed: list[str],
                vectors: Vectors, t0: float, purge: bool = True) -> SyncReport:
        """Write the intent, add the new rows, commit the manifest, delete the old rows (both locks held)."""
        self._open_collections(live)  # type: ignore[attr-defined]
        cols = (self._chunks, self._sentences)
        assert cols[0] is not None and cols[1] is not None
        replaced = [d.doc_id for d, _ in items if d.doc_id in live.documents]
        new_ids = {c.chunk_id for _, cs in items for c in cs}
        old: list[tuple[str, int]] = []
        for doc_id in removed + replaced:
            counts = sentence_counts(cols[1], doc_id)
            old += [(cid, counts.get(cid, 0)) for cid in live.documents[doc_id]["chunks"] if cid not in new_ids]
        old_ids = {cid for doc_id in removed + replaced for cid in live.documents[doc_id]["chunks"]}
        fresh = [c for _, cs in items for c in cs if c.chunk_id not in old_ids]
        if any(c.chunk_id not in vectors for c in fresh):  # the document changed in the index since it was embedded
            raise AppendRefused("the index changed meanwhile; try again")
        intent = {
            "format": 1, "kind": "change", "index_id": live.index_id, "generation": live.generation, "pid": os.getpid(),
            "documents": removed + [d.doc_id for d, _ in items],
            "chunks": [[cid, n] for cid, n in old] + [[c.chunk_id, len(c.sentences)] for c in fresh],
        }
        write_json_durably(self.append_path, intent)  # type: ignore[attr-defined]  # first: a crash is undone or finished by name
        scratch: Path | None = None
        try:
            generations.checkpoint("change-intent")
            self._add_rows(cols[0], cols[1], fresh, None, vectors)  # type: ignore[attr-defined]
            documents = {k: v for k, v in live.documents.items() if k not in removed}
            documents |= {d.doc_id: document_entry(d, cs) for d, cs in items}
            new = replace(live, documents=documents, format=MANIFEST_FORMAT)
            scratch = self._reserve_bm25_scratch()  # type: ignore[attr-defined]
            tmp = new.write_tmp(self.manifest_path)  # type: ignore[attr-defined]
            generations.checkpoint("change-switch")
            os.replace(tmp, self.manifest_path)  # type: ignore[attr-defined]  # the commit point
        except Exception:  # an ordinary error: take the uncommitted rows out again now, keep the old ones
            with contextlib.suppress(Exception):
                records.delete_vectors(cols[0], cols[1], [(c.chunk_id, len(c.sentences)) for c in fresh])
                self.append_path.unlink(missing_ok=True)  # type: ignore[attr-defined]
                (self.index_dir / (MANIFEST + ".tmp")).unlink(missing_ok=True)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        fsync_dir(self.index_dir)
        generations.checkpoint("change-committed")
        if purge:
            records.delete_vectors(cols[0], cols[1], old)  # readers of the new manifest never ask for these
            generations.checkpoint("change-deleted")
            self._after_append(new, scratch)  # type: ignore[attr-defined]  # intent removed, BM25 rebuilt in the background
        else:  # the intent stays: finish_change (or the next writer's recovery) deletes the old rows
            self.manifest = new
            if scratch is not None:
                if self._bm25_scratch is not None:  # type: ignore[has-type]
                    shutil.rmtree(self._bm25_scratch, ignore_errors=True)  # type: ignore[has-type]
                self._bm25_scratch = scratch
            self._schedule_bm25()  # type: ignore[attr-defined]
        return SyncReport(
            added=tuple(d.doc_id for d, _ in items if d.doc_id not in live.documents), updated=tuple(replaced),
            removed=tuple(removed), unchanged=tuple(k for k in live.documents if k not in removed and k not in replaced),
            chunks_added=len(fresh), chunks_removed=len(old), appended=True, seconds=time.perf_counter() - t0,
        )


def chunk_counts(manifest: Manifest | None) -> dict[str, int]:
    """doc id -> number of chunks, as ``manifest`` lists them."""
    return {k: len(v.get("chunks", ())) for k, v in (manifest.documents if manifest else {}).items()}
