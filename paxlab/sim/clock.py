"""Virtual time: one heap of (time_ms, seq, event); the clock jumps to the next event.

Nothing sleeps. `seq` breaks ties in push order, so two events at the same virtual time
always run in the same order, and events themselves are never compared.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["EventHeap"]


class EventHeap:
    def __init__(self) -> None:
        self.now_ms: float = 0.0
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self.processed = 0

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def now_int(self) -> int:
        """The time handed to nodes, which count whole milliseconds; never decreases."""
        return int(self.now_ms)

    def push(self, at_ms: float, event: Any) -> None:
        """Schedule `event`; a time in the past means "now"."""
        now_ms = self.now_ms
        heapq.heappush(self._heap, (now_ms if now_ms > at_ms else at_ms, next(self._seq), event))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def remove(self, unwanted: Callable[[Any], bool]) -> list[Any]:
        """Take out the events `unwanted` picks, in time order; the clock stays put."""
        gone = sorted((e for e in self._heap if unwanted(e[2])), key=lambda e: e[:2])
        self._heap = [e for e in self._heap if not unwanted(e[2])]
        heapq.heapify(self._heap)
        return [event for _, _, event in gone]

    def pop(self) -> Any:
        """The next event; the clock jumps to its time."""
        at_ms, _, event = heapq.heappop(self._heap)
        self.now_ms = at_ms
        self.processed += 1
        return event
