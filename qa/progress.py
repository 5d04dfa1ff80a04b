"""tqdm progress bars of the ``qa`` command line, on stderr."""

from __future__ import annotations

import sys
from typing import Any


class Bar:
    """tqdm progress for IndexStore.sync (chunks embedded, with chunks/s) on stderr.

    Off with ``enabled=False`` (``qa index --quiet``) and when stderr is not a terminal; a total of
    0 means "not known" (a streamed JSONL corpus): the bar then counts and shows the rate only.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.bar: Any = None
        self.enabled = enabled

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total or None, unit="chunk", desc="embedding", file=sys.stderr, dynamic_ncols=True)
        elif total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CountBar:
    """tqdm progress on stderr for a (done, total) callback, e.g. questions answered."""

    def __init__(self, desc: str, unit: str) -> None:
        self.desc, self.unit = desc, unit
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, file=sys.stderr, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
