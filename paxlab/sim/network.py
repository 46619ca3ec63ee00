"""The simulated network: every message's fate comes from `paxlab.netmodel.NetworkModel`,
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

from paxlab.config_types import NetworkConfig
from paxlab.core.messages import Accept, Envelope, Heartbeat
from paxlab.monitor import InvariantMonitor
from paxlab.netmodel import NetworkModel
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
        self.counts = {"routed": 0, "deliver": 0, "drop": 0, "duplicate": 0, "cut": 0,
                       "lost_down": 0, "held": 0}
        # The router's view of who leads: the sender of the highest-ballot Heartbeat or
        # Accept; each change counts as a leader change, as in the lab's summary. The
        # ballot is kept as (round, replica), which orders as Ballot does, in C.
        self.seen_leader: tuple[tuple[int, int], str] | None = None
        self.leader_changes = 0
        self.monitor = InvariantMonitor(servers)

    def send(self, envelope: Envelope) -> None:
        """Route one message: monitor, leader view, fate, then its deliveries. Every
        message of a run passes here, so the heap is pushed on directly (see EventHeap)."""
        counts = self.counts
        counts["routed"] += 1
        heap = self.heap
        now_ms = heap.now_ms
        self.monitor.observe(now_ms, envelope)
        message = envelope.message
        kind = type(message)
        if kind is Heartbeat or kind is Accept:
            ballot = message.ballot  # type: ignore[attr-defined]
            key = (ballot.round, ballot.replica)
            seen = self.seen_leader
            if seen is None or key > seen[0]:
                if seen is None or seen[1] != envelope.source:
                    self.leader_changes += 1
                self.seen_leader = (key, envelope.source)
        delays_ms, reason = self.model.fate(envelope.source, envelope.target)
        counts[reason] += 1
        for delay_ms in delays_ms:  # each >= 0: never before now, as push would clamp
            heappush(heap.queue, (now_ms + delay_ms, next(heap.seq), envelope))

    def arrive(self, envelope: Envelope, nodes: _Destinations) -> bool:
        """A message reached its target's door: True if the target should step it now."""
        status = nodes.status(envelope.target)
        if status == "down":
            self.counts["lost_down"] += 1
            return False
        if status == "paused":
            self.counts["held"] += 1
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
