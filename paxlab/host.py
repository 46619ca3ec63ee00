"""NodeHost: carries out one node's Outputs in contract order, for every driver.

Order matters and lives here only: persist (and sync) first, then send, then arm timers,
then log. A driver supplies the transport, the storage and the clock; the host supplies
the discipline, so the lab, the TCP cluster and the simulator cannot drift apart.
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

__all__ = ["Node", "NodeHost", "TimerTable"]


class Node(Protocol):
    """A pure state machine: a Replica or a ClientSession."""

    node: str

    def step(self, now_ms: int, envelope: Envelope) -> Output: ...


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

    def pop_due(self, now_ms: int) -> list[Message]:
        due: list[Message] = []
        while (deadline := self.next_deadline_ms()) is not None and deadline <= now_ms:
            _, _, key = heapq.heappop(self._heap)
            due.append(self._deadlines.pop(key)[2])
        return due


class NodeHost:
    """Steps a node and carries out each Output: persist, send, timers, log."""

    def __init__(
        self,
        node: Node,
        send: Callable[[Envelope], None],
        storage: Storage | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.node = node
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.timers = TimerTable()
        self._send = send
        self._log = log

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

    def carry_out(self, output: Output) -> None:
        if output.to_persist:
            self.storage.persist(output.to_persist)
        send = self._send
        for envelope in output.to_send:  # only now may Promise/Accepted leave
            send(envelope)
        if output.timers:
            self.timers.apply(output.timers)
        if self._log is not None:
            for line in output.trace:
                self._log(line)
