"""Leader election: timeouts, heartbeats out, phase 1 (Prepare/Promise) and nacks.

A follower that hears no leader for its randomized timeout runs for leader with a higher
ballot; a candidate with a majority of promises takes over the open slots; a leader that
has not heard a majority for an election timeout steps down.
"""

from __future__ import annotations

from paxlab.core.chain import verify_block
from paxlab.core.leader import LeaderState
from paxlab.core.messages import (
    Accept,
    ElectionTimeout,
    Heartbeat,
    HeartbeatTimeout,
    Message,
    Prepare,
    Promise,
    Reject,
)
from paxlab.core.replica_base import ELECTION_TIMER, HEARTBEAT_TIMER, ReplicaBase, Role

__all__ = ["ElectionMixin"]


class ElectionMixin(ReplicaBase):
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
        if sender != self.id:
            # Every block from a peer is verified before it can enter the chain or a
            # takeover plan; a promise carrying a bad one is refused whole.
            for block in (*m.decided, *(entry.block for entry in m.accepted)):
                verify_block(block, self.params.difficulty)
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

    def handle_reject(self, sender: int, m: Message) -> None:
        assert isinstance(m, Reject)
        self.max_round_seen = max(self.max_round_seen, m.ballot.round)
        mine = self.leader.ballot if self.leader else (
            self.candidate.ballot if self.candidate else None
        )
        if mine is not None and m.ballot > mine:
            self._trace(f"rejected by s{sender}: b={m.ballot} > b={mine}")
            self.become_follower(None)

