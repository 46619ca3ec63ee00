"""The simulated network: every message's fate comes from `paxlab.network.model.NetworkModel`,
as in the lab's router, and deliveries become events on the virtual clock: the event is
the Envelope itself (no wrapper to allocate per message), and only envelopes are.

Like the router, and with the same `paxlab.network.watch` pieces, it holds messages for a
paused node until it resumes (with the router's cap), and watches who leads; a message
for a crashed node is lost when it arrives (a restarted node gets what arrives after it).
Every message sent passes the invariant monitor first, whatever its fate, as in the router.

Given a `MessageRecorder` (only when a results folder is written), it records every
message as the router does: `send` becomes `_send_recorded`, which draws exactly what
`send` draws and pushes an `Arrival` (the envelope with its message id) per copy at the
same (time, seq) where `send` would push the envelope, so events run in the same order
and the trace digest is unchanged; the cluster hands each `Arrival` to `arrive_recorded`.
A duplicate is one Envelope pushed twice, so the id must travel with each copy.
"""

from __future__ import annotations

import random
from heapq import heappush
from typing import Protocol

from paxlab.config.types import NetworkConfig
from paxlab.core.messages import Accept, Envelope, Heartbeat
from paxlab.network.model import NetworkModel
from paxlab.network.monitor import InvariantMonitor
from paxlab.network.recorder import MessageRecorder
from paxlab.network.watch import HeldMessages, LeaderWatch
from paxlab.sim.clock import EventHeap

__all__ = ["Arrival", "SimNetwork"]


class Arrival:
    """One copy of a recorded message on its way: the event a recording network pushes
    instead of the bare envelope. `outcome` is what to record when it is handed over:
    "delivered", or "released" for a copy held while its target was paused."""

    __slots__ = ("envelope", "message_id", "outcome")

    def __init__(self, envelope: Envelope, message_id: int, outcome: str = "delivered"
                 ) -> None:
        self.envelope = envelope
        self.message_id = message_id
        self.outcome = outcome


def _t_us(now_ms: float) -> int:
    """Virtual ms as messages.jsonl's whole microseconds."""
    return round(now_ms * 1000)


class _Destinations(Protocol):
    def status(self, node: str) -> str:
        """"up", "paused" or "down"."""


class SimNetwork:
    def __init__(self, rules: NetworkConfig, seed: int, heap: EventHeap, servers: int,
                 recorder: MessageRecorder | None = None) -> None:
        self.model = NetworkModel(rules=rules, rng=random.Random(f"{seed}:network"))
        self.heap = heap
        self.held: HeldMessages[Envelope] = HeldMessages()
        # Messages by fate, then deliveries lost at a down node or held for a paused one.
        self._counts = {"deliver": 0, "drop": 0, "duplicate": 0, "cut": 0,
                        "lost_down": 0, "held": 0}
        self.leader_watch = LeaderWatch()  # who leads, as the router sees it
        self._last_ballot: object = None  # the ballot `send` looked at last
        self.monitor = InvariantMonitor(servers)
        self.recorder = recorder
        if recorder is not None:  # nodes bind `send` after this: they get the recording one
            self.send = self._send_recorded  # type: ignore[method-assign]

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

    def _send_recorded(self, envelope: Envelope) -> None:
        """`send`, recording the message and pushing an Arrival per copy. Keep the draws,
        counts and pushes exactly as in `send`: the recorded run must be the same run."""
        heap = self.heap
        now_ms = heap.now_ms
        self.monitor.observe(now_ms, envelope)
        message = envelope.message
        kind = type(message)
        if kind is Heartbeat or kind is Accept:
            ballot = message.ballot  # type: ignore[attr-defined]
            if ballot is not self._last_ballot:
                self._last_ballot = ballot
                self.leader_watch.see_ballot(ballot, envelope.source)
        model = self.model
        delay_ms = model.plain_delay_ms()
        if delay_ms is not None:
            delays_ms: tuple[float, ...] = (delay_ms,)
            reason = "deliver"
        else:
            delays_ms, reason = model.fate(envelope.source, envelope.target)
        self._counts[reason] += 1
        message_id = self.recorder.send(_t_us(now_ms), envelope, reason)  # type: ignore[union-attr]
        for delay_ms in delays_ms:
            heappush(heap.queue, (now_ms + delay_ms, next(heap.seq),
                                  Arrival(envelope, message_id)))

    def arrive_recorded(self, arrival: Arrival, nodes: _Destinations) -> bool:
        """`arrive` for a recorded copy, writing what became of it: True if the target
        should step it now. Counts as `arrive` (and the fast path) would."""
        recorder = self.recorder
        assert recorder is not None
        target = arrival.envelope.target
        status = nodes.status(target)
        t_us = _t_us(self.heap.now_ms)
        if status == "down":
            self._counts["lost_down"] += 1
            recorder.arrive(arrival.message_id, t_us, "down")
            return False
        if status == "paused":
            self._counts["held"] += 1
            pushed_out = self.held.pushed_out_next(target)
            if pushed_out is not None:
                recorder.arrive(pushed_out.message_id, t_us, "lost")  # type: ignore[attr-defined]
            self.held.hold(target, arrival)  # type: ignore[arg-type]
            recorder.arrive(arrival.message_id, t_us, "held")
            return False
        recorder.arrive(arrival.message_id, t_us, arrival.outcome)
        return True

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
        recording = self.recorder is not None
        for item in self.held.release(node):
            if recording:  # an Arrival: handed over on resume
                item = Arrival(item.envelope, item.message_id, "released")  # type: ignore[attr-defined]
            self.heap.push(self.heap.now_ms, item)

    def down(self, node: str) -> None:
        lost = self.held.forget(node)
        if self.recorder is not None:
            t_us = _t_us(self.heap.now_ms)
            for arrival in lost:
                self.recorder.arrive(arrival.message_id, t_us, "lost")  # type: ignore[attr-defined]
