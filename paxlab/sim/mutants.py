"""Planted bugs that prove the checkers bite (STYLE.md section 5).

Each mutant is a `Replica` subclass that overrides one method and names the rule it
breaks, or, for a rule the host keeps (persist before send), a change to the server's
storage. The core has no mutant flags: `simulate(config, seed, mutant=NAME)` builds its
servers from the mutant's class and storage.
"""

from __future__ import annotations

from dataclasses import dataclass

from paxlab.core import Replica
from paxlab.core.chain import Block, verify_block
from paxlab.core.leader import CandidateState
from paxlab.core.messages import (
    Accept,
    Accepted,
    ClientReply,
    ClientRequest,
    Heartbeat,
    Prepare,
)

__all__ = ["MUTANTS", "Mutant", "get_mutant", "mutant_names"]


class SkipAdoptReplica(Replica):
    """Breaks phase 1: a new leader must propose the highest-ballot value its promises
    report for each open slot. This one plans as if no promise reported any."""

    def plan_takeover(self, candidate: CandidateState) -> list[Block]:
        return []


class AckBeforeMajorityReplica(Replica):
    """Breaks phase 2: a slot is chosen only once a majority accepted it. This leader
    counts its own accept as chosen (a majority of one)."""

    def handle_accepted(self, sender: int, m: Accepted) -> None:
        leader = self.leader
        if sender == self.id and leader is not None and m.ballot == leader.ballot:
            proposal = leader.proposals.get(m.slot)
            if proposal is not None and proposal.block.hash == m.block_hash:
                proposal.chosen = True
        super().handle_accepted(sender, m)


class StaleReadReplica(Replica):
    """Breaks linearizable reads: a get must go through the log, since a leader may be
    deposed without knowing it. This leader answers gets from its local KV store at once."""

    def handle_client_request_leader(self, client: int, m: ClientRequest) -> None:
        if m.op == "get":
            value = self.learner.kv.data.get(m.key)
            self._reply_client(
                m.client, ClientReply(client=m.client, seq=m.seq, outcome="ok", value=value)
            )
            return
        super().handle_client_request_leader(client, m)


class BallotReuseReplica(Replica):
    """Breaks the promise: an acceptor that promised ballot b must refuse every Accept
    below b ("it has not responded to a prepare request having a number greater than n",
    Paxos Made Simple). This one accepts a stale leader's Accept as if it were current,
    overwriting what it accepted at the higher ballot and answering Accepted."""

    def refuse_stale(self, sender: int, m: Prepare | Accept | Heartbeat) -> None:
        if type(m) is not Accept:
            super().refuse_stale(sender, m)
            return
        if m.slot >= self.commit_index:
            verify_block(m.block, self.params.difficulty)
        self._accept_run(sender, m)  # without following the stale leader or refusing it


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    replica_cls: type[Replica] = Replica
    # False breaks "persist before send" (an acceptor records its response in stable
    # storage before sending it, Paxos Made Simple): persist only writes, and the disk is
    # synced by a write-back 200 ms later, so a crash may lose what a reply vouched for.
    sync_before_send: bool = True


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant("skip-adopt", "a new leader ignores values accepted in phase 1",
               replica_cls=SkipAdoptReplica),
        Mutant("ack-before-majority",
               "the leader treats a slot as chosen after its own accept (majority of 1)",
               replica_cls=AckBeforeMajorityReplica),
        Mutant("stale-read", "the leader answers gets from its local KV store at once",
               replica_cls=StaleReadReplica),
        Mutant("ballot-reuse", "an acceptor accepts an Accept below the ballot it promised",
               replica_cls=BallotReuseReplica),
        Mutant("no-fsync", "servers reply before their promises and accepts are synced to disk",
               sync_before_send=False),
    )
}


def mutant_names() -> list[str]:
    return list(MUTANTS)


def get_mutant(name: str | None) -> Mutant | None:
    """The named mutant, None for the correct protocol; KeyError for an unknown name."""
    if name is None:
        return None
    if name not in MUTANTS:
        raise KeyError(f"unknown mutant {name!r}; choose from: {', '.join(MUTANTS)}")
    return MUTANTS[name]
