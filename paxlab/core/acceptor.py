"""The acceptor: the promised ballot, the blocks accepted in open slots, and the chain rule.

The chain rule: an acceptor accepts a block for slot s at ballot b only if the block
links to what it holds for slot s-1, either the decided block or a block it accepted
at the same ballot b. So when a majority accepts slot s at b, the same majority accepted
the block it links to at b: that block is chosen too, and no chosen block can ever point
at a predecessor that was not chosen, even with many slots in flight at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paxlab.core.ids import Ballot
from paxlab.core.learner import Learner
from paxlab.core.messages import Accept, AcceptedEntry

__all__ = ["Acceptor"]


@dataclass(slots=True)
class Acceptor:
    parked_limit: int = 1024
    promised: Ballot | None = None  # Invariant: never decreases.
    # slot -> latest accepted entry. Invariant: only slots >= the learner's commit index.
    accepted: dict[int, AcceptedEntry] = field(default_factory=dict)
    # Accepts that arrived before their predecessor (the network reorders), kept for the
    # promised ballot only and bounded by parked_limit.
    parked: dict[int, Accept] = field(default_factory=dict)

    def is_stale(self, ballot: Ballot) -> bool:
        """A ballot below our promise: Prepare and Accept for it must be refused."""
        return self.promised is not None and ballot < self.promised

    def promise(self, ballot: Ballot) -> bool:
        """Raise the promise; True when it changed (and so must be persisted)."""
        if self.promised is not None and ballot <= self.promised:
            return False
        self.promised = ballot
        self.parked = {s: a for s, a in self.parked.items() if a.ballot == ballot}
        return True

    def links(self, accept: Accept, learner: Learner) -> bool:
        """The chain rule (module docstring)."""
        if accept.slot == learner.commit_index:
            return accept.block.prev == learner.tip_hash
        before = self.accepted.get(accept.slot - 1)
        return (
            before is not None
            and before.ballot == accept.ballot
            and before.block.hash == accept.block.prev
        )

    def accept(self, accept: Accept) -> AcceptedEntry:
        entry = AcceptedEntry(slot=accept.slot, ballot=accept.ballot, block=accept.block)
        self.accepted[accept.slot] = entry
        return entry

    def park(self, accept: Accept, commit_index: int) -> None:
        if accept.ballot == self.promised and accept.slot - commit_index <= self.parked_limit:
            self.parked[accept.slot] = accept

    def unpark(self, slot: int, ballot: Ballot) -> Accept | None:
        waiting = self.parked.pop(slot, None)
        return waiting if waiting is not None and waiting.ballot == ballot else None

    def forget_below(self, commit_index: int) -> None:
        """Decided slots need no accepted entry: the chain holds them now."""
        accepted = self.accepted
        for slot in [s for s in accepted if s < commit_index]:
            del accepted[slot]
        parked = self.parked
        if parked:  # nearly always empty: only reordered Accepts wait here
            for slot in [s for s in parked if s < commit_index]:
                del parked[slot]

    def entries_from(self, slot: int) -> tuple[AcceptedEntry, ...]:
        return tuple(self.accepted[s] for s in sorted(self.accepted) if s >= slot)
