"""Candidate and leader state, and the takeover plan a new leader builds from its promises.

Takeover (phase 1 over all open slots): for every slot from the commit index up to the
highest slot any promise reports, adopt the block accepted at the highest ballot. A slot
nobody reported is a gap and gets an empty block. By the chain rule (see acceptor.py),
an adopted block whose `prev` does not match the block planned just below it cannot have
been chosen, so it is resealed with the same transactions on the right predecessor.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from paxlab.core.chain import Block, Txn, seal_block
from paxlab.core.ids import Ballot
from paxlab.core.kv import KVStore
from paxlab.core.messages import AcceptedEntry, ClientRequest, Promise

__all__ = ["CandidateState", "LeaderState", "Proposal", "plan_takeover"]


@dataclass(slots=True)
class CandidateState:
    """Phase 1 in progress: promises gathered for `ballot`, asked from `from_slot` on."""

    ballot: Ballot
    from_slot: int
    promises: dict[int, Promise] = field(default_factory=dict)


@dataclass(slots=True)
class Proposal:
    """A block in flight in phase 2: who accepted it and when it was last sent."""

    block: Block
    sent_ms: int
    acks: set[int] = field(default_factory=set)
    chosen: bool = False


@dataclass(slots=True)
class LeaderState:
    ballot: Ballot
    since_ms: int
    next_slot: int  # Invariant: next_slot == commit_index + len(proposals) after takeover.
    last_hash: str  # hash of the block planned at next_slot - 1
    proposals: dict[int, Proposal] = field(default_factory=dict)
    in_flight: set[tuple[int, int]] = field(default_factory=set)  # (client, seq) proposed
    last_ack_ms: dict[int, int] = field(default_factory=dict)  # follower -> last answer
    snapshot_sent_ms: dict[int, int] = field(default_factory=dict)  # follower -> last sent


@dataclass(slots=True)
class RequestQueue:
    """Client requests waiting for a slot; bounded, and one entry per (client, seq)."""

    limit: int
    items: deque[ClientRequest] = field(default_factory=deque)
    ids: set[tuple[int, int]] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.items)

    def push(self, request: ClientRequest) -> bool:
        rid = (request.client, request.seq)
        if rid in self.ids or len(self.items) >= self.limit:
            return False
        self.items.append(request)
        self.ids.add(rid)
        return True

    def pop(self) -> ClientRequest:
        request = self.items.popleft()
        self.ids.discard((request.client, request.seq))
        return request

    def __contains__(self, rid: tuple[int, int]) -> bool:
        return rid in self.ids

    def drain(self) -> list[ClientRequest]:
        items = list(self.items)
        self.items.clear()
        self.ids.clear()
        return items


def txn_of(request: ClientRequest) -> Txn:
    return Txn(
        client=request.client, seq=request.seq, op=request.op, key=request.key, value=request.value
    )


def plan_takeover(
    commit_index: int,
    tip_hash: str,
    promises: list[Promise],
    kv: KVStore,
    difficulty: int,
) -> list[Block]:
    """The blocks a new leader proposes for the open slots (module docstring).

    Resealed blocks drop txns already applied or planned lower, so no (client, seq)
    enters the chain twice.
    """
    best: dict[int, AcceptedEntry] = {}
    for promise in promises:
        for entry in promise.accepted:
            if entry.slot < commit_index:
                continue
            held = best.get(entry.slot)
            if held is None or entry.ballot > held.ballot:
                best[entry.slot] = entry
    if not best:
        return []
    planned_ids: set[tuple[int, int]] = set()
    plan: list[Block] = []
    prev = tip_hash
    for slot in range(commit_index, max(best) + 1):
        entry = best.get(slot)
        if entry is not None and entry.block.prev == prev:
            block = entry.block
        else:
            txns = entry.block.txns if entry is not None else ()
            fresh = tuple(
                t
                for t in txns
                if not kv.is_applied(t.client, t.seq) and t.request_id not in planned_ids
            )
            block = seal_block(slot, prev, fresh, difficulty)
        planned_ids.update(t.request_id for t in block.txns)
        plan.append(block)
        prev = block.hash
    return plan
