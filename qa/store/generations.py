"""The crash-safe generation protocol: write a whole new generation aside, commit it by one rename.

Written against :class:`~qa.store.backend.VectorBackend` only. :meth:`GenerationsMixin.sync` never
edits the live collections: it writes a staging manifest naming the new generation, creates its
collections, copies the vectors of unchanged documents (no re-embedding), embeds added and edited
ones batch by batch, builds BM25 aside, and renames the new manifest over ``manifest.json`` (the
commit point). A sync that only *adds* documents appends in place instead (:mod:`qa.store.append`).
:meth:`GenerationsMixin.cleanup` drops what a crashed or replaced run left.

:func:`checkpoint` marks the points a crash test stops a write at (a no-op here; tests replace it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.ingest import Chunk
from qa.store import records
from qa.store.backend import IndexUnusable, VectorCollection
from qa.store.lock import clear_dead_scratch
from qa.store.manifest import MANIFEST, RETIRED, STAGING, Manifest, Progress, SyncReport, document_entry, fsync_dir, write_batch_chunks
from qa.types import Document

log = logging.getLogger("qa.store")


def checkpoint(point: str) -> None:
    """A point where a crash test may stop a write (tests replace this function; see tests/fakes.py).

    Points, in order: ``staging`` (staging manifest and empty collections exist), ``embed`` (first
    batch of new vectors written), ``switch`` (new manifest written, not yet renamed), ``committed``
    (renamed, old generation not yet dropped). An append (added documents only) has its own:
    ``append-intent`` (append.json written, nothing added), ``append-embed`` (first batch added to
    the live collections), ``append-switch`` (new manifest written, not renamed), ``append-committed``
    (renamed, append.json not yet removed). A delete or replace (:mod:`qa.store.change`): ``change-intent``,
    ``append-embed`` (new content's rows), ``change-switch``, ``change-committed`` (old rows not yet
    deleted), ``change-deleted`` (append.json not yet removed).
    """


class GenerationWriter:
    """Writes one new generation: streams documents, embeds the changed ones, copies the rest."""

    def __init__(self, store: Any, new: Manifest, live: Manifest | None, progress: Progress | None):
        self.store = store
        self.new = new
        self.live = live
        self.progress = progress
        self.chunks: VectorCollection | None = None
        self.sentences: VectorCollection | None = None
        self.done = 0
        self.total = 0

    def stage(self) -> None:
        """Record the new generation in the staging manifest, then create its collections."""
        if self.chunks is not None:
            return
        st = self.store
        st.index_dir.mkdir(parents=True, exist_ok=True)
        self.new.save(st.staging_path)  # first: a crash from here on is cleaned up by name
        fsync_dir(st.index_dir)
        meta = st._collection_meta(self.new) | {"qa_index_dir": str(st.index_dir.resolve())}
        ch, se = self.new.names()
        self.chunks = st.backend.create(ch, meta)
        self.sentences = st.backend.create(se, meta)
        checkpoint("staging")

    def abandon(self) -> None:
        st = self.store
        if self.chunks is not None:
            st._drop(self.new.names())
        with contextlib.suppress(FileNotFoundError):
            st.staging_path.unlink()

    def run(self, documents: Iterable[Document], base: dict[str, dict[str, Any]]) -> SyncReport:
        st = self.store
        if isinstance(documents, Sequence):  # known up front: give the progress bar a total
            self.total = sum(len(st.chunk(d)) for d in documents if d.doc_id not in base or base[d.doc_id]["sha256"] != d.sha256)
        if self.progress:
            self.progress(0, self.total)
        batch_chunks = write_batch_chunks()
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        seen: set[str] = set()
        batch: list[tuple[Document, list[Chunk]]] = []
        n_batch = 0
        added_chunks = 0
        for d in documents:
            if d.doc_id in seen:
                raise ValueError(f"duplicate document id: {d.doc_id!r}")
            seen.add(d.doc_id)
            was = base.get(d.doc_id)
            if was is not None and was["sha256"] == d.sha256:
                unchanged.append(d.doc_id)
                continue
            (updated if was is not None else added).append(d.doc_id)
            chunks = st.chunk(d)
            batch.append((d, chunks))
            n_batch += len(chunks)
            if n_batch >= batch_chunks:
                added_chunks += self._write_batch(batch)
                batch, n_batch = [], 0
        if batch:
            added_chunks += self._write_batch(batch)
        if not seen:
            raise ValueError("no documents to index")
        removed = [i for i in base if i not in seen]
        copied = self._finish(unchanged, base, changed=bool(added or updated or removed))
        return SyncReport(
            added=tuple(added), updated=tuple(updated), removed=tuple(removed), unchanged=tuple(unchanged),
            chunks_added=added_chunks, chunks_removed=sum(len(base[i]["chunks"]) for i in updated + removed), chunks_copied=copied,
        )

    def _finish(self, unchanged: list[str], base: dict[str, dict[str, Any]], changed: bool) -> int:
        """Copy the unchanged documents when a generation is written (``unchanged`` loses those whose vectors are lost)."""
        live = self.live
        migrating = live is not None and not live.generation
        if not (changed or live is None or migrating):
            return 0
        self.stage()
        copied, lost = self._copy_unchanged(unchanged, base)
        for doc_id in lost:  # vectors missing from the live store: picked up as added next time
            unchanged.remove(doc_id)
        return copied

    def _write_batch(self, batch: list[tuple[Document, list[Chunk]]]) -> int:
        self.stage()
        assert self.chunks is not None and self.sentences is not None
        chunks = [c for _, cs in batch for c in cs]
        chunk_vecs, sent_vecs = self.store._embed_chunks(chunks)
        records.add_vectors(self.chunks, self.sentences, chunks, chunk_vecs, sent_vecs)
        for d, cs in batch:
            self.new.documents[d.doc_id] = document_entry(d, cs)
        self.done += len(chunks)
        if self.progress:
            self.progress(self.done, max(self.total, self.done) if self.total else 0)
        checkpoint("embed")
        return len(chunks)

    def _copy_unchanged(self, doc_ids: list[str], base: dict[str, dict[str, Any]]) -> tuple[int, list[str]]:
        """Copy stored vectors of unchanged documents from the live generation: no re-embedding."""
        if not doc_ids:
            return 0, []
        assert self.live is not None and self.chunks is not None and self.sentences is not None
        src_chunks = self.store.backend.open(self.live.names()[0])
        src_sents = self.store.backend.open(self.live.names()[1])
        want = [(d, cid) for d in doc_ids for cid in base[d]["chunks"]]
        got_ids: set[str] = set()
        step = records.COPY_BATCH
        for i in range(0, len(want), step):
            got = src_chunks.get(ids=[cid for _, cid in want[i : i + step]], vectors=True)
            self.chunks.add(got.ids, got.vectors, got.metadatas, got.documents)
            got_ids.update(got.ids)
            # a row without readable spans copies no sentence rows (the copy is lenient; a snapshot is strict)
            sent_ids = [sid for cid, md in zip(got.ids, got.metadatas) for sid in records.sentence_ids_of(cid, md) or ()]
            for k in range(0, len(sent_ids), step * 4):
                s = src_sents.get(ids=sent_ids[k : k + step * 4], vectors=True)
                self.sentences.add(s.ids, s.vectors, s.metadatas)
        lost = sorted({d for d, cid in want if cid not in got_ids})
        if lost:
            log.warning("stored vectors missing for %d unchanged document(s) (%s); they are left out now and "
                        "embedded again by the next `qa index`", len(lost), ", ".join(lost[:5]))
        for d in doc_ids:
            if d not in lost:
                self.new.documents[d] = base[d]
        return len(got_ids), lost


class GenerationsMixin:
    """Sync and crash recovery of :class:`~qa.store.index.IndexStore` (which provides the rest)."""

    index_dir: Path
    manifest: Manifest | None
    _retired: list[str]
    _chunks: VectorCollection | None
    _sentences: VectorCollection | None
    _bm25_state: tuple[Any, str, str]

    def sync(
        self, documents: Iterable[Document], progress: Progress | None = None, rebuild: bool = False,
        source: str = "", check_store: bool = True,
    ) -> SyncReport:
        """Make the index hold exactly ``documents``; re-embed only what changed.

        ``documents`` may be any iterable (a generator over a large JSONL file is read once and never
        held in memory). ``source`` names where they come from ("" = the documents folder); syncing
        an index with documents from a different source is refused unless ``rebuild``.
        The previous index stays live and answering until the new one is complete (see qa.store);
        a crash at any point loses nothing that was committed. ``check_store=False``: when the
        documents are the committed ones and no run left anything behind, return without opening the
        vector store (an ask's sync: the saved snapshot answers); a damaged store is then reported by
        the first read of it, or by the next sync that checks.
        """
        t0 = time.perf_counter()
        self._check_folder()  # before the lock file: a foreign folder is left exactly as it was
        with self._lock, self._writer.hold():
            report = self._sync_locked(documents, progress, rebuild, source, t0, check_store)
            self.save_committed_snapshot()  # type: ignore[attr-defined]  # the next new process answers from it
            return report

    def _sync_locked(self, documents: Iterable[Document], progress: Progress | None, rebuild: bool, source: str,
                     t0: float, check_store: bool) -> SyncReport:
        """:meth:`sync` under the writer lock."""
        old, reason, set_aside = self._sync_start(rebuild, source)
        if not (rebuild or reason or check_store) and self._up_to_date(old, documents):
            # nothing to write and nothing left by a crashed run: the vector store is not even opened
            if self._chunks is not None and old is not None and self._chunks.name != old.names()[0]:
                self._chunks = self._sentences = None  # another state's collections: reopened when read
            self.manifest = old
            return SyncReport(unchanged=tuple(d.doc_id for d in documents), seconds=time.perf_counter() - t0)  # type: ignore[union-attr]
        self.cleanup(old)
        if reason:
            log.warning("rebuilding index: %s", reason)
        base = {} if (reason or old is None) else old.documents
        if not rebuild and not reason and old is not None and old.generation and isinstance(documents, Sequence):
            added = self._only_added(documents, base)
            if added:  # nothing removed or edited: add in place, no new generation
                return self._append(old, [(d, self.chunk(d)) for d in added], progress, None, t0)
        report = self._write_generation(documents, old, reason, base, progress, source)
        # set_aside is only ever set by a rebuild, which always commits
        return replace(report, seconds=time.perf_counter() - t0, set_aside=set_aside)

    def _up_to_date(self, old: Manifest | None, documents: Iterable[Document]) -> bool:
        """``documents`` are exactly what the committed generation ``old`` holds (same ids, same
        content), its BM25 is the one built for it, and no crashed or unfinished run left anything
        behind (a staging manifest, an append intent, a replaced generation not yet dropped)."""
        if old is None or not old.generation or not isinstance(documents, Sequence) or len(documents) != len(old.documents):
            return False
        if any(p.exists() for p in (self.staging_path, self.append_path, self.index_dir / RETIRED)):
            return False
        ids = {d.doc_id for d in documents}
        if len(ids) != len(documents) or any(old.documents.get(d.doc_id, {}).get("sha256") != d.sha256 for d in documents):
            return False
        return self._bm25_folder_key() == old.corpus_key()

    def _sync_start(self, rebuild: bool, source: str) -> tuple[Manifest | None, str, str]:
        """(the live manifest or None, why everything is rebuilt or "", where a damaged store went or "")."""
        if rebuild:
            set_aside = self._set_aside_damaged_store()  # a store that cannot be opened is moved, never deleted
            try:
                old = self.load_manifest()
            except IndexUnusable as e:
                log.warning("clearing unreadable index before rebuilding (%s)", e)
                self.wipe()
                return None, "requested", set_aside
            if old is None and self.index_dir.is_dir():
                self.wipe()  # manifest lost: what the store holds is unreachable; drop only qa's own
            return old, "requested", set_aside
        old = self.load_manifest()
        reason = self._mismatch(old) if old is not None else ""
        if old is not None and not reason and old.source != source:
            def name(s: str) -> str:
                return s.partition(":")[2] or s if s else "the documents folder"
            raise IndexUnusable(
                f"{self.index_dir} holds the documents of {name(old.source)}, not of {name(source)}; "
                f"index that source again, use another index folder (--index), or run `qa index --rebuild` to replace it"
            )
        return old, reason, ""

    def _write_generation(self, documents: Iterable[Document], old: Manifest | None, reason: str,
                          base: dict[str, dict[str, Any]], progress: Progress | None, source: str) -> SyncReport:
        """Write a new generation and commit it (or, when nothing changed, keep the live one)."""
        new = self._fresh(old.index_id if old else "", source)
        writer = GenerationWriter(self, new, old if (old and not reason) else None, progress)
        bm25: Any = None
        bm25_tmp: Path | None = None
        try:
            report = writer.run(documents, base)
            if report.changed or old is None or not old.generation or reason:
                writer.stage()  # a no-op: every committing run has staged its collections
                # BM25 of the new generation, built aside now: opening the index never has to
                assert writer.chunks is not None
                bm25, bm25_tmp = self._build_bm25(new, writer.chunks)
        except Exception:
            writer.abandon()  # an ordinary error: drop the half-written generation now
            if bm25_tmp is not None:
                shutil.rmtree(bm25_tmp, ignore_errors=True)
            raise
        if not report.changed and old is not None and old.generation and not reason:
            self.manifest = old
            self._open_collections(old)
            if self._bm25_folder_key() != old.corpus_key():
                self._bm25 = None
                self._bm25_sync(old)  # an index from before BM25 was built at index time, or a stale one
            return report
        self._commit_generation(new, old, writer, bm25, bm25_tmp)
        if not reason and old is not None and not old.generation:
            return replace(report, reason="moved to crash-safe generations (vectors copied, nothing re-embedded)", committed=True)
        return replace(report, rebuilt=bool(reason), reason=reason, committed=True)

    def _commit_generation(self, new: Manifest, old: Manifest | None, writer: GenerationWriter, bm25: Any, bm25_tmp: Path | None) -> None:
        """The switch: the rename is the commit point; then BM25 is swapped in and the old generation retired."""
        tmp = new.write_tmp(self.manifest_path)
        checkpoint("switch")
        os.replace(tmp, self.manifest_path)
        fsync_dir(self.index_dir)
        checkpoint("committed")
        if bm25_tmp is not None:
            self._install_bm25(bm25_tmp)
        if old is not None:
            self._retired += [n for n in old.names() if n not in new.names()]
            if self._retired:  # before the staging manifest goes: a crash from here on still shows what to drop
                (self.index_dir / RETIRED).write_text("\n".join(self._retired) + "\n", encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            self.staging_path.unlink()
        self.manifest = new
        self._bm25_state = (bm25, new.corpus_key(), new.generation)
        self._sentences, self._chunks = writer.sentences, writer.chunks

    def cleanup(self, live: Manifest | None = None) -> list[str]:
        """Drop what a crashed or replaced run left: staging collections, old generations of this index.

        Only collections named with this index's id (or recorded in its staging manifest) are
        dropped; the live generation is never touched. Returns the dropped names.
        """
        with self._lock, self._writer.hold(blocking=False) as held:
            if not held:  # a writer is busy: its staging collections are not leftovers
                return []
            if live is None and self.manifest_path.exists():
                live = self.load_manifest()
            doomed = self._leftover_collections(live) - (set(live.names()) if live else set())
            if doomed:
                log.warning("dropping %d collection(s) left by an interrupted or replaced indexing run: %s",
                            len(doomed), ", ".join(sorted(doomed)))
                self._drop(sorted(doomed))
            self._recover_append(live)
            for p in (self.staging_path, self.index_dir / (STAGING + ".tmp"), self.index_dir / (MANIFEST + ".tmp"),
                      self.append_path.with_name(self.append_path.name + ".tmp")):
                if p.exists():
                    p.unlink()
            clear_dead_scratch(self.index_dir)
            self._retired = [n for n in self._retired if n not in doomed]
            if not self._retired:  # every replaced generation of this index is gone now
                (self.index_dir / RETIRED).unlink(missing_ok=True)
            return sorted(doomed)

    def _leftover_collections(self, live: Manifest | None) -> set[str]:
        """Collections of this index that are not ``live``'s: staging, replaced, or a migrated format-1 pair."""
        prefixes = {live.prefix()} if live and live.index_id else set()
        doomed: set[str] = set()
        if self.staging_path.exists():
            try:
                st = Manifest.load(self.staging_path)
                doomed.update(st.names())
                if st.index_id:
                    prefixes.add(st.prefix())
            except (ValueError, TypeError, KeyError, OSError) as e:
                log.warning("ignoring unreadable staging manifest (%s)", e)
        # a format-1 index migrated to generations: its fixed pair is retired (only in a store of its own)
        legacy = {f"{self.collection}_chunks", f"{self.collection}_sentences"} if live and live.generation and not self.backend.shared else set()
        if not (doomed or prefixes or legacy):
            return set()
        try:
            existing = self.backend.names()
        except IndexUnusable:
            raise
        except Exception as e:
            log.warning("cannot list collections in %s (%s)", self.where, e)
            existing = []
        doomed.update(n for n in existing if any(n.startswith(p) for p in prefixes) or n in legacy)
        return {n for n in doomed if n in existing}
