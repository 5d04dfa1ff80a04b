"""The documents folder: which files are read, how they are read safely, and what each one yields.

Only regular files inside the folder are read (links resolved, the target must lie inside), a FIFO,
device or socket is never opened, and reads are bounded. Each file's bytes go to the converter of
its suffix (:mod:`qa.ingest.converters`); a file that cannot be read or yields no text is skipped
with a warning that names it, and the others are read as if it were not there.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.converters import Converter, converter_for, document_suffixes
from qa.ingest.documents import MAX_DOCUMENT_BYTES, parse_document
from qa.ingest.extracted import Extracted, SkippedFile
from qa.types import Document

log = logging.getLogger("qa.ingest")

#: how a file is opened: ``path -> file descriptor`` (tests pass one that fails, see qa.ingest)
Opener = Callable[[str], int]


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_documents` read and what it skipped (with the reason)."""

    documents: tuple[Document, ...]
    warnings: tuple[str, ...]


_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_document(path: str) -> int:
    """Open ``path`` read-only without ever blocking: a FIFO or device swapped in after the check
    opens at once (O_NONBLOCK) and is refused by the fstat that follows; a link swapped in for the
    resolved path is refused (O_NOFOLLOW)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))


def _read_bounded(fd: int, limit: int, too_big: str) -> bytes:
    """At most ``limit`` bytes from ``fd``; more than that (whatever ``st_size`` said) is :class:`SkippedFile`."""
    parts: list[bytes] = []
    got = 0
    while got <= limit:
        block = os.read(fd, min(1 << 20, limit + 1 - got))
        if not block:
            break
        parts.append(block)
        got += len(block)
    if got > limit:  # grew after the check, or a file whose size is not what it reports
        raise SkippedFile(too_big)
    return b"".join(parts)


def read_document_bytes(path: str | Path, root: str | Path | None = None, limit: int | None = None,
                        opener: Opener | None = None) -> bytes:
    """The bytes of the regular file at ``path``, read without following it anywhere unsafe.

    Links are resolved first: with ``root``, the target must lie inside ``root`` (itself resolved),
    else :class:`SkippedFile`. Only a regular file is ever opened (``stat`` before opening, so a
    FIFO, device or socket is never opened at all), it is opened non-blocking and checked again with
    ``fstat`` on the open descriptor, and at most ``limit + 1`` bytes are read (default
    :data:`MAX_DOCUMENT_BYTES`): a file that is larger, whatever its ``st_size`` says, is skipped.
    Raises :class:`SkippedFile` with the reason, or ``OSError`` when the file cannot be read.
    """
    limit = MAX_DOCUMENT_BYTES if limit is None else int(limit)
    try:
        real = os.path.realpath(path, strict=True)
    except RuntimeError:  # pragma: no cover - some Pythons raise this for a link loop
        raise OSError(40, "Too many levels of symbolic links", str(path)) from None
    if root is not None:
        base = os.path.realpath(root)
        if os.path.commonpath([base, real]) != base:
            raise SkippedFile(f"skipped, a link to {real}, outside the documents folder")
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise SkippedFile(f"skipped, not a regular file ({_kind(st.st_mode)})")
    too_big = f"skipped, larger than the {limit:,}-byte limit"
    if st.st_size > limit:
        raise SkippedFile(too_big)
    fd = (opener or open_document)(real)
    try:
        st = os.fstat(fd)  # what was opened, not what the name pointed to a moment ago
        if not stat.S_ISREG(st.st_mode):
            raise SkippedFile(f"skipped, not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise SkippedFile(too_big)
        return _read_bounded(fd, limit, too_big)
    finally:
        os.close(fd)


def iter_document_files(folder: Path, errors: list[str] | None = None) -> list[Path]:
    """Entries under ``folder`` with a document suffix (recursive, hidden entries skipped), in a stable order.

    Links to folders are not followed (a link loop cannot hang the walk). Entries that are not
    regular files (links, FIFOs, devices) are listed too, so that :func:`load_documents` can name
    them when it skips them; a subfolder that cannot be listed is added to ``errors``.
    """
    folder = Path(folder)
    out = []

    def onerror(e: OSError) -> None:
        where = os.path.relpath(e.filename, folder) if e.filename else "."
        msg = f"{Path(where).as_posix()}/: skipped, folder unreadable ({e.strerror or e})"
        log.debug(msg)
        if errors is not None:
            errors.append(msg)

    for top, dirs, files in os.walk(folder, onerror=onerror, followlinks=False):
        here = Path(top)
        links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in links)
        for name in files + links:
            if not name.startswith(".") and converter_for(name) is not None:
                out.append(here / name)
    return sorted(out)


def load_documents(folder: str | Path, opener: Opener | None = None) -> LoadReport:
    """Read every document under ``folder`` (every suffix a converter is registered for).

    Ids are paths relative to the folder (the file name for files at its top level), so they are
    stable across machines. Only regular files inside the folder are read: a link whose target
    (resolved) lies outside the folder, a FIFO, device or socket, and links to them, are skipped
    with a warning that names them, without being opened (see :func:`read_document_bytes`).
    Unreadable, binary, empty or oversized files, and files that yield no text (a scanned PDF), are
    skipped with a warning that names them; non-UTF-8 text files are decoded as cp1252 with a warning.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"documents folder not found: {folder}")
    root = folder.resolve()
    docs: list[Document] = []
    warnings: list[str] = []
    for p in iter_document_files(folder, errors=warnings):
        d = _read_document(folder, root, p, warnings, opener)
        if d is not None:
            docs.append(d)
    for w in warnings:
        log.warning(w)
    return LoadReport(tuple(docs), tuple(warnings))


def load_document(folder: str | Path, name: str, opener: Opener | None = None) -> LoadReport:
    """The one document ``folder/name``, read exactly as :func:`load_documents` would read it (same
    checks, same warnings), without reading the rest of the folder. Hidden names and other suffixes
    are skipped with a warning."""
    folder = Path(folder)
    p = folder / name
    doc_id = p.relative_to(folder).as_posix()
    warnings: list[str] = []
    d = None
    if any(part.startswith(".") for part in Path(doc_id).parts) or converter_for(p.name) is None:
        warnings.append(f"{doc_id}: skipped, not a document the folder reader would read "
                        f"({', '.join(document_suffixes())})")
    else:
        d = _read_document(folder, folder.resolve(), p, warnings, opener)
    for w in warnings:
        log.warning(w)
    return LoadReport(tuple([d] if d is not None else []), tuple(warnings))


def convert(converter: Converter, data: bytes, doc_id: str) -> Extracted:
    """``converter.convert``, with any failure of a parser (a damaged or hostile file) turned into a
    :class:`SkippedFile` that says what the file is not, so one bad file never stops the others."""
    try:
        return converter.convert(data, doc_id)
    except SkippedFile:
        raise
    except Exception as e:  # parsers raise many kinds (struct.error, AssertionError, RecursionError, ...)
        log.debug("%s: %s converter failed", doc_id, converter.kind, exc_info=True)
        why = f"{type(e).__name__}: {e}"
        raise SkippedFile(f"skipped, not a readable {converter.kind} ({why[:200]})") from None


def _read_document(folder: Path, root: Path, p: Path, warnings: list[str], opener: Opener | None) -> Document | None:
    doc_id = p.relative_to(folder).as_posix()
    converter = converter_for(p.name)
    assert converter is not None, p  # only files with a registered suffix get here
    try:
        extracted = convert(converter, read_document_bytes(p, root=root, opener=opener), doc_id)
    except SkippedFile as e:
        warnings.append(f"{doc_id}: {e}")
        return None
    except OSError as e:
        warnings.append(f"{doc_id}: skipped, unreadable ({e.strerror or e})")
        return None
    warnings.extend(f"{doc_id}: {w}" for w in extracted.warnings)
    if not extracted.text.strip():
        warnings.append(f"{doc_id}: skipped, empty")
        return None
    return parse_document(doc_id, extracted.text, path=str(p), pages=extracted.pages)
