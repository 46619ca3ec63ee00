"""Phase 2 and learning: Accept/Accepted, proposing, commits, heartbeats in, catch-up.

The acceptor side follows the chain rule (acceptor.py); the leader side keeps the
pipeline full from the request queue and commits slots in order as majorities answer.
"""

from __future__ import annotations

from paxlab.core.chain import Block, seal_block, verify_block
from paxlab.core.ids import Ballot
from paxlab.core.leader import Proposal, txn_of
from paxlab.core.messages import (
    Accept,
    Accepted,
    CatchUp,
    ClientReply,
    Heartbeat,
    HeartbeatAck,
    Message,
    Reject,
)
from paxlab.core.output import AcceptedRecord, DecidedRecord
from paxlab.core.replica_base import ReplicaBase, Role

__all__ = ["ReplicationMixin"]


class ReplicationMixin(ReplicaBase):
    # --- phase 2 ------------------------------------------------------------------------

    def _follow(self, ballot: Ballot) -> None:
        """A message from the leader of `ballot` (not stale): follow it."""
        if (ballot is self.acceptor.promised and self.role is Role.FOLLOWER
                and self.leader_id == ballot.replica != self.id):
            # Already following this very ballot (nearly every Accept and Heartbeat):
            # the promise stands and max_round_seen covers it (check_invariants).
            self.last_leader_contact_ms = self.now_ms
            return
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
        difficulty = self.params.difficulty
        if (sender != self.id and m.block.verified_difficulty < difficulty
                and m.slot >= self.commit_index):
            # Verify before anything else: an invalid block must not even make us follow.
            # (A Block object verified once stays verified: see Block.verified_difficulty.)
            verify_block(m.block, difficulty)
        self._follow(m.ballot)
        self._learn_commit(m.ballot, m.commit_index)
        self._accept_run(sender, m)

    def _accept_run(self, sender: int, first: Accept) -> None:
        """Accept `first` and every parked successor it unblocks."""
        accept: Accept | None = first
        while accept is not None:
            accept = self._maybe_accept(sender, accept)

    def _retry_parked(self) -> None:
        """After the chain grew by other means (catch-up, commits), an Accept parked for
        the new tip may link now: without this it would wait for the leader to resend."""
        waiting = self.acceptor.parked.get(self.commit_index)
        if waiting is not None and waiting.ballot == self.acceptor.promised:
            del self.acceptor.parked[self.commit_index]
            self._accept_run(waiting.ballot.replica, waiting)

    def _maybe_accept(self, sender: int, m: Accept) -> Accept | None:
        """Accept `m` if it links; return a parked successor that may now link too."""
        if m.slot < self.commit_index:
            if self.learner.chain[m.slot].hash == m.block.hash:
                self._send(sender, Accepted(ballot=m.ballot, slot=m.slot, block_hash=m.block.hash))
            return None
        # No verify here: handle_accept verified m (and every Accept it parked) already.
        if not self.acceptor.links(m, self.learner):
            self.acceptor.park(m, self.commit_index)
            return None
        entry = self.acceptor.accept(m)
        self._fx.to_persist.append(AcceptedRecord(slot=m.slot, ballot=m.ballot, block=m.block))
        self._send(sender, Accepted(ballot=entry.ballot, slot=m.slot, block_hash=m.block.hash))
        # Nearly always nothing is parked: only Accepts the network reordered wait there.
        return self.acceptor.unpark(m.slot + 1, m.ballot) if self.acceptor.parked else None

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
        chain = self.learner.chain  # len(chain) is the commit index
        before = len(chain)
        while (head := leader.proposals.get(len(chain))) is not None and head.chosen:
            del leader.proposals[len(chain)]
            leader.in_flight.difference_update(t.request_id for t in head.block.txns)
            self._learn_decided(head.block)
        if len(chain) > before:
            # Followers learn the new commit index from the next Accept or Heartbeat (at
            # most heartbeat_interval_ms away), which carry it: a message of its own per
            # chosen slot would cost one more message per follower per block. Nothing a
            # client waits for depends on it: the leader answers clients as it commits.
            self.maybe_propose()

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
        chain = self.learner.chain  # len(chain) is the commit index
        before = len(chain)
        if before >= commit_index:
            return  # nothing new: the common case for every Accept after the first
        accepted = self.acceptor.accepted
        while len(chain) < commit_index:
            entry = accepted.get(len(chain))
            if entry is None or entry.ballot != ballot:
                break
            self._learn_decided(entry.block)
        if len(chain) > before:
            self._retry_parked()

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
        if self.role is Role.LEADER:
            return  # a leader's chain grows only by its own commits
        before = self.commit_index
        for block in m.blocks:
            if block.height >= self.commit_index:
                verify_block(block, self.params.difficulty)
            # Blocks we already hold are compared: a different one is a conflict the
            # learner refuses loudly (RemoteError, logged), never silently skipped.
            self._learn_decided(block)
        if self.commit_index > before:
            self._retry_parked()

