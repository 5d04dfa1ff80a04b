"""The persisted index: a Chroma collection of chunks, one of sentence vectors, BM25, a manifest.

Layout of ``index_dir``::

    manifest.json          model, dimension, chunking, one content hash per document, chunk ids, and
                           the *generation*: which Chroma collections hold this index right now
    manifest.staging.json  only while (or after a crash while) a new generation is being written
    append.json            only while (or after a crash while) documents are added in place (see below)
    index.lock             held (flock) by the one process writing this index
    chroma/                chromadb PersistentClient (not used when ``chroma_url`` names a server)
    bm25/                  the llama-index BM25 retriever, saved for the corpus recorded in the manifest
                           (built by every committing sync, so opening an index never rebuilds it; after
                           an append, rebuilt in the background while the previous one answers)
    damaged-<time>/        a Chroma store that could not be opened, moved here by ``qa index --rebuild``
                           (kept for the user; never read, never deleted)

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
is dropped by the next writer, or by the next reader that finds no writer holding the lock.

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

import atexit
import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import parse_chroma_url
from qa.embed import Embedder
from qa.ingest import Chunk, chunk_document, chunk_to_node, embedding_text
from qa.types import Document

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STAGING = "manifest.staging.json"
#: the intent of an in-place append (see the module docstring)
APPEND = "append.json"
LOCK = "index.lock"
MANIFEST_FORMAT = 2
#: manifests this code can read (1: one fixed pair of collections, migrated on the next sync)
READABLE_FORMATS = (1, 2)
#: what `qa index --rebuild` may delete inside index_dir; nothing else is ever touched
OWNED = (MANIFEST, "chroma", "bm25", MANIFEST + ".tmp", STAGING, STAGING + ".tmp", LOCK, APPEND, APPEND + ".tmp")
#: owned scratch folders are named with this prefix plus a random token
OWNED_PREFIXES = ("bm25.tmp-",)
#: other things qa keeps inside index_dir (evaluation indexes, feedback), never wiped by a rebuild
KEPT = ("eval", "feedback.jsonl")
#: an embedded Chroma store that cannot be opened is moved by `qa index --rebuild` into
#: ``damaged-<time>/`` inside index_dir (kept, never deleted, never wiped)
DAMAGED_PREFIX = "damaged-"
#: written into the BM25 folder: the corpus key it was built for
BM25_KEY_FILE = "qa_corpus_key.txt"
#: written into the BM25 folder: the generation it was built for (a BM25 of the live generation is a
#: subset of it, since within a generation documents are only ever added)
BM25_GENERATION_FILE = "qa_generation.txt"
#: a reader in another process sees vectors that a writer added to collections it already has open
#: only after its own Chroma has caught up with the store's log: a delete of this (never used) id does that
CATCH_UP_ID = "qa-catch-up"
#: the longest a background BM25 build waits for one that another live process is making
FOREIGN_BM25_WAIT_S = 120.0

#: chunks embedded per write (``QA_INDEX_BATCH_CHUNKS``): vectors go to Chroma as they are made,
#: never all held at once; smaller batches mean less memory and less work lost to a crash
WRITE_BATCH_CHUNKS = 256
#: rows per get/add when copying unchanged vectors into a new generation
COPY_BATCH = 1000
#: ids per get when reading a whole collection (BM25): the embedded Chroma turns one get into one
#: SQL statement with a variable per row, and SQLite refuses more than 32,766 of them
READ_BATCH = 5000

Progress = Callable[[int, int], None]  # (items done so far, total; 0 when the total is not known)


class IndexError_(RuntimeError):
    """The index folder cannot be used as it is; the message says what to do."""


class AppendRefused(RuntimeError):
    """Documents cannot be added in place (no live generation, another model, chunking or source, a
    document already indexed with other content): a full :meth:`IndexStore.sync` is the way."""


class _Stopped(Exception):
    """A background BM25 build was asked to stop (the store is closing)."""


@dataclass
class PreparedAppend:
    """Documents chunked and embedded by :meth:`IndexStore.prepare_append`, not yet written anywhere."""

    documents: list[Document]
    chunks: dict[str, list[Chunk]]
    #: chunk id -> (chunk vector, one vector per sentence)
    vectors: dict[str, tuple[np.ndarray, np.ndarray]]
    source: str = ""
    #: documents already in the index with the same content (nothing to do for them)
    present: tuple[str, ...] = ()


def _test_pause(point: str) -> None:
    """Test hook: with ``QA_TEST_PAUSE_AT=<point>``, say so on stderr and wait to be killed.

    Used only by tests/test_crash.py to SIGKILL an indexing run at a known point. Points, in order:
    ``staging`` (staging manifest and empty collections exist), ``embed`` (first batch of new
    vectors written), ``switch`` (new manifest written, not yet renamed), ``committed`` (renamed,
    old generation not yet dropped). An append (added documents only) has its own:
    ``append-intent`` (append.json written, nothing added), ``append-embed`` (first batch added to
    the live collections), ``append-switch`` (new manifest written, not renamed), ``append-committed``
    (renamed, append.json not yet removed).
    """
    if os.environ.get("QA_TEST_PAUSE_AT") == point:
        print(f"QA_TEST_PAUSED {point}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("QA_TEST_PAUSE_SECONDS", "3600")))


@dataclass(frozen=True)
class SyncReport:
    """What :meth:`IndexStore.sync` changed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_copied: int = 0
    rebuilt: bool = False
    reason: str = ""
    seconds: float = 0.0
    #: where a damaged Chroma store was moved before rebuilding ("" when none was)
    set_aside: str = ""
    #: a new generation was committed (also true for a format upgrade that embedded nothing)
    committed: bool = False
    #: the added documents went into the live generation in place (no copy; BM25 rebuilt in the background)
    appended: bool = False

    @property
    def changed(self) -> bool:
        """The live collections changed: anything holding the old ones (a retriever) must reopen."""
        return bool(self.added or self.updated or self.removed or self.rebuilt or self.committed)

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        if not self.changed:
            return f"index up to date ({len(self.unchanged)} documents)"
        parts = []
        if self.set_aside:
            parts.append(f"the damaged Chroma store was moved to {self.set_aside}")
        if self.rebuilt:
            parts.append(f"rebuilt ({self.reason})")
        elif self.reason:
            parts.append(self.reason)
        for label, items in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            if items:
                parts.append(f"{label} {len(items)}: {', '.join(items[:10])}{' …' if len(items) > 10 else ''}")
        parts.append(f"+{self.chunks_added}/-{self.chunks_removed} chunks in {self.seconds:.1f}s")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"changed": self.changed}


@dataclass
class Manifest:
    model: str
    dimension: int
    chunking: dict[str, Any]
    collection: str
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    bm25_key: str = ""  # unused since format 2 (the key lives in bm25/); kept for old manifests
    format: int = MANIFEST_FORMAT
    updated_at: float = 0.0
    #: random per index folder; part of every collection name, so indexes never clash on a server
    index_id: str = ""
    #: random per committed sync; "" for a format-1 index (collections <collection>_chunks/_sentences)
    generation: str = ""
    #: where the documents came from: "" for the documents folder, else e.g. "jsonl:/abs/corpus.jsonl"
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unknown manifest format {data.get('format') if isinstance(data, dict) else data!r}")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def save(self, path: Path) -> None:
        self.write_tmp(path)
        os.replace(path.with_name(path.name + ".tmp"), path)  # atomic: the old manifest or the new one

    def write_tmp(self, path: Path) -> Path:
        """Write ``<path>.tmp`` durably (fsync), ready to be renamed over ``path``."""
        self.updated_at = time.time()
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(asdict(self), indent=1, ensure_ascii=False))
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def chunk_ids(self) -> list[str]:
        return [cid for d in self.documents.values() for cid in d["chunks"]]

    def corpus_key(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.chunk_ids())).encode()).hexdigest()[:32]

    # --- collection names ----------------------------------------------------------------------

    def prefix(self) -> str:
        """Every collection of this index (any generation) starts with this."""
        return f"{self.collection}_{self.index_id}_"

    def names(self) -> tuple[str, str]:
        """(chunks, sentences) collection names of this manifest's generation."""
        if not self.generation:  # format 1
            return f"{self.collection}_chunks", f"{self.collection}_sentences"
        base = f"{self.prefix()}{self.generation}"
        return f"{base}_chunks", f"{base}_sentences"


def open_chroma(path: Path, url: str = "") -> Any:
    """A telemetry-free Chroma client: a PersistentClient at ``path``, or an HttpClient for ``url``."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if not url:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    host, port, ssl = parse_chroma_url(url)
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        client.heartbeat()
    except Exception as e:
        raise IndexError_(
            f"cannot reach the Chroma server at {url} ({type(e).__name__}: {e}); start one with "
            f"`chroma run --path DIR --host {host} --port {port}`, or unset QA_CHROMA_URL to use the embedded store"
        ) from None
    return client


def _forget_chroma_clients() -> None:
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # pragma: no cover - private API moved
        pass


def read_nodes(collection: Any, ids: Sequence[str], batch: int | None = None) -> list[Any]:
    """The llama-index nodes of ``ids`` in ``collection``, read ``batch`` ids per get (default READ_BATCH).

    Never one get for a whole collection: past about 32k rows the embedded Chroma fails with
    "too many SQL variables". Ids missing from the collection are left out.
    """
    from llama_index.vector_stores.chroma import ChromaVectorStore

    vs = ChromaVectorStore(chroma_collection=collection)
    step = max(1, int(batch or READ_BATCH))
    return [n for i in range(0, len(ids), step) for n in vs.get_nodes(node_ids=list(ids[i : i + step]))]


def sqlite_damage(path: Path) -> str:
    """Why SQLite calls the database file at ``path`` damaged; "" when it reads as sound (or is absent).

    Opens it read-only and runs ``PRAGMA quick_check``: "file is not a database" (random bytes),
    "database disk image is malformed" (truncated, overwritten pages) and a failed check count as
    damage; a busy or locked database does not.
    """
    import sqlite3

    if not path.is_file():
        return ""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        code = getattr(e, "sqlite_errorcode", None)
        damaged = (code & 0xFF) in (11, 26) if code is not None else any(w in str(e) for w in ("malformed", "not a database"))
        return str(e) if damaged else ""  # 11 SQLITE_CORRUPT, 26 SQLITE_NOTADB
    bad = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return f"integrity check failed: {bad[0]}" if bad else ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _collection_names(client: Any) -> list[str]:
    out = []
    for c in client.list_collections():
        out.append(c if isinstance(c, str) else c.name)
    return out


class IndexStore:
    """Chroma-backed chunk and sentence vectors plus BM25, kept in step by a manifest."""

    def __init__(
        self, index_dir: str | Path, embedder: Embedder, chunking: dict[str, Any], collection: str = "qa",
        chroma_url: str = "",
    ):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.chunking = dict(chunking)
        self.collection = collection
        self.chroma_url = chroma_url or ""
        if self.chroma_url:
            parse_chroma_url(self.chroma_url)  # fail early on a malformed URL
        self._client: Any = None
        self._chunks: Any = None
        self._sentences: Any = None
        #: (BM25 retriever or None, corpus key it was built for, generation): replaced whole, read without a lock
        self._bm25_state: tuple[Any, str, str] = (None, "", "")
        self._bm25_cv = threading.Condition()
        self._bm25_thread: threading.Thread | None = None
        self._bm25_wanted = False
        self._bm25_stop = threading.Event()
        #: a scratch folder an append reserved before its commit, so that readers in other processes
        #: see a live builder and wait for it instead of building the same BM25 themselves
        self._bm25_scratch: Path | None = None
        #: this process's Chroma must catch up with vectors another process appended
        self._catch_up = False
        self._lock = threading.RLock()
        self._flock_depth = 0
        self._flock_fd: int | None = None
        #: collections of replaced generations, dropped by drop_retired() (or the next writer):
        #: a question already under way in another thread may still be reading them
        self._retired: list[str] = []
        self.manifest: Manifest | None = None
        ref = weakref.ref(self)
        atexit.register(lambda: (s := ref()) is not None and (s.close(timeout=30), s._drop_quietly()))

    @property
    def _bm25(self) -> Any:
        """The BM25 retriever in memory (None when none is loaded)."""
        return self._bm25_state[0]

    @_bm25.setter
    def _bm25(self, value: Any) -> None:
        if value is not None:  # pragma: no cover - use _bm25_state with its key
            raise ValueError("set _bm25_state (retriever, corpus key, generation) instead")
        self._bm25_state = (None, "", "")

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
        return f"the Chroma server {self.chroma_url}" if self.chroma_url else str(self.index_dir / "chroma")

    @staticmethod
    def _owned(name: str) -> bool:
        return name in OWNED or name.startswith(OWNED_PREFIXES)

    def _check_folder(self) -> None:
        """Refuse folders that hold something other than a qa index (never delete user data)."""
        d = self.index_dir
        if d.exists() and not d.is_dir():
            raise IndexError_(f"index path {d} exists and is not a folder")
        if not d.exists():
            return
        if not self.manifest_path.exists():
            foreign = [p.name for p in d.iterdir() if not self._owned(p.name) and p.name not in KEPT
                       and not p.name.startswith((".", DAMAGED_PREFIX))]
            if foreign:
                raise IndexError_(
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
            raise IndexError_(
                f"index manifest {self.manifest_path} is unreadable ({e}); run `qa index --rebuild` to rebuild it"
            ) from e

    @property
    def client(self) -> Any:
        if self._client is None:
            if not self.chroma_url:
                self.index_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._client = open_chroma(self.index_dir / "chroma", self.chroma_url)
            except IndexError_:
                raise
            except Exception as e:  # chromadb raises many types for a damaged store
                raise IndexError_(
                    f"the Chroma store in {self.where} cannot be opened ({type(e).__name__}: {e}); run `qa index --rebuild`"
                ) from e
        return self._client

    def _collection_meta(self, m: Manifest) -> dict[str, Any]:
        return {"hnsw:space": "cosine", "qa_index_id": m.index_id, "qa_generation": m.generation}

    def _open_collections(self, m: Manifest | None = None) -> None:
        """Point at the collections of manifest ``m`` (default: the loaded one)."""
        m = m or self.manifest
        if m is None:
            raise IndexError_(f"no index at {self.index_dir}; run `qa index` first")
        if self._chunks is not None and self._chunks.name == m.names()[0]:
            return
        chunks_name, sentences_name = m.names()
        try:
            self._chunks = self.client.get_collection(chunks_name)
            self._sentences = self.client.get_collection(sentences_name)
        except IndexError_:
            raise
        except Exception as e:  # a missing collection, a damaged store
            self._chunks = self._sentences = None
            raise IndexError_(
                f"the index's vectors ({chunks_name}) cannot be read from {self.where} ({type(e).__name__}: {e}); "
                f"run `qa index --rebuild`"
            ) from e

    @property
    def chunks_collection(self) -> Any:
        c = self._chunks  # no lock once open: questions must not wait for a sync to finish
        if c is not None:
            return c
        with self._lock:
            if self._chunks is None:
                self._open_collections(self.manifest or self.open())
            return self._chunks

    @property
    def sentences_collection(self) -> Any:
        c = self._sentences
        if c is not None:
            return c
        with self._lock:
            if self._sentences is None:
                self._open_collections(self.manifest or self.open())
            return self._sentences

    def vector_store(self) -> Any:
        """The chunk collection as a llama-index ``ChromaVectorStore``."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks_collection)

    # --- the writer lock and leftovers ---------------------------------------------------------

    @contextlib.contextmanager
    def _writer_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Hold ``index.lock`` (flock; released by the kernel if the process dies). Yields whether held."""
        with self._lock:
            if self._flock_depth:
                self._flock_depth += 1
                try:
                    yield True
                finally:
                    self._flock_depth -= 1
                return
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: in-process lock only
                yield True
                return
            self.index_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not blocking:
                        yield False
                        return
                    log.warning("another process is writing %s; waiting for it", self.index_dir)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self._flock_depth = 1
                try:
                    yield True
                finally:
                    self._flock_depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _drop(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                self.client.delete_collection(name)
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
            return names

    def cleanup(self, live: Manifest | None = None) -> list[str]:
        """Drop what a crashed or replaced run left: staging collections, old generations of this index.

        Only collections named with this index's id (or recorded in its staging manifest) are
        dropped; the live generation is never touched. Returns the dropped names.
        """
        with self._lock, self._writer_lock(blocking=False) as held:
            if not held:  # a writer is busy: its staging collections are not leftovers
                return []
            if live is None and self.manifest_path.exists():
                live = self.load_manifest()
            keep = set(live.names()) if live else set()
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
            if doomed or prefixes or (live and live.generation and not self.chroma_url):
                try:
                    existing = _collection_names(self.client)
                except IndexError_:
                    raise
                except Exception as e:
                    log.warning("cannot list collections in %s (%s)", self.where, e)
                    existing = []
                for name in existing:
                    if any(name.startswith(p) for p in prefixes):
                        doomed.add(name)
                    # a format-1 index migrated to generations: its fixed pair is retired
                    if live and live.generation and not self.chroma_url and name in (
                        f"{self.collection}_chunks", f"{self.collection}_sentences"
                    ):
                        doomed.add(name)
                doomed = {n for n in doomed if n in existing}
            doomed -= keep
            if doomed:
                log.warning("dropping %d collection(s) left by an interrupted or replaced indexing run: %s",
                            len(doomed), ", ".join(sorted(doomed)))
                self._drop(sorted(doomed))
            self._recover_append(live)
            for p in (self.staging_path, self.staging_path.with_name(STAGING + ".tmp"), self.manifest_path.with_name(MANIFEST + ".tmp"),
                      self.append_path.with_name(APPEND + ".tmp")):
                if p.exists():
                    p.unlink()
            self._clear_dead_scratch()
            self._retired = [n for n in self._retired if n not in doomed]
            return sorted(doomed)

    def _recover_append(self, live: Manifest | None) -> list[str]:
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
            log.warning("removing %d chunk(s) of an interrupted append (%s) from the live collections",
                        len(orphans), ", ".join(d for d in docs if live is None or d not in live.documents)[:200])
            ch_name, se_name = live.names()  # type: ignore[union-attr]
            ch, se = self.client.get_collection(ch_name), self.client.get_collection(se_name)
            _delete_vectors(ch, se, orphans)
        path.unlink(missing_ok=True)
        _fsync_dir(self.index_dir)
        return [cid for cid, _ in orphans]

    # --- writing -------------------------------------------------------------------------------

    def wipe(self) -> None:
        """Delete what this store owns inside index_dir, and its collections (nothing else)."""
        self._check_folder()
        with self._lock, self._writer_lock():
            self._bm25 = None
            try:
                live = self.load_manifest()
            except IndexError_:
                live = None
            self._chunks = self._sentences = None
            self.manifest = None
            try:
                # through the API, not rmtree: a client of this path may be open in this process,
                # and chromadb caches one system per path
                existing = _collection_names(self.client)
                mine = [
                    n for n in existing
                    if (live is not None and (n in live.names() or (live.index_id and n.startswith(live.prefix()))))
                    # the embedded store is this index's own: every collection of this name family is ours
                    or (not self.chroma_url and n.startswith(f"{self.collection}_"))
                ]
                if self.chroma_url and live is None:
                    # unreadable manifest on a shared server: only collections whose metadata says so
                    mine += [n for n in existing if self._stamped_for_this_folder(n)]
                self._drop(sorted(set(mine)))
            except IndexError_ as e:
                if self.chroma_url:
                    raise
                self._move_store_aside(str(e.__cause__ or e))
            except Exception as e:  # a damaged embedded store cannot be listed: move it aside
                if self.chroma_url:
                    raise IndexError_(f"cannot clear this index's collections on {self.where} ({e})") from e
                self._move_store_aside(f"{type(e).__name__}: {e}")
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

    def _move_store_aside(self, why: str) -> Path:
        """Move the embedded Chroma store (``chroma/``) into a new ``damaged-<time>/`` folder inside
        index_dir, so that a fresh one can be built; nothing is deleted. Returns the new folder."""
        store = self.index_dir / "chroma"
        self._client = self._chunks = self._sentences = None
        self._bm25 = None
        _forget_chroma_clients()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.index_dir / f"{DAMAGED_PREFIX}{stamp}"
        n = 1
        while dest.exists() or dest.is_symlink():
            n += 1
            dest = self.index_dir / f"{DAMAGED_PREFIX}{stamp}-{n}"
        try:
            dest.mkdir()
            os.replace(store, dest / "chroma")
        except OSError as e:
            with contextlib.suppress(OSError):
                dest.rmdir()
            raise IndexError_(
                f"the Chroma store in {store} is damaged ({why}) and could not be moved aside to {dest} "
                f"({e.strerror or e}); move or remove {store} yourself, then run `qa index --rebuild`"
            ) from e
        _fsync_dir(self.index_dir)
        log.warning("the Chroma store in %s cannot be used (%s); moved it to %s", store, why, dest)
        return dest

    def _set_aside_damaged_store(self) -> str:
        """Before a rebuild: move an embedded store that SQLite calls damaged, or that Chroma cannot
        open, out of the way (see :meth:`_move_store_aside`). Returns where it went ("" if it is sound)."""
        store = self.index_dir / "chroma"
        if self.chroma_url or not (store.exists() or store.is_symlink()):
            return ""
        why = sqlite_damage(store / "chroma.sqlite3")
        if not why:
            try:
                _collection_names(self.client)
                return ""
            except Exception as e:
                cause = e.__cause__ if isinstance(e, IndexError_) and e.__cause__ is not None else e
                why = f"{type(cause).__name__}: {cause}"
        return str(self._move_store_aside(why))

    def _stamped_for_this_folder(self, name: str) -> bool:
        try:
            md = self.client.get_collection(name).metadata or {}
        except Exception:
            return False
        return md.get("qa_index_dir") == str(self.index_dir.resolve())

    def _fresh(self, index_id: str = "", source: str = "") -> Manifest:
        return Manifest(
            model=self.embedder.name, dimension=self.embedder.dimension, chunking=self.chunking, collection=self.collection,
            index_id=index_id or secrets.token_hex(4), generation=secrets.token_hex(4), source=source,
        )

    def sync(
        self, documents: Iterable[Document], progress: Progress | None = None, rebuild: bool = False,
        source: str = "",
    ) -> SyncReport:
        """Make the index hold exactly ``documents``; re-embed only what changed.

        ``documents`` may be any iterable (a generator over a large JSONL file is read once and never
        held in memory). ``source`` names where they come from ("" = the documents folder); syncing
        an index with documents from a different source is refused unless ``rebuild``.
        The previous index stays live and answering until the new one is complete (see the module
        docstring); a crash at any point loses nothing that was committed.
        """
        t0 = time.perf_counter()
        self._check_folder()  # before the lock file: a foreign folder is left exactly as it was
        with self._lock, self._writer_lock():
            old: Manifest | None = None
            reason = ""
            set_aside = ""
            if rebuild:
                reason = "requested"
                set_aside = self._set_aside_damaged_store()  # a store Chroma cannot open is moved, never deleted
                try:
                    old = self.load_manifest()
                except IndexError_ as e:
                    log.warning("clearing unreadable index before rebuilding (%s)", e)
                    self.wipe()
                else:
                    if old is None and self.index_dir.is_dir():
                        self.wipe()  # manifest lost: what the store holds is unreachable; drop only qa's own
            else:
                old = self.load_manifest()
                if old is not None:
                    reason = self._mismatch(old)
                    if not reason and old.source != source:
                        def name(s: str) -> str:
                            return s.partition(":")[2] or s if s else "the documents folder"
                        raise IndexError_(
                            f"{self.index_dir} holds the documents of {name(old.source)}, not of {name(source)}; "
                            f"index that source again, use another index folder (--index), or run `qa index --rebuild` to replace it"
                        )
            self.cleanup(old)
            if reason:
                log.warning("rebuilding index: %s", reason)
            base = {} if (reason or old is None) else old.documents
            if not rebuild and not reason and old is not None and old.generation and isinstance(documents, Sequence):
                added = self._only_added(documents, base)
                if added:  # nothing removed or edited: add in place, no new generation
                    words, overlap = int(self.chunking["chunk_words"]), int(self.chunking.get("chunk_overlap", 0))
                    items = [(d, chunk_document(d, words, overlap)) for d in added]
                    return self._append(old, items, progress, None, t0)
            new = self._fresh(old.index_id if old else "", source)
            writer = _GenerationWriter(self, new, old if (old and not reason) else None, progress)
            bm25: Any = None
            bm25_tmp: Path | None = None
            try:
                report = writer.run(documents, base)
                if report.changed or old is None or not old.generation or reason:
                    writer.stage()  # a no-op: every committing run has staged its collections
                    # BM25 of the new generation, built aside now: opening the index never has to
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
                return _dc_replace(report, seconds=time.perf_counter() - t0)
            # --- the switch: the rename is the commit point -------------------------------------
            tmp = new.write_tmp(self.manifest_path)
            _test_pause("switch")
            os.replace(tmp, self.manifest_path)
            _fsync_dir(self.index_dir)
            _test_pause("committed")
            if bm25_tmp is not None:
                self._install_bm25(bm25_tmp)
            with contextlib.suppress(FileNotFoundError):
                self.staging_path.unlink()
            if old is not None:
                self._retired += [n for n in old.names() if n not in new.names()]
            self.manifest = new
            self._bm25_state = (bm25, new.corpus_key(), new.generation)
            self._sentences, self._chunks = writer.sentences, writer.chunks
            if not reason and old is not None and not old.generation:
                reason = "moved to crash-safe generations (vectors copied, nothing re-embedded)"
                return _dc_replace(report, reason=reason, committed=True, seconds=time.perf_counter() - t0)
            return _dc_replace(report, rebuilt=bool(reason), reason=reason, committed=True, seconds=time.perf_counter() - t0,
                               set_aside=set_aside)

    # --- appending in place --------------------------------------------------------------------

    @staticmethod
    def _only_added(documents: Sequence[Document], base: dict[str, dict[str, Any]]) -> list[Document]:
        """The added documents when nothing was removed or edited (else [], and [] when nothing was added)."""
        seen: set[str] = set()
        added: list[Document] = []
        for d in documents:
            if d.doc_id in seen:
                raise ValueError(f"duplicate document id: {d.doc_id!r}")
            seen.add(d.doc_id)
            was = base.get(d.doc_id)
            if was is None:
                added.append(d)
            elif was["sha256"] != d.sha256:
                return []
        if len(seen) - len(added) != len(base):  # some indexed document is gone
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
        words, overlap = int(self.chunking["chunk_words"]), int(self.chunking.get("chunk_overlap", 0))
        seen: set[str] = set()
        todo: list[Document] = []
        present: list[str] = []
        for d in documents:
            if d.doc_id in seen:
                raise ValueError(f"duplicate document id: {d.doc_id!r}")
            seen.add(d.doc_id)
            was = live.documents.get(d.doc_id)
            if was is None:
                todo.append(d)
            elif was["sha256"] == d.sha256:
                present.append(d.doc_id)
            else:
                raise AppendRefused(f"{d.doc_id} is already indexed with other content")
        chunks = {d.doc_id: chunk_document(d, words, overlap) for d in todo}
        flat = [c for cs in chunks.values() for c in cs]
        total = len(flat)
        if progress:
            progress(0, total)
        step = max(1, int(os.environ.get("QA_INDEX_BATCH_CHUNKS") or WRITE_BATCH_CHUNKS))
        vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for i in range(0, total, step):
            batch = flat[i : i + step]

            def share(x: float, _i: int = i, _n: int = len(batch)) -> None:
                if progress:
                    progress(min(total, _i + int(_n * x)), total)

            chunk_vecs, sent_vecs = self._embed_chunks(batch, share if progress else None)
            k = 0
            for c, v in zip(batch, chunk_vecs):
                vectors[c.chunk_id] = (v, sent_vecs[k : k + len(c.sentences)])
                k += len(c.sentences)
            if progress:
                progress(i + len(batch), total)
        return PreparedAppend(documents=todo, chunks=chunks, vectors=vectors, source=source, present=tuple(present))

    def commit_append(self, prepared: PreparedAppend, progress: Progress | None = None) -> SyncReport:
        """Add what :meth:`prepare_append` embedded to the live generation and commit it (crash-safe).

        Takes the writer lock for the writes only. Documents that another writer committed meanwhile
        with the same content are skipped. Raises :class:`AppendRefused` when the index changed
        meanwhile so that the documents cannot be added in place (another model, a document indexed
        with other content).
        """
        t0 = time.perf_counter()
        self._check_folder()
        with self._lock, self._writer_lock():
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

    def _append(
        self, live: Manifest, items: list[tuple[Document, list[Chunk]]], progress: Progress | None,
        vectors: dict[str, tuple[np.ndarray, np.ndarray]] | None, t0: float,
    ) -> SyncReport:
        """Add ``items`` to ``live``'s collections and commit (the store lock and the writer lock are held).

        ``vectors`` (chunk id -> (chunk vector, sentence vectors)) were embedded beforehand; without
        them each batch is embedded here. See the module docstring for the protocol.
        """
        flat = [c for _, cs in items for c in cs]
        total = len(flat)
        intent = {
            "format": 1, "index_id": live.index_id, "generation": live.generation, "pid": os.getpid(),
            "documents": [d.doc_id for d, _ in items], "chunks": [[c.chunk_id, len(c.sentences)] for c in flat],
        }
        self._open_collections(live)
        chunks_col, sents_col = self._chunks, self._sentences
        _write_json_durably(self.append_path, intent)  # first: from here on a crash is undone by name
        committed = False
        scratch: Path | None = None
        try:
            _test_pause("append-intent")
            if progress:
                progress(0, total)
            step = max(1, int(os.environ.get("QA_INDEX_BATCH_CHUNKS") or WRITE_BATCH_CHUNKS))
            for i in range(0, total, step):
                batch = flat[i : i + step]
                if vectors is not None:
                    chunk_vecs = np.stack([vectors[c.chunk_id][0] for c in batch])
                    parts = [vectors[c.chunk_id][1] for c in batch]
                    sent_vecs = np.concatenate(parts) if parts else np.zeros((0, chunk_vecs.shape[1]), np.float32)
                else:
                    def share(x: float, _i: int = i, _n: int = len(batch)) -> None:
                        if progress:
                            progress(min(total, _i + int(_n * x)), total)

                    chunk_vecs, sent_vecs = self._embed_chunks(batch, share if progress else None)
                _add_vectors(chunks_col, sents_col, batch, chunk_vecs, sent_vecs)
                if progress:
                    progress(i + len(batch), total)
                _test_pause("append-embed")
            documents = dict(live.documents)
            for d, cs in items:
                documents[d.doc_id] = {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": [c.chunk_id for c in cs]}
            new = _dc_replace(live, documents=documents, format=MANIFEST_FORMAT)
            scratch = self._reserve_bm25_scratch()  # before the commit: other processes see a builder at once
            tmp = new.write_tmp(self.manifest_path)
            _test_pause("append-switch")
            os.replace(tmp, self.manifest_path)  # the commit point
            committed = True
            _fsync_dir(self.index_dir)
            _test_pause("append-committed")
        except Exception:
            if not committed:  # an ordinary error: take the uncommitted vectors out again now
                with contextlib.suppress(Exception):
                    _delete_vectors(chunks_col, sents_col, [(c.chunk_id, len(c.sentences)) for c in flat])
                    self.append_path.unlink(missing_ok=True)
                    self.manifest_path.with_name(MANIFEST + ".tmp").unlink(missing_ok=True)
                if scratch is not None:
                    shutil.rmtree(scratch, ignore_errors=True)
            raise
        self.append_path.unlink(missing_ok=True)
        _fsync_dir(self.index_dir)
        self.manifest = new
        if scratch is not None:
            if self._bm25_scratch is not None:
                shutil.rmtree(self._bm25_scratch, ignore_errors=True)
            self._bm25_scratch = scratch
        self._schedule_bm25()  # the BM25 in memory (a subset) answers until the new one is installed
        added = tuple(d.doc_id for d, _ in items)
        return SyncReport(
            added=added, unchanged=tuple(k for k in live.documents), chunks_added=total, appended=True,
            seconds=time.perf_counter() - t0,
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
                raise IndexError_(f"no index at {self.index_dir}; run `qa index` first")
            if m.model != self.embedder.name:
                raise IndexError_(f"index at {self.index_dir} was built with {m.model}, not {self.embedder.name}; run `qa index`")
            if self.staging_path.exists() or self.append_path.exists():
                self.cleanup(m)  # a crashed run's leftovers (skipped while a writer is busy)
            prev = self.manifest
            self._open_collections(m)
            self.manifest = m
            if (prev is not None and m.generation and prev.generation == m.generation and prev.index_id == m.index_id
                    and prev.updated_at != m.updated_at and not self.chroma_url):
                # another process appended to the collections this process has open
                self._catch_up = True
                if not self._try_catch_up():
                    self._schedule_bm25()  # the background thread retries once the writer is done
            return m

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
        """Every chunk of the open generation as a llama-index node (read in batches of READ_BATCH ids)."""
        manifest = self.manifest or self.open()
        return read_nodes(self.chunks_collection, manifest.chunk_ids())

    def _bm25_folder_key(self) -> str:
        """The corpus key the saved BM25 folder was built for ("" when there is none)."""
        folder = self.index_dir / "bm25"
        try:
            if not (folder / "retriever.json").exists():
                return ""
            return (folder / BM25_KEY_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _bm25_folder_generation(self) -> str:
        try:
            return (self.index_dir / "bm25" / BM25_GENERATION_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _load_bm25_folder(self) -> Any:
        """The BM25 retriever saved in ``bm25/`` (None when it cannot be read)."""
        try:
            import bm25s
            from llama_index.retrievers.bm25 import BM25Retriever

            folder = self.index_dir / "bm25"
            # BM25Retriever.from_persist_dir, minus bm25s's progress bar on every start
            args = json.loads((folder / "retriever.json").read_text(encoding="utf-8"))
            return BM25Retriever(existing_bm25=bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False), **args)
        except Exception as e:  # a damaged cache (or one being swapped by another process) is rebuilt, never fatal
            log.warning("BM25 cache unreadable (%s); rebuilding", e)
            return None

    def bm25(self) -> Any:
        """The BM25 retriever over every chunk: loaded from disk when it matches, else rebuilt.

        A committing :meth:`sync` builds and saves it, so this rebuilds only for an index written
        before that, or whose ``bm25/`` is missing or stale (e.g. a crash right after the commit).
        After an append (same generation, documents added) the BM25 at hand, in memory or on disk,
        is a subset of the live chunks: it is returned as is and brought up to date in the
        background (:meth:`wait_bm25` waits for that).
        """
        with self._lock:
            manifest = self.manifest or self.open()
            key, gen = manifest.corpus_key(), manifest.generation
            bm, bm_key, bm_gen = self._bm25_state
            if bm is not None and bm_key == key:
                return bm
            if bm is not None and gen and bm_gen == gen:
                self._schedule_bm25()
                return bm
            folder_key, folder_gen = self._bm25_folder_key(), self._bm25_folder_generation()
            if folder_key and (folder_key == key or (gen and folder_gen == gen)):
                loaded = self._load_bm25_folder()
                if loaded is not None:
                    self._bm25_state = (loaded, folder_key, folder_gen or gen)
                    if folder_key != key:
                        self._schedule_bm25()
                    return loaded
            return self._bm25_sync(manifest)

    def _bm25_sync(self, manifest: Manifest) -> Any:
        """Build BM25 for ``manifest`` now, save it and keep it in memory (the lock is held)."""
        bm, tmp = self._build_bm25(manifest, self.chunks_collection)
        if bm is None:
            return None
        if tmp is not None:
            self._install_bm25(tmp)
        self._bm25_state = (bm, manifest.corpus_key(), manifest.generation)
        return bm

    def bm25_retriever(self, top_k: int) -> Any:
        """A retriever over the newest BM25 of the open generation (``None`` without chunks).

        It always answers with the latest BM25 this store holds for its generation, so a background
        rebuild after an append is picked up by the next question without rebuilding anything else.
        """
        bm = self.bm25()
        if bm is None:
            return None
        from qa.retrieve import LatestBM25

        gen = self.manifest.generation if self.manifest else ""
        return LatestBM25(lambda: self._bm25_state, top_k=top_k, generation=gen, initial=bm)

    def _build_bm25(
        self, manifest: Manifest, collection: Any, tmp: Path | None = None, stop: threading.Event | None = None,
    ) -> tuple[Any, Path | None]:
        """Build BM25 over ``manifest``'s chunks in ``collection``, saved aside into a scratch folder.

        Returns (retriever or None when there are no chunks, scratch folder or None when it could
        not be saved). The scratch folder is named ``bm25.tmp-<pid>-<token>`` (``tmp``, when one was
        reserved): a dead process's leftovers are removed by :meth:`cleanup`. ``stop`` is checked
        between reads (raising :class:`_Stopped`).
        """
        from llama_index.retrievers.bm25 import BM25Retriever

        try:
            ids = manifest.chunk_ids()
            if stop is None:
                nodes = read_nodes(collection, ids)
            else:
                nodes = []
                for i in range(0, len(ids), READ_BATCH):
                    if stop.is_set():
                        raise _Stopped()
                    nodes += read_nodes(collection, ids[i : i + READ_BATCH])
            if not nodes:
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
                return None, None
            bm = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=10)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp = tmp or self.index_dir / f"{OWNED_PREFIXES[0]}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            bm.persist(str(tmp), show_progress=False)
            (tmp / BM25_GENERATION_FILE).write_text(manifest.generation, encoding="utf-8")
            (tmp / BM25_KEY_FILE).write_text(manifest.corpus_key(), encoding="utf-8")
        except OSError as e:  # read-only index: keep it in memory
            log.warning("could not save BM25 index (%s)", e)
            shutil.rmtree(tmp, ignore_errors=True)
            return bm, None
        return bm, tmp

    def _install_bm25(self, tmp: Path) -> None:
        """Swap a scratch BM25 folder in as ``bm25/``: a crash leaves the old folder or none, never half of one.

        Only while holding the writer lock (taken here if it is free): two processes never swap at once.
        """
        folder = self.index_dir / "bm25"
        with self._writer_lock(blocking=False) as held:
            if not held:  # a writer is busy; it saves its own, and this one stays in memory
                shutil.rmtree(tmp, ignore_errors=True)
                return
            try:
                if folder.exists():
                    shutil.rmtree(folder)
                os.replace(tmp, folder)
            except OSError as e:
                log.warning("could not save BM25 index (%s)", e)
                shutil.rmtree(tmp, ignore_errors=True)

    def _reserve_bm25_scratch(self) -> Path | None:
        """A scratch folder for the background build an append is about to start (see ``_bm25_scratch``)."""
        tmp = self.index_dir / f"{OWNED_PREFIXES[0]}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except OSError:
            return None
        return tmp

    def _foreign_bm25_builder(self) -> bool:
        """Another live process is building a BM25 for this index (it has a scratch folder here)."""
        try:
            entries = list(self.index_dir.iterdir())
        except OSError:
            return False
        for p in entries:
            if p.name.startswith(OWNED_PREFIXES[0]):
                pid = p.name[len(OWNED_PREFIXES[0]):].partition("-")[0]
                if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
                    return True
        return False

    # --- the background thread: BM25 after an append, catching up with other writers --------------

    def _schedule_bm25(self) -> None:
        """Bring BM25 (and this process's view of the collections) up to the open manifest, in a
        background thread: one per store; what is in memory answers meanwhile."""
        with self._bm25_cv:
            if self._bm25_stop.is_set():
                return
            self._bm25_wanted = True
            if self._bm25_thread is None:
                self._bm25_thread = threading.Thread(target=self._bm25_worker, name="qa-bm25", daemon=True)
                self._bm25_thread.start()
            self._bm25_cv.notify_all()

    def _bm25_worker(self) -> None:
        while True:
            with self._bm25_cv:  # the decision to end and the end are one step: no request is lost
                if self._bm25_stop.is_set() or not (self._bm25_wanted or self._catch_up):
                    self._bm25_thread = None
                    self._bm25_cv.notify_all()
                    return
                self._bm25_wanted = False
            try:
                if self._catch_up and not self._try_catch_up():
                    self._bm25_stop.wait(0.5)  # a writer holds the lock: try again shortly
                    continue
                self._refresh_bm25()
            except _Stopped:
                continue  # the loop ends at its next check
            except Exception as e:
                log.warning("background BM25 build failed (%s: %s); the previous BM25 keeps answering",
                            type(e).__name__, e)

    def _refresh_bm25(self) -> None:
        """One round of the background thread: make the BM25 in memory (and on disk) match the manifest."""
        waited_since: float | None = None
        while not self._bm25_stop.is_set():
            m = self.manifest
            if m is None:
                return
            key, gen = m.corpus_key(), m.generation
            if self._bm25_state[1] == key:
                with self._lock:  # no append is under way: a folder reserved by an earlier one is not needed
                    if self._bm25_scratch is not None and self.manifest is not None and self.manifest.corpus_key() == key:
                        shutil.rmtree(self._bm25_scratch, ignore_errors=True)
                        self._bm25_scratch = None
                return
            if self._bm25_folder_key() == key:  # another process (or an earlier round) saved it
                loaded = self._load_bm25_folder()
                if loaded is not None:
                    with self._lock:
                        if self.manifest is not None and self.manifest.corpus_key() == key:
                            self._bm25_state = (loaded, key, gen)
                    continue
            if self._bm25_scratch is None and self._foreign_bm25_builder():
                waited_since = waited_since or time.monotonic()
                if time.monotonic() - waited_since < FOREIGN_BM25_WAIT_S:
                    self._bm25_stop.wait(0.5)
                    continue
            with self._lock:  # an append sets it under this lock
                scratch, self._bm25_scratch = self._bm25_scratch, None
            bm, tmp = self._build_bm25(m, self.chunks_collection, tmp=scratch, stop=self._bm25_stop)
            with self._lock:
                current = self.manifest is not None and self.manifest.corpus_key() == key
                if current and bm is not None:
                    self._bm25_state = (bm, key, gen)
                if tmp is not None:
                    if current and self._disk_corpus_key() == key:
                        self._install_bm25(tmp)
                    else:
                        shutil.rmtree(tmp, ignore_errors=True)
            if current:
                return

    def _disk_corpus_key(self) -> str:
        try:
            return Manifest.load(self.manifest_path).corpus_key()
        except (ValueError, TypeError, KeyError, OSError):
            return ""

    def _try_catch_up(self) -> bool:
        """Let this process's Chroma apply vectors another process appended (True when done or not needed).

        A write does that, so it happens only while holding the writer lock (never beside a writer).
        """
        if not self._catch_up:
            return True
        with self._lock, self._writer_lock(blocking=False) as held:
            if not held:
                return False
            try:
                for col in (self._chunks, self._sentences):
                    if col is not None:
                        col.delete(ids=[CATCH_UP_ID])
            except Exception as e:  # a dropped collection: the next open sees the new generation
                log.debug("catch-up: %s", e)
            self._catch_up = False
            return True

    def wait_bm25(self, timeout: float | None = None) -> bool:
        """Wait for the background BM25 build (if any); True when BM25 matches the open manifest."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._bm25_cv:
            while self._bm25_thread is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._bm25_cv.wait(left)
        m = self.manifest
        return m is None or self._bm25_state[1] == m.corpus_key()

    def close(self, timeout: float | None = None) -> None:
        """Stop the background thread (a build under way is abandoned between reads) and join it."""
        self._bm25_stop.set()
        with self._bm25_cv:
            self._bm25_cv.notify_all()
            t = self._bm25_thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        if t is None or not t.is_alive():
            scratch, self._bm25_scratch = self._bm25_scratch, None
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _clear_dead_scratch(self) -> None:
        """Remove ``bm25.tmp-<pid>-*`` folders of processes that are gone (a crashed build)."""
        try:
            entries = list(self.index_dir.iterdir())
        except OSError:
            return
        for p in entries:
            if not p.name.startswith(OWNED_PREFIXES[0]) or not p.is_dir() or p.is_symlink():
                continue
            pid = p.name[len(OWNED_PREFIXES[0]):].partition("-")[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[tuple[str, int], np.ndarray]:
        """Stored vectors of every sentence of ``chunks``, keyed by (chunk_id, sentence index)."""
        ids = [f"{c.chunk_id}:{i}" for c in chunks for i in range(len(c.sentences))]
        if not ids:
            return {}
        got = self.sentences_collection.get(ids=ids, include=["embeddings"])
        out = {}
        for sid, vec in zip(got["ids"], got["embeddings"]):
            cid, _, i = sid.rpartition(":")
            out[(cid, int(i))] = np.asarray(vec, dtype=np.float32)
        return out


def _dc_replace(obj: Any, **kw: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **kw)


def _write_json_durably(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` by tmp + fsync + rename: a crash leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _add_vectors(chunks_col: Any, sents_col: Any, chunks: Sequence[Chunk], chunk_vecs: np.ndarray, sent_vecs: np.ndarray) -> None:
    """Add ``chunks`` (as llama-index nodes) and the vector of each of their sentences."""
    sents = [(c, i, s) for c in chunks for i, s in enumerate(c.sentences)]
    if chunks:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        nodes = []
        for c, v in zip(chunks, chunk_vecs):
            node = chunk_to_node(c)
            node.embedding = v.tolist()
            nodes.append(node)
        ChromaVectorStore(chroma_collection=chunks_col).add(nodes)
    for i in range(0, len(sents), 4096):
        part = sents[i : i + 4096]
        sents_col.add(
            ids=[f"{c.chunk_id}:{j}" for c, j, _ in part],
            embeddings=sent_vecs[i : i + len(part)].tolist(),
            metadatas=[{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": s.start, "end": s.end} for c, _, s in part],
        )


def _delete_vectors(chunks_col: Any, sents_col: Any, chunks: Sequence[tuple[str, int]]) -> None:
    """Delete chunks ``(chunk id, number of sentences)`` and their sentence vectors (ids that are absent are fine)."""
    for i in range(0, len(chunks), COPY_BATCH):
        part = chunks[i : i + COPY_BATCH]
        chunks_col.delete(ids=[cid for cid, _ in part])
        sent_ids = [f"{cid}:{j}" for cid, n in part for j in range(n)]
        for k in range(0, len(sent_ids), COPY_BATCH * 4):
            sents_col.delete(ids=sent_ids[k : k + COPY_BATCH * 4])


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - not supported on this filesystem
        pass
    finally:
        os.close(fd)


class _GenerationWriter:
    """Writes one new generation: streams documents, embeds the changed ones, copies the rest."""

    def __init__(self, store: IndexStore, new: Manifest, live: Manifest | None, progress: Progress | None):
        self.store = store
        self.new = new
        self.live = live
        self.progress = progress
        self.chunks: Any = None
        self.sentences: Any = None
        self.done = 0
        self.total = 0

    # -- staging --

    def stage(self) -> None:
        """Record the new generation in the staging manifest, then create its collections."""
        if self.chunks is not None:
            return
        st = self.store
        st.index_dir.mkdir(parents=True, exist_ok=True)
        self.new.save(st.staging_path)  # first: a crash from here on is cleaned up by name
        _fsync_dir(st.index_dir)
        meta = st._collection_meta(self.new) | {"qa_index_dir": str(st.index_dir.resolve())}
        ch, se = self.new.names()
        self.chunks = st.client.get_or_create_collection(ch, metadata=meta)
        self.sentences = st.client.get_or_create_collection(se, metadata=meta)
        _test_pause("staging")

    def abandon(self) -> None:
        st = self.store
        if self.chunks is not None:
            st._drop(self.new.names())
        with contextlib.suppress(FileNotFoundError):
            st.staging_path.unlink()

    # -- the run --

    def run(self, documents: Iterable[Document], base: dict[str, dict[str, Any]]) -> SyncReport:
        st = self.store
        words, overlap = int(st.chunking["chunk_words"]), int(st.chunking.get("chunk_overlap", 0))
        if isinstance(documents, Sequence):  # known up front: give the progress bar a total
            self.total = sum(len(chunk_document(d, words, overlap)) for d in documents
                             if d.doc_id not in base or base[d.doc_id]["sha256"] != d.sha256)
        if self.progress:
            self.progress(0, self.total)
        batch_chunks = max(1, int(os.environ.get("QA_INDEX_BATCH_CHUNKS") or WRITE_BATCH_CHUNKS))
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
            chunks = chunk_document(d, words, overlap)
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
        chunks_removed = sum(len(base[i]["chunks"]) for i in updated + removed)
        live = self.live
        migrating = live is not None and not live.generation
        changed = bool(added or updated or removed) or live is None
        copied = 0
        if changed or migrating:
            self.stage()
            copied, lost = self._copy_unchanged(unchanged, base)
            for doc_id in lost:  # vectors missing from the live store: picked up as added next time
                unchanged.remove(doc_id)
        return SyncReport(
            added=tuple(added), updated=tuple(updated), removed=tuple(removed), unchanged=tuple(unchanged),
            chunks_added=added_chunks, chunks_removed=chunks_removed, chunks_copied=copied,
        )

    def _write_batch(self, batch: list[tuple[Document, list[Chunk]]]) -> int:
        self.stage()
        chunks = [c for _, cs in batch for c in cs]
        chunk_vecs, sent_vecs = self.store._embed_chunks(chunks)
        _add_vectors(self.chunks, self.sentences, chunks, chunk_vecs, sent_vecs)
        for d, cs in batch:
            self.new.documents[d.doc_id] = {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": [c.chunk_id for c in cs]}
        self.done += len(chunks)
        if self.progress:
            self.progress(self.done, max(self.total, self.done) if self.total else 0)
        _test_pause("embed")
        return len(chunks)

    def _copy_unchanged(self, doc_ids: list[str], base: dict[str, dict[str, Any]]) -> tuple[int, list[str]]:
        """Copy stored vectors of unchanged documents from the live generation: no re-embedding."""
        if not doc_ids:
            return 0, []
        assert self.live is not None
        src_chunks = self.store.client.get_collection(self.live.names()[0])
        src_sents = self.store.client.get_collection(self.live.names()[1])
        want = [(d, cid) for d in doc_ids for cid in base[d]["chunks"]]
        got_ids: set[str] = set()
        copied = 0
        for i in range(0, len(want), COPY_BATCH):
            ids = [cid for _, cid in want[i : i + COPY_BATCH]]
            got = src_chunks.get(ids=ids, include=["embeddings", "metadatas", "documents"])
            if got["ids"]:
                self.chunks.add(ids=got["ids"], embeddings=got["embeddings"], metadatas=got["metadatas"], documents=got["documents"])
            got_ids.update(got["ids"])
            copied += len(got["ids"])
            sent_ids = [f"{cid}:{j}" for cid, md in zip(got["ids"], got["metadatas"]) for j in range(len(json.loads(md.get("sentences") or "[]")))]
            for k in range(0, len(sent_ids), COPY_BATCH * 4):
                s = src_sents.get(ids=sent_ids[k : k + COPY_BATCH * 4], include=["embeddings", "metadatas"])
                if s["ids"]:
                    self.sentences.add(ids=s["ids"], embeddings=s["embeddings"], metadatas=s["metadatas"])
        lost = sorted({d for d, cid in want if cid not in got_ids})
        if lost:
            log.warning("stored vectors missing for %d unchanged document(s) (%s); they are left out now and "
                        "embedded again by the next `qa index`", len(lost), ", ".join(lost[:5]))
        for d in doc_ids:
            if d not in lost:
                self.new.documents[d] = base[d]
        return copied, lost
