"""Rebuild a replica's durable state from the records it persisted: pure, no I/O.

A restarted server must keep every promise and every vote it made before the crash
(Lamport, Paxos Made Simple: an acceptor "must remember this information even if it
fails and then restarts"), or it could help choose two blocks for one slot. The storage
layer (`paxlab.storage`) reads the records back from disk; this module turns them into
the state `Replica(..., recovered=...)` installs, and re-validates the chain on the way,
so a damaged or tampered file is refused instead of trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paxlab.core.chain import GENESIS_PREV, Block, verify_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot
from paxlab.core.messages import AcceptedEntry
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record

__all__ = ["RecoveredState", "recover_state"]


@dataclass(frozen=True, slots=True)
class RecoveredState:
    """What a replica knew at its last persist: the acceptor's promise and votes, and the
    decided chain (the KV store is not stored: it is the replay of the chain).

    Invariants, checked on construction: `chain` has heights 0..n-1; `accepted` is sorted
    by slot, one entry per slot, every slot >= len(chain); no accepted ballot is above
    `promised` (and with no promise there are no accepted entries).
    """

    promised: Ballot | None
    accepted: tuple[AcceptedEntry, ...]
    chain: tuple[Block, ...]

    def __post_init__(self) -> None:
        for height, block in enumerate(self.chain):
            if block.height != height:
                raise UsageError(f"recovered chain: block {block.height} at position {height}")
        slots = [entry.slot for entry in self.accepted]
        if slots != sorted(set(slots)):
            raise UsageError(f"recovered accepted slots not sorted and unique: {slots}")
        if slots and slots[0] < len(self.chain):
            raise UsageError(f"recovered accepted slot {slots[0]} is below the chain tip")
        for entry in self.accepted:
            if self.promised is None or entry.ballot > self.promised:
                raise UsageError(
                    f"recovered accepted slot {entry.slot} at b={entry.ballot} is above the "
                    f"promise {self.promised}"
                )

    @property
    def max_round(self) -> int:
        """The highest ballot round this state has seen; a new candidacy must go above it."""
        return self.promised.round if self.promised is not None else 0

    def describe(self) -> str:
        """One line for logs: "promised=3.1 chain=12 tip=00ab12 accepted=[12: b=3.1 51c0]"."""
        tip = self.chain[-1].hash[:6] if self.chain else "-"
        votes = ", ".join(f"{e.slot}: b={e.ballot} {e.block.hash[:4]}" for e in self.accepted)
        return f"promised={self.promised} chain={len(self.chain)} tip={tip} accepted=[{votes}]"


def recover_state(records: Sequence[Record], difficulty: int) -> RecoveredState:
    """Fold persisted records, in the order they were written, into a RecoveredState.

    - promised: the highest PromisedRecord ballot, raised to the highest ballot of any
      AcceptedRecord (accepting at b implies a promise of at least b).
    - chain: the DecidedRecords in order. Each must be the next height, link to the block
      before it and pass `verify_block` (hash recipe and proof of work at `difficulty`);
      otherwise RemoteError naming the height: the file is refused, never repaired.
    - accepted: per slot the latest AcceptedRecord, for slots above the chain only
      (decided slots need no vote: the chain holds them), so the set stays bounded.
    """
    promised: Ballot | None = None
    votes: dict[int, AcceptedEntry] = {}
    chain: list[Block] = []
    for record in records:
        if isinstance(record, PromisedRecord):
            promised = _higher(promised, record.ballot)
        elif isinstance(record, AcceptedRecord):
            if record.block.height != record.slot:
                raise RemoteError(
                    f"accepted record for slot {record.slot} holds block {record.block.height}"
                )
            votes[record.slot] = AcceptedEntry(
                slot=record.slot, ballot=record.ballot, block=record.block
            )
            promised = _higher(promised, record.ballot)
        elif isinstance(record, DecidedRecord):
            chain.append(_checked_next(chain, record.block, difficulty))
        else:  # pragma: no cover - Record is a closed union
            raise UsageError(f"not a record: {record!r}")
    accepted = tuple(votes[slot] for slot in sorted(votes) if slot >= len(chain))
    return RecoveredState(promised=promised, accepted=accepted, chain=tuple(chain))


def _higher(current: Ballot | None, ballot: Ballot) -> Ballot:
    return ballot if current is None or ballot > current else current


def _checked_next(chain: list[Block], block: Block, difficulty: int) -> Block:
    """`block` if it may extend `chain`; RemoteError naming the height otherwise."""
    height = len(chain)
    if block.height != height:
        raise RemoteError(
            f"decided block at height {block.height} where height {height} was expected"
        )
    tip = chain[-1].hash if chain else GENESIS_PREV
    if block.prev != tip:
        raise RemoteError(
            f"decided block at height {height} links to {block.prev[:12]}, "
            f"but the block below it is {tip[:12]}"
        )
    try:
        verify_block(block, difficulty)
    except RemoteError as error:
        raise RemoteError(f"decided block at height {height} is invalid: {error}") from error
    return block
