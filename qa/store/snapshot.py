"""Small collections answered from memory: an exact snapshot of one committed state, read once.

A warm question on the seeds spent ~14 ms in four round trips to the embedded Chroma (the chunk
query, the sentence query, the chunk rows of the sentence hits, the hits' sentence vectors) where an
exact brute-force numpy search over the same rows takes well under 1 ms. :class:`VectorSnapshot`
holds the rows of a collection (ids, one float32 matrix, metadata, documents) and answers
:meth:`~qa.store.backend.VectorCollection.query` and ``get`` as the collection would: the same
:class:`~qa.store.backend.Match` rows and cosine scores (float32, ~1e-7 apart), best first, ties by id.
Chroma's HNSW search is exact on collections this small; on large ones it is approximate, and the
snapshot's exact top-n can differ from it by the rows HNSW missed.

Why a snapshot cannot go stale: it belongs to one committed state (:class:`CommittedSnapshots`,
made per retriever by :meth:`qa.store.IndexStore.reader_collections`). It holds only that state's
rows, read by the ids its manifest lists (the chunks, and the sentences each chunk row names), and
is used only while the store's open manifest is that state's: every commit (sync, append, change,
delete) and every reopen installs a new manifest object, after which the snapshot's collections
read the live ones, as before. Rows an uncommitted append adds are never read into it; the retrievers'
own filters (``keep``, ``keep_doc``) stay in place all the same. A snapshot missing a committed row
(a view of the store that has not caught up with another process) is thrown away, never used.

When it is read (cold start must not get slower: ``qa ask`` answers one question per process, and
reading 10k sentence rows costs ~0.8 s where one Chroma query costs ~5 ms): the first question of a
retriever reads the live collections; the second reads the snapshot in the asking thread when the
state has at most ``sync_chunks`` chunks (the seeds: ~12 ms, once), else in a background thread
while the live collections keep answering. Never for a shared backend (a server other processes
write to) or past ``max_rows`` rows in a collection (memory: 384 floats and a metadata dict a row).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa.store.backend import CollectionReader, Match, Records, VectorCollection
import qa.store.records as _records
from qa.store.records import sentence_ids_of

log = logging.getLogger("qa.store")

#: rows per collection past which no snapshot is kept (20k x 384 float32 = 30 MB, plus the metadata)
MAX_SNAPSHOT_ROWS = 20_000
#: committed chunks up to which the snapshot is read in the asking thread (the seeds have 25)
SYNC_SNAPSHOT_CHUNKS = 100
#: questions a retriever answers from the live collections before its snapshot is read
LOAD_AFTER_QUERIES = 1
#: reads of an incomplete snapshot tried per committed state before keeping the live collections
MAX_TRIES = 3


@dataclass(frozen=True)
class SnapshotPolicy:
    """When a committed state is read into memory (see the module doc); ``max_rows=0`` never."""

    max_rows: int = MAX_SNAPSHOT_ROWS
    sync_chunks: int = SYNC_SNAPSHOT_CHUNKS
    after_queries: int = LOAD_AFTER_QUERIES
    #: start from the state's saved snapshot (:mod:`qa.store.snapshot_file`) when there is one, and save
    #: one read from the live collections: a new process then answers without opening the vector store
    saved: bool = True


@dataclass(frozen=True, eq=False)
class VectorSnapshot:
    """The rows of one collection in memory, sorted by id (ties in :meth:`query` go to the smaller id):
    a :class:`~qa.store.backend.CollectionReader`."""

    name: str
    ids: tuple[str, ...]
    #: the vectors as stored, one row each (read-only)
    vectors: np.ndarray
    metadatas: tuple[dict[str, Any], ...]
    documents: tuple[str | None, ...]
    #: 1 / |row| (0 for a zero row): cosine similarity is one matrix product and one scaling
    inv_norms: np.ndarray = field(repr=False)
    positions: Mapping[str, int] = field(repr=False)

    @classmethod
    def of(cls, name: str, rows: Records, dimension: int = 0) -> VectorSnapshot:
        """A snapshot of ``rows`` (read with ``vectors=True``); a duplicate id keeps its first row."""
        order: dict[str, int] = {}
        for j, rid in enumerate(rows.ids):
            order.setdefault(rid, j)
        picked = [order[rid] for rid in sorted(order)]
        dim = len(rows.vectors[0]) if rows.vectors else dimension
        matrix = np.array([rows.vectors[j] for j in picked], dtype=np.float32).reshape(len(picked), dim)
        matrix.flags.writeable = False
        norms = np.linalg.norm(matrix, axis=1)
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
        ids = tuple(rows.ids[j] for j in picked)
        return cls(name=name, ids=ids, vectors=matrix, metadatas=tuple(dict(rows.metadatas[j]) for j in picked),
                   documents=tuple(rows.documents[j] for j in picked), inv_norms=inv,
                   positions={rid: k for k, rid in enumerate(ids)})

    @classmethod
    def read(cls, collection: CollectionReader, ids: Sequence[str], batch: int = 0) -> VectorSnapshot:
        """The rows of ``ids`` in ``collection`` (missing ones left out), read ``batch`` ids per get
        (default: :data:`qa.store.records.READ_BATCH`)."""
        batch = batch or _records.READ_BATCH
        parts = [collection.get(ids=list(ids[i : i + batch]), vectors=True) for i in range(0, len(ids), batch)]
        rows = Records(ids=[r for p in parts for r in p.ids], metadatas=[m for p in parts for m in p.metadatas],
                       documents=[d for p in parts for d in p.documents], vectors=[v for p in parts for v in p.vectors])
        return cls.of(collection.name, rows)

    def count(self) -> int:
        return len(self.ids)

    def query(self, vector: Any, n: int) -> list[Match]:
        """The ``n`` rows of highest cosine similarity to ``vector``, best first; equal scores by id."""
        n = min(max(1, int(n)), len(self.ids))
        if not n:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        qn = float(np.linalg.norm(q))
        scores = (self.vectors @ q) * self.inv_norms * np.float32(1.0 / qn if qn > 0 else 0.0)
        if n < len(scores):  # every row tied with the n-th best is a candidate, so ties are cut by id alone
            cut = np.partition(scores, len(scores) - n)[len(scores) - n]
            rows = np.flatnonzero(scores >= cut)
        else:
            rows = np.arange(len(scores))
        best = rows[np.argsort(-scores[rows], kind="stable")[:n]]
        return [Match(id=self.ids[j], score=float(scores[j]), metadata=dict(self.metadatas[j]), document=self.documents[j])
                for j in best.tolist()]

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None, vectors: bool = False) -> Records:
        """Rows by id (in the order asked, missing ones left out) or all; ``where``: metadata equal to it."""
        if ids is None:
            rows = list(range(len(self.ids)))
        else:
            seen = {self.positions[i]: None for i in ids if i in self.positions}
            rows = list(seen)
        if where:
            rows = [j for j in rows if all(self.metadatas[j].get(k) == v for k, v in where.items())]
        return Records(ids=[self.ids[j] for j in rows], metadatas=[dict(self.metadatas[j]) for j in rows],
                       documents=[self.documents[j] for j in rows],
                       vectors=[self.vectors[j].copy() for j in rows] if vectors else [])


def sentence_ids(chunks: VectorSnapshot) -> list[str] | None:
    """The ids of the sentence rows of every chunk row (each lists its sentences' spans); None when one does not."""
    out: list[str] = []
    for cid, md in zip(chunks.ids, chunks.metadatas):
        ids = sentence_ids_of(cid, md)
        if ids is None:
            return None
        out += ids
    return out


def _state(manifest: Any) -> tuple[Any, ...]:
    """What tells committed states apart: every commit writes a new ``updated_at`` (see :class:`~qa.store.Manifest`)."""
    return (manifest.index_id, manifest.generation, manifest.updated_at, manifest.format, len(manifest.documents))


class CommittedSnapshots:
    """The snapshots of one committed state (the manifest ``store.manifest`` was when made), for one retriever.

    Read when :meth:`note_query` has been told of more than ``policy.after_queries`` questions (see
    the module doc); served by :meth:`snapshot` only while :meth:`current`. :meth:`wait` waits for a
    read under way (tests, benchmarks).
    """

    def __init__(self, store: Any, chunks: CollectionReader, sentences: CollectionReader, policy: SnapshotPolicy):
        self.store = store
        self.manifest = store.manifest
        self._state = _state(self.manifest)
        self._committed = list(dict.fromkeys(self.manifest.chunk_ids()))
        self.live = (chunks, sentences)
        self.policy = policy
        self._lock = threading.Lock()
        self._queries = 0
        self._tries = 0
        self._loading = False
        self._idle = threading.Event()
        self._idle.set()
        #: (chunks, sentences) once read; sentences None when over the row limit
        self._ready: tuple[VectorSnapshot | None, VectorSnapshot | None] = (None, None)
        #: read from the state's saved snapshot, not from the live collections
        self.from_file = False
        if policy.saved:
            got = store.saved_snapshot(self.manifest, self._committed, policy.max_rows)
            if got is not None:
                self._ready, self.from_file = got, True

    @classmethod
    def for_store(cls, store: Any, chunks: CollectionReader, sentences: CollectionReader,
                  policy: SnapshotPolicy | None = None) -> CommittedSnapshots | None:
        """Snapshots of ``store``'s open state, or None where none are kept (shared backend, too many rows)."""
        policy = policy or SnapshotPolicy()
        m = store.manifest
        if m is None or store.backend.shared or policy.max_rows <= 0 or len(m.chunk_ids()) > policy.max_rows:
            return None
        return cls(store, chunks, sentences, policy)

    def collections(self) -> tuple[SnapshotCollection, SnapshotCollection]:
        return SnapshotCollection(self.live[0], self, 0), SnapshotCollection(self.live[1], self, 1)

    def current(self) -> bool:
        """The store still answers from this state (no commit or reopen since)."""
        m = self.store.manifest
        if m is self.manifest:
            return True
        if m is None or _state(m) != self._state:
            return False
        self.manifest = m  # the same state read again (a sync that changed nothing): still this one
        return True

    @property
    def loaded(self) -> bool:
        return self._ready[0] is not None

    def snapshot(self, side: int) -> VectorSnapshot | None:
        """The snapshot of the chunks (0) or the sentences (1), when read and the state is current."""
        snap = self._ready[side]
        return snap if snap is not None and self.current() else None

    def note_query(self) -> None:
        """One more question (the chunk side's query): read the snapshot once the policy says so."""
        with self._lock:
            self._queries += 1
            if self._loading or self.loaded or self._queries <= self.policy.after_queries or self._tries >= MAX_TRIES:
                return
            self._loading, self._tries = True, self._tries + 1
            self._idle.clear()
        if len(self._committed) <= self.policy.sync_chunks:
            self._load()
        else:  # the live collections answer meanwhile
            threading.Thread(target=self._load, name="qa-snapshot", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a read under way (True when none is, or it ended)."""
        return self._idle.wait(timeout)

    def _load(self) -> None:
        got: tuple[VectorSnapshot, VectorSnapshot | None] | None = None
        try:
            got = self.read_rows()
        except Exception as e:  # a collection a later commit dropped, a broken store: the live ones answer
            log.debug("snapshot of %s not read: %s", self.live[0].name, e)
        with self._lock:
            if got is not None:
                self._ready = got
            self._loading = False
            self._queries = 0  # an incomplete read is tried again after as many questions
        try:
            if got is not None and self.policy.saved:
                self.store.save_snapshot(self.manifest, *got)  # the next new process starts from it
        except Exception as e:  # a cache: the question is answered all the same
            log.warning("snapshot of %s not saved (%s: %s)", self.live[0].name, type(e).__name__, e)
        finally:
            self._idle.set()

    def read_rows(self) -> tuple[VectorSnapshot, VectorSnapshot | None] | None:
        """Both snapshots of the committed rows, or None when a committed row is missing."""
        if not self.current():
            return None
        chunks = VectorSnapshot.read(self.live[0], self._committed)
        if chunks.count() != len(self._committed):
            log.debug("snapshot of %s: %d of %d chunks found; reading the live collection", chunks.name,
                      chunks.count(), len(self._committed))
            return None
        ids = sentence_ids(chunks)
        if ids is None or len(ids) > self.policy.max_rows:
            return chunks, None
        sentences = VectorSnapshot.read(self.live[1], ids)
        return (chunks, sentences) if sentences.count() == len(ids) else None


class SnapshotCollection:
    """One collection of a committed state as its retriever reads it: from the snapshot once read and
    while the state is current, else from the live collection. Read-only (``add``/``delete`` refuse)."""

    def __init__(self, live: VectorCollection, owner: CommittedSnapshots, side: int):
        self.live = live
        self.owner = owner
        self.side = side

    @property
    def name(self) -> str:
        return self.live.name

    def _source(self) -> CollectionReader:
        snap = self.owner.snapshot(self.side)
        return snap if snap is not None else self.live

    def query(self, vector: Any, n: int) -> list[Match]:
        if self.side == 0:  # the chunk side queries once a question: it counts the questions
            self.owner.note_query()
        return self._source().query(vector, n)

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None, vectors: bool = False) -> Records:
        return self._source().get(ids=ids, where=where, vectors=vectors)

    def count(self) -> int:
        return int(self._source().count())

    def add(self, ids: Sequence[str], vectors: Any, metadatas: Sequence[Mapping[str, Any]],
            documents: Sequence[str | None] | None = None) -> None:
        raise TypeError(f"{self.name}: a retriever's view of a committed state is read-only; write through the store")

    def delete(self, ids: Sequence[str]) -> None:
        raise TypeError(f"{self.name}: a retriever's view of a committed state is read-only; write through the store")

    def refresh(self) -> None:
        self.live.refresh()


class LiveCollection:
    """A committed state's collection in the vector store, opened on first use: a retriever whose
    snapshot answers everything (read from the saved file) never opens the store at all."""

    def __init__(self, store: Any, side: int, name: str):
        self.store = store
        self.side = side
        self.name = name
        self._col: VectorCollection | None = None

    def collection(self) -> VectorCollection:
        """The collection itself (opened now if not yet; two threads opening it at once both get a
        handle on the same collection, so no lock)."""
        if self._col is None:
            m = self.store.manifest
            if m is not None and m.names()[self.side] == self.name:  # the store's own open collections
                self._col = self.store.chunks_collection if self.side == 0 else self.store.sentences_collection
            else:  # a commit came since: this state's collection by name, as the retriever was made for
                self._col = self.store.backend.open(self.name)
        return self._col

    def query(self, vector: Any, n: int) -> list[Match]:
        return self.collection().query(vector, n)

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None, vectors: bool = False) -> Records:
        return self.collection().get(ids=ids, where=where, vectors=vectors)

    def count(self) -> int:
        return int(self.collection().count())

    def refresh(self) -> None:
        if self._col is not None:
            self._col.refresh()
