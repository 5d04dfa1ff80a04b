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
from collections.abc import Callable, Sequence
from typing import Any


class _Slot:
    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: Any):
        self.item = item
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


def batching_on() -> bool:
    """``QA_ONNX_BATCH=0`` makes every caller run alone (for measuring what batching brings)."""
    return os.environ.get("QA_ONNX_BATCH", "1").strip().lower() not in ("0", "false", "no", "off")


class Batcher:
    """Runs ``run`` over the items of concurrent callers together (thread-safe)."""

    def __init__(self, run: Callable[[list[Any]], Sequence[Any]], max_items: int = 32, wait_ms: float = 2.0,
                 size: Callable[[Any], int] | None = None):
        self.run = run
        self.max_items = max_items if batching_on() else 1
        self.wait_s = wait_ms / 1000.0
        #: how much of ``max_items`` one caller's item uses (a question's reader windows: several)
        self.size = size or (lambda item: 1)
        self._cv = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        self._last_batch = 0
        #: passes run and callers served, for benchmarks and tests
        self.passes = 0
        self.served = 0

    def __call__(self, item: Any) -> Any:
        slot = _Slot(item)
        with self._cv:
            self._queue.append(slot)
            if self._busy and len(self._queue) >= self.max_items:
                self._cv.notify_all()  # a runner waiting for company has a full pass
            while not slot.done:
                if self._busy:
                    self._cv.wait()
                    continue
                self._busy = True
                if self._last_batch > 1 and self.wait_s > 0 and len(self._queue) < self.max_items:
                    self._cv.wait(self.wait_s)  # under load: let the others catch up
                batch = self._take()
                self._cv.release()
                try:
                    self._run(batch)
                finally:
                    self._cv.acquire()
                    self._busy = False
                    self._last_batch = len(batch)
                    self._cv.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result

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
