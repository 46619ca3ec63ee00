"""The simulated network: every message's fate comes from `paxlab.network.model.NetworkModel`,
as in the lab's router, and deliveries become events on the virtual clock: the event is
the Envelope itself (no wrapper to allocate per message), and only envelopes are.

Like the router, and with the same `paxlab.network.watch` pieces, it holds messages for a
paused node until it resumes (with the router's cap), and watches who leads; a message
for a crashed node is lost when it arrives (a restarted node gets what arrives after it).
Every message sent passes the invariant monitor first, whatever its fate, as in the router.
"""

from __future__ import annotations

import random
from heapq import heappush
from typing import Protocol

from paxlab.config.types import NetworkConfig
from paxlab.core.messages import Accept, Envelope, Heartbeat
from paxlab.network.model import NetworkModel
from paxlab.network.monitor import InvariantMonitor
from paxlab.network.watch import HeldMessages, LeaderWatch
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
        self.held: HeldMessages[Envelope] = HeldMessages()
        # Messages by fate, then deliveries lost at a down node or held for a paused one.
        self._counts = {"deliver": 0, "drop": 0, "duplicate": 0, "cut": 0,
                        "lost_down": 0, "held": 0}
        self.leader_watch = LeaderWatch()  # who leads, as the router sees it
        self._last_ballot: object = None  # the ballot `send` looked at last
        self.monitor = InvariantMonitor(servers)

    @property
    def counts(self) -> dict[str, int]:
        """Messages routed and their fates, as the lab's router counts them. Every message
        routed gets exactly one fate, so `routed` is their sum, not one more count per
        message."""
        counts = self._counts
        routed = counts["deliver"] + counts["drop"] + counts["duplicate"] + counts["cut"]
        if self.held.dropped:  # held past the cap: a drop, as the router counts it
            counts = {**counts, "drop": counts["drop"] + self.held.dropped}
        return {"routed": routed, **counts}

    @property
    def leader_changes(self) -> int:
        return self.leader_watch.changes

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
                self._last_ballot = ballot
                self.leader_watch.see_ballot(ballot, envelope.source)
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

    def arrive(self, envelope: Envelope, nodes: _Destinations) -> bool:
        """A message reached its target's door: True if the target should step it now."""
        status = nodes.status(envelope.target)
        if status == "down":
            self._counts["lost_down"] += 1
            return False
        if status == "paused":
            self._counts["held"] += 1
            self.held.hold(envelope.target, envelope)
            return False
        return True

    def pause(self, node: str) -> None:
        self.held.pause(node)

    def resume(self, node: str) -> None:
        """Release what was held for `node`, in arrival order, now."""
        for envelope in self.held.release(node):
            self.heap.push(self.heap.now_ms, envelope)

    def down(self, node: str) -> None:
        self.held.forget(node)
