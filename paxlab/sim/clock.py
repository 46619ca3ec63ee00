"""Virtual time: one heap of (time_ms, seq, event); the clock jumps to the next event.

Nothing sleeps. `seq` breaks ties in push order, so two events at the same virtual time
always run in the same order, and events themselves are never compared.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["EventHeap", "SimClock"]


class EventHeap:
    """The event heap and the virtual clock.

    `queue` and `seq` are public for the simulator's hottest paths (a message's delivery,
    a node's wake, the run loop), which push and pop on them directly, saving a method
    call per event. Whoever does keeps this class's rules: push `(at_ms, next(seq),
    event)` with `at_ms` not before `now_ms`, and on a pop set `now_ms` and count it in
    `processed`.
    """

    __slots__ = ("now_ms", "processed", "queue", "seq")

    def __init__(self) -> None:
        self.now_ms: float = 0.0
        self.queue: list[tuple[float, int, Any]] = []
        self.seq = itertools.count()
        self.processed = 0

    def __len__(self) -> int:
        return len(self.queue)

    @property
    def now_int(self) -> int:
        """The time handed to nodes, which count whole milliseconds; never decreases."""
        return int(self.now_ms)

    def push(self, at_ms: float, event: Any) -> None:
        """Schedule `event`; a time in the past means "now"."""
        now_ms = self.now_ms
        heapq.heappush(self.queue, (now_ms if now_ms > at_ms else at_ms, next(self.seq), event))

    def next_time(self) -> float | None:
        return self.queue[0][0] if self.queue else None

    def remove(self, unwanted: Callable[[Any], bool]) -> list[Any]:
        """Take out the events `unwanted` picks, in time order; the clock stays put."""
        gone = sorted((e for e in self.queue if unwanted(e[2])), key=lambda e: e[:2])
        self.queue[:] = [e for e in self.queue if not unwanted(e[2])]
        heapq.heapify(self.queue)
        return [event for _, _, event in gone]

    def pop(self) -> Any:
        """The next event; the clock jumps to its time."""
        at_ms, _, event = heapq.heappop(self.queue)
        self.now_ms = at_ms
        self.processed += 1
        return event


class SimClock:
    """The virtual clock as `paxlab.host.Clock`: what nodes and client drivers read."""

    __slots__ = ("heap",)

    def __init__(self, heap: EventHeap) -> None:
        self.heap = heap

    def now_ms(self) -> float:
        return self.heap.now_ms

    def now_ns(self) -> int:
        return round(self.heap.now_ms * 1_000_000)
