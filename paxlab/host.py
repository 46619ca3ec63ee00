"""NodeHost and run_node: one node's loop and its Output discipline, for every driver.

Order matters and lives here only: persist (and sync) first, then send, then arm timers,
then log. A driver supplies the transport, the storage and the clock; the host supplies
the discipline and `run_node` the loop, so the lab, the TCP cluster and the simulator
cannot drift apart. Timers come back into the node as local messages, through the same
`step` as everything else.

The simulator is a discrete-event program: its event heap is everyone's `receive`, so it
cannot block inside one node's loop. It runs the loop's two halves itself, one per
event (`NodeHost.deliver` for a message, `NodeHost.wake` for a due deadline), which is
what `run_node` does between two waits; tests/test_host.py holds the two equal.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from paxlab.core.messages import Envelope, Message
from paxlab.core.output import Output, TimerCommand
from paxlab.storage.memory import MemoryStorage, Storage

__all__ = ["Clock", "Node", "NodeHost", "TimerTable", "Transport", "run_node"]


class Node(Protocol):
    """A pure state machine: a Replica or a ClientSession."""

    node: str

    def step(self, now_ms: int, envelope: Envelope) -> Output: ...


class Clock(Protocol):
    """Time since the run started. The lab reads CLOCK_MONOTONIC; the simulator reads its
    virtual clock, whose times have fractions of a millisecond (network delays do)."""

    def now_ms(self) -> float: ...
    def now_ns(self) -> int: ...


class Transport(Protocol):
    """How a node's messages come and go: a pipe to the router, a socket, a script."""

    def receive(self, deadline_ms: float | None) -> Sequence[Envelope] | None:
        """Wait until something arrives or the deadline passes (None: no deadline), and
        return what arrived, possibly nothing. None: the node must stop now (the driver
        said so, or its peer went away). Never spins: it blocks on its inputs."""
        ...

    def send(self, envelope: Envelope) -> None: ...


@dataclass(slots=True)
class TimerTable:
    """Named timers; arming a name again replaces it. Due timers pop in deadline order."""

    _deadlines: dict[str, tuple[int, int, Message]] = field(default_factory=dict)
    _heap: list[tuple[int, int, str]] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=itertools.count)

    def apply(self, commands: Sequence[TimerCommand]) -> None:
        for command in commands:
            if command.at_ms is None or command.message is None:
                self._deadlines.pop(command.key, None)
                continue
            token = next(self._counter)
            self._deadlines[command.key] = (command.at_ms, token, command.message)
            heapq.heappush(self._heap, (command.at_ms, token, command.key))

    def next_deadline_ms(self) -> int | None:
        while self._heap:
            at_ms, token, key = self._heap[0]
            current = self._deadlines.get(key)
            if current is not None and current[1] == token:
                return at_ms
            heapq.heappop(self._heap)  # superseded or cancelled
        return None

    def pop_due(self, now_ms: float) -> list[Message]:
        due: list[Message] = []
        while (deadline := self.next_deadline_ms()) is not None and deadline <= now_ms:
            _, _, key = heapq.heappop(self._heap)
            due.append(self._deadlines.pop(key)[2])
        return due


class NodeHost:
    """Steps a node and carries out each Output: persist, send, timers, log.

    `on_output` sees every Output once carried out (the lab server logs its commits)."""

    def __init__(
        self,
        node: Node,
        send: Callable[[Envelope], None],
        storage: Storage | None = None,
        log: Callable[[str], None] | None = None,
        on_output: Callable[[Output], None] | None = None,
    ) -> None:
        self.node = node
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.timers = TimerTable()
        self._send = send
        self._log = log
        self._on_output = on_output

    def deliver(self, now_ms: int, envelope: Envelope) -> Output:
        output = self.node.step(now_ms, envelope)
        self.carry_out(output)
        return output

    def local(self, now_ms: int, message: Message) -> Output:
        """Step a message the node sends itself (a timer event, a workload submit)."""
        return self.deliver(
            now_ms, Envelope(source=self.node.node, target=self.node.node, message=message)  # type: ignore[arg-type]
        )

    def fire_due_timers(self, now_ms: int) -> list[Output]:
        return [self.local(now_ms, message) for message in self.timers.pop_due(now_ms)]

    def next_deadline_ms(self) -> float | None:
        """When this node next wants to run without a message: its earliest timer."""
        return self.timers.next_deadline_ms()

    def wake(self, now_ms: float) -> list[Output]:
        """The loop's second half: step whatever is due by `now_ms`, as local messages."""
        return self.fire_due_timers(int(now_ms))

    def carry_out(self, output: Output) -> None:
        if output.to_persist:
            self.storage.persist(output.to_persist)
        if output.compaction is not None:  # durable before anything leaves, like a vote
            self.storage.compact(output.compaction)
        send = self._send
        for envelope in output.to_send:  # only now may Promise/Accepted leave
            send(envelope)
        if output.timers:
            self.timers.apply(output.timers)
        if self._log is not None:
            for line in output.trace:
                self._log(line)
        if self._on_output is not None:
            self._on_output(output)


def run_node(host: NodeHost, transport: Transport, clock: Clock) -> None:
    """THE loop: wait for a message or the next deadline, step what came, then what is due.

    Every driver that can block runs exactly this (the lab's server and client processes,
    the TCP cluster); see the module docstring for the simulator."""
    while True:
        arrived = transport.receive(host.next_deadline_ms())
        if arrived is None:
            return
        for envelope in arrived:
            host.deliver(int(clock.now_ms()), envelope)
        host.wake(clock.now_ms())
