"""The one-writer lock of an index folder, and the scratch folders of processes that died.

``index.lock`` is held with ``flock``: the kernel releases it when the process dies, so a crashed
writer never blocks the next one, and a reader that can take it knows no writer is under way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from qa.store.backend import IndexUnusable
from qa.store.manifest import LOCK, OWNED_PREFIXES

log = logging.getLogger("qa.store")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


class WriterLock:
    """``index.lock`` of one folder: re-entrant within this store, exclusive between processes."""

    def __init__(self, index_dir: Path, lock: threading.RLock):
        self.index_dir = index_dir
        #: the store's own lock: held around the flock, so that the depth count is never raced
        self._lock = lock
        self._depth = 0

    @contextlib.contextmanager
    def hold(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock (flock; released by the kernel if the process dies). Yields whether held."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield True
                finally:
                    self._depth -= 1
                return
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: in-process lock only
                yield True
                return
            try:
                self.index_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:  # e.g. under /proc: a message, not a traceback
                raise IndexUnusable(f"the index folder {self.index_dir} cannot be created ({e.strerror or e}); "
                                    "choose another with --index or QA_INDEX_DIR") from None
            fd = os.open(self.index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not blocking:
                        yield False
                        return
                    log.warning("another process is writing %s; waiting for it", self.index_dir)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield True
                finally:
                    self._depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def scratch_pid(p: Path) -> int | None:
    """The process id in a ``bm25.tmp-<pid>-<token>`` name (None for other names)."""
    if not p.name.startswith(OWNED_PREFIXES[0]):
        return None
    pid = p.name[len(OWNED_PREFIXES[0]):].partition("-")[0]
    return int(pid) if pid.isdigit() else None


def foreign_builder(index_dir: Path) -> bool:
    """Another live process is building a BM25 for this index (it has a scratch folder here)."""
    try:
        entries = list(index_dir.iterdir())
    except OSError:
        return False
    return any((pid := scratch_pid(p)) is not None and pid != os.getpid() and pid_alive(pid) for p in entries)


def clear_dead_scratch(index_dir: Path) -> None:
    """Remove ``bm25.tmp-<pid>-*`` folders of processes that are gone (a crashed build)."""
    try:
        entries = list(index_dir.iterdir())
    except OSError:
        return
    for p in entries:
        pid = scratch_pid(p)
        if pid is None or not p.is_dir() or p.is_symlink():
            continue
        if pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)
