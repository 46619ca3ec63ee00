"""One server's protocol state machine: proposer/leader, acceptor and learner in one.

`Replica.step(now_ms, envelope) -> Output` is the only door: it handles one message (a
peer's, a client's, or a local timer event) and returns what to persist, send and arm.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from paxlab.core.acceptor import Acceptor
from paxlab.core.chain import Block, seal_block, verify_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot, NodeId, client_node, node_kind, node_number, server_node
from paxlab.core.leader import (
    CandidateState,
    LeaderState,
    Proposal,
    RequestQueue,
    plan_takeover,
    txn_of,
)
from paxlab.core.learner import Learner
from paxlab.core.messages import (
    Accept,
    Accepted,
    Boot,
    CatchUp,
    ClientReply,
    ClientRequest,
    Commit,
    ElectionTimeout,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    HeartbeatTimeout,
    Message,
    Prepare,
    Promise,
    Redirect,
    Reject,
)
from paxlab.core.output import (
    AcceptedRecord,
    DecidedRecord,
    Effects,
    Output,
    PromisedRecord,
    TimerCommand,
)

__all__ = ["Replica", "ReplicaParams", "Role"]

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


class Replica:
    """Multi-Paxos with a stable leader. Reading order: step, then the handlers by phase."""

    def __init__(self, replica_id: int, params: ReplicaParams, rng: random.Random) -> None:
        if not 0 <= replica_id < params.replica_count:
            raise UsageError(f"replica id {replica_id} outside 0..{params.replica_count - 1}")
        self.id = replica_id
        self.node: NodeId = server_node(replica_id)
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
        self._handlers: dict[type[Message], Callable[[int, Message], None]] = {
            Boot: self.handle_boot,
            ElectionTimeout: self.handle_election_timeout,
            HeartbeatTimeout: self.handle_heartbeat_timeout,
            Prepare: self.handle_prepare,
            Promise: self.handle_promise,
            Accept: self.handle_accept,
            Accepted: self.handle_accepted,
            Reject: self.handle_reject,
            Commit: self.handle_commit,
            Heartbeat: self.handle_heartbeat,
            HeartbeatAck: self.handle_heartbeat_ack,
            CatchUp: self.handle_catch_up,
            ClientRequest: self.handle_client_request,
        }

    # --- the one door -------------------------------------------------------------------

    def step(self, now_ms: int, envelope: Envelope) -> Output:
        """Handle one envelope (and the messages this replica sends itself) at `now_ms`."""
        if now_ms < self.now_ms:
            raise UsageError(f"time went backwards: {now_ms} < {self.now_ms}")
        if envelope.target != self.node:
            raise UsageError(f"{self.node} stepped with an envelope for {envelope.target}")
        self.now_ms = now_ms
        self._fx = Effects()
        self._local.append(envelope)
        while self._local:
            self._dispatch(self._local.popleft())
        self.check_invariants()
        return self._fx.freeze()

    def _dispatch(self, envelope: Envelope) -> None:
        handler = self._handlers.get(type(envelope.message))
        if handler is None:
            self._trace(f"ignored {envelope.describe()}: not for a server")
            return
        source = envelope.source
        sender = node_number(source) if node_kind(source) == "server" else -1
        if isinstance(envelope.message, ClientRequest):
            sender = node_number(source)
        try:
            handler(sender, envelope.message)
        except RemoteError as error:
            self._trace(f"rejected {envelope.describe()}: {error}")

    # --- effects ------------------------------------------------------------------------

    @property
    def commit_index(self) -> int:
        return self.learner.commit_index

    def _trace(self, text: str) -> None:
        self._fx.trace.append(text)

    def _send(self, target: int, message: Message) -> None:
        envelope = Envelope(source=self.node, target=server_node(target), message=message)
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

    # --- local events -------------------------------------------------------------------

    def handle_boot(self, _sender: int, _message: Message) -> None:
        self.last_leader_contact_ms = self.now_ms
        self._arm_election_timer()

    def handle_election_timeout(self, _sender: int, _message: Message) -> None:
        if self.role is Role.LEADER:
            return
        quiet_ms = self.now_ms - self.last_leader_contact_ms
        if self.role is Role.FOLLOWER and quiet_ms < self.election_timeout_ms:
            self._arm(
                ELECTION_TIMER,
                self.last_leader_contact_ms + self.election_timeout_ms,
                ElectionTimeout(),
            )
            return
        self.become_candidate()

    def handle_heartbeat_timeout(self, _sender: int, _message: Message) -> None:
        leader = self.leader
        if self.role is not Role.LEADER or leader is None:
            return
        if not self._has_quorum_contact(leader):
            self._trace("lost contact with a majority; stepping down")
            self.become_follower(None)
            return
        self._broadcast(
            Heartbeat(ballot=leader.ballot, commit_index=self.commit_index), include_self=False
        )
        for slot, proposal in sorted(leader.proposals.items()):
            if self.now_ms - proposal.sent_ms < self.params.accept_retry_ms:
                continue
            proposal.sent_ms = self.now_ms
            accept = Accept(
                ballot=leader.ballot, slot=slot, block=proposal.block,
                commit_index=self.commit_index,
            )
            for replica in range(self.params.replica_count):
                if replica not in proposal.acks:
                    self._send(replica, accept)
        self._arm(HEARTBEAT_TIMER, self.now_ms + self.params.heartbeat_interval_ms,
                  HeartbeatTimeout())

    def _has_quorum_contact(self, leader: LeaderState) -> bool:
        window = self.params.election_timeout_ms_max
        if self.now_ms - leader.since_ms < window:
            return True
        # Its own Accepted answers land in last_ack_ms too; count them once, as the +1.
        recent = sum(
            1 for replica, t in leader.last_ack_ms.items()
            if replica != self.id and self.now_ms - t < window
        )
        return recent + 1 >= self.params.majority

    # --- phase 1 ------------------------------------------------------------------------

    def handle_prepare(self, sender: int, m: Message) -> None:
        assert isinstance(m, Prepare)
        if self.acceptor.is_stale(m.ballot):
            assert self.acceptor.promised is not None
            self._send(sender, Reject(ballot=self.acceptor.promised))
            return
        if m.ballot != self.acceptor.promised and m.ballot.replica != self.id:
            if self.role is not Role.FOLLOWER:
                self.become_follower(None)
            self.leader_id = None
            self.last_leader_contact_ms = self.now_ms  # let the candidate finish
        self._raise_promise(m.ballot)
        chain = self.learner.chain
        decided = tuple(chain[m.from_slot : m.from_slot + self.params.catchup_blocks_max])
        self._send(
            sender,
            Promise(
                ballot=m.ballot,
                from_slot=m.from_slot,
                commit_index=self.commit_index,
                accepted=self.acceptor.entries_from(m.from_slot),
                decided=decided,
            ),
        )

    def handle_promise(self, sender: int, m: Message) -> None:
        assert isinstance(m, Promise)
        candidate = self.candidate
        if (
            self.role is not Role.CANDIDATE
            or candidate is None
            or m.ballot != candidate.ballot
            or m.from_slot != candidate.from_slot
        ):
            return
        for block in m.decided:
            self._learn_decided(block)
        candidate.promises[sender] = m
        if len(candidate.promises) < self.params.majority:
            return
        best_known = max(p.commit_index for p in candidate.promises.values())
        if self.commit_index < best_known:
            # Someone holds more decided blocks than its promise could carry: ask again
            # from our new commit index before planning the open slots.
            candidate.from_slot = self.commit_index
            candidate.promises.clear()
            self._broadcast(Prepare(ballot=candidate.ballot, from_slot=self.commit_index))
            return
        self.become_leader()

    # --- phase 2 ------------------------------------------------------------------------

    def _follow(self, ballot: Ballot) -> None:
        """A message from the leader of `ballot` (not stale): follow it."""
        self._raise_promise(ballot)
        if ballot.replica == self.id:
            return
        if self.role is not Role.FOLLOWER:
            self.become_follower(ballot.replica)
        elif self.leader_id != ballot.replica:
            self._trace(f"following s{ballot.replica} b={ballot}")
        self.leader_id = ballot.replica
        self.last_leader_contact_ms = self.now_ms

    def _refuse_if_stale(self, sender: int, ballot: Ballot) -> bool:
        if not self.acceptor.is_stale(ballot):
            return False
        assert self.acceptor.promised is not None
        self._send(sender, Reject(ballot=self.acceptor.promised))
        return True

    def handle_accept(self, sender: int, m: Message) -> None:
        assert isinstance(m, Accept)
        if self._refuse_if_stale(sender, m.ballot):
            return
        self._follow(m.ballot)
        self._learn_commit(m.ballot, m.commit_index)
        accept: Accept | None = m
        while accept is not None:
            accept = self._maybe_accept(sender, accept)

    def _maybe_accept(self, sender: int, m: Accept) -> Accept | None:
        """Accept `m` if it links; return a parked successor that may now link too."""
        if m.slot < self.commit_index:
            if self.learner.chain[m.slot].hash == m.block.hash:
                self._send(sender, Accepted(ballot=m.ballot, slot=m.slot, block_hash=m.block.hash))
            return None
        if sender != self.id:
            verify_block(m.block, self.params.difficulty)
        if not self.acceptor.links(m, self.learner):
            self.acceptor.park(m, self.commit_index)
            return None
        entry = self.acceptor.accept(m)
        self._fx.to_persist.append(AcceptedRecord(slot=m.slot, ballot=m.ballot, block=m.block))
        self._send(sender, Accepted(ballot=entry.ballot, slot=m.slot, block_hash=m.block.hash))
        return self.acceptor.unpark(m.slot + 1, m.ballot)

    def handle_accepted(self, sender: int, m: Message) -> None:
        assert isinstance(m, Accepted)
        leader = self.leader
        if self.role is not Role.LEADER or leader is None or m.ballot != leader.ballot:
            return
        leader.last_ack_ms[sender] = self.now_ms
        proposal = leader.proposals.get(m.slot)
        if proposal is None or proposal.block.hash != m.block_hash:
            return
        proposal.acks.add(sender)
        if len(proposal.acks) >= self.params.majority:
            proposal.chosen = True
        before = self.commit_index
        while (head := leader.proposals.get(self.commit_index)) is not None and head.chosen:
            del leader.proposals[self.commit_index]
            leader.in_flight.difference_update(t.request_id for t in head.block.txns)
            self._learn_decided(head.block)
        if self.commit_index > before and not self.maybe_propose():
            self._broadcast(
                Commit(ballot=leader.ballot, commit_index=self.commit_index), include_self=False
            )

    def maybe_propose(self) -> bool:
        """Fill the pipeline window from the queue, a batch per block; True if any sent."""
        leader = self.leader
        if leader is None:
            return False
        sent = False
        kv = self.learner.kv
        while self.queue and len(leader.proposals) < self.params.pipeline_window:
            batch = []
            while self.queue and len(batch) < self.params.batch_size_max:
                request = self.queue.pop()
                rid = (request.client, request.seq)
                if not kv.is_applied(*rid) and rid not in leader.in_flight:
                    batch.append(txn_of(request))
            if not batch:
                break
            self._propose(
                seal_block(leader.next_slot, leader.last_hash, tuple(batch),
                           self.params.difficulty)
            )
            sent = True
        return sent

    def _propose(self, block: Block) -> None:
        leader = self.leader
        assert leader is not None and block.height == leader.next_slot
        leader.proposals[block.height] = Proposal(block=block, sent_ms=self.now_ms)
        leader.next_slot += 1
        leader.last_hash = block.hash
        leader.in_flight.update(t.request_id for t in block.txns)
        self._broadcast(
            Accept(ballot=leader.ballot, slot=block.height, block=block,
                   commit_index=self.commit_index)
        )

    # --- commits, heartbeats, catch-up --------------------------------------------------

    def _learn_commit(self, ballot: Ballot, commit_index: int) -> None:
        """The leader of `ballot` says slots below `commit_index` are chosen. A block we
        accepted at that same ballot is the one it chose; for the rest we need catch-up."""
        while self.commit_index < commit_index:
            entry = self.acceptor.accepted.get(self.commit_index)
            if entry is None or entry.ballot != ballot:
                return
            self._learn_decided(entry.block)

    def _learn_decided(self, block: Block) -> None:
        for applied in self.learner.learn(block):
            self._fx.committed.append(applied.block)
            self._fx.to_persist.append(DecidedRecord(block=applied.block))
            if self.role is Role.LEADER:
                for txn, result in applied.results:
                    value = txn.value if txn.op == "put" else result.value
                    self._reply_client(
                        txn.client,
                        ClientReply(client=txn.client, seq=txn.seq, outcome="ok", value=value),
                    )
        self.acceptor.forget_below(self.commit_index)

    def handle_commit(self, sender: int, m: Message) -> None:
        assert isinstance(m, Commit)
        if self.acceptor.is_stale(m.ballot):
            return
        self._follow(m.ballot)
        self._learn_commit(m.ballot, m.commit_index)

    def handle_heartbeat(self, sender: int, m: Message) -> None:
        assert isinstance(m, Heartbeat)
        if self._refuse_if_stale(sender, m.ballot):
            return
        self._follow(m.ballot)
        self._learn_commit(m.ballot, m.commit_index)
        self._send(sender, HeartbeatAck(ballot=m.ballot, commit_index=self.commit_index))

    def handle_heartbeat_ack(self, sender: int, m: Message) -> None:
        assert isinstance(m, HeartbeatAck)
        leader = self.leader
        if self.role is not Role.LEADER or leader is None or m.ballot != leader.ballot:
            return
        leader.last_ack_ms[sender] = self.now_ms
        if m.commit_index < self.commit_index:
            end = m.commit_index + self.params.catchup_blocks_max
            self._send(sender, CatchUp(blocks=tuple(self.learner.chain[m.commit_index : end])))

    def handle_catch_up(self, sender: int, m: Message) -> None:
        assert isinstance(m, CatchUp)
        for block in m.blocks:
            if block.height >= self.commit_index:
                verify_block(block, self.params.difficulty)
                self._learn_decided(block)

    def handle_reject(self, sender: int, m: Message) -> None:
        assert isinstance(m, Reject)
        self.max_round_seen = max(self.max_round_seen, m.ballot.round)
        mine = self.leader.ballot if self.leader else (
            self.candidate.ballot if self.candidate else None
        )
        if mine is not None and m.ballot > mine:
            self._trace(f"rejected by s{sender}: b={m.ballot} > b={mine}")
            self.become_follower(None)

    # --- clients ------------------------------------------------------------------------

    def handle_client_request(self, client: int, m: Message) -> None:
        assert isinstance(m, ClientRequest)
        if self.role is Role.LEADER:
            self._lead_request(m)
        elif self.role is Role.CANDIDATE:
            self.queue.push(m)
        elif m.nominate and self._leader_is_suspect():
            self._trace(f"nominated by c{client}")
            self.become_candidate()
            self.queue.push(m)
        else:
            self._reply_client(
                client, Redirect(client=m.client, seq=m.seq, leader_hint=self.leader_id)
            )

    def _leader_is_suspect(self) -> bool:
        quiet_ms = self.now_ms - self.last_leader_contact_ms
        return quiet_ms >= 2 * self.params.heartbeat_interval_ms

    def _lead_request(self, m: ClientRequest) -> None:
        leader = self.leader
        assert leader is not None
        saved = self.learner.kv.result_of(m.client, m.seq)
        if saved is not None:
            value = m.value if m.op == "put" else saved.value
            self._reply_client(
                m.client, ClientReply(client=m.client, seq=m.seq, outcome="ok", value=value)
            )
            return
        rid = (m.client, m.seq)
        if rid in leader.in_flight or rid in self.queue:
            return  # answered when its block commits
        if not self.queue.push(m):
            self._trace(f"queue full; dropped c{m.client}#{m.seq}")
            return
        self.maybe_propose()

    # --- invariants ---------------------------------------------------------------------

    def check_invariants(self) -> None:
        """Cheap structural checks after every step; a failure is a paxlab bug."""
        assert (self.role is Role.LEADER) == (self.leader is not None)
        assert (self.role is Role.CANDIDATE) == (self.candidate is not None)
        if self.leader is not None:
            assert all(s >= self.commit_index for s in self.leader.proposals)
            assert self.leader.next_slot >= self.commit_index
