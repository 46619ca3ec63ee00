"""A Hypothesis state machine drives three replicas and two clients through deliveries,
drops, duplicates, partitions, crashes, restarts and timeouts, and checks the safety
rules after every step (STYLE.md section 4.3).

"Only a value that has been proposed may be chosen, only a single value is chosen, and a
process never learns that a value has been chosen unless it actually has been" (Lamport,
Paxos Made Simple): here, at most one block per slot, chains that link and are prefixes
of one another, one leader per ballot, and KV stores equal to a plain replay of puts.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from paxlab.core import Replica, recover_state
from paxlab.core.chain import GENESIS_PREV
from paxlab.core.ids import Ballot, NodeId, client_node, server_node
from paxlab.core.messages import Boot, ClientRequest, ElectionTimeout, Envelope, Message
from paxlab.core.output import Output, Record
from paxlab.sim.mutants import MUTANTS
from tests.core.scripted import make_params

SERVERS = 3
CLIENTS = 2
KEYS = ("a", "b")
IN_FLIGHT_MAX = 60  # a cap, so a run of submits cannot grow the network without bound


class ClusterMachine(RuleBasedStateMachine):
    """Three replicas stepped by hand over a lossy, reordering, duplicating network."""

    replica_cls: type[Replica] = Replica

    def __init__(self) -> None:
        super().__init__()
        self.params = make_params(SERVERS)
        self.now_ms = 0
        self.replicas: list[Replica | None] = []
        self.records: list[list[Record]] = [[] for _ in range(SERVERS)]
        self.timers: list[dict[str, tuple[int, Message]]] = [{} for _ in range(SERVERS)]
        self.in_flight: list[Envelope] = []
        self.cut: set[int] = set()  # servers cut off from the others
        self.seq = [0] * CLIENTS
        self.last_request: list[ClientRequest | None] = [None] * CLIENTS
        self.chosen: dict[int, str] = {}  # slot -> hash of every block ever committed
        self.leaders: dict[Ballot, set[int]] = {}
        self.restarts = 0
        for i in range(SERVERS):
            self.replicas.append(self._start(i, None))

    # --- plumbing -----------------------------------------------------------------------

    def _start(self, i: int, records: list[Record] | None) -> Replica:
        recovered = None if records is None else recover_state(records, self.params.difficulty)
        rng = random.Random(f"{i}:{self.restarts}")
        replica = self.replica_cls(i, self.params, rng, recovered=recovered)
        self.timers[i] = {}
        self._apply(i, replica.step(self.now_ms, self._env(i, i, Boot())))
        return replica

    @staticmethod
    def _env(source: int, target: int, message: Message) -> Envelope:
        return Envelope(source=server_node(source), target=server_node(target), message=message)

    def _apply(self, i: int, out: Output) -> None:
        self.records[i].extend(out.to_persist)  # persisted before anything is sent
        for timer in out.timers:
            if timer.at_ms is None:
                self.timers[i].pop(timer.key, None)
            else:
                assert timer.message is not None
                self.timers[i][timer.key] = (timer.at_ms, timer.message)
        for envelope in out.to_send:
            if envelope.target.startswith("s") and len(self.in_flight) < IN_FLIGHT_MAX:
                self.in_flight.append(envelope)
        for block in out.committed:
            held = self.chosen.setdefault(block.height, block.hash)
            assert held == block.hash, f"slot {block.height} chosen twice: {held} {block.hash}"

    def _step(self, i: int, envelope: Envelope) -> None:
        replica = self.replicas[i]
        if replica is not None:
            self._apply(i, replica.step(self.now_ms, envelope))

    def _blocked(self, envelope: Envelope) -> bool:
        ends = {int(envelope.source[1:]), int(envelope.target[1:])}
        return len(ends) == 2 and bool(ends & self.cut)

    def _flush(self) -> None:
        for _ in range(50):
            if not self.in_flight:
                return
            self.deliver_all()

    # --- rules --------------------------------------------------------------------------

    @initialize()
    def elect_a_first_leader(self) -> None:
        """Most runs would spend their steps electing one; start where clients can write."""
        self.now_ms = 1000
        self._step(0, self._env(0, 0, ElectionTimeout()))
        self._flush()
        assert self._leader() == 0

    def _leader(self) -> int | None:
        """The live replica leading the highest ballot, as a client following redirects
        would find it."""
        leading = [r for r in self.replicas if r is not None and r.leader is not None]
        return max(leading, key=lambda r: r.leader.ballot).id if leading else None  # type: ignore[union-attr]

    @rule(client=st.integers(0, CLIENTS - 1), key=st.sampled_from(KEYS))
    def submit(self, client: int, key: str) -> None:
        """A new put, sent where a client following redirects ends up: the leader."""
        self._request(client, self._leader() or 0, key, nominate=False)

    @rule(client=st.integers(0, CLIENTS - 1), server=st.integers(0, SERVERS - 1),
          key=st.sampled_from(KEYS), nominate=st.booleans())
    def submit_to(self, client: int, server: int, key: str, nominate: bool) -> None:
        """A new put sent to any server, perhaps nominating it."""
        self._request(client, server, key, nominate)

    def _request(self, client: int, server: int, key: str, nominate: bool) -> None:
        self.seq[client] += 1
        request = ClientRequest(client=client, seq=self.seq[client], op="put", key=key,
                                value=f"{client}.{self.seq[client]}", nominate=nominate)
        self.last_request[client] = request
        self._step(server, Envelope(source=client_node(client), target=NodeId(f"s{server}"),
                                    message=request))

    @precondition(lambda self: any(r is not None for r in self.last_request))
    @rule(client=st.integers(0, CLIENTS - 1), server=st.integers(0, SERVERS - 1))
    def retry(self, client: int, server: int) -> None:
        request = self.last_request[client]
        if request is not None:
            self._step(server, Envelope(source=client_node(client),
                                        target=NodeId(f"s{server}"), message=request))

    @precondition(lambda self: self.in_flight)
    @rule(pick=st.integers(0, 10_000))
    def deliver_one(self, pick: int) -> None:
        envelope = self.in_flight.pop(pick % len(self.in_flight))
        if not self._blocked(envelope):
            self._step(int(envelope.target[1:]), envelope)

    @precondition(lambda self: self.in_flight)
    @rule()
    def deliver_all(self) -> None:
        """Deliver what is in flight now, in send order (not what that causes)."""
        batch, self.in_flight = self.in_flight, []
        for envelope in batch:
            if not self._blocked(envelope):
                self._step(int(envelope.target[1:]), envelope)

    @precondition(lambda self: self.in_flight)
    @rule(pick=st.integers(0, 10_000))
    def drop_one(self, pick: int) -> None:
        self.in_flight.pop(pick % len(self.in_flight))

    @precondition(lambda self: self.in_flight and len(self.in_flight) < IN_FLIGHT_MAX)
    @rule(pick=st.integers(0, 10_000))
    def duplicate_one(self, pick: int) -> None:
        self.in_flight.append(self.in_flight[pick % len(self.in_flight)])

    @precondition(lambda self: not self.cut)
    @rule(server=st.integers(0, SERVERS - 1))
    def partition(self, server: int) -> None:
        self.cut.add(server)

    @precondition(lambda self: self.cut)
    @rule()
    def heal(self) -> None:
        self.cut.clear()

    @precondition(lambda self: sum(r is None for r in self.replicas) == 0)
    @rule(server=st.integers(0, SERVERS - 1))
    def crash(self, server: int) -> None:
        self.replicas[server] = None
        self.timers[server] = {}

    @precondition(lambda self: any(r is not None and r.leader is None for r in self.replicas))
    @rule(pick=st.integers(0, SERVERS - 1))
    def time_out(self, pick: int) -> None:
        """A live non-leader's election timer fires now: a candidate runs again, and a
        follower runs unless it heard its leader within its timeout."""
        followers = [r.id for r in self.replicas if r is not None and r.leader is None]
        i = followers[pick % len(followers)]
        self._step(i, self._env(i, i, ElectionTimeout()))

    @precondition(lambda self: self._leader() is not None and None not in self.replicas)
    @rule()
    def crash_leader(self) -> None:
        self.crash(self._leader())  # type: ignore[arg-type]

    @precondition(lambda self: any(r is None for r in self.replicas))
    @rule()
    def restart(self) -> None:
        server = self.replicas.index(None)
        self.restarts += 1
        self.replicas[server] = self._start(server, list(self.records[server]))

    @rule()
    def fire_next_timer(self) -> None:
        """Jump to the earliest armed timer of a live replica and fire it alone."""
        armed = [(at_ms, i) for i, timers in enumerate(self.timers)
                 for at_ms, _ in timers.values() if self.replicas[i] is not None]
        if armed:
            self.advance_time(max(0, min(armed)[0] - self.now_ms))

    @rule(ms=st.sampled_from([10, 50, 100, 300, 700]))
    def advance_time(self, ms: int) -> None:
        """Move the clock on and fire every timer that fell due, earliest first."""
        self.now_ms += ms
        while True:
            due = sorted(
                (at_ms, i, key)
                for i, timers in enumerate(self.timers)
                for key, (at_ms, _) in timers.items()
                if at_ms <= self.now_ms and self.replicas[i] is not None
            )
            if not due:
                return
            _, i, key = due[0]
            _, message = self.timers[i].pop(key)
            self._step(i, self._env(i, i, message))

    # --- invariants ---------------------------------------------------------------------

    def _chains(self) -> list[list]:
        return [r.learner.chain for r in self.replicas if r is not None]

    @invariant()
    def one_block_per_slot(self) -> None:
        for chain in self._chains():
            for block in chain:
                assert self.chosen.setdefault(block.height, block.hash) == block.hash

    @invariant()
    def chains_link_and_are_prefixes(self) -> None:
        chains = sorted(self._chains(), key=len)
        for chain in chains:
            prev = GENESIS_PREV
            for height, block in enumerate(chain):
                assert block.height == height and block.prev == prev
                prev = block.hash
        for shorter, longer in itertools.pairwise(chains):
            assert [b.hash for b in shorter] == [b.hash for b in longer[: len(shorter)]]

    @invariant()
    def one_leader_per_ballot(self) -> None:
        for r in self.replicas:
            if r is not None and r.leader is not None:
                assert r.leader.ballot.replica == r.id
                self.leaders.setdefault(r.leader.ballot, set()).add(r.id)
        assert all(len(ids) == 1 for ids in self.leaders.values())

    @invariant()
    def kv_equals_a_replay_of_the_chain(self) -> None:
        for r in self.replicas:
            if r is None:
                continue
            model: dict[str, str] = {}
            seen: set[tuple[int, int]] = set()
            for block in r.learner.chain:
                for txn in block.txns:
                    if txn.request_id in seen:
                        continue
                    seen.add(txn.request_id)
                    if txn.op == "put":
                        assert txn.value is not None
                        model[txn.key] = txn.value
            assert r.learner.kv.data == model


ClusterMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClusterMachine = ClusterMachine.TestCase


@pytest.mark.slow
def test_the_machine_holds_over_a_thousand_examples() -> None:
    """The default suite runs 150 examples (the CI budget); this hunts longer."""
    run_state_machine_as_test(
        ClusterMachine,
        settings=settings(max_examples=1000, stateful_step_count=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )


class SkipAdoptMachine(ClusterMachine):
    replica_cls = MUTANTS["skip-adopt"].replica_cls


class AckBeforeMajorityMachine(ClusterMachine):
    replica_cls = MUTANTS["ack-before-majority"].replica_cls


@pytest.mark.parametrize("machine, budget", [
    pytest.param(AckBeforeMajorityMachine, 1000, id="ack-before-majority"),
    # Found in 3-26 s over four unseeded tries of 3,000 examples: too slow and too
    # variable for the default suite, so it runs with -m slow.
    pytest.param(SkipAdoptMachine, 10_000, id="skip-adopt", marks=pytest.mark.slow),
])
def test_the_machine_catches_a_planted_bug(machine: type[ClusterMachine], budget: int) -> None:
    """Within a generation budget, the invariants fail on a leader that counts a slot
    chosen on its own accept, and on a new leader that ignores the values its promises
    report. (ballot-reuse needs longer runs; the simulator's mutant tests catch it.)"""
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            machine,
            # Generate only: finding the bug is the point here, not shrinking it.
            settings=settings(max_examples=budget, stateful_step_count=60, deadline=None,
                              derandomize=machine is AckBeforeMajorityMachine,
                              database=None, print_blob=False, phases=[Phase.generate],
                              suppress_health_check=list(HealthCheck)),
        )
