"""Slow mode's time: a replica clock that can run slower than the wall, and the hop delay.

`slow on` gives every server-to-server message the original's 2-second hop, so a person
can watch Prepare, Promise, Accept and Accepted go by. Two seconds a hop would make every
election timer fire before a Promise could come back, so the replica's clock slows down
by the same measure (`slow_scale`): its timeouts, kept in replica milliseconds, stretch
in wall time and still fit the hops they were tuned for. The replica never sees a jump:
the clock is re-anchored at each change of speed, so its time only goes forward.

The delay is a `DelayLine` the server's loop waits on like any deadline; nothing sleeps.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["SLOW_HOP_MS", "DelayLine", "ScaledClock", "slow_scale"]

SLOW_HOP_MS = 2000  # the original's sleep before each message

T = TypeVar("T")


def slow_scale(election_timeout_ms_min: int, hop_ms: int = SLOW_HOP_MS) -> float:
    """How many times slower the replica's clock runs in slow mode: enough that the
    shortest election timeout spans three hops in wall time. An election's Prepare and
    Promise take two hops and the new leader's first Heartbeat one more; a follower that
    heard the Prepare must not time out before that Heartbeat reaches it."""
    return max(1.0, math.ceil(3 * hop_ms / election_timeout_ms_min))


class ScaledClock:
    """`paxlab.host.Clock` for a server: milliseconds since start, running `scale` times
    slower than the wall (1: real time). `now_real_ns` is the wall clock it reads
    (CLOCK_MONOTONIC unless a test passes its own)."""

    def __init__(self, now_real_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.now_real_ns = now_real_ns
        self.scale = 1.0
        self._anchor_real_ns = now_real_ns()
        self._anchor_virtual_ns = 0

    def now_ns(self) -> int:
        elapsed = self.now_real_ns() - self._anchor_real_ns
        return self._anchor_virtual_ns + int(elapsed / self.scale)

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def set_scale(self, scale: float) -> None:
        """Run `scale` times slower from now on; the time read so far stays."""
        if scale <= 0:
            raise ValueError(f"clock scale must be > 0, got {scale}")
        now_real = self.now_real_ns()
        self._anchor_virtual_ns += int((now_real - self._anchor_real_ns) / self.scale)
        self._anchor_real_ns = now_real
        self.scale = scale

    def seconds_until(self, at_ms: float | None) -> float | None:
        """Wall seconds until the replica's clock reads `at_ms` (0 if past; None: never)."""
        if at_ms is None:
            return None
        virtual_ns = at_ms * 1_000_000 - self.now_ns()
        return max(0.0, virtual_ns * self.scale / 1e9)


@dataclass(slots=True)
class DelayLine(Generic[T]):
    """Items held for a fixed wall time, released in the order they went in.

    Bounded: past `limit` items the oldest is released at once rather than dropped (a
    message the core sent must still leave; slow mode only delays it)."""

    delay_ns: int
    limit: int = 10_000
    _heap: list[tuple[int, int, T]] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=itertools.count)

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, now_real_ns: int, item: T) -> list[T]:
        """Hold `item`; return what must leave now to keep the line within its limit."""
        heapq.heappush(self._heap, (now_real_ns + self.delay_ns, next(self._counter), item))
        overflow: list[T] = []
        while len(self._heap) > self.limit:
            overflow.append(heapq.heappop(self._heap)[2])
        return overflow

    def pop_due(self, now_real_ns: int) -> list[T]:
        due: list[T] = []
        while self._heap and self._heap[0][0] <= now_real_ns:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def drain(self) -> list[T]:
        """Everything still held, in order (slow mode turned off: send it all now)."""
        items = [entry[2] for entry in sorted(self._heap)]
        self._heap.clear()
        return items

    def next_due_ns(self) -> int | None:
        return self._heap[0][0] if self._heap else None
