"""Start-up checks and logging of ``qa`` and ``python app.py``: what can be wrong before a model
loads (a port in use, a folder that is not there, an index folder that cannot be written) is
checked first, in well under a second, and said in one ``error: ...`` line.

* :func:`reserve_port` binds the server's socket before the index and the models load; the bound
  socket is handed to uvicorn, so no other program can take the port meanwhile.
* :func:`check_folders` checks the documents and index folders of a :class:`qa.config.Config`.
* :func:`configure_logging`: ``--log-level`` / ``QA_LOG_LEVEL`` (default WARNING; the server logs
  qa's own INFO lines), with the libraries' chatter (bm25s, chromadb, httpx, gradio, urllib3,
  onnxruntime, ...) held at WARNING unless the level is DEBUG.
* :func:`debug`: ``--debug`` / ``QA_DEBUG=1`` shows the traceback of a user error too.
* :class:`OneLineGroup` and :class:`OneLineCommand`: click's usage errors (a bad flag, a missing
  file) as one ``error: ...`` line naming the command's ``--help``, exit status 2.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Collection
from pathlib import Path
from typing import Any

import click

from qa.config import Config, env

#: libraries that log at INFO or DEBUG on their own: held at WARNING unless the level is DEBUG
NOISY_LOGGERS = ("bm25s", "chromadb", "httpx", "httpcore", "gradio", "gradio_client", "urllib3", "onnxruntime",
                 "sentence_transformers", "transformers", "huggingface_hub", "filelock", "multipart", "python_multipart",
                 "matplotlib", "PIL", "asyncio")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_state = {"debug": False, "level_given": False}


class StartupError(Exception):
    """A port, folder or setting that is wrong before anything loads: one line, no traceback."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def configure_logging(level: str | None = None, debug_flag: bool = False, default: str = "WARNING",
                      fmt: str = "%(levelname)s %(name)s: %(message)s") -> int:
    """Set up logging once per command: ``level`` (a flag) > ``QA_LOG_LEVEL`` > DEBUG with
    ``debug_flag`` / ``QA_DEBUG`` > ``default``. Returns the level; a bad name is a StartupError."""
    _state["debug"] = debug_flag or _truthy(env("debug"))
    given = level or env("log_level") or ("DEBUG" if _state["debug"] else None)
    _state["level_given"] = given is not None
    name = (given or default).strip().upper()
    if name not in LEVELS:
        raise StartupError(f"log level {given!r}: expected one of {', '.join(LEVELS)} (--log-level or QA_LOG_LEVEL)")
    value = getattr(logging, name)
    root = logging.getLogger()
    ours = not root.handlers  # else a host application (or pytest) configured logging: its handlers stay as they are
    logging.basicConfig(level=value, format=fmt)
    floor = logging.NOTSET if value <= logging.DEBUG else max(value, logging.WARNING)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(floor)
    if ours and floor:  # bm25s sets its own logger to DEBUG when imported, after this: filtered at the handler too
        for handler in root.handlers:
            handler.addFilter(_QuietLibraries(floor))
    return value


class _QuietLibraries(logging.Filter):
    """Drops the records of :data:`NOISY_LOGGERS` under ``floor``, whatever level they set themselves."""

    def __init__(self, floor: int) -> None:
        super().__init__()
        self.floor = floor

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.floor or record.name.partition(".")[0] not in NOISY_LOGGERS


def level_given() -> bool:
    """Whether the last :func:`configure_logging` had a level from a flag, QA_LOG_LEVEL or --debug."""
    return _state["level_given"]


def debug() -> bool:
    """Whether user errors show their traceback (``--debug`` or ``QA_DEBUG=1``)."""
    return _state["debug"] or _truthy(env("debug"))


# --- the port ------------------------------------------------------------------------------------


def reserve_port(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A socket bound to ``host:port`` and listening, made as uvicorn makes its own (uvicorn serves
    on it); a port in use, a privileged port or an address this machine does not have is a
    StartupError. It listens at once because two sockets with SO_REUSEADDR may both bind a port
    that nobody listens on yet: a second server would pass this check during the first one's model
    load. Meanwhile connections wait in the backlog, and are answered once the server is ready."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        raise StartupError(_bind_message(host, port, e)) from None
    sock.set_inheritable(True)
    return sock


def _bind_message(host: str, port: int, e: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if e.errno == errno.EADDRINUSE:
        return (f"port {port} is in use: another program (perhaps another `python app.py` or `qa serve`) listens on "
                f"{where}; choose another with --port N or QA_PORT=N")
    if e.errno == errno.EACCES:
        return f"port {port} needs administrator rights on this machine; choose one above 1023 with --port N or QA_PORT=N"
    if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host!r} is not an address of this machine ({e.strerror or e}); choose another with --host or QA_HOST"
    return f"cannot listen on {where}: {e.strerror or e}"


# --- the folders ---------------------------------------------------------------------------------


def explicit_folders(flags: dict[str, Any]) -> set[str]:
    """The folders the user named: ``--seeds`` or ``QA_SEEDS_DIR``, ``--documents`` (the default
    user folder, and ``QA_DOCUMENTS_DIR``, may not exist yet: the first upload creates it)."""
    named = {k for k in ("seeds_dir", "documents_dir") if flags.get(k)}
    if env("seeds_dir"):
        named.add("seeds_dir")
    return named


def check_folders(config: Config, explicit: Collection[str] = (), documents: bool = True) -> None:
    """A StartupError when a named documents folder is missing (``documents``: the command reads
    them) or the index folder cannot be created or written. Nothing is created here."""
    if documents:
        for key, flag, var in (("seeds_dir", "--seeds", "QA_SEEDS_DIR"), ("documents_dir", "--documents", None)):
            folder = Path(getattr(config, key))
            if key in explicit and not folder.is_dir():
                what = " (a file, not a folder)" if folder.exists() else ""
                via = f"{flag} or {var}" if var else flag
                raise StartupError(f"documents folder not found: {folder}{what}; create it, or name another with {via}")
    check_index_folder(Path(config.index_dir))


def check_index_folder(index_dir: Path) -> None:
    """A StartupError when ``index_dir`` is a file, or cannot be written, or cannot be created."""
    from qa.guards import require_writable_index
    from qa.store import IndexError_

    hint = "choose another with --index or QA_INDEX_DIR"
    if index_dir.exists() or index_dir.is_symlink():
        if not index_dir.is_dir():
            raise StartupError(f"the index folder {index_dir} is a file, not a folder; {hint}")
        try:
            require_writable_index(index_dir)
        except IndexError_ as e:  # read-only: its message says what to do
            raise StartupError(str(e)) from None
        return
    parent = index_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        why = "is a file" if parent.exists() and not parent.is_dir() else "cannot be written"
        raise StartupError(f"the index folder {index_dir} cannot be created: {parent} {why}; {hint}")


# --- click's errors in one line ------------------------------------------------------------------


class _OneLine(click.ClickException):
    """A click error shown as one ``error: ...`` line (instead of usage, hint and ``Error:``)."""

    def __init__(self, e: click.ClickException) -> None:
        super().__init__(e.format_message())
        self.exit_code = e.exit_code
        ctx = getattr(e, "ctx", None)
        self.hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}{self.hint}", err=True)


class _OneLineErrors:
    """Turns click's errors in parsing and in the commands below into :class:`_OneLine`; ``qa``
    alone still prints its help."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)  # type: ignore[misc]
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as e:
            raise _OneLine(e) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.exceptions.NoArgsIsHelpError, _OneLine):
            raise
        except click.ClickException as e:
            raise _OneLine(e) from None


class OneLineGroup(_OneLineErrors, click.Group):
    """A click group whose (and whose commands') errors are one ``error: ...`` line."""


class OneLineCommand(_OneLineErrors, click.Command):
    """A click command whose errors are one ``error: ...`` line."""


class QuietShutdown(logging.Filter):
    """uvicorn logs each connection a stop closes after the grace (a browser tab's or a
    gradio_client's event stream, which never ends by itself) as an error with a traceback. That
    is the expected end of such a stream: one INFO line says how many were closed instead.

    >>> f = QuietShutdown(grace_s=5)
    >>> f.filter(logging.makeLogRecord({"msg": "Cancel %s running task(s), timeout graceful shutdown exceeded", "args": (2,)}))
    False
    >>> f.filter(logging.makeLogRecord({"msg": "Started server process"}))
    True
    """

    def __init__(self, grace_s: float):
        super().__init__()
        self.grace_s = grace_s

    def filter(self, record: logging.LogRecord) -> bool:
        import asyncio

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError) and "graceful shutdown" in str(exc):
            return False
        if "timeout graceful shutdown exceeded" in record.getMessage():
            closed = record.args[0] if isinstance(record.args, tuple) and record.args else "the"
            logging.getLogger("qa.server").info("stopping: closed %s open connection(s) after the %g s grace", closed, self.grace_s)
            return False
        return True
