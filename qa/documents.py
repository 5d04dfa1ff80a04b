"""The documents of one collection as a user manages them: list, add, replace, delete.

:class:`DocumentLibrary` works on one :class:`qa.QA` engine (``engine.documents``): its seeds folder
(shipped, read only: a seed is never deleted or replaced), its user documents folder (where files
are written and removed) and its index. A document's id is the one the index uses: its path
relative to its folder (the file name for uploads).

Crash safety: the file is the truth the index follows (every start syncs the index with the
folders), so the file changes first and the index after, in one in-place change of the index
(:mod:`qa.store.change`):

* delete: the file is renamed to a hidden name (the folder reader skips hidden names), the index
  change is committed, then the hidden file is removed. A crash in between leaves a document the
  next sync drops; an ordinary error renames the file back.
* replace: the new bytes are written and read in a hidden staging folder and embedded (no lock),
  then the old file is linked to a hidden backup, the new one renamed over it and the index change
  (old chunks out, new ones in) committed at once. A crash in between leaves the new file (re-indexed
  by the next sync); an ordinary error puts the backup back. Never both versions lost.

>>> engine.documents.add("notes.md", b"# Notes\\nThe harbour master is Ignacio.")   # doctest: +SKIP
>>> [d.doc_id for d in engine.documents.list()]                                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qa import uploads
from qa.render import counted
from qa.guards import NoDocuments, check_document, require_writable_index
from qa.ingest import load_document
from qa.store import AppendRefused, SyncReport
from qa.store.change import UnknownDocument
from qa.types import Document
from qa.uploads import InvalidDocument, TooLarge, UnsupportedType

__all__ = ["DocumentChange", "DocumentInfo", "DocumentLibrary", "InvalidDocument", "SeedDocument", "TooLarge",
           "UnknownDocument", "UnsupportedType", "check_document_upload"]

log = logging.getLogger(__name__)


class SeedDocument(PermissionError):
    """A shipped seed document: read only, never deleted or replaced."""


@dataclass(frozen=True)
class DocumentInfo:
    """One document of a collection, as listed."""

    doc_id: str
    title: str
    file_name: str
    source: Literal["seeds", "documents"]
    size: int | None
    chunks: int
    pages: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DocumentChange:
    """What :meth:`DocumentLibrary.add`, ``replace`` or ``delete`` did."""

    doc_id: str
    title: str = ""
    chunks: int = 0
    #: a new document (False: the same bytes were already there, or a replace or delete)
    created: bool = False
    replaced: bool = False
    deleted: bool = False
    report: SyncReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "chunks": self.chunks, "created": self.created,
                "replaced": self.replaced, "deleted": self.deleted}

    def summary(self) -> str:
        if self.deleted:
            return f"deleted {self.doc_id}"
        passages = counted(self.chunks, "passage")
        if self.replaced:
            return f"replaced {self.doc_id} ({passages})"
        return f"added {self.doc_id} ({passages})" if self.created else f"{self.doc_id} is already in the collection"


#: the checks every added file passes (the same for ``QA.add_document`` and the library)
check_document_upload = uploads.check_upload


def _link_out(name: str) -> InvalidDocument:
    return InvalidDocument(f"{name}: the documents folder holds a link of this name pointing out of the folder, "
                           "which qa neither reads nor replaces; remove it or rename your file")


class DocumentLibrary:
    """List, add, replace and delete the documents of ``engine``'s collection (see the module doc).

    Works with the engine's lock, store and retriever (a friend of :class:`qa.QA`, which stays
    under its size limit by keeping this here).
    """

    def __init__(self, engine: Any, max_bytes: int | None = None):
        self.engine = engine
        self.max_bytes = max_bytes

    @property
    def seeds_dir(self) -> Path:
        return Path(self.engine.config.seeds_dir)

    @property
    def documents_dir(self) -> Path:
        return Path(self.engine.config.documents_dir)

    def _has_seeds(self) -> bool:
        return os.path.realpath(self.seeds_dir) != os.path.realpath(self.documents_dir)

    @staticmethod
    def _check_id(doc_id: str) -> str:
        """``doc_id`` if it can name a document (a relative path inside a folder), else :class:`UnknownDocument`."""
        if not isinstance(doc_id, str) or not doc_id or Path(doc_id).is_absolute() or ".." in Path(doc_id).parts \
                or "\\" in doc_id or "\x00" in doc_id:
            raise UnknownDocument(f"no document {doc_id!r} in this collection")
        return doc_id

    def _is_seed(self, doc_id: str) -> bool:
        p = self.seeds_dir / self._check_id(doc_id)
        return self._has_seeds() and (p.exists() or p.is_symlink())

    def _ready(self) -> bool:
        """Open (or first build) the index; False for a collection without any document yet."""
        try:
            with self.engine._store_errors():
                self.engine._ensure_ready()
        except NoDocuments:
            return False
        return True

    # --- reading -------------------------------------------------------------------------------

    def list(self) -> list[DocumentInfo]:
        """Every indexed document, ordered by id."""
        if not self._ready():
            return []
        m = self.engine.store.manifest
        return [self._info(doc_id, entry) for doc_id, entry in sorted((m.documents if m else {}).items())]

    def get(self, doc_id: str) -> DocumentInfo:
        """One document (raises :class:`UnknownDocument`)."""
        for info in self.list():
            if info.doc_id == doc_id:
                return info
        raise UnknownDocument(f"no document {doc_id!r} in this collection")

    def _info(self, doc_id: str, entry: dict[str, Any]) -> DocumentInfo:
        seed = self._is_seed(doc_id)
        try:
            size: int | None = ((self.seeds_dir if seed else self.documents_dir) / doc_id).stat().st_size
        except OSError:
            size = None
        pages = entry.get("pages")
        return DocumentInfo(doc_id=doc_id, title=str(entry.get("title", "")), file_name=doc_id.rsplit("/", 1)[-1],
                            source="seeds" if seed else "documents", size=size, chunks=len(entry.get("chunks", ())),
                            pages=int(pages) if pages else None)

    def _unchanged(self, doc_id: str) -> DocumentChange:
        """The same bytes again: nothing to do; the document as it stands (title, passages)."""
        entry = self._indexed().get(doc_id, {})
        return DocumentChange(doc_id, title=str(entry.get("title", "")), chunks=len(entry.get("chunks", ())))

    def _indexed(self) -> dict[str, Any]:
        m = self.engine.store.manifest
        return m.documents if m is not None else {}

    def _user_path(self, doc_id: str) -> Path:
        """``doc_id``'s file in the user documents folder (an id that would leave it is unknown)."""
        base = os.path.realpath(self.documents_dir)
        p = self.documents_dir / self._check_id(doc_id)
        if os.path.commonpath([os.path.realpath(p), base]) != base:  # a link out of the folder
            raise UnknownDocument(f"no document {doc_id!r} in this collection")
        return p

    # --- writing -------------------------------------------------------------------------------

    def add(self, name: str, data: bytes, progress: Any = None) -> DocumentChange:
        """Add a file to the user documents folder and index it; a file of the same name is replaced
        (``replaced=True``), the same bytes again are a no-op. A seed's name is refused (:class:`SeedDocument`)."""
        checked = check_document_upload(name, data, self.max_bytes)
        if self._is_seed(checked.name):
            seed = self.seeds_dir / checked.name
            if seed.is_file() and seed.read_bytes() == checked.data:
                return self._unchanged(checked.name)
            raise SeedDocument(f"{checked.name} is a shipped seed document: it cannot be replaced (rename your file)")
        try:
            target = self._user_path(checked.name)
        except UnknownDocument:  # the name is taken by a link out of the folder: never written through
            raise _link_out(checked.name) from None
        if target.exists() or target.is_symlink():
            return self._replace(checked, progress)
        return self._add_new(checked, progress)

    def add_new(self, name: str, data: bytes, progress: Any = None) -> uploads.AddedDocument:
        """What :meth:`qa.QA.add_document` does: :meth:`add`, except that a different file of the same
        name (a seed's too) is refused with :class:`InvalidDocument`, never replaced. The same bytes
        again sync the folders (``created=False``), which also indexes a file dropped in by hand."""
        checked = check_document_upload(name, data, self.max_bytes)
        if not self.seeds_dir.is_dir():
            raise NoDocuments(f"documents folder not found: {self.seeds_dir}")
        try:
            there = self.seeds_dir / checked.name if self._is_seed(checked.name) else self._user_path(checked.name)
        except UnknownDocument:
            raise _link_out(checked.name) from None
        if there.exists() or there.is_symlink():
            if not (there.is_file() and there.read_bytes() == checked.data):
                raise InvalidDocument(f"{checked.name}: a different document with this name is already in the "
                                      "collection; rename the file")
            self._ready()
            with self.engine._lock:
                change = DocumentChange(checked.name, report=self.engine.index(progress=progress))
        else:
            change = self._add_new(checked, progress)
        entry = self._indexed().get(checked.name, {})
        return uploads.AddedDocument(doc_id=checked.name, title=str(entry.get("title", "")),
                                     chunks=len(entry.get("chunks", ())), created=change.created, report=change.report)

    def replace(self, doc_id: str, name: str, data: bytes, progress: Any = None) -> DocumentChange:
        """Put the contents of file ``name`` (same type as ``doc_id``) under ``doc_id``; crash-safe."""
        checked = check_document_upload(name, data, self.max_bytes)
        if self._is_seed(doc_id):
            raise SeedDocument(f"{doc_id} is a shipped seed document: it cannot be replaced")
        target = self._user_path(doc_id)
        if not target.is_file():
            raise UnknownDocument(f"no document {doc_id!r} in this collection")
        if Path(checked.name).suffix != Path(doc_id).suffix.lower():
            raise UnsupportedType(f"{checked.name}: a {Path(doc_id).suffix} document is replaced by a file of the same type")
        return self._replace(dataclasses.replace(checked, name=doc_id), progress)

    def delete(self, doc_id: str) -> DocumentChange:
        """Remove ``doc_id``'s file and its chunks, sentence vectors and BM25 entries; crash-safe.
        Raises :class:`SeedDocument` for a seed, :class:`UnknownDocument` for an id that is nowhere."""
        if self._is_seed(doc_id):
            raise SeedDocument(f"{doc_id} is a shipped seed document: it cannot be deleted")
        ready = self._ready()
        path = self._user_path(doc_id)
        indexed = doc_id in self._indexed()
        if not indexed and not path.is_file():
            raise UnknownDocument(f"no document {doc_id!r} in this collection")
        require_writable_index(self.engine.config.index_dir)
        with self.engine._lock, uploads.held_aside(path, self.documents_dir, restore=True) as aside:
            report = None
            if indexed and ready:
                report = self._commit(lambda store: store.remove_documents([doc_id], purge=False))
            if aside is not None:
                aside.unlink()  # done: nothing to restore
        self._finish()
        return DocumentChange(doc_id, deleted=True, report=report)

    # --- the parts -----------------------------------------------------------------------------

    def _commit(self, change: Any) -> SyncReport:
        """Run ``change(store)`` (the engine lock is held), falling back to a full sync of the folders
        when the index cannot be changed in place; then answer from the new state."""
        engine = self.engine
        try:
            with engine._store_errors():
                report = change(engine.store)
        except AppendRefused as e:
            log.info("indexing the documents folder (%s)", e)
            return engine.index()
        engine._retriever = engine._build_retriever()
        engine._stamp = engine._manifest_stamp()
        return report

    def _finish(self) -> None:
        """Delete the old rows of the change just committed, once the questions that began before it
        (still reading them) are done; the engine lock is not held (a question may need it)."""
        try:
            with self.engine._store_errors():
                self.engine.store.finish_change()
        except Exception:  # the change is committed; the next writer deletes the rows instead
            log.exception("deleting the rows of a committed change")

    def _read(self, folder: Path, checked: uploads.CheckedUpload, final: Path) -> Document:
        """The document in ``folder/checked.name`` as the folder reader reads it (with ``final`` as its path)."""
        loaded = load_document(folder, checked.name)
        if not loaded.documents:
            why = [w for w in loaded.warnings if w.startswith(checked.name)]
            raise InvalidDocument(why[0] if why else f"{checked.name}: could not be read as a document")
        return dataclasses.replace(check_document(loaded.documents[0]), path=str(final))

    def _add_new(self, checked: uploads.CheckedUpload, progress: Any) -> DocumentChange:
        ready = self._ready()
        require_writable_index(self.engine.config.index_dir)
        try:
            self.documents_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidDocument(f"{checked.name}: the documents folder cannot be created ({e.strerror or e})") from None
        created = uploads.write_new_file(self.documents_dir, checked.name, checked.data)
        try:
            doc = self._read(self.documents_dir, checked, self.documents_dir / checked.name)
            if not ready:
                with self.engine._lock:
                    report = self.engine.index(progress=progress)
            else:
                prepared = self.engine.store.prepare_change([doc], progress=progress)  # the slow part: no lock
                with self.engine._lock:
                    report = self._commit(lambda store: store.commit_change(prepared, purge=False))
                self._finish()
        except BaseException:
            if created:
                (self.documents_dir / checked.name).unlink(missing_ok=True)
                self._forget_upload(checked.name)
            raise
        entry = self._indexed().get(checked.name, {})
        return DocumentChange(checked.name, title=doc.title, chunks=len(entry.get("chunks", ())), created=created, report=report)

    def _replace(self, checked: uploads.CheckedUpload, progress: Any) -> DocumentChange:
        target = self._user_path(checked.name)
        if target.is_file() and target.read_bytes() == checked.data:
            return self._unchanged(checked.name)
        ready = self._ready()
        require_writable_index(self.engine.config.index_dir)
        staging = self.documents_dir / f"{uploads.ASIDE}{int(time.time())}-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            uploads.write_new_file(staging, checked.name, checked.data)
            doc = self._read(staging, checked, target)
            prepared = self.engine.store.prepare_change([doc], progress=progress) if ready else None
            with self.engine._lock, uploads.held_aside(target, self.documents_dir, restore=False):
                os.replace(staging / checked.name, target)  # the file first: the index follows it
                try:
                    report = self._commit(lambda store: store.commit_change(prepared, purge=False)) if prepared else self.engine.index()
                except Exception:
                    target.unlink(missing_ok=True)  # held_aside puts the old file back
                    raise
            self._finish()
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        entry = self._indexed().get(checked.name, {})
        return DocumentChange(checked.name, title=doc.title, chunks=len(entry.get("chunks", ())), replaced=True, report=report)

    def _forget_upload(self, doc_id: str) -> None:
        """After a failed upload whose file was removed again: if the document got committed (by this
        upload or by a sync that saw the file meanwhile), sync the folder so that it is dropped."""
        from qa.store import Manifest

        try:
            live = Manifest.load(self.engine.store.manifest_path)
        except (ValueError, TypeError, KeyError, OSError):
            return
        if doc_id not in live.documents:
            return
        try:
            with self.engine._lock:
                self.engine.index()
        except Exception:  # pragma: no cover - the original error matters more
            log.exception("re-indexing after a failed upload")
