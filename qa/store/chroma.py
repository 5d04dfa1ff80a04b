"""The Chroma backend: an embedded ``PersistentClient`` in ``index_dir/chroma``, or a ``chroma run`` server.

Chroma's conventions stay in this module: collections are created in cosine space, and a query's
cosine *distance* (``1 - cos``) is turned into the backend-neutral similarity here, nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import parse_chroma_url
from qa.store.backend import IndexUnusable, Match, Records

#: a reader in another process sees vectors that a writer added to collections it already has open
#: only after its own Chroma has caught up with the store's log: a delete of this (never used) id does that
CATCH_UP_ID = "qa-catch-up"
#: every collection is created in cosine space, so that distance = 1 - cosine similarity
SPACE = {"hnsw:space": "cosine"}


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
        raise IndexUnusable(
            f"cannot reach the Chroma server at {url} ({type(e).__name__}: {e}); start one with "
            f"`chroma run --path DIR --host {host} --port {port}`, or unset QA_CHROMA_URL to use the embedded store"
        ) from None
    return client


def forget_chroma_clients() -> None:
    """Drop chromadb's per-path client cache (before its folder is moved or rebuilt)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # pragma: no cover - private API moved
        pass


def collection_names(client: Any) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


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


def _floats(vectors: Any) -> list[list[float]]:
    return [np.asarray(v, dtype=np.float32).tolist() for v in vectors]


class ChromaCollection:
    """A chromadb collection behind the :class:`~qa.store.backend.VectorCollection` Protocol."""

    def __init__(self, raw: Any):
        #: the chromadb collection itself (for tests and tools that need Chroma's own API)
        self.raw = raw

    @property
    def name(self) -> str:
        return str(self.raw.name)

    def add(self, ids: Sequence[str], vectors: Any, metadatas: Sequence[Mapping[str, Any]],
            documents: Sequence[str | None] | None = None) -> None:
        if not len(ids):
            return
        self.raw.add(ids=list(ids), embeddings=_floats(vectors), metadatas=[dict(m) for m in metadatas],
                     documents=list(documents) if documents is not None else None)

    def get(self, ids: Sequence[str] | None = None, where: Mapping[str, Any] | None = None, vectors: bool = False) -> Records:
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        kw: dict[str, Any] = {"include": include}
        if ids is not None:
            if not len(ids):
                return Records([], [], [], [])
            kw["ids"] = list(ids)
        if where:
            kw["where"] = dict(where)
        got = self.raw.get(**kw)
        embs = got.get("embeddings") if vectors else None
        return Records(
            ids=list(got["ids"]), metadatas=[dict(m or {}) for m in got["metadatas"]], documents=list(got["documents"]),
            vectors=[np.asarray(v, dtype=np.float32) for v in embs] if embs is not None else [],
        )

    def delete(self, ids: Sequence[str]) -> None:
        if len(ids):
            self.raw.delete(ids=list(ids))

    def count(self) -> int:
        return int(self.raw.count())

    def query(self, vector: Any, n: int) -> list[Match]:
        got = self.raw.query(query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()], n_results=max(1, int(n)),
                             include=["metadatas", "documents", "distances"])
        return [
            Match(id=i, score=1.0 - float(dist), metadata=dict(md or {}), document=doc)  # cosine space: distance = 1 - cos
            for i, md, doc, dist in zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
        ]

    def refresh(self) -> None:
        self.raw.delete(ids=[CATCH_UP_ID])


class ChromaBackend:
    """Collections in an embedded Chroma store at ``path``, or on the server at ``url`` when given."""

    def __init__(self, path: Path, url: str = ""):
        self.path = Path(path)
        self.url = url or ""
        if self.url:
            parse_chroma_url(self.url)  # fail early on a malformed URL
        self._client: Any = None

    @property
    def where(self) -> str:
        return f"the Chroma server {self.url}" if self.url else str(self.path)

    @property
    def shared(self) -> bool:
        return bool(self.url)

    @property
    def local_folder(self) -> Path | None:
        return None if self.url else self.path

    @property
    def client(self) -> Any:
        if self._client is None:
            if not self.url:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._client = open_chroma(self.path, self.url)
            except IndexUnusable:
                raise
            except Exception as e:  # chromadb raises many types for a damaged store
                raise IndexUnusable(
                    f"the Chroma store in {self.where} cannot be opened ({type(e).__name__}: {e}); run `qa index --rebuild`"
                ) from e
        return self._client

    def names(self) -> list[str]:
        return collection_names(self.client)

    def create(self, name: str, metadata: Mapping[str, Any]) -> ChromaCollection:
        return ChromaCollection(self.client.get_or_create_collection(name, metadata=SPACE | dict(metadata)))

    def open(self, name: str) -> ChromaCollection:
        return ChromaCollection(self.client.get_collection(name))

    def drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except IndexUnusable:
            raise
        except Exception:  # already gone
            pass

    def metadata(self, name: str) -> dict[str, Any]:
        return dict(self.client.get_collection(name).metadata or {})

    def damage(self) -> str:
        if self.url or not (self.path.exists() or self.path.is_symlink()):
            return ""
        why = sqlite_damage(self.path / "chroma.sqlite3")
        if why:
            return why
        try:
            self.names()
            return ""
        except Exception as e:
            cause = e.__cause__ if isinstance(e, IndexUnusable) and e.__cause__ is not None else e
            return f"{type(cause).__name__}: {cause}"

    def close(self) -> None:
        self._client = None
        forget_chroma_clients()
