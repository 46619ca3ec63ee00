"""Replica state and what every handler shares: effects, timers, learning, role changes.

The role is stored once, as a role-state object (`FollowerState`, `CandidateState` or
`LeaderState`); `role`, `leader` and `candidate` are read from it. `become_<role>` is the
only place the role changes: each asserts the move is legal, resets the role state in
one place and traces it. `step_acceptor.py` and `step_leader.py` hold the handlers by
role; `replica.py` is the door (`step`), the ballot gate and the dispatch table.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass, field

from paxlab.core.acceptor import Acceptor
from paxlab.core.chain import Block
from paxlab.core.errors import UsageError
from paxlab.core.ids import Ballot, NodeId, client_node, server_node
from paxlab.core.leader import CandidateState, LeaderState, RequestQueue
from paxlab.core.learner import Learner
from paxlab.core.messages import (
    ClientReply,
    ElectionTimeout,
    Envelope,
    Heartbeat,
    HeartbeatTimeout,
    Message,
    Prepare,
    Redirect,
)
from paxlab.core.output import (
    AcceptedRecord,
    Compaction,
    DecidedRecord,
    Effects,
    PromisedRecord,
    Record,
    TimerCommand,
)
from paxlab.core.recovery import RecoveredState
from paxlab.core.snapshot import Snapshot

__all__ = [
    "ELECTION_TIMER",
    "HEARTBEAT_TIMER",
    "FollowerState",
    "PreVoteRound",
    "ReplicaBase",
    "ReplicaParams",
    "Role",
    "RoleState",
]

ELECTION_TIMER = "election"
HEARTBEAT_TIMER = "heartbeat"


class Role(enum.Enum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


@dataclass(slots=True)
class PreVoteRound:
    """A follower asking whether it could win before it raises its ballot: `ballot` is
    the one it would run with, `grants` who said yes (itself included)."""

    ballot: Ballot
    grants: set[int] = field(default_factory=set)


@dataclass(slots=True)
class FollowerState:
    """Following a leader, or waiting for one (`Replica.leader_id` says which).
    `prevote`: the pre-vote round in progress, if any (only a follower runs one)."""

    prevote: PreVoteRound | None = None


RoleState = FollowerState | CandidateState | LeaderState
_ROLE_OF: dict[type, Role] = {
    FollowerState: Role.FOLLOWER,
    CandidateState: Role.CANDIDATE,
    LeaderState: Role.LEADER,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaParams:
    """Protocol knobs (the `cluster` section of a config, plus internal limits)."""

    replica_count: int
    heartbeat_interval_ms: int = 50
    election_timeout_ms_min: int = 300
    election_timeout_ms_max: int = 600
    batch_size_max: int = 8
    pipeline_window: int = 4
    difficulty: int = 8
    accept_retry_ms: int = 100
    queue_limit: int = 10_000
    catchup_blocks_max: int = 128
    # Snapshots (snapshot.py): every `snapshot_every` decided blocks (0: never) fold the
    # applied state into a snapshot and compact behind it, keeping the last
    # `retain_blocks` blocks to serve catch-up by blocks.
    snapshot_every: int = 0
    retain_blocks: int = 256
    # Pre-vote and leader stickiness (step_leader.py, docs/protocol.md "Pre-vote"). Off
    # here so hand-scripted core tests keep their classic elections; configs default on.
    prevote: bool = False

    def __post_init__(self) -> None:
        if self.replica_count < 1:
            raise UsageError("replica_count must be >= 1")
        if not 0 < self.election_timeout_ms_min <= self.election_timeout_ms_max:
            raise UsageError("need 0 < election_timeout_ms_min <= election_timeout_ms_max")
        if self.snapshot_every < 0 or self.retain_blocks < 0:
            raise UsageError("snapshot_every and retain_blocks must be >= 0")

    @property
    def majority(self) -> int:
        return self.replica_count // 2 + 1


class ReplicaBase:
    """The state of one replica, the effects it collects, and its role changes."""

    def __init__(
        self,
        replica_id: int,
        params: ReplicaParams,
        rng: random.Random,
        *,
        recovered: RecoveredState | None = None,
    ) -> None:
        """`recovered`: the state a restarted server read back from its own storage."""
        if not 0 <= replica_id < params.replica_count:
            raise UsageError(f"replica id {replica_id} outside 0..{params.replica_count - 1}")
        self.id = replica_id
        self.node: NodeId = server_node(replica_id)
        self._peer_nodes = tuple(server_node(i) for i in range(params.replica_count))
        self.params = params
        self.rng = rng
        self.now_ms = 0
        # The role, stored once. Invariant: changed only by become_<role>.
        self._state: RoleState = FollowerState()
        self.acceptor = Acceptor(parked_limit=4 * params.pipeline_window + 64)
        self.learner = Learner()
        self.leader_id: int | None = None  # whom we believe leads; None: nobody known
        self.last_leader_contact_ms = 0
        self.election_timeout_ms = params.election_timeout_ms_max
        # Invariant: >= the round of every ballot promised, used or rejected with.
        self.max_round_seen = 0
        self.snapshot_height = 0  # the height of our latest snapshot (0: none yet)
        # A snapshot taken this step, and the blocks it retired: _finish_compaction.
        self._compacting: tuple[Snapshot, tuple[Block, ...]] | None = None
        self.queue = RequestQueue(limit=params.queue_limit)
        self._local: deque[Envelope] = deque()
        self._fx = Effects()
        if recovered is not None:
            self._restore(recovered)

    def _restore(self, recovered: RecoveredState) -> None:
        """Install recovered state: the snapshot's, then the blocks above it through the
        learner, so the KV store (and its exactly-once table) is the snapshot's plus the
        replay of the rest. Nothing is persisted: all of it is on disk already."""
        snapshot = recovered.snapshot
        above = list(recovered.chain)
        if snapshot is not None:
            retained = [b for b in above if b.height < snapshot.height]
            above = above[len(retained):]
            self.learner.restore(snapshot, retained[-self.params.retain_blocks:]
                                 if self.params.retain_blocks else [])
            self.snapshot_height = snapshot.height
        for block in above:
            self.learner.learn(block)
        assert self.commit_index == recovered.commit_index
        self.acceptor.promised = recovered.promised
        self.acceptor.accepted = {entry.slot: entry for entry in recovered.accepted}
        # Never run again with a ballot we may have used or promised before the crash.
        self.max_round_seen = max(self.max_round_seen, recovered.max_round)

    # --- the role, read from the role state ----------------------------------------------

    @property
    def role(self) -> Role:
        return _ROLE_OF[type(self._state)]

    @property
    def leader(self) -> LeaderState | None:
        state = self._state
        return state if type(state) is LeaderState else None

    @property
    def candidate(self) -> CandidateState | None:
        state = self._state
        return state if type(state) is CandidateState else None

    @property
    def commit_index(self) -> int:
        learner = self.learner
        return learner.base + len(learner.chain)

    # --- effects ------------------------------------------------------------------------

    def _trace(self, text: str) -> None:
        self._fx.trace.append(text)

    def _send(self, target: int, message: Message) -> None:
        envelope = Envelope(source=self.node, target=self._peer_nodes[target], message=message)
        if target == self.id:
            self._local.append(envelope)
        else:
            self._fx.to_send.append(envelope)

    def _broadcast(self, message: Message, include_self: bool = True) -> None:
        for replica in range(self.params.replica_count):
            if include_self or replica != self.id:
                self._send(replica, message)

    def _reply_client(self, client: int, message: Message) -> None:
        self._fx.to_send.append(
            Envelope(source=self.node, target=client_node(client), message=message)
        )

    def _arm(self, key: str, at_ms: int | None, message: Message | None = None) -> None:
        self._fx.timers.append(TimerCommand(key=key, at_ms=at_ms, message=message))

    def _arm_election_timer(self) -> None:
        """Draws from the replica's rng: the draws' order is part of a seed's run."""
        self.election_timeout_ms = self.rng.randint(
            self.params.election_timeout_ms_min, self.params.election_timeout_ms_max
        )
        self._arm(ELECTION_TIMER, self.now_ms + self.election_timeout_ms, ElectionTimeout())

    def _raise_promise(self, ballot: Ballot) -> None:
        self.max_round_seen = max(self.max_round_seen, ballot.round)
        if self.acceptor.promise(ballot):
            self._fx.to_persist.append(PromisedRecord(ballot=ballot))

    def _learn_decided(self, block: Block) -> None:
        """Commit `block` (and apply it); a leader answers the clients it serves."""
        compacting = self._compacting
        for applied in self.learner.learn(block):
            self._fx.committed.append(applied.block)
            if compacting is None or applied.block.height < compacting[0].height:
                # Above a snapshot installed this step the compaction's live records
                # hold the block: appended to the old file it would sit above a gap,
                # which a crash before the file is replaced leaves unrecoverable.
                self._fx.to_persist.append(DecidedRecord(block=applied.block))
            if type(self._state) is LeaderState:
                for txn, result in applied.results:
                    value = txn.value if txn.op == "put" else result.value
                    self._reply_client(
                        txn.client,
                        ClientReply(client=txn.client, seq=txn.seq, outcome="ok", value=value),
                    )
        self.acceptor.forget_below(self.commit_index)

    # --- snapshots and compaction (snapshot.py) -----------------------------------------

    def maybe_compact(self) -> None:
        """Every `snapshot_every` blocks: snapshot the applied state, drop the blocks
        below the last `retain_blocks`, and ask the driver to compact behind it."""
        every = self.params.snapshot_every
        if every and self.commit_index - self.snapshot_height >= every:
            snapshot = self.snapshot_now()
            retired = self.learner.retire_below(snapshot.height - self.params.retain_blocks)
            self._compact(snapshot, retired)

    def _compact(self, snapshot: Snapshot, retired: tuple[Block, ...]) -> None:
        self.snapshot_height = snapshot.height
        self._compacting = (snapshot, retired)
        self._trace(f"{snapshot.describe()}; {len(retired)} blocks compacted")

    def _finish_compaction(self) -> None:
        """At the end of a step: hand the driver the compaction, with the live records
        taken now, not when the snapshot was. The record file is replaced by them after
        the step's records are written, so they must hold every vote and promise of the
        step: an Accept that links only after a snapshot install, say, votes after it,
        and a vote missing from them would be gone from disk while its Accepted leaves."""
        if self._compacting is not None:
            snapshot, retired = self._compacting
            self._compacting = None
            self._fx.compaction = Compaction(snapshot=snapshot, retired=retired,
                                             live=self._live_records())

    def _live_records(self) -> tuple[Record, ...]:
        """The records that rebuild, with a snapshot, everything else we must keep: the
        promise, the votes for open slots, and the held blocks."""
        records: list[Record] = []
        if self.acceptor.promised is not None:
            records.append(PromisedRecord(ballot=self.acceptor.promised))
        accepted = self.acceptor.accepted
        records.extend(AcceptedRecord(slot=slot, ballot=accepted[slot].ballot,
                                      block=accepted[slot].block) for slot in sorted(accepted))
        records.extend(DecidedRecord(block=block) for block in self.learner.chain)
        return tuple(records)

    def snapshot_now(self) -> Snapshot:
        """Our applied state as a snapshot, for a peer too far behind for blocks."""
        learner = self.learner
        return Snapshot.of(learner.commit_index, learner.tip_hash, learner.kv)

    # --- roles: the only place the role changes -----------------------------------------

    def become_follower(self, leader_id: int | None) -> None:
        """Candidate or leader -> follower of `leader_id` (None: not known yet). Queued
        requests are redirected: only a leader keeps a queue for long."""
        old = self.role
        assert old is not Role.FOLLOWER, "already a follower"
        self._trace(f"{old.value} -> follower (leader {leader_id})")
        if old is Role.LEADER:
            self._arm(HEARTBEAT_TIMER, None)
        self._state = FollowerState()
        self.leader_id = leader_id
        self.last_leader_contact_ms = self.now_ms
        self._arm_election_timer()
        self._redirect_queue(leader_id)

    def _redirect_queue(self, leader_id: int | None) -> None:
        """Send every queued request on to `leader_id`: only a leader keeps a queue for
        long (a follower holds one only while a nomination's pre-vote runs)."""
        for request in self.queue.drain():
            self._reply_client(
                request.client,
                Redirect(client=request.client, seq=request.seq, leader_hint=leader_id),
            )

    def next_ballot(self) -> Ballot:
        """The ballot we would run with now: above every round seen or promised."""
        promised = self.acceptor.promised
        return Ballot(max(self.max_round_seen, promised.round if promised else 0) + 1, self.id)

    def become_candidate(self) -> None:
        """Follower or candidate -> candidate with a ballot above every round seen; runs
        phase 1 (Prepare) for every slot from the commit index on."""
        assert self.role is not Role.LEADER, "a leader does not run for election"
        ballot = self.next_ballot()
        self.max_round_seen = ballot.round - 1
        self._state = CandidateState(ballot=ballot, from_slot=self.commit_index)
        self.leader_id = None
        self._trace(f"candidate b={ballot} from_slot={self.commit_index}")
        self._arm_election_timer()
        self._broadcast(Prepare(ballot=ballot, from_slot=self.commit_index))

    def become_leader(self, takeover: list[Block]) -> None:
        """Candidate with a majority of promises -> leader of its ballot. The caller
        proposes `takeover` (the plan for the open slots) right after."""
        candidate = self._state
        assert type(candidate) is CandidateState, "only a candidate becomes leader"
        self._state = LeaderState(
            ballot=candidate.ballot,
            since_ms=self.now_ms,
            next_slot=self.commit_index,
            last_hash=self.learner.tip_hash,
        )
        self.leader_id = self.id
        self._trace(
            f"leader b={candidate.ballot} commit={self.commit_index} "
            f"takeover={len(takeover)} slots"
        )
        self._arm(ELECTION_TIMER, None)
        self._arm(HEARTBEAT_TIMER, self.now_ms + self.params.heartbeat_interval_ms,
                  HeartbeatTimeout())
        self._broadcast(
            Heartbeat(ballot=candidate.ballot, commit_index=self.commit_index),
            include_self=False,
        )
