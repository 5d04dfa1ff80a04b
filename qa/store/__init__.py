"""The persisted index: a collection of chunks, one of sentence vectors, BM25, a manifest.

The vectors live in a :class:`~qa.store.backend.VectorBackend` (Chroma by default, see
:mod:`qa.store.chroma`; ``QA_VECTOR_BACKEND`` picks another registered one). Modules:
``backend`` (the Protocol and its scores), ``registry`` (backends by name), ``chroma``, ``manifest``, ``records`` (how chunks are
stored as rows), ``lock``, ``generations`` (sync, commit, crash cleanup), ``append`` (the append
intent and its recovery), ``change`` (delete and replace in place, through the same intent), ``sparse`` (the BM25 index), ``bm25`` (when
it is built and loaded), ``snapshot`` (a small committed state read into memory for its retriever), ``snapshot_file`` (that state saved
beside the manifest for new processes),
``index`` (:class:`IndexStore`, tying them together).

Layout of ``index_dir``::

    manifest.json          model, dimension, chunking, one content hash per document, chunk ids, and
                           the *generation*: which Chroma collections hold this index right now
    manifest.staging.json  only while (or after a crash while) a new generation is being written
    append.json            only while (or after a crash while) documents are added in place (see below)
    index.lock             held (flock) by the one process writing this index
    chroma/                chromadb PersistentClient (the Chroma backend; not used when ``chroma_url`` names a server)
    bm25/                  BM25 (bm25s, in the folder layout of llama-index's BM25Retriever), saved for
                           the corpus recorded in the manifest (built by every committing sync, so
                           opening an index never rebuilds it; after an append, rebuilt in the
                           background while the previous one answers)
    damaged-<time>/        a Chroma store that could not be opened, moved here by ``qa index --rebuild``
                           (kept for the user; never read, never deleted)
    snapshot.npz           the committed state's chunk and sentence rows, keyed by the manifest's digest
                           (``snapshot_file``): a new process answers from it without opening the vector
                           store; a cache, ignored unless it is exactly the open manifest's state
    retired.pending        present while a replaced generation's collections may still exist: a sync
                           that finds it (or a staging manifest, or an append intent) cleans up first

Collections are named ``<collection>_<index_id>_<generation>_chunks`` and ``..._sentences``: the
index id is random per index folder, so several indexes can share one Chroma server; the generation
is random per committed sync. With ``chroma_url`` (a server started with ``chroma run``) the vectors
live in the server while the manifest and BM25 stay in ``index_dir``: the manifest describes what
the server's collections hold, and only collections named with this index's id are ever touched.

**Crash safety.** :meth:`IndexStore.sync` never edits the live collections. It writes a staging
manifest naming a new generation, creates that generation's collections, copies the vectors of
unchanged documents into them (no re-embedding), embeds added and edited documents into them batch
by batch, builds the new generation's BM25 aside (``bm25.tmp-*``), writes the new manifest and
renames it over ``manifest.json``: that rename is the commit point. Only then is the BM25 folder
swapped in and are the previous generation's collections dropped. BM25 records the corpus key it was
built for, so a crash between the rename and the swap leaves a stale ``bm25/`` that the next reader
rebuilds, never a wrong one. A crash (even ``kill -9``)
before the rename leaves the previous index untouched and answering; a crash after it leaves the new
one. Whatever a crashed run left behind (staging collections, an uncommitted or retired generation)
is dropped by the next writer, or by the next reader that finds no writer holding the lock. Each
such leftover is marked on disk until it is gone (``manifest.staging.json``, ``append.json``,
``retired.pending``), so a sync that finds the documents unchanged and no mark neither lists nor
opens the vector store (``qa ask`` on an index that is up to date).

**Appends.** A sync whose only change is *added* documents (and :meth:`IndexStore.commit_append`,
the upload path) does not write a generation: copying every vector of a large collection per upload
is what made one upload cost minutes. Under the writer lock it writes ``append.json`` (the
generation and the chunk ids about to be added, fsynced), adds the new chunks and sentence vectors
to the live collections batch by batch, then commits by renaming a new manifest (same generation,
the new documents listed) over ``manifest.json``, and removes the intent. Readers only ever return
chunks of documents listed in the manifest they opened, so vectors added but not committed are
never answered from, and the answers of a committed state do not change while an append is under
way. Recovery (the next writer, or a reader that finds no writer holding the lock): an intent whose
documents are not in the committed manifest has its chunks and sentences deleted from the live
collections; one whose documents are is simply removed. BM25 is not rebuilt on the upload's time: a
background thread rebuilds it after the commit (one builder per store; the corpus key is checked
before installing; ``wait_bm25``/``close`` join it) while the previous BM25, a subset of the
same generation, keeps answering; the new document is found by the dense sides meanwhile.

:meth:`IndexStore.sync` brings the index in line with a set of documents (any iterable, streamed:
memory stays flat for large corpora): it re-embeds only added and edited documents, drops removed
ones, and rebuilds everything when the embedding model or the chunking changed. Sentence vectors
are computed here, at index time, so answering a question needs exactly one model call.

>>> store = IndexStore("index", embedder, chunking={"chunk_words": 110})   # doctest: +SKIP
>>> report = store.sync(load_documents("seeds").documents)                  # doctest: +SKIP
"""

from __future__ import annotations

from qa.store.backend import CollectionReader, IndexUnusable, Match, Records, VectorBackend, VectorCollection
from qa.store.bm25 import BM25_GENERATION_FILE, BM25_KEY_FILE
from qa.store.chroma import CATCH_UP_ID, ChromaBackend, open_chroma, sqlite_damage
from qa.store.index import IndexStore
from qa.store.manifest import (
    APPEND,
    DAMAGED_PREFIX,
    KEPT,
    LOCK,
    MANIFEST,
    MANIFEST_FORMAT,
    OWNED,
    OWNED_PREFIXES,
    READABLE_FORMATS,
    STAGING,
    WRITE_BATCH_CHUNKS,
    AppendRefused,
    Manifest,
    PreparedAppend,
    Progress,
    SyncReport,
)
from qa.store.records import COPY_BATCH, READ_BATCH, read_nodes
from qa.store.registry import BACKEND_ENV, DEFAULT_BACKEND, backend_name, make_backend, register_backend

#: the name this exception had before the store became a package (cli, server and tests still catch it by it)
IndexError_ = IndexUnusable

__all__ = [
    "APPEND", "BACKEND_ENV", "BM25_GENERATION_FILE", "BM25_KEY_FILE", "CATCH_UP_ID", "COPY_BATCH", "CollectionReader", "DAMAGED_PREFIX",
    "DEFAULT_BACKEND", "KEPT", "LOCK", "MANIFEST", "MANIFEST_FORMAT", "OWNED", "OWNED_PREFIXES", "READABLE_FORMATS",
    "READ_BATCH", "STAGING", "WRITE_BATCH_CHUNKS", "AppendRefused", "ChromaBackend", "IndexError_",
    "IndexStore", "IndexUnusable", "Manifest", "Match", "PreparedAppend", "Progress", "Records", "SyncReport",
    "VectorBackend", "VectorCollection", "backend_name", "make_backend", "open_chroma", "read_nodes",
    "register_backend", "sqlite_damage",
]
