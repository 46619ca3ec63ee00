"""Replica state and the moves every role shares: effects, timers and role changes.

Split from `replica.py` so each module has one job: this one owns the state and the
`become_<role>` transitions; `elections.py`, `replication.py` and `requests.py` hold
the message handlers by phase; `replica.py` is the door (`step`) and the dispatch table.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass

from paxlab.core.acceptor import Acceptor
from paxlab.core.chain import Block
from paxlab.core.errors import UsageError
from paxlab.core.ids import Ballot, NodeId, client_node, server_node
from paxlab.core.leader import CandidateState, LeaderState, RequestQueue, plan_takeover
from paxlab.core.learner import Learner
from paxlab.core.messages import (
    ElectionTimeout,
    Envelope,
    Heartbeat,
    HeartbeatTimeout,
    Message,
    Prepare,
    Redirect,
)
from paxlab.core.output import Effects, PromisedRecord, TimerCommand
from paxlab.core.recovery import RecoveredState

__all__ = ["ELECTION_TIMER", "HEARTBEAT_TIMER", "ReplicaBase", "ReplicaParams", "Role"]

ELECTION_TIMER = "election"
HEARTBEAT_TIMER = "heartbeat"


class Role(enum.Enum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


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

    def __post_init__(self) -> None:
        if self.replica_count < 1:
            raise UsageError("replica_count must be >= 1")
        if not 0 < self.election_timeout_ms_min <= self.election_timeout_ms_max:
            raise UsageError("need 0 < election_timeout_ms_min <= election_timeout_ms_max")

    @property
    def majority(self) -> int:
        return self.replica_count // 2 + 1




class ReplicaBase:
    """The state of one replica; handlers live in the mixins built on this class."""

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
        # Every replica's address, built once: _send runs for every message sent.
        self._peer_nodes = tuple(server_node(i) for i in range(params.replica_count))
        self.params = params
        self.rng = rng
        self.now_ms = 0
        self.role = Role.FOLLOWER
        self.acceptor = Acceptor(parked_limit=4 * params.pipeline_window + 64)
        self.learner = Learner()
        self.leader_id: int | None = None  # whom we believe leads; None: nobody known
        self.last_leader_contact_ms = 0
        self.election_timeout_ms = params.election_timeout_ms_max
        self.max_round_seen = 0
        self.candidate: CandidateState | None = None
        self.leader: LeaderState | None = None
        self.queue = RequestQueue(limit=params.queue_limit)
        self._local: deque[Envelope] = deque()
        self._fx = Effects()
        if recovered is not None:
            self._restore(recovered)

    def _restore(self, recovered: RecoveredState) -> None:
        """Install recovered state. The chain goes through the learner, so the KV store
        (and its (client, seq) results table) is rebuilt by replaying it. Nothing is
        persisted: all of it is on disk already."""
        for block in recovered.chain:
            self.learner.learn(block)
        assert self.commit_index == len(recovered.chain)
        self.acceptor.promised = recovered.promised
        self.acceptor.accepted = {entry.slot: entry for entry in recovered.accepted}
        # Never run again with a ballot we may have used or promised before the crash.
        self.max_round_seen = max(self.max_round_seen, recovered.max_round)

    # Defined by ReplicationMixin; declared here because becoming leader proposes.
    def _propose(self, block: Block) -> None:
        raise NotImplementedError

    def maybe_propose(self) -> bool:
        raise NotImplementedError

    # --- effects ------------------------------------------------------------------------

    @property
    def commit_index(self) -> int:
        # len(chain) is Learner.commit_index, read directly: this runs ~25 times a step.
        return len(self.learner.chain)

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
        self.election_timeout_ms = self.rng.randint(
            self.params.election_timeout_ms_min, self.params.election_timeout_ms_max
        )
        self._arm(ELECTION_TIMER, self.now_ms + self.election_timeout_ms, ElectionTimeout())

    def _raise_promise(self, ballot: Ballot) -> None:
        self.max_round_seen = max(self.max_round_seen, ballot.round)
        if self.acceptor.promise(ballot):
            self._fx.to_persist.append(PromisedRecord(ballot=ballot))

    # --- roles --------------------------------------------------------------------------

    def become_follower(self, leader_id: int | None) -> None:
        if self.role is not Role.FOLLOWER:
            self._trace(f"{self.role.value} -> follower (leader {leader_id})")
        if self.role is Role.LEADER:
            self._arm(HEARTBEAT_TIMER, None)
        self.role = Role.FOLLOWER
        self.candidate = None
        self.leader = None
        self.leader_id = leader_id
        self.last_leader_contact_ms = self.now_ms
        self._arm_election_timer()
        for request in self.queue.drain():
            self._reply_client(
                request.client,
                Redirect(client=request.client, seq=request.seq, leader_hint=leader_id),
            )

    def become_candidate(self) -> None:
        assert self.role is not Role.LEADER, "a leader does not run for election"
        self.max_round_seen = max(
            self.max_round_seen, self.acceptor.promised.round if self.acceptor.promised else 0
        )
        ballot = Ballot(self.max_round_seen + 1, self.id)
        self.role = Role.CANDIDATE
        self.leader = None
        self.leader_id = None
        self.candidate = CandidateState(ballot=ballot, from_slot=self.commit_index)
        self._trace(f"candidate b={ballot} from_slot={self.commit_index}")
        self._arm_election_timer()
        self._broadcast(Prepare(ballot=ballot, from_slot=self.commit_index))

    def become_leader(self) -> None:
        candidate = self.candidate
        assert candidate is not None and self.role is Role.CANDIDATE
        plan = plan_takeover(
            self.commit_index,
            self.learner.tip_hash,
            list(candidate.promises.values()),
            self.learner.kv,
            self.params.difficulty,
        )
        self.role = Role.LEADER
        self.candidate = None
        self.leader_id = self.id
        self.leader = LeaderState(
            ballot=candidate.ballot,
            since_ms=self.now_ms,
            next_slot=self.commit_index,
            last_hash=self.learner.tip_hash,
        )
        self._trace(
            f"leader b={candidate.ballot} commit={self.commit_index} takeover={len(plan)} slots"
        )
        self._arm(ELECTION_TIMER, None)
        self._arm(HEARTBEAT_TIMER, self.now_ms + self.params.heartbeat_interval_ms,
                  HeartbeatTimeout())
        self._broadcast(
            Heartbeat(ballot=candidate.ballot, commit_index=self.commit_index),
            include_self=False,
        )
        for block in plan:
            self._propose(block)
        self.maybe_propose()

