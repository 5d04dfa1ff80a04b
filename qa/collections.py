"""Named collections of documents: each its own documents folder and index, one engine each, built lazily.

The default collection (``default``) keeps the layout qa always had: the shipped seeds plus the
user documents folder (``documents_dir``), indexed in ``index_dir``. A named collection ``x`` has
no seeds; its documents live in ``<documents_dir>/.collections/x/`` and its index in
``<index_dir>/collections/x/``. The documents of a named collection sit under a *hidden* folder of
``documents_dir`` because the folder reader reads ``documents_dir`` recursively for the default
collection and skips hidden folders: a named collection's files never leak into the default one.
(``index_dir/collections`` is kept by ``qa index --rebuild`` of the default index.)

Names are safe slugs (:func:`check_name`). The engines share the default engine's embedder and
answerer (one model in memory, whatever the number of collections).

>>> shelf = Collections.of(QA())                     # doctest: +SKIP
>>> shelf.create("contracts")                       # doctest: +SKIP
>>> shelf.get("contracts").documents.add("a.md", b"# A\\nText.")   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.config import Config
from qa.guards import UnknownCollection

__all__ = ["DEFAULT", "CollectionInfo", "Collections", "InvalidCollection", "UnknownCollection", "check_name"]

log = logging.getLogger(__name__)

DEFAULT = "default"
#: the hidden folder of documents_dir holding the named collections' documents
DOCUMENTS_SUBDIR = ".collections"
#: the folder of index_dir holding the named collections' indexes
INDEX_SUBDIR = "collections"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class InvalidCollection(ValueError):
    """A collection name that is not a safe slug, or a change the default collection does not allow."""


def check_name(name: Any) -> str:
    """``name`` if it is a safe collection name: 1-40 lower-case letters, digits, ``-`` or ``_``,
    starting with a letter or digit (a folder name on every system, never a path)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidCollection(f"{name!r} is not a collection name: use 1-40 lower-case letters, digits, '-' or '_', "
                                f"starting with a letter or digit")
    return name


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    documents_dir: str
    index_dir: str
    default: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Collections:
    """The collections under one :class:`~qa.config.Config` and their engines (built on first use, cached).

    ``factory(config)`` builds an engine (default: :class:`qa.QA` sharing ``embedder`` and ``answerer``
    when given); ``default_engine`` is the default collection's engine when one exists already.
    """

    def __init__(self, config: Config, factory: Callable[[Config], Any] | None = None, default_engine: Any = None,
                 embedder: Any = None, answerer: Any = None):
        self.config = config
        self._factory = factory or self._make_engine
        self._shared = {"embedder": embedder, "answerer": answerer}
        self._engines: dict[str, Any] = {DEFAULT: default_engine} if default_engine is not None else {}
        self._lock = threading.RLock()

    @classmethod
    def of(cls, engine: Any) -> "Collections":
        """The collections beside ``engine`` (its config; it answers for the default collection)."""
        inner = getattr(engine.embedder, "inner", engine.embedder)
        return cls(engine.config, default_engine=engine, embedder=inner, answerer=engine.answerer)

    def _make_engine(self, config: Config) -> Any:
        from qa.engine import QA

        return QA(config=config, embedder=self._shared["embedder"], answerer=self._shared["answerer"])

    # --- places --------------------------------------------------------------------------------

    def documents_dir(self, name: str) -> Path:
        if check_name(name) == DEFAULT:
            return Path(self.config.documents_dir)
        return Path(self.config.documents_dir) / DOCUMENTS_SUBDIR / name

    def index_dir(self, name: str) -> Path:
        if check_name(name) == DEFAULT:
            return Path(self.config.index_dir)
        return Path(self.config.index_dir) / INDEX_SUBDIR / name

    def config_for(self, name: str) -> Config:
        """The config of collection ``name``: no seeds (the seeds folder is its documents folder)."""
        if check_name(name) == DEFAULT:
            return self.config
        folder = self.documents_dir(name)
        return dataclasses.replace(self.config, seeds_dir=folder, documents_dir=folder, index_dir=self.index_dir(name))

    # --- listing -------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """``default`` first, then the named collections in order."""
        root = Path(self.config.documents_dir) / DOCUMENTS_SUBDIR
        try:
            found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink() and _NAME.fullmatch(p.name))
        except OSError:  # no named collection yet
            found = []
        return [DEFAULT] + [n for n in found if n != DEFAULT]

    def exists(self, name: str) -> bool:
        return check_name(name) in self.names()

    def info(self, name: str) -> CollectionInfo:
        if not self.exists(name):
            raise UnknownCollection(f"no collection {name!r} (create it first)")
        return CollectionInfo(name, str(self.documents_dir(name)), str(self.index_dir(name)), default=name == DEFAULT)

    def list(self) -> list[CollectionInfo]:
        return [self.info(n) for n in self.names()]

    # --- engines -------------------------------------------------------------------------------

    def get(self, name: str | None = None) -> Any:
        """The engine of collection ``name`` (default: the default collection), built on first use."""
        name = check_name(name or DEFAULT)
        engine = self._engines.get(name)
        if engine is not None and (name == DEFAULT or self.documents_dir(name).is_dir()):
            return engine
        with self._lock:
            if name in self._engines and not self.exists(name):  # deleted by another process (`qa collections delete`)
                self._drop(name)
            if name not in self._engines:
                if not self.exists(name):
                    raise UnknownCollection(f"no collection {name!r} (create it first)")
                self._engines[name] = self._factory(self.config_for(name))
            return self._engines[name]

    # --- creating and deleting -----------------------------------------------------------------

    def create(self, name: str) -> CollectionInfo:
        """A new, empty collection (its documents folder); its index is built by the first document added."""
        if check_name(name) == DEFAULT or self.exists(name):
            raise InvalidCollection(f"collection {name!r} exists already")
        folder = self.documents_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        return self.info(name)

    def delete(self, name: str) -> None:
        """Delete collection ``name``: its documents folder, its index (and its vectors on a Chroma server).

        The documents folder is renamed to a hidden name first, so the collection is gone at once
        (a crash after that leaves only hidden leftovers, removed by the next delete of any collection).
        """
        if check_name(name) == DEFAULT:
            raise InvalidCollection("the default collection cannot be deleted")
        with self._lock:
            if not self.exists(name):
                raise UnknownCollection(f"no collection {name!r}")
            engine = self._engines.get(name)
            if self.config.chroma_url and (engine is not None or self.index_dir(name).exists()):
                engine = engine or self._factory(self.config_for(name))
                engine.store.wipe()  # the vectors live on the server, not in the index folder
            self._drop(name, engine)
            for folder in (self.documents_dir(name), self.index_dir(name)):
                if folder.exists():
                    gone = folder.with_name(f".deleting-{secrets.token_hex(4)}-{name}")
                    os.replace(folder, gone)
            self._clear_leftovers()

    def _drop(self, name: str, engine: Any = None) -> None:
        """Forget collection ``name``'s engine, closed and retired: whoever still holds it gets an
        error instead of answers from what it kept in memory."""
        engine = self._engines.pop(name, None) or engine
        if engine is not None:
            engine.retire(f"collection {name!r} was deleted")
            engine.store.close(timeout=30)
            engine.store.backend.close()

    def _clear_leftovers(self) -> None:
        for root in (Path(self.config.documents_dir) / DOCUMENTS_SUBDIR, Path(self.config.index_dir) / INDEX_SUBDIR):
            try:
                doomed = [p for p in root.iterdir() if p.name.startswith(".deleting-")]
            except OSError:
                continue
            for p in doomed:
                shutil.rmtree(p, ignore_errors=True)

    def close(self) -> None:
        """Close the stores of the named collections' engines (the default engine belongs to whoever made it)."""
        with self._lock:
            for name, engine in list(self._engines.items()):
                if name != DEFAULT:
                    engine.store.close(timeout=30)
