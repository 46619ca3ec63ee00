"""Planted bugs that prove the checkers bite (STYLE.md section 5).

Each mutant is a `Replica` subclass that overrides one method and names the rule it
breaks. The core has no mutant flags: `simulate(config, seed, mutant=NAME)` builds its
servers from the mutant's class. Not (yet) here: ballot-reuse and no-fsync, which no
test config caught within a bounded seed range.
"""

from __future__ import annotations

from dataclasses import dataclass

from paxlab.core import Replica
from paxlab.core.messages import Accepted, ClientReply, ClientRequest, Message
from paxlab.core.replica_base import Role

__all__ = ["MUTANTS", "Mutant", "get_mutant", "mutant_names"]


class SkipAdoptReplica(Replica):
    """Breaks phase 1: a new leader must propose the highest-ballot value its promises
    report for each open slot. This one plans as if no promise reported any."""

    def become_leader(self) -> None:
        assert self.candidate is not None
        self.candidate.promises = {}
        super().become_leader()


class AckBeforeMajorityReplica(Replica):
    """Breaks phase 2: a slot is chosen only once a majority accepted it. This leader
    counts its own accept as chosen (a majority of one)."""

    def handle_accepted(self, sender: int, m: Message) -> None:
        assert isinstance(m, Accepted)
        leader = self.leader
        if sender == self.id and leader is not None and m.ballot == leader.ballot:
            proposal = leader.proposals.get(m.slot)
            if proposal is not None and proposal.block.hash == m.block_hash:
                proposal.chosen = True
        super().handle_accepted(sender, m)


class StaleReadReplica(Replica):
    """Breaks linearizable reads: a get must go through the log, since a leader may be
    deposed without knowing it. This leader answers gets from its local KV store at once."""

    def handle_client_request(self, client: int, m: Message) -> None:
        assert isinstance(m, ClientRequest)
        if self.role is Role.LEADER and m.op == "get":
            value = self.learner.kv.data.get(m.key)
            self._reply_client(
                m.client, ClientReply(client=m.client, seq=m.seq, outcome="ok", value=value)
            )
            return
        super().handle_client_request(client, m)


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    replica_cls: type[Replica] = Replica


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
