"""Micro-batching: concurrent callers share one forward pass. Pure Python, no model code.

``Batcher(run)`` turns ``run(list_of_items) -> list_of_results`` into a per-item call that many
threads may make at once. Whoever arrives while the model is idle runs at once with everything
queued (a lone caller waits for nothing); callers that arrive while a pass is running queue up and
the next pass takes them all, up to ``max_items``. Under load (the previous pass carried more than
one caller) the runner first waits up to ``wait_ms`` for more callers to join, so that 32 clients
make a few large passes rather than many small ones.

>>> b = Batcher(lambda xs: [x * 2 for x in xs])
>>> b(21)
42
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


class _Slot:
    __slots__ = ("item", "done", "lead", "active", "result", "error", "event")

    def __init__(self, item: Any):
        self.item = item
        self.done = False
        #: holds a pass token: runs the next pass (set under the lock)
        self.lead = False
        #: running a pass now
        self.active = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.event = threading.Event()


def batching_on() -> bool:
    """``QA_ONNX_BATCH=0`` makes every caller run alone (for measuring what batching brings)."""
    return os.environ.get("QA_ONNX_BATCH", "1").strip().lower() not in ("0", "false", "no", "off")


class Batcher:
    """Runs ``run`` over the items of concurrent callers together (thread-safe).

    The runner of a pass is always the oldest caller waiting; when its pass is done it wakes the
    callers it served and hands the next pass to the oldest caller left, so each pass wakes only the
    threads that have something to do (waking every waiter after every pass costs each of them the
    GIL, which 32 waiting request threads turn into most of the time)."""

    def __init__(self, run: Callable[[list[Any]], Sequence[Any]], max_items: int = 32, wait_ms: float = 2.0,
                 size: Callable[[Any], int] | None = None, parallel: int = 1):
        self.run = run
        self.max_items = max_items if batching_on() else 1
        #: passes that may run at once (one per core when each pass runs on one thread)
        self.parallel = max(1, parallel)
        self.wait_s = wait_ms / 1000.0
        #: how much of ``max_items`` one caller's item uses (a question's reader windows: several)
        self.size = size or (lambda item: 1)
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._running = 0
        self._last_batch = 0
        #: passes run and callers served, for benchmarks and tests
        self.passes = 0
        self.served = 0

    def __call__(self, item: Any) -> Any:
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            if self._running < self.parallel:
                self._running += 1
                slot.lead = True
        while True:
            with self._lock:
                if slot.done:
                    if slot.lead:  # handed a pass after another runner had taken this item: pass it on
                        slot.lead = False
                        nxt = self._hand_over()
                        if nxt is not None:
                            nxt.event.set()
                    break
                run = slot.lead
                slot.lead = False
                slot.active = run
                if not run:
                    slot.event.clear()
            if run:
                # one pass over the oldest callers (this one's item, unless another runner took it:
                # that runner wakes this caller when its pass is done)
                self._lead()
                slot.active = False
            else:
                slot.event.wait()  # set when served, or when handed the next pass
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _hand_over(self) -> _Slot | None:
        """(Lock held.) Give the pass token to the oldest caller waiting, or give it back."""
        nxt = next((q for q in self._queue if not q.lead and not q.active), None)
        if nxt is None:
            self._running -= 1
        else:
            nxt.lead = True
        return nxt

    def _lead(self) -> None:
        """Run one pass over the oldest callers waiting, then hand the next to the oldest left."""
        if self._last_batch > 1 and self.wait_s > 0 and len(self._queue) < self.max_items:
            time.sleep(self.wait_s)  # under load: let the others catch up
        with self._lock:
            batch = self._take()
            if not batch:
                self._running -= 1
                return
        try:
            self._run(batch)
        finally:
            with self._lock:
                self._last_batch = len(batch)
                nxt = self._hand_over()
            for s in batch:
                s.event.set()
            if nxt is not None:
                nxt.event.set()

    def running(self) -> int:
        """Passes running now (this one included, when asked from inside ``run``)."""
        return self._running

    def _take(self) -> list[_Slot]:
        batch, used = [], 0
        while self._queue:
            n = self.size(self._queue[0].item)
            if batch and used + n > self.max_items:
                break
            batch.append(self._queue.pop(0))
            used += n
        return batch

    def _run(self, batch: list[_Slot]) -> None:
        try:
            results = self.run([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batched run returned {len(results)} results for {len(batch)} items")
            for s, r in zip(batch, results):
                s.result = r
        except BaseException as e:  # every caller of the pass sees the failure
            for s in batch:
                s.error = e
        finally:
            for s in batch:
                s.done = True
            self.passes += 1
            self.served += len(batch)
