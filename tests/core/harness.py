"""A tiny deterministic in-memory network for driving the pure core in tests.

Messages travel with a fixed delay on virtual time (plus optional seeded jitter, which
reorders them); tests can cut links, drop or duplicate messages, and step until a
condition holds (with a deadline, never by sleeping).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from paxlab.core import ClientParams, ClientSession, Replica, ReplicaParams, Role
from paxlab.core.codec import decode_envelope, encode_envelope
from paxlab.core.ids import client_node, server_node
from paxlab.core.messages import Boot, Envelope, Submit
from paxlab.core.output import Completion
from paxlab.host import NodeHost


@dataclass
class Net:
    servers: int = 3
    clients: int = 1
    seed: int = 1
    delay_ms: int = 1
    params: dict = field(default_factory=dict)
    client_params: dict = field(default_factory=dict)
    jitter_ms: int = 0  # extra delay drawn from 0..jitter_ms per message: reorders them

    def __post_init__(self) -> None:
        self.now_ms = 0
        self._seq = itertools.count()
        self.queue: list[tuple[int, int, bytes]] = []
        self.cut: set[frozenset[str]] = set()
        self.down: set[str] = set()
        self.drop: Callable[[Envelope], bool] = lambda env: False
        self.duplicate: Callable[[Envelope], bool] = lambda env: False
        self.net_rng = random.Random(f"{self.seed}:net")
        self.sent: list[Envelope] = []
        self.completions: list[Completion] = []
        self.traces: list[str] = []
        rp = ReplicaParams(replica_count=self.servers, **self.params)
        self.replicas = [
            Replica(i, rp, random.Random(f"{self.seed}:s{i}")) for i in range(self.servers)
        ]
        cp = ClientParams(server_count=self.servers, **self.client_params)
        self.sessions = [
            ClientSession(i, cp, random.Random(f"{self.seed}:c{i}")) for i in range(self.clients)
        ]
        self.hosts: dict[str, NodeHost] = {}
        for node in [*self.replicas, *self.sessions]:
            self.hosts[node.node] = NodeHost(node, self._send, log=self._logger(node.node))
        for replica in self.replicas:
            self.hosts[replica.node].local(0, Boot())

    def _logger(self, name: str) -> Callable[[str], None]:
        return lambda line: self.traces.append(f"{name}: {line}")

    def _send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)
        # Every message crosses the real codec, so tests cover the wire format too.
        data = encode_envelope(envelope)
        for _ in range(2 if self.duplicate(envelope) else 1):
            delay = self.delay_ms
            if self.jitter_ms > 0:
                delay += self.net_rng.randint(0, self.jitter_ms)
            heapq.heappush(self.queue, (self.now_ms + delay, next(self._seq), data))

    def blocked(self, env: Envelope) -> bool:
        return (
            env.source in self.down
            or env.target in self.down
            or frozenset((env.source, env.target)) in self.cut
        )

    def step(self) -> bool:
        """Advance to the next event (message or timer); False when nothing is left."""
        timer_due = [
            (d, name)
            for name, h in self.hosts.items()
            if name not in self.down and (d := h.timers.next_deadline_ms()) is not None
        ]
        next_msg = self.queue[0][0] if self.queue else None
        next_timer = min(timer_due)[0] if timer_due else None
        candidates = [t for t in (next_msg, next_timer) if t is not None]
        if not candidates:
            return False
        self.now_ms = max(self.now_ms, min(candidates))
        if next_msg is not None and next_msg <= self.now_ms:
            _, _, data = heapq.heappop(self.queue)
            env = decode_envelope(data)
            if not self.blocked(env) and not self.drop(env):
                self._collect(self.hosts[env.target].deliver(self.now_ms, env))
            return True
        for name, host in sorted(self.hosts.items()):
            if name not in self.down:
                for out in host.fire_due_timers(self.now_ms):
                    self._collect(out)
        return True

    def _collect(self, out) -> None:
        self.completions.extend(out.completed)

    def run_until(self, predicate: Callable[[], bool], deadline_ms: int = 20_000) -> None:
        limit = self.now_ms + deadline_ms
        while not predicate():
            if self.now_ms > limit or not self.step():
                raise AssertionError(f"condition not reached by t={self.now_ms} ms")

    def run_for(self, duration_ms: int) -> None:
        end = self.now_ms + duration_ms
        while self.now_ms < end and self.step():
            pass

    # --- conveniences --------------------------------------------------------------------

    def leaders(self) -> list[int]:
        return [r.id for r in self.replicas if r.role is Role.LEADER and r.node not in self.down]

    def submit(self, client: int, op: str, key: str, value: str | None = None) -> None:
        self._collect(
            self.hosts[client_node(client)].local(self.now_ms, Submit(op=op, key=key, value=value))
        )

    def isolate(self, replica: int) -> None:
        for other in range(self.servers):
            if other != replica:
                self.cut.add(frozenset((server_node(replica), server_node(other))))

    def heal(self) -> None:
        self.cut.clear()

    def chains(self) -> list[list[str]]:
        return [[b.hash for b in r.learner.chain] for r in self.replicas]
