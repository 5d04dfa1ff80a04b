"""The manifest (what the index holds, and which generation of collections holds it) and its files.

See :mod:`qa.store` for the layout of ``index_dir`` and the crash protocol these files serve.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from qa.ingest import Chunk
from qa.types import Document

MANIFEST = "manifest.json"
STAGING = "manifest.staging.json"
#: the intent of an in-place append (see qa.store)
APPEND = "append.json"
LOCK = "index.lock"
#: present while collections of a replaced generation may still exist (dropped once nothing reads them)
RETIRED = "retired.pending"
#: the committed state's rows, saved for new processes (qa.store.snapshot_file; a cache, never the truth)
SNAPSHOT = "snapshot.npz"
MANIFEST_FORMAT = 2
#: manifests this code can read (1: one fixed pair of collections, migrated on the next sync)
READABLE_FORMATS = (1, 2)
#: what `qa index --rebuild` may delete inside index_dir; nothing else is ever touched
OWNED = (MANIFEST, "chroma", "bm25", MANIFEST + ".tmp", STAGING, STAGING + ".tmp", LOCK, APPEND, APPEND + ".tmp",
         RETIRED, SNAPSHOT)
#: owned scratch folders and files are named with these prefixes plus a random token
OWNED_PREFIXES = ("bm25.tmp-", "snapshot.tmp-")
#: other things qa keeps inside index_dir (evaluation indexes, feedback, the indexes of named
#: collections: qa.collections), never wiped by a rebuild
KEPT = ("eval", "feedback.jsonl", "collections")
#: an embedded store that cannot be opened is moved by `qa index --rebuild` into
#: ``damaged-<time>/`` inside index_dir (kept, never deleted, never wiped)
DAMAGED_PREFIX = "damaged-"

#: chunks embedded per write (``QA_INDEX_BATCH_CHUNKS``): vectors go to the store as they are made,
#: never all held at once; smaller batches mean less memory and less work lost to a crash
WRITE_BATCH_CHUNKS = 256

Progress = Callable[[int, int], None]  # (items done so far, total; 0 when the total is not known)


def write_batch_chunks() -> int:
    return max(1, int(os.environ.get("QA_INDEX_BATCH_CHUNKS") or WRITE_BATCH_CHUNKS))


class AppendRefused(RuntimeError):
    """Documents cannot be added in place (no live generation, another model, chunking or source, a
    document already indexed with other content): a full :meth:`IndexStore.sync` is the way."""


@dataclass(frozen=True)
class PreparedAppend:
    """Documents chunked and embedded by :meth:`IndexStore.prepare_append`, not yet written anywhere."""

    documents: list[Document]
    chunks: dict[str, list[Chunk]]
    #: chunk id -> (chunk vector, one vector per sentence)
    vectors: dict[str, tuple[np.ndarray, np.ndarray]]
    source: str = ""
    #: documents already in the index with the same content (nothing to do for them)
    present: tuple[str, ...] = ()


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

    def digest(self) -> str:
        """What tells committed states apart, whole: every document's hash and chunk ids, the
        generation and the commit time (a saved snapshot is of the state with this digest)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]

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



def document_entry(d: Document, chunks: list[Chunk]) -> dict[str, Any]:
    """A document as the manifest lists it."""
    entry = {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": [c.chunk_id for c in chunks]}
    return entry | ({"pages": len(d.pages)} if d.pages else {})  # for listings (qa.documents); absent: no pages


def write_json_durably(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` by tmp + fsync + rename: a crash leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
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
