"""BM25 over the chunks of the live generation: built at index time, saved in ``bm25/``, and after an
append rebuilt by a background thread while the previous one (a subset) keeps answering.

The saved folder records the corpus key and generation it was built for, so a stale ``bm25/`` (a
crash between a commit and the swap) is rebuilt, never used for the wrong corpus.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from qa.store import records
from qa.store.backend import VectorCollection
from qa.store.lock import WriterLock, foreign_builder
from qa.store.manifest import MANIFEST, OWNED_PREFIXES, Manifest
from qa.store.sparse import PERSIST_FILE, BM25Index

log = logging.getLogger("qa.store")

#: written into the BM25 folder: the corpus key it was built for
BM25_KEY_FILE = "qa_corpus_key.txt"
#: written into the BM25 folder: the generation it was built for (a BM25 of the live generation is a
#: subset of it, since within a generation documents are only ever added)
BM25_GENERATION_FILE = "qa_generation.txt"
#: the longest a background BM25 build waits for one that another live process is making
FOREIGN_BM25_WAIT_S = 120.0


class _Stopped(Exception):
    """A background BM25 build was asked to stop (the store is closing)."""


class Bm25Mixin:
    """The BM25 half of :class:`~qa.store.index.IndexStore` (its state is set up by the store's ``__init__``)."""

    index_dir: Path
    manifest: Manifest | None
    _lock: threading.RLock
    _writer: WriterLock
    _catch_up: bool
    #: (BM25 index or None, corpus key it was built for, generation): replaced whole, read without a lock
    _bm25_state: tuple[Any, str, str]
    _bm25_cv: threading.Condition
    _bm25_thread: threading.Thread | None
    _bm25_wanted: bool
    _bm25_stop: threading.Event
    #: a scratch folder an append reserved before its commit, so that readers in other processes
    #: see a live builder and wait for it instead of building the same BM25 themselves
    _bm25_scratch: Path | None

    def open(self) -> Manifest:  # pragma: no cover - IndexStore's
        raise NotImplementedError

    @property
    def chunks_collection(self) -> VectorCollection:  # pragma: no cover - IndexStore's
        raise NotImplementedError

    def _try_catch_up(self) -> bool:  # pragma: no cover - IndexStore's
        raise NotImplementedError

    def _init_bm25(self) -> None:
        self._bm25_state = (None, "", "")
        self._bm25_cv = threading.Condition()
        self._bm25_thread = None
        self._bm25_wanted = False
        self._bm25_stop = threading.Event()
        self._bm25_scratch = None

    @property
    def _bm25(self) -> Any:
        """The BM25 index in memory (None when none is loaded)."""
        return self._bm25_state[0]

    @_bm25.setter
    def _bm25(self, value: Any) -> None:
        if value is not None:  # pragma: no cover - use _bm25_state with its key
            raise ValueError("set _bm25_state (retriever, corpus key, generation) instead")
        self._bm25_state = (None, "", "")

    def _bm25_folder_key(self) -> str:
        """The corpus key the saved BM25 folder was built for ("" when there is none)."""
        folder = self.index_dir / "bm25"
        try:
            if not (folder / PERSIST_FILE).exists():
                return ""
            return (folder / BM25_KEY_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _bm25_folder_generation(self) -> str:
        try:
            return (self.index_dir / "bm25" / BM25_GENERATION_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _load_bm25_folder(self) -> Any:
        """The BM25 index saved in ``bm25/`` (None when it cannot be read)."""
        try:
            return BM25Index.load(self.index_dir / "bm25")
        except Exception as e:  # a damaged cache (or one being swapped by another process) is rebuilt, never fatal
            log.warning("BM25 cache unreadable (%s); rebuilding", e)
            return None

    def bm25(self) -> Any:
        """The BM25 index (:class:`~qa.store.sparse.BM25Index`) over every chunk: loaded from disk
        when it matches, else rebuilt.

        A committing :meth:`sync` builds and saves it, so this rebuilds only for an index written
        before that, or whose ``bm25/`` is missing or stale (e.g. a crash right after the commit).
        After an append (same generation, documents added) the BM25 at hand, in memory or on disk,
        is a subset of the live chunks: it is returned as is and brought up to date in the
        background (:meth:`wait_bm25` waits for that).
        """
        with self._lock:
            manifest = self.manifest or self.open()
            key, gen = manifest.corpus_key(), manifest.generation
            bm, bm_key, bm_gen = self._bm25_state
            if bm is not None and bm_key == key:
                return bm
            if bm is not None and gen and bm_gen == gen:
                self._schedule_bm25()
                return bm
            folder_key, folder_gen = self._bm25_folder_key(), self._bm25_folder_generation()
            if folder_key and (folder_key == key or (gen and folder_gen == gen)):
                loaded = self._load_bm25_folder()
                if loaded is not None:
                    self._bm25_state = (loaded, folder_key, folder_gen or gen)
                    if folder_key != key:
                        self._schedule_bm25()
                    return loaded
            return self._bm25_sync(manifest)

    def bm25_if_complete(self) -> Any:
        """The BM25 index in memory when it holds every live chunk, else None (none loaded yet, or an
        append's catch-up under way): what may say that no document holds a word."""
        with self._lock:
            bm, key, _ = self._bm25_state
            manifest = self.manifest
            return bm if bm is not None and manifest is not None and key == manifest.corpus_key() else None

    def _bm25_sync(self, manifest: Manifest) -> Any:
        """Build BM25 for ``manifest`` now, save it and keep it in memory (the lock is held)."""
        bm, tmp = self._build_bm25(manifest, self.chunks_collection)
        if bm is None:
            return None
        if tmp is not None:
            self._install_bm25(tmp)
        self._bm25_state = (bm, manifest.corpus_key(), manifest.generation)
        return bm

    def bm25_retriever(self, top_k: int) -> Any:
        """A retriever over the newest BM25 of the open generation (``None`` without chunks).

        It always answers with the latest BM25 this store holds for its generation, so a background
        rebuild after an append is picked up by the next question without rebuilding anything else.
        """
        bm = self.bm25()
        if bm is None:
            return None
        from qa.retrieve import LatestBM25

        gen = self.manifest.generation if self.manifest else ""
        return LatestBM25(lambda: self._bm25_state, top_k=top_k, generation=gen, initial=bm)

    def _build_bm25(
        self, manifest: Manifest, collection: VectorCollection, tmp: Path | None = None, stop: threading.Event | None = None,
    ) -> tuple[Any, Path | None]:
        """Build BM25 over ``manifest``'s chunks in ``collection``, saved aside into a scratch folder.

        Returns (index or None when there are no chunks, scratch folder or None when it could
        not be saved). The scratch folder is named ``bm25.tmp-<pid>-<token>`` (``tmp``, when one was
        reserved): a dead process's leftovers are removed by :meth:`cleanup`. ``stop`` is checked
        between reads (raising :class:`_Stopped`).
        """
        try:
            ids = manifest.chunk_ids()
            if stop is None:
                nodes = records.read_nodes(collection, ids, records.READ_BATCH)
            else:
                nodes = []
                step = max(1, int(records.READ_BATCH))
                for i in range(0, len(ids), step):
                    if stop.is_set():
                        raise _Stopped()
                    nodes += records.read_nodes(collection, ids[i : i + step])
            if not nodes:
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
                return None, None
            bm = BM25Index.build(nodes)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp = tmp or self.index_dir / f"{OWNED_PREFIXES[0]}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            bm.save(tmp)
            (tmp / BM25_GENERATION_FILE).write_text(manifest.generation, encoding="utf-8")
            (tmp / BM25_KEY_FILE).write_text(manifest.corpus_key(), encoding="utf-8")
        except OSError as e:  # read-only index: keep it in memory
            log.warning("could not save BM25 index (%s)", e)
            shutil.rmtree(tmp, ignore_errors=True)
            return bm, None
        return bm, tmp

    def _install_bm25(self, tmp: Path) -> None:
        """Swap a scratch BM25 folder in as ``bm25/``: a crash leaves the old folder or none, never half of one.

        Only while holding the writer lock (taken here if it is free): two processes never swap at once.
        """
        folder = self.index_dir / "bm25"
        with self._writer.hold(blocking=False) as held:
            if not held:  # a writer is busy; it saves its own, and this one stays in memory
                shutil.rmtree(tmp, ignore_errors=True)
                return
            try:
                if folder.exists():
                    shutil.rmtree(folder)
                os.replace(tmp, folder)
            except OSError as e:
                log.warning("could not save BM25 index (%s)", e)
                shutil.rmtree(tmp, ignore_errors=True)

    def _reserve_bm25_scratch(self) -> Path | None:
        """A scratch folder for the background build an append is about to start (see ``_bm25_scratch``)."""
        tmp = self.index_dir / f"{OWNED_PREFIXES[0]}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except OSError:
            return None
        return tmp

    # --- the background thread: BM25 after an append, catching up with other writers --------------

    def _schedule_bm25(self) -> None:
        """Bring BM25 (and this process's view of the collections) up to the open manifest, in a
        background thread: one per store; what is in memory answers meanwhile."""
        with self._bm25_cv:
            if self._bm25_stop.is_set():
                return
            self._bm25_wanted = True
            if self._bm25_thread is None:
                self._bm25_thread = threading.Thread(target=self._bm25_worker, name="qa-bm25", daemon=True)
                self._bm25_thread.start()
            self._bm25_cv.notify_all()

    def _bm25_worker(self) -> None:
        while True:
            with self._bm25_cv:  # the decision to end and the end are one step: no request is lost
                if self._bm25_stop.is_set() or not (self._bm25_wanted or self._catch_up):
                    self._bm25_thread = None
                    self._bm25_cv.notify_all()
                    return
                self._bm25_wanted = False
            try:
                if self._catch_up and not self._try_catch_up():
                    self._bm25_stop.wait(0.5)  # a writer holds the lock: try again shortly
                    continue
                self._refresh_bm25()
                self.save_committed_snapshot()  # type: ignore[attr-defined]  # an upload's state, for new processes
            except _Stopped:
                continue  # the loop ends at its next check
            except Exception as e:
                log.warning("background BM25 build failed (%s: %s); the previous BM25 keeps answering",
                            type(e).__name__, e)

    def _refresh_bm25(self) -> None:
        """One round of the background thread: make the BM25 in memory (and on disk) match the manifest."""
        waited_since: float | None = None
        while not self._bm25_stop.is_set():
            m = self.manifest
            if m is None:
                return
            key, gen = m.corpus_key(), m.generation
            if self._bm25_state[1] == key:
                with self._lock:  # no append is under way: a folder reserved by an earlier one is not needed
                    if self._bm25_scratch is not None and self.manifest is not None and self.manifest.corpus_key() == key:
                        shutil.rmtree(self._bm25_scratch, ignore_errors=True)
                        self._bm25_scratch = None
                return
            if self._bm25_folder_key() == key:  # another process (or an earlier round) saved it
                loaded = self._load_bm25_folder()
                if loaded is not None:
                    with self._lock:
                        if self.manifest is not None and self.manifest.corpus_key() == key:
                            self._bm25_state = (loaded, key, gen)
                    continue
            if self._bm25_scratch is None and foreign_builder(self.index_dir):
                waited_since = waited_since or time.monotonic()
                if time.monotonic() - waited_since < FOREIGN_BM25_WAIT_S:
                    self._bm25_stop.wait(0.5)
                    continue
            with self._lock:  # an append sets it under this lock
                scratch, self._bm25_scratch = self._bm25_scratch, None
            bm, tmp = self._build_bm25(m, self.chunks_collection, tmp=scratch, stop=self._bm25_stop)
            with self._lock:
                current = self.manifest is not None and self.manifest.corpus_key() == key
                if current and bm is not None:
                    self._bm25_state = (bm, key, gen)
                if tmp is not None:
                    if current and self._disk_corpus_key() == key:
                        self._install_bm25(tmp)
                    else:
                        shutil.rmtree(tmp, ignore_errors=True)
            if current:
                return

    def _disk_corpus_key(self) -> str:
        try:
            return Manifest.load(self.index_dir / MANIFEST).corpus_key()
        except (ValueError, TypeError, KeyError, OSError):
            return ""

    def wait_bm25(self, timeout: float | None = None) -> bool:
        """Wait for the background BM25 build (if any); True when BM25 matches the open manifest."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._bm25_cv:
            while self._bm25_thread is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._bm25_cv.wait(left)
        m = self.manifest
        return m is None or self._bm25_state[1] == m.corpus_key()

    def close(self, timeout: float | None = None) -> None:
        """Stop the background thread (a build under way is abandoned between reads) and join it."""
        self._bm25_stop.set()
        with self._bm25_cv:
            self._bm25_cv.notify_all()
            t = self._bm25_thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        if t is None or not t.is_alive():
            scratch, self._bm25_scratch = self._bm25_scratch, None
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
