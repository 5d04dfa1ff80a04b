"""Checking and storing uploaded documents (:meth:`qa.QA.add_document`, :class:`qa.documents.DocumentLibrary`).

An upload is accepted only if every check passes; otherwise :class:`InvalidDocument` says why and
nothing on disk changes.

>>> safe_filename("../../My Notes (final).TXT")
'My_Notes_final.txt'
>>> check_upload("notes.md", "# Title\\nSome text.".encode()).name
'notes.md'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Default size limit for one uploaded file (QA_MAX_UPLOAD_BYTES or ``qa serve --max-upload``)
from qa.config import DEFAULT_MAX_UPLOAD_BYTES

#: Longest file name kept (extension included).
MAX_NAME_CHARS = 100

#: hidden (skipped by the folder reader) names of what a document change holds aside
ASIDE = ".qa-aside-"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class InvalidDocument(ValueError):
    """An uploaded document was refused; the message says why (and nothing was changed)."""


class UnsupportedType(InvalidDocument):
    """A file of a type the folder reader does not read."""


class TooLarge(InvalidDocument):
    """A file over the size limit for one document."""


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: its safe file name, bytes and decoded text ("" for PDF, DOCX, HTML)."""

    name: str
    data: bytes
    text: str


def safe_filename(name: str) -> str:
    """The base name of ``name`` with only ``[A-Za-z0-9._-]`` (accents folded, runs of anything
    else turned into ``_``), no leading dots or dashes, the extension lower-cased; ``""`` if nothing
    usable is left. A name written only in other scripts gets ``document-<hash>``, and a name cut
    to :data:`MAX_NAME_CHARS` ends in a hash of the whole name, so two such names never collide.

    >>> safe_filename("日本語.txt"), safe_filename("???.txt")
    ('document-c12140a0.txt', '')
    """
    base = re.split(r"[/\\]", str(name))[-1]
    original_stem = base.rpartition(".")[0] if "." in base else base
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = folded.rpartition(".")
    if not dot:
        stem, ext = folded, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = re.sub(r"_+", "_", stem)
    ext = _UNSAFE.sub("", ext).lower()
    ext = f".{ext}" if ext else ""
    digest = hashlib.sha1(original_stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not stem:
        return f"document-{digest}{ext}" if re.search(r"[^\W_]", original_stem) else ""
    if len(stem) + len(ext) > MAX_NAME_CHARS:
        stem = stem[: MAX_NAME_CHARS - len(ext) - 9].rstrip("._-") + f"-{digest}"
    return stem + ext


def check_upload(name: str, data: bytes, max_bytes: int | None = None) -> CheckedUpload:
    """Check a file for the collection: a usable name, a type the folder reader reads (.txt, .md,
    .pdf, .docx, .html, ...), not empty, at most ``max_bytes`` (default ``DEFAULT_MAX_UPLOAD_BYTES``);
    text types must be UTF-8 text. Raises :class:`UnsupportedType`, :class:`TooLarge` or
    :class:`InvalidDocument`, with a message a user can act on."""
    from qa.ingest import TEXT_SUFFIXES, document_suffixes

    limit = DEFAULT_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if not isinstance(name, str):
        raise InvalidDocument(f"a document's name is text (its file name), not {type(name).__name__}")
    shown = re.split(r"[/\\]", name)[-1] or name
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidDocument(f"{shown}: expected the file's bytes, got {type(data).__name__}")
    safe = safe_filename(name)
    suffix = Path(safe or shown).suffix.lower()
    if suffix not in document_suffixes():
        raise UnsupportedType(f"{shown}: only {', '.join(document_suffixes())} files can be added"
                              + (f" (this one is {suffix})" if suffix else " (this one has no extension)"))
    if not safe or not Path(safe).stem or Path(safe).stem.startswith("."):
        raise InvalidDocument(f"{shown}: the file name has no usable characters (use letters, digits, '.', '_' or '-')")
    if len(data) > limit:
        # no byte count: a server reads at most the limit plus one byte, so len(data) is not the file's size
        raise TooLarge(f"{shown}: the file is over the {limit:,}-byte limit for one document")
    if not data:
        raise InvalidDocument(f"{shown}: the file is empty")
    text = ""
    if suffix in TEXT_SUFFIXES:
        if b"\x00" in data:
            raise InvalidDocument(f"{shown}: looks like a binary file (it contains NUL bytes), not text")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidDocument(f"{shown}: not UTF-8 text (invalid byte at position {e.start}); save it as UTF-8") from None
        if not text.strip():
            raise InvalidDocument(f"{shown}: the file holds only whitespace")
    return CheckedUpload(name=safe, data=bytes(data), text=text)


def write_new_file(folder: Path, name: str, data: bytes) -> bool:
    """Write ``data`` to ``folder/name`` atomically; never replaces a different existing file.

    Returns ``True`` if the file was written, ``False`` if an identical file is already there.
    The bytes go to a hidden temporary file first (the documents loader skips hidden files), then
    are linked into place, so readers never see a half-written document and a file that appeared in
    the meantime is never overwritten.
    """
    target = folder / name
    if target.exists() or target.is_symlink():
        if target.is_file() and target.read_bytes() == data:
            return False
        raise InvalidDocument(f"{name}: a different document with this name is already in the collection; rename the file")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, target)  # fails if target exists: no overwrite, even in a race
        except FileExistsError:
            raise InvalidDocument(f"{name}: a different document with this name is already in the collection; rename the file") from None
        except OSError:
            # file systems without hard links: fall back to an atomic rename (checked above)
            if target.exists():
                raise InvalidDocument(f"{name}: a document with this name appeared meanwhile; try again") from None
            os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


@dataclass(frozen=True)
class AddedDocument:
    """What :meth:`qa.QA.add_document` did: the document's id and title, its chunk count, whether
    the file was new (``False``: the identical file was already there), and the index sync report."""

    doc_id: str
    title: str
    chunks: int
    created: bool
    report: object = None


def read_received_file(path: Path, root: str | None, limit: int) -> bytes:
    """The bytes of an uploaded file, read only if it lies inside ``root`` once links are resolved,
    is a regular file, and holds at most ``limit`` bytes (counted while reading, not from ``st_size``).

    Raises :class:`InvalidDocument` otherwise, naming the file but never its server path.
    """
    import stat

    name = path.name
    if root is not None:
        real, base = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, base]) != base or real == base:
            raise InvalidDocument(f"{name}: not a file received by this server's upload; upload it through the app")
    # O_NONBLOCK: a FIFO must never hang the server; O_NOFOLLOW: the checked path is the opened one
    flags = os.O_RDONLY | os.O_NONBLOCK | (os.O_NOFOLLOW if root is not None else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InvalidDocument(f"{name}: cannot be read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InvalidDocument(f"{name}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InvalidDocument(f"{name}: over the {limit:,}-byte limit for one document")
    return data


# =================================================================================================
# The collection's two folders: the shipped seeds (read only) and the user's documents (uploads)
# =================================================================================================


def load_collection(seeds_dir: Path, documents_dir: Path) -> Any:
    """Every document of the seeds folder and of the user's documents folder (when it exists), read
    by the same rules (:func:`qa.ingest.load_documents`). Ids are paths relative to each folder; a
    user document whose id a seed already has is skipped with a warning (the seed wins)."""
    from qa.ingest import LoadReport, load_documents

    seeds = load_documents(seeds_dir)
    try:
        present = Path(documents_dir).is_dir()
    except OSError as e:  # e.g. under a folder this user may not enter: the seeds still answer
        return LoadReport(seeds.documents, seeds.warnings + (f"{documents_dir}/: skipped, folder unreadable ({e.strerror or e})",))
    if not present or _same_folder(seeds_dir, documents_dir):
        return seeds
    mine = load_documents(documents_dir)
    taken = {d.doc_id for d in seeds.documents}
    clashes = [d.doc_id for d in mine.documents if d.doc_id in taken]
    warnings = [f"{i}: skipped in {documents_dir}, a seed document has this name" for i in clashes]
    documents = seeds.documents + tuple(d for d in mine.documents if d.doc_id not in taken)
    return LoadReport(documents, seeds.warnings + mine.warnings + tuple(warnings))


def _same_folder(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


@contextlib.contextmanager
def held_aside(path: Path, documents_dir: Path, restore: bool) -> Iterator[Path | None]:
    """``path`` renamed (or, with ``restore=False``, hard-linked) to a hidden name beside it;
    renamed back when the block fails with an ordinary error; removed at the end if still there."""
    if not (path.exists() or path.is_symlink()):
        yield None
        return
    clear_aside_leftovers(documents_dir)
    aside = path.with_name(f"{ASIDE}{int(time.time())}-{secrets.token_hex(4)}-{path.name}")
    if restore:
        os.replace(path, aside)
    else:
        try:
            os.link(path, aside)
        except OSError:  # a file system without hard links
            shutil.copy2(path, aside)
    try:
        yield aside
    except Exception:
        if aside.exists():
            os.replace(aside, path)
        raise
    aside.unlink(missing_ok=True)


def clear_aside_leftovers(documents_dir: Path, older_than_s: float = 3600) -> None:
    """Remove what a crashed change held aside (hidden, never read) once it is an hour old: the
    time is in the name, so a change under way in another process is never disturbed."""
    try:
        entries = [p for p in documents_dir.iterdir() if p.name.startswith(ASIDE)]
    except OSError:
        return
    for p in entries:
        stamp = p.name[len(ASIDE):].split("-", 1)[0]
        if stamp.isdigit() and time.time() - int(stamp) > older_than_s:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
