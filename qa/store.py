"""The persisted index: a Chroma collection of chunks, one of sentence vectors, BM25, a manifest.

Layout of ``index_dir``::

    manifest.json     model, dimension, chunking, one content hash per document, chunk ids
    chroma/           chromadb PersistentClient (collections <name>_chunks and <name>_sentences)
    bm25/             the llama-index BM25 retriever, saved for the corpus recorded in the manifest

:meth:`IndexStore.sync` brings the index in line with a set of documents: it re-embeds only added
and edited documents, deletes removed ones, and rebuilds everything when the embedding model or the
chunking changed. Sentence vectors are computed here, at index time, so answering a question needs
exactly one model call (the question itself).

>>> store = IndexStore("index", embedder, chunking={"chunk_words": 110})   # doctest: +SKIP
>>> report = store.sync(load_documents("seeds").documents)                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed import Embedder
from qa.ingest import Chunk, chunk_document, chunk_to_node, embedding_text
from qa.types import Document

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: what `qa index --rebuild` may delete inside index_dir; nothing else is ever touched
OWNED = (MANIFEST, "chroma", "bm25", "manifest.json.tmp")
#: other things qa keeps inside index_dir (evaluation indexes, feedback), never wiped by a rebuild
KEPT = ("eval", "feedback.jsonl")

Progress = Callable[[int, int], None]  # (items done so far, total)


class IndexError_(RuntimeError):
    """The index folder cannot be used as it is; the message says what to do."""


@dataclass(frozen=True)
class SyncReport:
    """What :meth:`IndexStore.sync` changed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    chunks_added: int = 0
    chunks_removed: int = 0
    rebuilt: bool = False
    reason: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    def summary(self) -> str:
        if not self.changed:
            return f"index up to date ({len(self.unchanged)} documents)"
        parts = []
        if self.rebuilt:
            parts.append(f"rebuilt ({self.reason})")
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
    bm25_key: str = ""
    format: int = MANIFEST_FORMAT
    updated_at: float = 0.0

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format') if isinstance(data, dict) else data!r}")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def save(self, path: Path) -> None:
        self.updated_at = time.time()
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash leaves the old manifest or the new one

    def chunk_ids(self) -> list[str]:
        return [cid for d in self.documents.values() for cid in d["chunks"]]

    def corpus_key(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.chunk_ids())).encode()).hexdigest()[:32]


def open_chroma(path: Path) -> Any:
    """A telemetry-free Chroma PersistentClient at ``path``."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def _forget_chroma_clients() -> None:
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # pragma: no cover - private API moved
        pass


class IndexStore:
    """Chroma-backed chunk and sentence vectors plus BM25, kept in step by a manifest."""

    def __init__(self, index_dir: str | Path, embedder: Embedder, chunking: dict[str, Any], collection: str = "qa"):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.chunking = dict(chunking)
        self.collection = collection
        self._client: Any = None
        self._chunks: Any = None
        self._sentences: Any = None
        self._bm25: Any = None
        self._lock = threading.RLock()
        self.manifest: Manifest | None = None

    # --- opening -------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST

    def _check_folder(self) -> None:
        """Refuse folders that hold something other than a qa index (never delete user data)."""
        d = self.index_dir
        if d.exists() and not d.is_dir():
            raise IndexError_(f"index path {d} exists and is not a folder")
        if not d.exists():
            return
        if not self.manifest_path.exists():
            foreign = [p.name for p in d.iterdir() if p.name not in OWNED + KEPT and not p.name.startswith(".")]
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

    def _open_collections(self) -> None:
        if self._chunks is not None:
            return
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._client = open_chroma(self.index_dir / "chroma")
            meta = {"hnsw:space": "cosine"}
            self._chunks = self._client.get_or_create_collection(f"{self.collection}_chunks", metadata=meta)
            self._sentences = self._client.get_or_create_collection(f"{self.collection}_sentences", metadata=meta)
        except Exception as e:  # chromadb raises many types for a damaged store
            self._client = self._chunks = self._sentences = None
            raise IndexError_(
                f"the Chroma store in {self.index_dir / 'chroma'} cannot be opened ({type(e).__name__}: {e}); "
                f"run `qa index --rebuild`"
            ) from e

    @property
    def chunks_collection(self) -> Any:
        self._open_collections()
        return self._chunks

    @property
    def sentences_collection(self) -> Any:
        self._open_collections()
        return self._sentences

    def vector_store(self) -> Any:
        """The chunk collection as a llama-index ``ChromaVectorStore``."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks_collection)

    # --- writing -------------------------------------------------------------------------------

    def wipe(self) -> None:
        """Delete what this store owns inside index_dir (and nothing else)."""
        with self._lock:
            self._bm25 = None
            self.manifest = None
            try:
                # through the API, not rmtree: a client of this path may be open in this process,
                # and chromadb caches one system per path
                self._open_collections()
                for name in (f"{self.collection}_chunks", f"{self.collection}_sentences"):
                    self._client.delete_collection(name)
            except Exception as e:  # a damaged store cannot be opened: remove its files
                log.warning("removing unreadable Chroma store (%s)", e)
                shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)
                _forget_chroma_clients()
            self._client = self._chunks = self._sentences = None
            for name in OWNED:
                p = self.index_dir / name
                if name == "chroma":
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                elif p.exists() or p.is_symlink():
                    p.unlink()

    def _fresh(self) -> Manifest:
        return Manifest(model=self.embedder.name, dimension=self.embedder.dimension, chunking=self.chunking, collection=self.collection)

    def sync(self, documents: Sequence[Document], progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Make the index hold exactly ``documents``; re-embed only what changed."""
        t0 = time.perf_counter()
        with self._lock:
            manifest = None if rebuild else self.load_manifest()
            reason = "requested" if rebuild else (self._mismatch(manifest) if manifest else "")
            if reason:
                log.warning("rebuilding index: %s", reason)
                self.wipe()
                manifest = None
            if manifest is None:
                manifest = self._fresh()

            by_id = {d.doc_id: d for d in documents}
            if len(by_id) != len(documents):
                dupes = sorted({d.doc_id for d in documents if sum(1 for x in documents if x.doc_id == d.doc_id) > 1})
                raise ValueError(f"duplicate document ids: {dupes[:5]}")
            old = manifest.documents
            added = [i for i in by_id if i not in old]
            updated = [i for i in by_id if i in old and old[i]["sha256"] != by_id[i].sha256]
            removed = [i for i in old if i not in by_id]
            unchanged = [i for i in by_id if i in old and old[i]["sha256"] == by_id[i].sha256]

            self._open_collections()
            chunks_removed = 0
            for doc_id in updated + removed:
                chunks_removed += len(old[doc_id]["chunks"])
                self._delete_doc(doc_id)
                del manifest.documents[doc_id]
            to_embed = [by_id[i] for i in added + updated]
            chunks_added = self._add_documents(to_embed, manifest, progress)

            if added or updated or removed or not self.manifest_path.exists():
                manifest.save(self.manifest_path)
            self.manifest = manifest
            if reason or added or updated or removed:
                self._bm25 = None
            return SyncReport(
                added=tuple(added), updated=tuple(updated), removed=tuple(removed), unchanged=tuple(unchanged),
                chunks_added=chunks_added, chunks_removed=chunks_removed, rebuilt=bool(reason),
                reason=reason, seconds=time.perf_counter() - t0,
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

    def _delete_doc(self, doc_id: str) -> None:
        # by metadata, not by the manifest's id list: also catches chunks of an interrupted earlier run
        self._chunks.delete(where={"doc_id": doc_id})
        self._sentences.delete(where={"doc_id": doc_id})

    def _add_documents(self, docs: Sequence[Document], manifest: Manifest, progress: Progress | None) -> int:
        """Chunk, embed (chunks and their sentences, batched) and store; manifest entries last."""
        if not docs:
            return 0
        per_doc = [(d, chunk_document(d, int(self.chunking["chunk_words"]), int(self.chunking.get("chunk_overlap", 0)))) for d in docs]
        total = sum(len(ch) for _, ch in per_doc)
        done = 0
        if progress:
            progress(0, total)
        batch: list[tuple[Document, list[Chunk]]] = []
        batch_chunks = 0
        for d, chunks in per_doc:
            # leftover chunks of a crashed run would duplicate: clear this doc first
            self._delete_doc(d.doc_id)
            batch.append((d, chunks))
            batch_chunks += len(chunks)
            if batch_chunks >= 256:
                done += self._write_batch(batch, manifest)
                batch, batch_chunks = [], 0
                if progress:
                    progress(done, total)
        if batch:
            done += self._write_batch(batch, manifest)
            if progress:
                progress(done, total)
        return done

    def _write_batch(self, batch: list[tuple[Document, list[Chunk]]], manifest: Manifest) -> int:
        chunks = [c for _, cs in batch for c in cs]
        sents = [(c, i, s) for c in chunks for i, s in enumerate(c.sentences)]
        vecs = self.embedder.embed_texts([embedding_text(c) for c in chunks] + [s.text for _, _, s in sents])
        chunk_vecs, sent_vecs = vecs[: len(chunks)], vecs[len(chunks) :]
        if chunks:
            nodes = []
            for c, v in zip(chunks, chunk_vecs):
                node = chunk_to_node(c)
                node.embedding = v.tolist()
                nodes.append(node)
            self.vector_store().add(nodes)
        for i in range(0, len(sents), 4096):
            part = sents[i : i + 4096]
            self._sentences.add(
                ids=[f"{c.chunk_id}:{j}" for c, j, _ in part],
                embeddings=sent_vecs[i : i + len(part)].tolist(),
                metadatas=[{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": s.start, "end": s.end} for c, _, s in part],
            )
        for d, cs in batch:
            manifest.documents[d.doc_id] = {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": [c.chunk_id for c in cs]}
        return len(chunks)

    # --- reading -------------------------------------------------------------------------------

    def open(self) -> Manifest:
        """Open an existing index for reading (no documents needed)."""
        with self._lock:
            m = self.load_manifest()
            if m is None:
                raise IndexError_(f"no index at {self.index_dir}; run `qa index` first")
            if m.model != self.embedder.name:
                raise IndexError_(f"index at {self.index_dir} was built with {m.model}, not {self.embedder.name}; run `qa index`")
            self._open_collections()
            self.manifest = m
            return m

    def count(self) -> int:
        return int(self.chunks_collection.count())

    def all_nodes(self) -> list[Any]:
        return self.vector_store().get_nodes(node_ids=None)

    def bm25(self) -> Any:
        """The BM25 retriever over every chunk: loaded from disk when it matches, else rebuilt."""
        with self._lock:
            if self._bm25 is not None:
                return self._bm25
            from llama_index.retrievers.bm25 import BM25Retriever

            manifest = self.manifest or self.open()
            key = manifest.corpus_key()
            folder = self.index_dir / "bm25"
            if manifest.bm25_key == key and (folder / "retriever.json").exists():
                try:
                    import bm25s

                    # BM25Retriever.from_persist_dir, minus bm25s's progress bar on every start
                    args = json.loads((folder / "retriever.json").read_text(encoding="utf-8"))
                    self._bm25 = BM25Retriever(existing_bm25=bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False), **args)
                    return self._bm25
                except Exception as e:  # a damaged cache is rebuilt, never fatal
                    log.warning("BM25 cache unreadable (%s); rebuilding", e)
            nodes = self.all_nodes()
            if not nodes:
                return None
            bm = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=10)
            try:
                if folder.exists():
                    shutil.rmtree(folder)
                folder.mkdir(parents=True)
                bm.persist(str(folder), show_progress=False)
                manifest.bm25_key = key
                manifest.save(self.manifest_path)
            except OSError as e:  # read-only index: keep it in memory
                log.warning("could not save BM25 index (%s)", e)
            self._bm25 = bm
            return bm

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
