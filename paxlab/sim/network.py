"""The simulated network: every message's fate comes from `paxlab.network.model.NetworkModel`,
as in the lab's router, and deliveries become events on the virtual clock: the event is
the Envelope itself (no wrapper to allocate per message), and only envelopes are.

Like the router, it holds messages for a paused node until it resumes, and a message for
a crashed node is lost when it arrives (a restarted node gets what arrives after it).
Every message sent passes the invariant monitor first, whatever its fate, as in the router.
"""

from __future__ import annotations

import random
from heapq import heappush
from typing import Protocol

from paxlab.config.types import NetworkConfig
from paxlab.core.ids import Ballot
from paxlab.core.messages import Accept, Envelope, Heartbeat
from paxlab.network.model import NetworkModel
from paxlab.network.monitor import InvariantMonitor
from paxlab.sim.clock import EventHeap

__all__ = ["SimNetwork"]


class _Destinations(Protocol):
    def status(self, node: str) -> str:
        """"up", "paused" or "down"."""


class SimNetwork:
    def __init__(self, rules: NetworkConfig, seed: int, heap: EventHeap, servers: int
                 ) -> None:
        self.model = NetworkModel(rules=rules, rng=random.Random(f"{seed}:network"))
        self.heap = heap
        self.held: dict[str, list[Envelope]] = {}
        # Messages by fate, then deliveries lost at a down node or held for a paused one.
        self._counts = {"deliver": 0, "drop": 0, "duplicate": 0, "cut": 0,
                        "lost_down": 0, "held": 0}
        # The router's view of who leads: the sender of the highest-ballot Heartbeat or
        # Accept; each change counts as a leader change, as in the lab's summary. The
        # ballot is kept as (round, replica), which orders as Ballot does, in C.
        self.seen_leader: tuple[tuple[int, int], str] | None = None
        self._last_ballot: object = None  # the ballot `send` looked at last
        self.leader_changes = 0
        self.monitor = InvariantMonitor(servers)

    @property
    def counts(self) -> dict[str, int]:
        """Messages routed and their fates, as the lab's router counts them. Every message
        routed gets exactly one fate, so `routed` is their sum, not one more count per
        message."""
        counts = self._counts
        routed = counts["deliver"] + counts["drop"] + counts["duplicate"] + counts["cut"]
        return {"routed": routed, **counts}

    def send(self, envelope: Envelope) -> None:
        """Route one message: monitor, leader view, fate, then its deliveries. Every
        message of a run passes here, so the heap is pushed on directly (see EventHeap)."""
        heap = self.heap
        now_ms = heap.now_ms
        self.monitor.observe(now_ms, envelope)
        message = envelope.message
        kind = type(message)
        # A leader sends every Accept and Heartbeat with one Ballot object: the same
        # object as last time is no news (a ballot only matters when it is higher).
        if kind is Heartbeat or kind is Accept:
            ballot = message.ballot  # type: ignore[attr-defined]
            if ballot is not self._last_ballot:
                self._see_ballot(ballot, envelope.source)
        model = self.model
        delay_ms = model.plain_delay_ms()
        if delay_ms is not None:  # no fault in force: one delivery, and no Fate to build
            self._counts["deliver"] += 1
            heappush(heap.queue, (now_ms + delay_ms, next(heap.seq), envelope))
            return
        delays_ms, reason = model.fate(envelope.source, envelope.target)
        self._counts[reason] += 1
        for delay_ms in delays_ms:  # each >= 0: never before now, as push would clamp
            heappush(heap.queue, (now_ms + delay_ms, next(heap.seq), envelope))

    def _see_ballot(self, ballot: Ballot, source: str) -> None:
        self._last_ballot = ballot
        key = (ballot.round, ballot.replica)
        seen = self.seen_leader
        if seen is None or key > seen[0]:
            if seen is None or seen[1] != source:
                self.leader_changes += 1
            self.seen_leader = (key, source)

    def arrive(self, envelope: Envelope, nodes: _Destinations) -> bool:
        """A message reached its target's door: True if the target should step it now."""
        status = nodes.status(envelope.target)
        if status == "down":
            self._counts["lost_down"] += 1
            return False
        if status == "paused":
            self._counts["held"] += 1
            self.held.setdefault(envelope.target, []).append(envelope)
            return False
        return True

    def pause(self, node: str) -> None:
        self.held.setdefault(node, [])

    def resume(self, node: str) -> None:
        """Release what was held for `node`, in arrival order, now."""
        for envelope in self.held.pop(node, []):
            self.heap.push(self.heap.now_ms, envelope)

    def down(self, node: str) -> None:
        self.held.pop(node, None)
