"""Servers and clients on the virtual clock: thin shells around the hosts every driver runs.

A server is a Replica behind a NodeHost, a client a ClientDriver (paxlab.scenario); the
shell supplies a storage, the virtual clock and the network's `send`, and runs the host
loop's two halves as the heap's events come (see paxlab.host for why not `run_node`).

A node asks to be woken at its next deadline (timer, or a client's next planned op); a
wake for an older incarnation, or for a paused node, does nothing. A server's storage is
a SimDisk that outlives its process; a crash is a power loss, which keeps what was synced
and cuts what was only written. The correct protocol syncs in every persist, so it never
loses a record; the `no-fsync` mutant (`sync_before_send=False`) leaves the syncing to a
write-back 200 ms later, and a crash in between loses what its replies vouched for.
A server restarts from its disk's snapshot and the records after it; the crash_in_compaction
fault stops a server between two of a compaction's steps (SimDisk.compact).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import Any

from paxlab.config.types import WorkloadConfig
from paxlab.core import ClientParams, Replica, ReplicaParams, Role
from paxlab.core.chain import Block
from paxlab.core.messages import Boot, Envelope
from paxlab.core.recovery import recover_state
from paxlab.host import NodeHost
from paxlab.scenario.client_driver import ClientDriver, start_client
from paxlab.scenario.phases import ServerStatus, server_status
from paxlab.sim.clock import EventHeap, SimClock
from paxlab.sim.disk import CompactionCrash, LazySyncStorage, SimDisk
from paxlab.storage import Storage

__all__ = ["SimClient", "SimServer", "Wake", "WriteBack"]


@dataclass(frozen=True, slots=True)
class Wake:
    node: str
    incarnation: int


@dataclass(frozen=True, slots=True)
class WriteBack(Wake):
    """The OS syncing a server's disk on its own, whether the node runs, is paused or is
    down. A Wake, so the cluster routes it to the server like any wake."""


class _Waker:
    """Pushes a Wake only when the wanted deadline is earlier than the pending one.

    A wake pushed stays in the heap until its time, wanted or not: a client's wake for
    its request timer outlives the reply that cancelled the timer, one per operation,
    and they crowded the heap (a hundred entries, where every push and pop pays for the
    depth). So a wake later than all of this node's entries in the heap waits outside
    it, in `_later`: it takes its (time, seq) key when it is wanted, as ever, and goes
    into the heap when the last of those entries pops, before its own time comes. The
    heap pops the same entries in the same order as if each had gone in at once.
    """

    def __init__(self, heap: EventHeap, node: str) -> None:
        self.heap = heap
        self.node = node
        self.incarnation = 0
        # Every wake of one incarnation is the same value: push one shared object.
        self.event = Wake(node, 0)
        self.next_wake: float | None = None
        self._in_heap = 0  # this node's wakes in the heap, of any incarnation
        self._last_key: tuple[float, int] = (0.0, 0)  # the latest of them, if any
        # Wakes not in the heap yet, each keyed after `_last_key` (a heap itself).
        self._later: list[tuple[float, int, Wake]] = []

    def want(self, deadline: float | None) -> None:
        if deadline is None:
            return
        heap = self.heap
        deadline = max(deadline, heap.now_ms)
        if self.next_wake is None or deadline < self.next_wake:
            self.next_wake = deadline
            key = (deadline, next(heap.seq))
            if self._in_heap and key > self._last_key:
                heappush(self._later, (*key, self.event))
                return
            heappush(heap.queue, (*key, self.event))
            if not self._in_heap:
                self._last_key = key
            self._in_heap += 1

    def left_heap(self) -> None:
        """One of this node's wakes popped; if it was the last in the heap, the earliest
        waiting one goes in. Called on every pop of its wakes, whatever their fate."""
        self._in_heap -= 1
        if not self._in_heap and self._later:
            entry = heappop(self._later)
            heappush(self.heap.queue, entry)
            self._last_key = entry[:2]
            self._in_heap = 1

    def woke(self, event: Wake) -> bool:
        """True if this wake is for the running incarnation and may find work due.

        A wake earlier than the earliest one wanted is left over from a deadline that
        was cancelled or moved (a client's request timer, once the reply came): every
        deadline is at or after `next_wake`, so nothing is due and it is skipped."""
        if event.incarnation != self.incarnation:
            return False
        next_wake = self.next_wake
        if next_wake is not None:
            if self.heap.now_ms < next_wake:
                return False
            self.next_wake = None
        return True

    def new_incarnation(self) -> None:
        self.incarnation += 1
        self.event = Wake(self.node, self.incarnation)
        self.next_wake = None


class SimServer:
    """One server's shell on the virtual clock: a Replica behind a NodeHost per
    incarnation, its SimDisk (which outlives them) and its wakes."""

    def __init__(self, replica_id: int, params: ReplicaParams, seed: int, heap: EventHeap,
                 send: Callable[[Envelope], None], replica_cls: type[Replica] = Replica,
                 sync_before_send: bool = True,
                 on_compaction_crash: Callable[[SimServer, int], None] | None = None) -> None:
        """`on_compaction_crash(server, step)`: the server crashed inside a compaction
        (the crash_in_compaction fault); the cluster takes it down and restarts it."""
        self.id = replica_id
        self.on_compaction_crash = on_compaction_crash
        self.params = params
        self.seed = seed
        self.heap = heap
        self.send = send
        self.replica_cls = replica_cls  # Replica, or a mutant's subclass
        self.disk = SimDisk()  # survives crashes; a crash cuts only what was not synced
        self._disk_rng = random.Random(f"{seed}:disk:{replica_id}")
        self.lazy: LazySyncStorage | None = None
        self.storage: Storage = self.disk  # persist = write + sync
        if not sync_before_send:
            self.lazy = LazySyncStorage(self.disk, lambda: self.heap.now_ms,
                                        self._schedule_write_back)
            self.storage = self.lazy
        self.waker = _Waker(heap, f"s{replica_id}")
        self.host: NodeHost | None = None
        self.paused = False
        self.starts = 0

    @property
    def replica(self) -> Replica:
        assert self.host is not None, f"s{self.id} is down"
        return self.host.node  # type: ignore[return-value]

    @property
    def up(self) -> bool:
        return self.host is not None

    def start(self) -> None:
        """Start an incarnation: recover what the storage holds (its snapshot and the
        records after it), then Boot."""
        records = self.disk.records
        snapshot = self.disk.snapshot
        recovered = recover_state(records, self.params.difficulty, snapshot=snapshot) \
            if records or snapshot is not None else None
        rng = random.Random(f"{self.seed}:server:{self.id}:{self.starts}")
        self.starts += 1
        self.waker.new_incarnation()
        replica = self.replica_cls(self.id, self.params, rng, recovered=recovered)
        self.host = host = NodeHost(replica, self.send, storage=self.storage)
        try:
            host.local(self.heap.now_int, Boot())
        except CompactionCrash as crash:
            self._crashed_in_compaction(crash)
            return
        self.waker.want(host.timers.next_deadline_ms())

    def full_chain(self) -> list[Block]:
        """The chain this server can show: its archive's blocks below the held ones."""
        learner = self.replica.learner
        return self.disk.full_chain(learner.chain, learner.base, learner.base_tip)

    def _crashed_in_compaction(self, crash: CompactionCrash) -> None:
        """The host stopped inside a compaction, before sending anything of the step."""
        if self.on_compaction_crash is None:
            raise crash
        self.on_compaction_crash(self, crash.step)

    def crash(self) -> None:
        """Power loss: the disk keeps what was synced and a seeded prefix of the rest."""
        self.disk.crash(self._disk_rng)
        self.host = None
        self.paused = False
        self.waker.new_incarnation()

    def deliver(self, envelope: Envelope) -> None:
        """Step a message; the cluster calls this only while the server runs. The most
        frequent event of all, so the waker is asked only when the next deadline is
        earlier than the pending wake: otherwise `want` would push nothing anyway."""
        host = self.host
        assert host is not None
        try:
            host.deliver(int(self.heap.now_ms), envelope)
        except CompactionCrash as crash:
            self._crashed_in_compaction(crash)
            return
        deadline = host.timers.next_deadline_ms()
        if deadline is not None:
            next_wake = self.waker.next_wake
            if next_wake is None or deadline < next_wake:
                self.waker.want(deadline)

    def _schedule_write_back(self, at_ms: float) -> None:
        self.heap.push(at_ms, WriteBack(f"s{self.id}", 0))

    def wake(self, event: Wake) -> None:
        if isinstance(event, WriteBack):
            if self.lazy is not None:
                self.lazy.write_back(self.heap.now_ms)
            return
        self.waker.left_heap()
        if self.host is None or self.paused or not self.waker.woke(event):
            return
        try:
            self.host.wake(self.heap.now_ms)
        except CompactionCrash as crash:
            self._crashed_in_compaction(crash)
            return
        self.waker.want(self.host.next_deadline_ms())

    def resume(self) -> None:
        self.paused = False
        self.waker.next_wake = None
        self.waker.want(self.heap.now_ms)  # overdue timers fire at once, as after SIGCONT

    def status(self) -> ServerStatus:
        """What a quiesce poll asks, as the lab's status command answers it."""
        return server_status(self.replica)

    def leader_ballot(self) -> Any:
        replica = self.replica
        if replica.role is Role.LEADER and replica.leader is not None:
            return replica.leader.ballot
        return None


class SimClient:
    """One client's shell on the virtual clock: a `ClientDriver` per incarnation (the
    same one the lab's client process runs), woken by the heap instead of a pipe."""

    def __init__(self, client_id: int, params: ClientParams, workload: WorkloadConfig,
                 seed: int, heap: EventHeap, send: Callable[[Envelope], None],
                 history: list[dict]) -> None:
        self.id = client_id
        self.params = params
        self.workload_config = workload
        self.seed = seed
        self.heap = heap
        self.clock = SimClock(heap)
        self.send = send
        self.history = history  # shared by all clients, in the order events happen
        self.waker = _Waker(heap, f"c{client_id}")
        self.starts = 0
        self.host: ClientDriver | None = None

    @property
    def up(self) -> bool:
        return self.host is not None

    @property
    def finished(self) -> bool:
        """This incarnation's workload has no more ops (False while down)."""
        host = self.host
        return host is not None and host.finished

    def start(self) -> None:
        """Start an incarnation; a restart carries on from this client's own history."""
        past = [e for e in self.history if e["process"] == self.id]
        incarnation = self.starts
        self.starts += 1
        self.waker.new_incarnation()
        self.host = host = start_client(self.id, self.params, self.workload_config, self.seed,
                                        incarnation, past, self.send, self.clock,
                                        self.history.append)
        host.start(self.heap.now_ms)
        self.waker.want(host.next_deadline_ms())

    def crash(self) -> None:
        """SIGKILL: a pending op completes as info now (as the lab's launcher writes it
        for the client it killed), so the restarted client never has two outstanding."""
        if self.host is not None:
            self.host.give_up(self.heap.now_ms)
        self.host = None
        self.waker.new_incarnation()

    def deliver(self, envelope: Envelope) -> None:
        host = self.host
        assert host is not None
        host.deliver(self.heap.now_ms, envelope)
        self.waker.want(host.next_deadline_ms())

    def wake(self, event: Wake) -> None:
        waker = self.waker
        waker.left_heap()
        host = self.host
        if host is None or not waker.woke(event):
            return
        host.wake(self.heap.now_ms)
        waker.want(host.next_deadline_ms())

    def give_up(self) -> None:
        if self.host is not None:
            self.host.give_up(self.heap.now_ms)
