"""Helpers for scripted unit tests: build envelopes, blocks and replicas, route by hand.

A scripted test steps replicas one envelope at a time and decides itself which sent
envelope is delivered, dropped or held back, then asserts a replica's whole state with
`state()`. Nothing here is clever: a test should read like a transcript.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paxlab.core.chain import GENESIS_PREV, Block, Txn, seal_block
from paxlab.core.ids import NodeId, client_node, server_node
from paxlab.core.messages import (
    Boot,
    ClientRequest,
    ElectionTimeout,
    Envelope,
    HeartbeatTimeout,
    Message,
)
from paxlab.core.output import Output
from paxlab.core.replica import Replica, ReplicaParams

__all__ = [
    "DIFFICULTY",
    "Cluster",
    "between",
    "blocks",
    "booted",
    "env",
    "make_params",
    "put",
    "request",
    "sent",
    "state",
    "txn",
]

# Low proof of work keeps sealing cheap; tests that need the default say so.
DIFFICULTY = 4
S = server_node
C = client_node


def make_params(n: int = 3, **overrides: Any) -> ReplicaParams:
    values: dict[str, Any] = {"replica_count": n, "difficulty": DIFFICULTY}
    values.update(overrides)
    return ReplicaParams(**values)


def env(source: NodeId | str, target: NodeId | str, message: Message) -> Envelope:
    return Envelope(source=NodeId(source), target=NodeId(target), message=message)


def booted(replica_id: int, n: int = 3, seed: int = 0, **overrides: Any) -> Replica:
    """A replica stepped Boot at t=0, as every driver does first."""
    replica = Replica(replica_id, make_params(n, **overrides), random.Random(seed))
    replica.step(0, env(S(replica_id), S(replica_id), Boot()))
    return replica


def txn(client: int, seq: int, key: str = "'k'", value: str | None = "1") -> Txn:
    op = "get" if value is None else "put"
    return Txn(client=client, seq=seq, op=op, key=key, value=value)


def put(client: int, seq: int, key: str = "'k'", value: str = "1") -> ClientRequest:
    return ClientRequest(client=client, seq=seq, op="put", key=key, value=value)


def request(client: int, seq: int, key: str = "'k'", value: str | None = None,
            nominate: bool = False) -> ClientRequest:
    op = "get" if value is None else "put"
    return ClientRequest(client=client, seq=seq, op=op, key=key, value=value, nominate=nominate)


def blocks(
    *txn_lists: tuple[Txn, ...],
    prev: str = GENESIS_PREV,
    start: int = 0,
    difficulty: int = DIFFICULTY,
) -> list[Block]:
    """A linked run of sealed blocks from height `start`, one per txn tuple."""
    out = []
    for offset, txns in enumerate(txn_lists):
        block = seal_block(start + offset, prev, tuple(txns), difficulty)
        out.append(block)
        prev = block.hash
    return out


def sent(
    output: Output | list[Envelope],
    kind: type[Message] | None = None,
    to: str | None = None,
) -> list[Envelope]:
    """Envelopes in `output` (or a list of them), filtered by message type and target."""
    envelopes = list(output.to_send) if isinstance(output, Output) else output
    return [
        e for e in envelopes
        if (kind is None or isinstance(e.message, kind)) and (to is None or e.target == to)
    ]


def state(replica: Replica) -> dict[str, Any]:
    """One replica's whole protocol state as plain values, for one `==` per step."""
    leader = replica.leader
    candidate = replica.candidate
    return {
        "role": replica.role.value,
        "leader_id": replica.leader_id,
        "promised": replica.acceptor.promised,
        "commit_index": replica.commit_index,
        "chain": [b.hash for b in replica.learner.chain],
        "accepted": {
            s: (e.ballot, e.block.hash) for s, e in sorted(replica.acceptor.accepted.items())
        },
        "parked": sorted(replica.acceptor.parked),
        "candidate": None if candidate is None else (
            candidate.ballot, candidate.from_slot, sorted(candidate.promises)
        ),
        "leader": None if leader is None else {
            "ballot": leader.ballot,
            "next_slot": leader.next_slot,
            "proposals": {
                s: (p.block.hash, sorted(p.acks), p.chosen)
                for s, p in sorted(leader.proposals.items())
            },
            "in_flight": sorted(leader.in_flight),
        },
        "queue": [(r.client, r.seq) for r in replica.queue.items],
        "kv": dict(replica.learner.kv.data),
    }


@dataclass
class Cluster:
    """Replicas wired by hand: every server-bound envelope waits in `pending` until a
    test delivers or drops it; client-bound ones collect in `to_clients`."""

    n: int = 3
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.now_ms = 0
        self.pending: list[Envelope] = []
        self.to_clients: list[Envelope] = []
        self.outputs: list[tuple[str, Output]] = []
        self.replicas = [booted(i, self.n, seed=i, **self.overrides) for i in range(self.n)]

    def mark(self) -> int:
        """A position in the step log, for `transcript`."""
        return len(self.outputs)

    def transcript(self, since: int = 0, traces: bool = False) -> list[str]:
        """Every envelope sent since `mark()` (and optionally trace lines), in step order."""
        lines = []
        for node, out in self.outputs[since:]:
            lines.extend(e.describe() for e in out.to_send)
            if traces:
                lines.extend(f"# {node} {line}" for line in out.trace)
        return lines

    def __getitem__(self, index: int) -> Replica:
        return self.replicas[index]

    def step(self, envelope: Envelope) -> Output:
        replica = self.replicas[int(envelope.target[1:])]
        out = replica.step(self.now_ms, envelope)
        self.outputs.append((replica.node, out))
        for e in out.to_send:
            (self.pending if e.target.startswith("s") else self.to_clients).append(e)
        return out

    def local(self, i: int, message: Message) -> Output:
        return self.step(env(S(i), S(i), message))

    def timeout(self, i: int) -> Output:
        return self.local(i, ElectionTimeout())

    def tick(self, i: int) -> Output:
        return self.local(i, HeartbeatTimeout())

    def client(self, i: int, message: ClientRequest) -> Output:
        return self.step(env(C(message.client), S(i), message))

    def take(self, match: Callable[[Envelope], bool] = lambda e: True) -> list[Envelope]:
        taken = [e for e in self.pending if match(e)]
        self.pending = [e for e in self.pending if not match(e)]
        return taken

    def deliver(self, match: Callable[[Envelope], bool] = lambda e: True) -> list[Output]:
        """Deliver the matching pending envelopes (one pass, in send order)."""
        return [self.step(e) for e in self.take(match)]

    def drop(self, match: Callable[[Envelope], bool] = lambda e: True) -> list[Envelope]:
        return self.take(match)

    def flush(self, allow: Callable[[Envelope], bool] = lambda e: True, rounds: int = 100) -> None:
        """Deliver allowed envelopes (and what they cause) until none is pending; the
        others are dropped, as on a cut link."""
        for _ in range(rounds):
            self.drop(lambda e: not allow(e))
            if not self.pending:
                return
            self.deliver()
        raise AssertionError("cluster did not go quiet")

    def elect(self, i: int, reachable: set[int] | None = None) -> None:
        """Time out replica i and run phase 1 among `reachable` (default: everyone)."""
        group = set(range(self.n)) if reachable is None else reachable | {i}
        me = self.replicas[i]
        quiet_since = me.last_leader_contact_ms + me.params.election_timeout_ms_max
        self.now_ms = max(self.now_ms, quiet_since)
        self.timeout(i)
        self.flush(lambda e: int(e.source[1:]) in group and int(e.target[1:]) in group)
        assert self.replicas[i].leader is not None, f"s{i} did not win"


def between(*nodes: int) -> Callable[[Envelope], bool]:
    """A delivery filter: only envelopes among these servers."""
    names = {S(i) for i in nodes}
    return lambda e: e.source in names and e.target in names
