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
from paxlab.core.snapshot import Snapshot

__all__ = ["RecoveredState", "recover_state"]


@dataclass(frozen=True, slots=True)
class RecoveredState:
    """What a replica knew at its last persist: the acceptor's promise and votes, its
    latest snapshot, and the decided blocks it holds (the KV store is not stored: it is
    the snapshot's, then the replay of the blocks above it).

    Invariants, checked on construction: `chain` has consecutive heights from its first
    block (from 0 when there is no snapshot), and with a snapshot it reaches at least up
    to it (blocks below the snapshot are the retained ones, already in its state);
    `accepted` is sorted by slot, one entry per slot, every slot >= the commit index; no
    accepted ballot is above `promised` (and with no promise there are no accepted
    entries).
    """

    promised: Ballot | None
    accepted: tuple[AcceptedEntry, ...]
    chain: tuple[Block, ...]
    snapshot: Snapshot | None = None

    def __post_init__(self) -> None:
        base = self.chain[0].height if self.chain else self.height_below
        if self.snapshot is None and base != 0:
            raise UsageError(f"recovered chain: block {base} at position 0, with no snapshot")
        for offset, block in enumerate(self.chain):
            if block.height != base + offset:
                raise UsageError(f"recovered chain: block {block.height} at {base + offset}")
        if self.snapshot is not None and not base <= self.snapshot.height <= self.commit_index:
            raise UsageError(f"recovered chain {base}..{self.commit_index} misses the "
                             f"snapshot at {self.snapshot.height}")
        slots = [entry.slot for entry in self.accepted]
        if slots != sorted(set(slots)):
            raise UsageError(f"recovered accepted slots not sorted and unique: {slots}")
        if slots and slots[0] < self.commit_index:
            raise UsageError(f"recovered accepted slot {slots[0]} is below the chain tip")
        for entry in self.accepted:
            if self.promised is None or entry.ballot > self.promised:
                raise UsageError(
                    f"recovered accepted slot {entry.slot} at b={entry.ballot} is above the "
                    f"promise {self.promised}"
                )

    @property
    def height_below(self) -> int:
        """Where the chain starts when no block is held: the snapshot's height, or 0."""
        return self.snapshot.height if self.snapshot is not None else 0

    @property
    def commit_index(self) -> int:
        """The number of blocks decided: the tip of the held chain, or the snapshot's."""
        if self.chain:
            return self.chain[-1].height + 1
        return self.height_below

    @property
    def max_round(self) -> int:
        """The highest ballot round this state has seen; a new candidacy must go above it."""
        return self.promised.round if self.promised is not None else 0

    def describe(self) -> str:
        """One line for logs: "promised=3.1 chain=12 tip=00ab12 accepted=[12: b=3.1 51c0]"."""
        tip = self.chain[-1].hash[:6] if self.chain else (
            self.snapshot.tip[:6] if self.snapshot is not None else "-")
        votes = ", ".join(f"{e.slot}: b={e.ballot} {e.block.hash[:4]}" for e in self.accepted)
        snap = f" snapshot={self.snapshot.height}" if self.snapshot is not None else ""
        return (f"promised={self.promised} chain={self.commit_index}{snap} tip={tip} "
                f"accepted=[{votes}]")


def recover_state(records: Sequence[Record], difficulty: int,
                  snapshot: Snapshot | None = None) -> RecoveredState:
    """Fold persisted records, in the order they were written, onto `snapshot` (the
    server's latest, if it has one) into a RecoveredState.

    - promised: the highest PromisedRecord ballot, raised to the highest ballot of any
      AcceptedRecord (accepting at b implies a promise of at least b).
    - chain: the DecidedRecords in order. Each must be the next height, link to the block
      before it and pass `verify_block` (hash recipe and proof of work at `difficulty`);
      otherwise RemoteError naming the height: the file is refused, never repaired.
      Without a snapshot the first must be at height 0. With one, the records may start
      anywhere at or below it (a compacted file starts at its retained blocks; a file
      not yet compacted when the server stopped starts at 0), and decided records that
      end below the snapshot are dropped (it was installed from a peer: they are old),
      also when newer blocks, from at most the snapshot's height, follow them after a
      gap (the server restarted from an installed snapshot before a compaction replaced
      the file, and went on); those newer blocks must reach the snapshot's tip.
      Block height-1, if held, must hash to the snapshot's tip, and the block above it
      must link to that tip.
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
            block = record.block
            if (snapshot is not None and chain
                    and chain[-1].height + 1 < block.height <= snapshot.height):
                # The server restarted from a peer's snapshot whose compaction a crash
                # cut short, so the file still holds the blocks it had before, then the
                # ones from that snapshot's height; a later snapshot (this one) may have
                # been cut short too. The held chain goes on from the newer blocks, and
                # _on_snapshot checks that they reach this snapshot's tip.
                chain = []
            chain.append(_checked_next(chain, block, difficulty, snapshot))
        else:  # pragma: no cover - Record is a closed union
            raise UsageError(f"not a record: {record!r}")
    if snapshot is not None:
        chain = _on_snapshot(chain, snapshot)
    commit_index = chain[-1].height + 1 if chain else (
        snapshot.height if snapshot is not None else 0)
    accepted = tuple(votes[slot] for slot in sorted(votes) if slot >= commit_index)
    return RecoveredState(promised=promised, accepted=accepted, chain=tuple(chain),
                          snapshot=snapshot)


def _higher(current: Ballot | None, ballot: Ballot) -> Ballot:
    return ballot if current is None or ballot > current else current


def _on_snapshot(chain: list[Block], snapshot: Snapshot) -> list[Block]:
    """The held blocks that stand with `snapshot`: none if they all end below it (it
    came from a peer after them), else all of them, once checked against its tip."""
    height = snapshot.height
    if not chain or chain[-1].height < height - 1:
        return []
    if chain[0].height > height:
        raise RemoteError(f"decided records start at height {chain[0].height}, above the "
                          f"snapshot at {height}: blocks {height}..{chain[0].height - 1} "
                          f"are missing")
    if chain[0].height < height:
        below = chain[height - 1 - chain[0].height]
        if below.hash != snapshot.tip:
            raise RemoteError(f"decided block {height - 1} hashes to {below.hash[:12]}, but "
                              f"the snapshot stands on {snapshot.tip[:12]}")
    elif chain[0].prev != snapshot.tip:
        raise RemoteError(f"decided block {height} links to {chain[0].prev[:12]}, but the "
                          f"snapshot stands on {snapshot.tip[:12]}")
    return chain


def _checked_next(chain: list[Block], block: Block, difficulty: int,
                  snapshot: Snapshot | None) -> Block:
    """`block` if it may extend `chain`; RemoteError naming the height otherwise. The
    first block must be at height 0, unless a snapshot lets the file start later."""
    if chain:
        height = chain[-1].height + 1
        tip = chain[-1].hash
    elif snapshot is None or block.height == 0:
        height, tip = 0, GENESIS_PREV
    else:
        height, tip = block.height, block.prev  # linked to the snapshot by _on_snapshot
    if block.height != height:
        raise RemoteError(
            f"decided block at height {block.height} where height {height} was expected"
        )
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
