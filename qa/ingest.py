"""Ingestion: read documents, mask page furniture, split sentences, pack chunks.

Offsets are sacred here. A document's ``text`` is the file's bytes decoded, with nothing removed or
normalised, and every sentence and chunk is a ``(start, end)`` slice of it. Page furniture ("Back to
top button", "Related Articles", an empty "Sources:") is *masked* (recorded as ranges to skip), never
cut out, so quotes can always be checked against the file on disk.

>>> doc = parse_document("a.txt", "Headline\\nFirst sentence here. Second one follows.\\nRelated Articles\\n")
>>> doc.title
'Headline'
>>> [doc.text[s.start:s.end] for s in split_sentences(doc)]
['Headline', 'First sentence here.', 'Second one follows.']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.types import Chunk, Document, Sentence

log = logging.getLogger(__name__)

#: Bumped whenever splitting or chunking changes, so existing indexes rebuild.
CHUNKER_VERSION = 1

#: File types read from a documents folder.
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")

#: Files larger than this are skipped with a warning (a text article is a few kB).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

#: A ``--source`` JSONL line longer than this is an error (one document's text, JSON-escaped, fits).
MAX_JSONL_LINE_BYTES = 8 * MAX_DOCUMENT_BYTES

# Furniture that may be glued to the start of the next line's text ("Back to top buttonIn the ...").
_EOL = r"(?=[ \t]*(?:\r?\n|\r|\Z))"
# Furniture at the start of a line, alone or glued to the next text ("Back to top buttonIn the ...");
# case-sensitive and followed by a line end or a capital, so "Related news outlets said" is content.
_FURNITURE_PREFIX = re.compile(
    r"^[ \t]*(?:Back to top(?: button)?|Related (?:Articles|Posts|Stories|News)|Skip to (?:main )?content"
    r"|Share this(?: article)?:?|Click to share on \w+(?: \(Opens in new window\))?)"
    rf"(?:{_EOL}|(?=[A-Z]))",
    re.MULTILINE,
)
# Whole lines that are navigation or section labels, not content.
_FURNITURE_LINE = re.compile(
    r"^[ \t]*(?:News|Menu|Home|Advertisement|Sponsored|Share|Tweet|Print|Email|Comments?"
    rf"|Read more:?|Continue reading|Subscribe|Sign up|Log in|Video|Photos?)[ \t]*{_EOL}",
    re.IGNORECASE | re.MULTILINE,
)
# A "Sources:" / "References:" heading with nothing after it.
_EMPTY_SOURCES = re.compile(r"^[ \t]*(?:Sources?|References?)[ \t]*:[ \t]*(?=\s*\Z)", re.IGNORECASE | re.MULTILINE)
# A section label glued to the last sentence of a page ("...evolving story.News").
_TRAILING_LABEL = re.compile(r"(?<=[.!?”\"’])(?:News|Menu|Advertisement)\s*\Z")

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
    "rep", "rev", "inc", "ltd", "co", "corp", "vs", "etc", "no", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig", "approx", "est", "dept", "univ", "mt", "ft",
}
# Sentence end: terminal punctuation plus closing quotes/brackets.
_END = re.compile(r"[.!?…]+[\"”’'»)\]]*")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_documents` read and what it skipped (with the reason)."""

    documents: tuple[Document, ...]
    warnings: tuple[str, ...]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def decode_bytes(data: bytes, name: str) -> tuple[str | None, str | None]:
    """Decode file bytes: UTF-8, else cp1252/latin-1 with a warning; binary gives (None, reason)."""
    if b"\x00" in data[:8192]:
        return None, f"{name}: skipped, looks binary (NUL bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        for enc in ("cp1252", "latin-1"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            return text, f"{name}: not valid UTF-8 (byte {e.start}); decoded as {enc}"
    return None, f"{name}: skipped, undecodable"  # pragma: no cover - latin-1 decodes anything


def furniture_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Character ranges of page furniture in ``text`` (kept in place, never chunked)."""
    ranges = [m.span() for m in _FURNITURE_PREFIX.finditer(text)]
    ranges += [m.span() for m in _FURNITURE_LINE.finditer(text)]
    ranges += [m.span() for m in _EMPTY_SOURCES.finditer(text)]
    ranges += [m.span() for m in _TRAILING_LABEL.finditer(text)]
    ranges = sorted((s, e) for s, e in ranges if e > s)
    merged: list[tuple[int, int]] = []
    for s, e in ranges:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple(merged)


def _unmasked_lines(text: str, masked: tuple[tuple[int, int], ...]) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each non-blank line piece outside masked ranges, whitespace-trimmed."""
    cuts = sorted(masked)
    for m in re.finditer(r"[^\n\r]+", text):
        pieces = [(m.start(), m.end())]
        for ms, me in cuts:
            nxt = []
            for s, e in pieces:
                if me <= s or ms >= e:
                    nxt.append((s, e))
                    continue
                if s < ms:
                    nxt.append((s, ms))
                if me < e:
                    nxt.append((me, e))
            pieces = nxt
        for s, e in pieces:
            while s < e and (text[s].isspace() or text[s] == "\ufeff"):
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                yield s, e


def title_of(text: str, masked: tuple[tuple[int, int], ...], fallback: str) -> str:
    """The headline: the first meaningful line, markdown '#' stripped, cut to 200 characters."""
    for s, e in _unmasked_lines(text, masked):
        line = text[s:e].lstrip("#").strip()
        if len(_WORD.findall(line)) >= 1:
            if len(line) > 200:
                line = line[:200].rsplit(" ", 1)[0] + "…"
            return line
    return fallback


def parse_document(doc_id: str, text: str, path: str = "", title: str | None = None) -> Document:
    """Build a :class:`Document` from already-decoded text."""
    masked = furniture_ranges(text)
    return Document(
        doc_id=doc_id,
        title=title or title_of(text, masked, fallback=doc_id),
        text=text,
        path=path,
        sha256=sha256_text(text),
        masked=masked,
    )


class SkippedFile(Exception):
    """A file of the documents folder that is not read; the message says why (e.g. "skipped, ...")."""


_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _open_document(path: str) -> int:
    """Open ``path`` read-only without ever blocking: a FIFO or device swapped in after the check
    opens at once (O_NONBLOCK) and is refused by the fstat that follows; a link swapped in for the
    resolved path is refused (O_NOFOLLOW). Tests patch this to simulate unreadable files."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))


def read_document_bytes(path: str | Path, root: str | Path | None = None, limit: int | None = None) -> bytes:
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
    fd = _open_document(real)
    try:
        st = os.fstat(fd)  # what was opened, not what the name pointed to a moment ago
        if not stat.S_ISREG(st.st_mode):
            raise SkippedFile(f"skipped, not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise SkippedFile(too_big)
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
    finally:
        os.close(fd)


def iter_document_files(folder: Path, errors: list[str] | None = None) -> list[Path]:
    """Entries under ``folder`` with a text suffix (recursive, hidden entries skipped), in a stable order.

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
            if not name.startswith(".") and Path(name).suffix.lower() in TEXT_SUFFIXES:
                out.append(here / name)
    return sorted(out)


def load_documents(folder: str | Path) -> LoadReport:
    """Read every text document under ``folder``.

    Ids are paths relative to the folder (the file name for files at its top level), so they are
    stable across machines. Only regular files inside the folder are read: a link whose target
    (resolved) lies outside the folder, a FIFO, device or socket, and links to them, are skipped
    with a warning that names them, without being opened (see :func:`read_document_bytes`).
    Unreadable, binary, empty or oversized files are skipped with a warning that names them;
    non-UTF-8 files are decoded as cp1252 with a warning.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"documents folder not found: {folder}")
    root = folder.resolve()
    docs: list[Document] = []
    warnings: list[str] = []
    for p in iter_document_files(folder, errors=warnings):
        d = _read_document(folder, root, p, warnings)
        if d is not None:
            docs.append(d)
    for w in warnings:
        log.warning(w)
    return LoadReport(tuple(docs), tuple(warnings))


def load_document(folder: str | Path, name: str) -> LoadReport:
    """The one document ``folder/name``, read exactly as :func:`load_documents` would read it (same
    checks, same warnings), without reading the rest of the folder. Hidden names and other suffixes
    are skipped with a warning."""
    folder = Path(folder)
    p = folder / name
    doc_id = p.relative_to(folder).as_posix()
    warnings: list[str] = []
    d = None
    if any(part.startswith(".") for part in Path(doc_id).parts) or p.suffix.lower() not in TEXT_SUFFIXES:
        warnings.append(f"{doc_id}: skipped, not a .txt or .md document the folder reader would read")
    else:
        d = _read_document(folder, folder.resolve(), p, warnings)
    for w in warnings:
        log.warning(w)
    return LoadReport(tuple([d] if d is not None else []), tuple(warnings))


def _read_document(folder: Path, root: Path, p: Path, warnings: list[str]) -> Document | None:
    doc_id = p.relative_to(folder).as_posix()
    try:
        data = read_document_bytes(p, root=root)
    except SkippedFile as e:
        warnings.append(f"{doc_id}: {e}")
        return None
    except OSError as e:
        warnings.append(f"{doc_id}: skipped, unreadable ({e.strerror or e})")
        return None
    text, warning = decode_bytes(data, doc_id)
    if warning:
        warnings.append(warning)
    if text is None:
        return None
    if not text.strip():
        warnings.append(f"{doc_id}: skipped, empty")
        return None
    return parse_document(doc_id, text, path=str(p))


def load_jsonl(path: str | Path) -> Iterator[Document]:
    """Documents from a JSONL file, one ``{"id", "title", "text"}`` object per line.

    Any line that is not a UTF-8 JSON object with an id and a text is a ``ValueError`` naming
    ``FILE:LINE`` (a binary or compressed file fails on its first line, before anything is indexed).
    """
    with open(path, "rb") as f:
        lineno = 0
        while True:
            raw = f.readline(MAX_JSONL_LINE_BYTES + 1)
            if not raw:
                break
            lineno += 1
            where = f"{path}:{lineno}"
            if len(raw) > MAX_JSONL_LINE_BYTES:
                raise ValueError(f"{where}: line longer than {MAX_JSONL_LINE_BYTES:,} bytes; expected one JSON object per line")
            if b"\x00" in raw:
                hint = "; it looks gzip-compressed: decompress it first" if lineno == 1 and raw.startswith(b"\x1f\x8b") else ""
                raise ValueError(f"{where}: binary data (NUL bytes), not a line of JSON text{hint}")
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                hint = "; it looks gzip-compressed: decompress it first" if lineno == 1 and raw.startswith(b"\x1f\x8b") else ""
                raise ValueError(
                    f"{where}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}){hint}; "
                    f"--source takes a UTF-8 JSONL file"
                ) from None
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                doc_id, text = rec["id"], rec["text"]
                if not isinstance(text, str) or not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
                    raise TypeError("id must be a string or number and text a string")
                doc_id = str(doc_id)
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{where}: expected a JSON object with id and text ({e})") from None
            if text.strip():
                yield parse_document(doc_id, text, path=f"{path}#{lineno}", title=rec.get("title") or None)


def _is_boundary(text: str, end: int, seg_end: int) -> bool:
    """Is the terminal punctuation that ends at ``end`` a sentence boundary?"""
    if end >= seg_end:
        return True
    nxt = text[end]
    # the token the punctuation closes, e.g. "U.S" in "U.S." or "Dr" in "Dr."
    j = end
    while j > 0 and text[j - 1] in ".!?…\"”’'»)]":
        j -= 1
    k = j
    while k > 0 and not text[k - 1].isspace() and text[k - 1] not in "(\"“‘'":
        k -= 1
    token = text[k:j]
    if nxt.isspace():
        m = end
        while m < seg_end and text[m].isspace():
            m += 1
        if m >= seg_end:
            return True
        first = text[m]
        if not (first.isupper() or first.isdigit() or first in "\"“‘'(¡¿[—–-•*"):
            return False
        if token.lower() == "no" and not first.isdigit():  # "said no. Then" ends; "No. 5" does not
            return True
        if text[end - 1] == "." and (
            token.lower() in _ABBREVIATIONS
            or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token)  # initials, U.S, a.m
        ):
            return False
        return True
    # Glued sentences in scraped text ("Bolivarianism.”URGENT", "story.News"): a lowercase word,
    # terminal punctuation, then an uppercase letter. "U.S.-led", "Disclose.tv" do not match.
    return nxt.isupper() and len(token) > 1 and token[-1].islower() and token.isalpha()


def split_sentences(doc: Document) -> list[Sentence]:
    """Sentences of the unmasked text, each an exact slice ``doc.text[start:end]``.

    Line breaks always end a sentence (news text is one paragraph per line).
    """
    text = doc.text
    out: list[Sentence] = []
    for seg_start, seg_end in _unmasked_lines(text, doc.masked):
        s = seg_start
        for m in _END.finditer(text, seg_start, seg_end):
            if m.end() <= s or not _is_boundary(text, m.end(), seg_end):
                continue
            out.append(Sentence(s, m.end(), text[s : m.end()]))
            s = m.end()
            while s < seg_end and text[s].isspace():
                s += 1
        if s < seg_end:
            out.append(Sentence(s, seg_end, text[s:seg_end]))
    return [x for x in out if x.text.strip()]


def _split_long(sent: Sentence, max_words: int) -> list[Sentence]:
    """Cut a sentence longer than ``max_words`` at word boundaries (keeps offsets exact)."""
    words = list(re.finditer(r"\S+", sent.text))
    if len(words) <= max_words:
        return [sent]
    pieces = []
    for i in range(0, len(words), max_words):
        a = sent.start + words[i].start()
        b = sent.start + words[min(i + max_words, len(words)) - 1].end()
        pieces.append(Sentence(a, b, sent.text[a - sent.start : b - sent.start]))
    return pieces


def _n_words(s: Sentence) -> int:
    return len(s.text.split())


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    return hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


def chunk_document(doc: Document, max_words: int = 110, overlap: int = 0) -> list[Chunk]:
    """Pack consecutive sentences into chunks of at most ``max_words`` words.

    A chunk never spans masked furniture, so ``chunk.text == doc.text[chunk.start:chunk.end]`` is
    always content. ``overlap`` sentences are repeated at the start of the following chunk.
    """
    sents: list[Sentence] = []
    for s in split_sentences(doc):
        sents.extend(_split_long(s, max_words))
    chunks: list[Chunk] = []
    group: list[Sentence] = []

    def flush() -> None:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        body = doc.text[start:end]
        chunks.append(Chunk(chunk_id_for(doc.doc_id, start, body), doc.doc_id, doc.title, start, end, body, tuple(group)))

    def crosses_mask(a: int, b: int) -> bool:
        return any(ms < b and me > a for ms, me in doc.masked)

    for s in sents:
        if group and (sum(_n_words(x) for x in group) + _n_words(s) > max_words or crosses_mask(group[-1].end, s.start)):
            flush()
            keep = group[-overlap:] if overlap and not crosses_mask(group[-1].end, s.start) else []
            # never carry the whole previous chunk over, nor more than fits beside the new sentence
            if len(keep) >= len(group) or sum(_n_words(x) for x in keep) + _n_words(s) > max_words:
                keep = []
            group = list(keep)
        group.append(s)
    flush()
    return chunks


def chunk_documents(docs: Iterable[Document], max_words: int = 110, overlap: int = 0) -> Iterator[Chunk]:
    for d in docs:
        yield from chunk_document(d, max_words, overlap)


# --- llama-index views -------------------------------------------------------------------------

_NODE_META_HIDDEN = ["doc_id", "start", "end", "sentences", "chunk_id"]


def to_llama_document(doc: Document) -> Any:
    """The document as a llama-index ``Document`` (id = doc_id, title/path in metadata)."""
    from llama_index.core import Document as LIDocument

    return LIDocument(
        id_=doc.doc_id,
        text=doc.text,
        metadata={"doc_id": doc.doc_id, "title": doc.title, "path": doc.path, "sha256": doc.sha256},
        excluded_embed_metadata_keys=["doc_id", "path", "sha256"],
        excluded_llm_metadata_keys=["doc_id", "path", "sha256"],
    )


def chunk_to_node(chunk: Chunk) -> Any:
    """The chunk as a llama-index ``TextNode``; offsets and sentence spans live in metadata.

    The title is the only metadata seen by embedding and BM25 ("title\\n\\ntext"): headlines carry
    the topic words that a passage deep in an article often lacks.
    """
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    return TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        metadata={
            "doc_id": chunk.doc_id,
            "title": chunk.title,
            "start": chunk.start,
            "end": chunk.end,
            "chunk_id": chunk.chunk_id,
            "sentences": json.dumps([[s.start, s.end] for s in chunk.sentences]),
        },
        excluded_embed_metadata_keys=list(_NODE_META_HIDDEN),
        excluded_llm_metadata_keys=list(_NODE_META_HIDDEN),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
        metadata_template="{value}",
        text_template="{metadata_str}\n\n{content}",
    )


def node_to_chunk(node: Any) -> Chunk:
    """Inverse of :func:`chunk_to_node` (works on nodes read back from Chroma or BM25)."""
    md = node.metadata
    text = node.get_content()  # MetadataMode.NONE: the bare chunk text
    start = int(md["start"])
    spans = json.loads(md.get("sentences") or "[]")
    sents = tuple(Sentence(int(a), int(b), text[int(a) - start : int(b) - start]) for a, b in spans)
    return Chunk(
        chunk_id=str(md.get("chunk_id") or node.node_id),
        doc_id=str(md["doc_id"]),
        title=str(md.get("title", "")),
        start=start,
        end=int(md["end"]),
        text=text,
        sentences=sents,
    )


def embedding_text(chunk: Chunk) -> str:
    """What the dense and sparse indexes see for a chunk (same as the node's EMBED content)."""
    return f"{chunk.title}\n\n{chunk.text}" if chunk.title else chunk.text
