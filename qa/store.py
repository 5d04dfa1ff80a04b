"""The persisted index: a Chroma collection of chunks, one of sentence vectors, BM25, a manifest.

Layout of ``index_dir``::

    manifest.json          model, dimension, chunking, one content hash per document, chunk ids, and
                           the *generation*: which Chroma collections hold this index right now
    manifest.staging.json  only while (or after a crash while) a new generation is being written
    index.lock             held (flock) by the one process writing this index
    chroma/                chromadb PersistentClient (not used when ``chroma_url`` names a server)
    bm25/                  the llama-index BM25 retriever, saved for the corpus recorded in the manifest
                           (built by every committing sync, so opening an index never rebuilds it)
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
LOCK = "index.lock"
MANIFEST_FORMAT = 2
#: manifests this code can read (1: one fixed pair of collections, migrated on the next sync)
READABLE_FORMATS = (1, 2)
#: what `qa index --rebuild` may delete inside index_dir; nothing else is ever touched
OWNED = (MANIFEST, "chroma", "bm25", MANIFEST + ".tmp", STAGING, STAGING + ".tmp", LOCK)
#: owned scratch folders are named with this prefix plus a random token
OWNED_PREFIXES = ("bm25.tmp-",)
#: other things qa keeps inside index_dir (evaluation indexes, feedback), never wiped by a rebuild
KEPT = ("eval", "feedback.jsonl")
#: an embedded Chroma store that cannot be opened is moved by `qa index --rebuild` into
#: ``damaged-<time>/`` inside index_dir (kept, never deleted, never wiped)
DAMAGED_PREFIX = "damaged-"
#: written into the BM25 folder: the corpus key it was built for
BM25_KEY_FILE = "qa_corpus_key.txt"

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


def _test_pause(point: str) -> None:
    """Test hook: with ``QA_TEST_PAUSE_AT=<point>``, say so on stderr and wait to be killed.

    Used only by tests/test_crash.py to SIGKILL an indexing run at a known point. Points, in order:
    ``staging`` (staging manifest and empty collections exist), ``embed`` (first batch of new
    vectors written), ``switch`` (new manifest written, not yet renamed), ``committed`` (renamed,
    old generation not yet dropped).
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
        self._bm25: Any = None
        self._lock = threading.RLock()
        self._flock_depth = 0
        self._flock_fd: int | None = None
        #: collections of replaced generations, dropped by drop_retired() (or the next writer):
        #: a question already under way in another thread may still be reading them
        self._retired: list[str] = []
        self.manifest: Manifest | None = None
        ref = weakref.ref(self)
        atexit.register(lambda: (s := ref()) is not None and s._drop_quietly())

    # --- opening -------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST

    @property
    def staging_path(self) -> Path:
        return self.index_dir / STAGING

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
            for p in (self.staging_path, self.staging_path.with_name(STAGING + ".tmp"), self.manifest_path.with_name(MANIFEST + ".tmp")):
                if p.exists():
                    p.unlink()
            self._clear_dead_scratch()
            self._retired = [n for n in self._retired if n not in doomed]
            return sorted(doomed)

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
                    self.bm25()  # an index from before BM25 was built at index time, or a stale one
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
            self._bm25 = bm25
            self._sentences, self._chunks = writer.sentences, writer.chunks
            if not reason and old is not None and not old.generation:
                reason = "moved to crash-safe generations (vectors copied, nothing re-embedded)"
                return _dc_replace(report, reason=reason, committed=True, seconds=time.perf_counter() - t0)
            return _dc_replace(report, rebuilt=bool(reason), reason=reason, committed=True, seconds=time.perf_counter() - t0,
                               set_aside=set_aside)

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
            if self.staging_path.exists():
                self.cleanup(m)  # a crashed run's leftovers (skipped while a writer is busy)
            self._open_collections(m)
            self.manifest = m
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

    def bm25(self) -> Any:
        """The BM25 retriever over every chunk: loaded from disk when it matches, else rebuilt.

        A committing :meth:`sync` builds and saves it, so this rebuilds only for an index written
        before that, or whose ``bm25/`` is missing or stale (e.g. a crash right after the commit).
        """
        with self._lock:
            if self._bm25 is not None:
                return self._bm25
            from llama_index.retrievers.bm25 import BM25Retriever

            manifest = self.manifest or self.open()
            key = manifest.corpus_key()
            folder = self.index_dir / "bm25"
            if self._bm25_folder_key() == key:
                try:
                    import bm25s

                    # BM25Retriever.from_persist_dir, minus bm25s's progress bar on every start
                    args = json.loads((folder / "retriever.json").read_text(encoding="utf-8"))
                    self._bm25 = BM25Retriever(existing_bm25=bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False), **args)
                    return self._bm25
                except Exception as e:  # a damaged cache is rebuilt, never fatal
                    log.warning("BM25 cache unreadable (%s); rebuilding", e)
            bm, tmp = self._build_bm25(manifest, self.chunks_collection)
            if bm is None:
                return None
            if tmp is not None:
                self._install_bm25(tmp)
            self._bm25 = bm
            return bm

    def _build_bm25(self, manifest: Manifest, collection: Any) -> tuple[Any, Path | None]:
        """Build BM25 over ``manifest``'s chunks in ``collection``, saved aside into a scratch folder.

        Returns (retriever or None when there are no chunks, scratch folder or None when it could
        not be saved). The scratch folder is named ``bm25.tmp-<pid>-<token>``: a dead process's
        leftovers are removed by :meth:`cleanup`.
        """
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = read_nodes(collection, manifest.chunk_ids())
        if not nodes:
            return None, None
        bm = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=10)
        tmp = self.index_dir / f"{OWNED_PREFIXES[0]}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir(parents=True)
            bm.persist(str(tmp), show_progress=False)
            (tmp / BM25_KEY_FILE).write_text(manifest.corpus_key(), encoding="utf-8")
        except OSError as e:  # read-only index: keep it in memory
            log.warning("could not save BM25 index (%s)", e)
            shutil.rmtree(tmp, ignore_errors=True)
            return bm, None
        return bm, tmp

    def _install_bm25(self, tmp: Path) -> None:
        """Swap a scratch BM25 folder in as ``bm25/``: a crash leaves the old folder or none, never half of one."""
        folder = self.index_dir / "bm25"
        try:
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except OSError as e:  # another process swapped first: keep it in memory
            log.warning("could not save BM25 index (%s)", e)
            shutil.rmtree(tmp, ignore_errors=True)

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
        sents = [(c, i, s) for c in chunks for i, s in enumerate(c.sentences)]
        vecs = self.store.embedder.embed_texts([embedding_text(c) for c in chunks] + [s.text for _, _, s in sents])
        chunk_vecs, sent_vecs = vecs[: len(chunks)], vecs[len(chunks) :]
        if chunks:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            nodes = []
            for c, v in zip(chunks, chunk_vecs):
                node = chunk_to_node(c)
                node.embedding = v.tolist()
                nodes.append(node)
            ChromaVectorStore(chroma_collection=self.chunks).add(nodes)
        for i in range(0, len(sents), 4096):
            part = sents[i : i + 4096]
            self.sentences.add(
                ids=[f"{c.chunk_id}:{j}" for c, j, _ in part],
                embeddings=sent_vecs[i : i + len(part)].tolist(),
                metadatas=[{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": s.start, "end": s.end} for c, _, s in part],
            )
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
