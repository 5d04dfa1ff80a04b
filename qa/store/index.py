""":class:`IndexStore`: one index folder (manifest, BM25, lock) and its collections in a vector backend.

Opening, reading and wiping live here; syncing in :mod:`qa.store.generations`, appending in
:mod:`qa.store.append`, BM25 in :mod:`qa.store.bm25`. See :mod:`qa.store` for the layout and the
crash protocol.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed import Embedder
from qa.ingest import Chunk, chunk_document
from qa.store import records
from qa.store.append import AppendMixin
from qa.store.backend import IndexUnusable, VectorBackend, VectorCollection
from qa.store.bm25 import Bm25Mixin
from qa.store.change import ChangeMixin
from qa.store.generations import GenerationsMixin
from qa.store.lock import WriterLock
from qa.store.manifest import APPEND, DAMAGED_PREFIX, KEPT, LOCK, MANIFEST, OWNED, OWNED_PREFIXES, RETIRED, STAGING, Manifest, fsync_dir
from qa.store.registry import make_backend
from qa.store.snapshot import CommittedSnapshots, LiveCollection, SnapshotPolicy
from qa.store.snapshot_file import SavedSnapshotMixin
from qa.types import Document

log = logging.getLogger("qa.store")


class IndexStore(GenerationsMixin, AppendMixin, ChangeMixin, Bm25Mixin, SavedSnapshotMixin):
    """Chunk and sentence vectors in a :class:`~qa.store.backend.VectorBackend` plus BM25, kept in step by a manifest.

    ``backend`` is a registered name (default: ``QA_VECTOR_BACKEND``, else Chroma) or a backend
    object; ``chroma_url`` is the server a URL-taking backend uses. ``chunker`` splits a document
    into chunks (default: :func:`qa.ingest.chunk_document` with ``chunking``'s sizes).
    """

    def __init__(
        self, index_dir: str | Path, embedder: Embedder, chunking: dict[str, Any], collection: str = "qa",
        chroma_url: str = "", backend: str | VectorBackend = "", chunker: Callable[[Document], list[Chunk]] | None = None,
    ):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.chunking = dict(chunking)
        self.collection = collection
        self.chroma_url = chroma_url or ""
        self.backend: VectorBackend = make_backend(backend, self.index_dir, self.chroma_url) if isinstance(backend, str) else backend
        self._chunker = chunker
        self._chunks: VectorCollection | None = None
        self._sentences: VectorCollection | None = None
        self._init_bm25()
        #: this process's view of the collections must catch up with rows another process appended
        self._catch_up = False
        self._lock = threading.RLock()
        self._writer = WriterLock(self.index_dir, self._lock)
        #: collections of replaced generations, dropped by drop_retired() (or the next writer):
        #: a question already under way in another thread may still be reading them
        self._retired: list[str] = []
        self.manifest: Manifest | None = None
        #: the latest retriever's view of the committed state (reader_collections): sentence_vectors reads it too
        self._snapshots: CommittedSnapshots | None = None
        ref = weakref.ref(self)
        atexit.register(lambda: (s := ref()) is not None and (s.close(timeout=30), s._drop_quietly()))

    def chunk(self, doc: Document) -> list[Chunk]:
        """``doc``'s chunks, as this index cuts them (the one place the writers chunk)."""
        if self._chunker is not None:
            return self._chunker(doc)
        return chunk_document(doc, int(self.chunking["chunk_words"]), int(self.chunking.get("chunk_overlap", 0)))

    # --- opening -------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST

    @property
    def staging_path(self) -> Path:
        return self.index_dir / STAGING

    @property
    def append_path(self) -> Path:
        return self.index_dir / APPEND

    @property
    def where(self) -> str:
        """Where the vectors live, for messages."""
        return self.backend.where

    @staticmethod
    def _owned(name: str) -> bool:
        return name in OWNED or name.startswith(OWNED_PREFIXES)

    def _check_folder(self) -> None:
        """Refuse folders that hold something other than a qa index (never delete user data)."""
        d = self.index_dir
        if d.exists() and not d.is_dir():
            raise IndexUnusable(f"index path {d} exists and is not a folder")
        if not d.exists() or self.manifest_path.exists():
            return
        foreign = [p.name for p in d.iterdir() if not self._owned(p.name) and p.name not in KEPT
                   and not p.name.startswith((".", DAMAGED_PREFIX))]
        if foreign:
            raise IndexUnusable(
                f"{d} is not empty and holds no qa manifest ({', '.join(sorted(foreign)[:5])}); "
                f"choose another index folder (QA_INDEX_DIR) or empty it"
            )

    def load_manifest(self) -> Manifest | None:
        self._check_folder()
        if not self.manifest_path.exists():
            return None
        try:
            return Manifest.load(self.manifest_path)
        except (ValueError, TypeError, KeyError, OSError) as e:
            raise IndexUnusable(
                f"index manifest {self.manifest_path} is unreadable ({e}); run `qa index --rebuild` to rebuild it"
            ) from e

    def _collection_meta(self, m: Manifest) -> dict[str, Any]:
        return {"qa_index_id": m.index_id, "qa_generation": m.generation}

    def _open_collections(self, m: Manifest | None = None) -> None:
        """Point at the collections of manifest ``m`` (default: the loaded one)."""
        m = m or self.manifest
        if m is None:
            raise IndexUnusable(f"no index at {self.index_dir}; run `qa index` first")
        if self._chunks is not None and self._chunks.name == m.names()[0]:
            return
        chunks_name, sentences_name = m.names()
        try:
            self._chunks = self.backend.open(chunks_name)
            self._sentences = self.backend.open(sentences_name)
        except IndexUnusable:
            raise
        except Exception as e:  # a missing collection, a damaged store
            self._chunks = self._sentences = None
            raise IndexUnusable(
                f"the index's vectors ({chunks_name}) cannot be read from {self.where} ({type(e).__name__}: {e}); "
                f"run `qa index --rebuild`"
            ) from e

    @property
    def chunks_collection(self) -> VectorCollection:
        c = self._chunks  # no lock once open: questions must not wait for a sync to finish
        if c is not None:
            return c
        with self._lock:
            if self._chunks is None:
                self._open_collections(self.manifest or self.open())
            assert self._chunks is not None
            return self._chunks

    @property
    def sentences_collection(self) -> VectorCollection:
        c = self._sentences
        if c is not None:
            return c
        with self._lock:
            if self._sentences is None:
                self._open_collections(self.manifest or self.open())
            assert self._sentences is not None
            return self._sentences

    # --- dropping and wiping -------------------------------------------------------------------

    def _drop(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                self.backend.drop(name)
            except Exception as e:  # already gone
                log.debug("drop %s: %s", name, e)

    def _drop_quietly(self) -> None:
        try:
            self.drop_retired()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def drop_retired(self) -> list[str]:
        """Drop the collections of generations replaced by this store's syncs; returns their names."""
        with self._lock:
            names, self._retired = self._retired, []
            if names:
                self._drop(names)
                (self.index_dir / RETIRED).unlink(missing_ok=True)
            return names

    def wipe(self) -> None:
        """Delete what this store owns inside index_dir, and its collections (nothing else)."""
        self._check_folder()
        with self._lock, self._writer.hold():
            self._bm25 = None
            try:
                live = self.load_manifest()
            except IndexUnusable:
                live = None
            self._chunks = self._sentences = None
            self.manifest = None
            self._drop_own_collections(live)
            self._retired = []
            if not self.index_dir.is_dir():
                return
            for p in self.index_dir.iterdir():
                if not self._owned(p.name) or p.name in ("chroma", LOCK):
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()

    def _drop_own_collections(self, live: Manifest | None) -> None:
        """Drop this index's collections (a store that cannot even be listed is moved aside, if local)."""
        shared = self.backend.shared
        try:
            existing = self.backend.names()
            mine = [
                n for n in existing
                if (live is not None and (n in live.names() or (live.index_id and n.startswith(live.prefix()))))
                # a store of this index's own: every collection of this name family is ours
                or (not shared and n.startswith(f"{self.collection}_"))
            ]
            if shared and live is None:
                # unreadable manifest on a shared server: only collections whose metadata says so
                mine += [n for n in existing if self._stamped_for_this_folder(n)]
            self._drop(sorted(set(mine)))
        except IndexUnusable as e:
            if shared:
                raise
            self._move_store_aside(str(e.__cause__ or e))
        except Exception as e:  # a damaged local store cannot be listed: move it aside
            if shared:
                raise IndexUnusable(f"cannot clear this index's collections on {self.where} ({e})") from e
            self._move_store_aside(f"{type(e).__name__}: {e}")

    def _move_store_aside(self, why: str) -> Path:
        """Move the backend's local folder (``chroma/``) into a new ``damaged-<time>/`` folder inside
        index_dir, so that a fresh one can be built; nothing is deleted. Returns the new folder."""
        store = self.backend.local_folder or self.index_dir / "chroma"
        self._chunks = self._sentences = None
        self._bm25 = None
        self.backend.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.index_dir / f"{DAMAGED_PREFIX}{stamp}"
        n = 1
        while dest.exists() or dest.is_symlink():
            n += 1
            dest = self.index_dir / f"{DAMAGED_PREFIX}{stamp}-{n}"
        try:
            dest.mkdir()
            os.replace(store, dest / store.name)
        except OSError as e:
            with contextlib.suppress(OSError):
                dest.rmdir()
            raise IndexUnusable(
                f"the Chroma store in {store} is damaged ({why}) and could not be moved aside to {dest} "
                f"({e.strerror or e}); move or remove {store} yourself, then run `qa index --rebuild`"
            ) from e
        fsync_dir(self.index_dir)
        log.warning("the Chroma store in %s cannot be used (%s); moved it to %s", store, why, dest)
        return dest

    def _set_aside_damaged_store(self) -> str:
        """Before a rebuild: move a local store that cannot be used out of the way (see
        :meth:`_move_store_aside`). Returns where it went ("" if it is sound or there is none)."""
        why = self.backend.damage()
        return str(self._move_store_aside(why)) if why else ""

    def _stamped_for_this_folder(self, name: str) -> bool:
        try:
            md = self.backend.metadata(name)
        except Exception:
            return False
        return md.get("qa_index_dir") == str(self.index_dir.resolve())

    def _fresh(self, index_id: str = "", source: str = "") -> Manifest:
        return Manifest(
            model=self.embedder.name, dimension=self.embedder.dimension, chunking=self.chunking, collection=self.collection,
            index_id=index_id or secrets.token_hex(4), generation=secrets.token_hex(4), source=source,
        )

    def _mismatch(self, m: Manifest) -> str:
        """Why an existing index cannot be updated in place ("" if it can)."""
        checks = (
            ("embedding model", m.model, self.embedder.name),
            ("chunking", m.chunking, self.chunking),
            ("collection", m.collection, self.collection),
            ("embedding dimension", m.dimension, self.embedder.dimension),
        )
        for what, was, now in checks:
            if was != now:
                return f"{what} changed: {was} -> {now}"
        return ""

    # --- reading -------------------------------------------------------------------------------

    def open(self) -> Manifest:
        """Open an existing index for reading (no documents needed)."""
        with self._lock:
            m = self.load_manifest()
            if m is None:
                raise IndexUnusable(f"no index at {self.index_dir}; run `qa index` first")
            if m.model != self.embedder.name:
                raise IndexUnusable(f"index at {self.index_dir} was built with {m.model}, not {self.embedder.name}; run `qa index`")
            if self.staging_path.exists() or self.append_path.exists() or (self.index_dir / RETIRED).exists():
                self.cleanup(m)  # a crashed run's leftovers (skipped while a writer is busy)
            prev = self.manifest
            if prev is None and self._chunks is None and not self.backend.shared and self.has_saved_snapshot(m):
                self.manifest = m  # a new process: the saved rows answer, the collections open when first read
                return m
            self._open_collections(m)
            self.manifest = m
            if (prev is not None and m.generation and prev.generation == m.generation and prev.index_id == m.index_id
                    and prev.updated_at != m.updated_at and not self.backend.shared):
                # another process appended to the collections this process has open
                self._catch_up = True
                if not self._try_catch_up():
                    self._schedule_bm25()  # the background thread retries once the writer is done
            return m

    def _try_catch_up(self) -> bool:
        """Let this process's view of the collections see rows another process appended (True when done
        or not needed). Chroma does that by a write, so only while holding the writer lock."""
        if not self._catch_up:
            return True
        with self._lock, self._writer.hold(blocking=False) as held:
            if not held:
                return False
            try:
                for col in (self._chunks, self._sentences):
                    if col is not None:
                        col.refresh()
            except Exception as e:  # a dropped collection: the next open sees the new generation
                log.debug("catch-up: %s", e)
            self._catch_up = False
            return True

    def external_source(self) -> str:
        """The manifest's ``source`` ("" for the documents folder, or when there is no readable index)."""
        try:
            m = Manifest.load(self.manifest_path)
        except (ValueError, TypeError, KeyError, OSError):
            return ""
        return m.source

    def count(self) -> int:
        return int(self.chunks_collection.count())

    def all_nodes(self) -> list[Any]:
        """Every chunk of the open generation as a :class:`~qa.store.records.StoredNode` (read in
        batches of READ_BATCH ids)."""
        manifest = self.manifest or self.open()
        return records.read_nodes(self.chunks_collection, manifest.chunk_ids())

    def get_nodes(self, ids: Sequence[str]) -> list[Any]:
        """The :class:`~qa.store.records.StoredNode` of each of chunk ``ids`` (missing ones left out)."""
        return records.read_nodes(self.chunks_collection, ids)

    def reader_collections(self, policy: SnapshotPolicy | None = None,
                           manifest: Manifest | None = None) -> tuple[VectorCollection, VectorCollection]:
        """(chunks, sentences) for a new retriever of the committed state open now (``manifest``, when
        given, must still be it): answered from memory once read (:mod:`qa.store.snapshot`; ``policy``
        says when), else by the live collections."""
        with self._lock:
            m = self.manifest or self.open()
            same = manifest is None or manifest is m  # else a commit came between: no snapshot
            names = m.names()
            lazy = (LiveCollection(self, 0, names[0]), LiveCollection(self, 1, names[1]))  # opened when read
            self._snapshots = snaps = CommittedSnapshots.for_store(self, *lazy, policy=policy) if same else None
            return (self.chunks_collection, self.sentences_collection) if snaps is None else snaps.collections()

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[tuple[str, int], np.ndarray]:
        """Stored vectors of every sentence of ``chunks``, keyed by (chunk_id, sentence index)."""
        ids = [records.sentence_id(c.chunk_id, i) for c in chunks for i in range(len(c.sentences))]
        if not ids:
            return {}
        snaps = self._snapshots  # its snapshot only while the state it read is the open one
        snap = snaps.snapshot(1) if snaps is not None else None
        got = (snap if snap is not None else self.sentences_collection).get(ids=ids, vectors=True)
        out = {}
        for sid, vec in zip(got.ids, got.vectors):
            cid, _, i = sid.rpartition(":")
            out[(cid, int(i))] = np.asarray(vec, dtype=np.float32)
        return out
