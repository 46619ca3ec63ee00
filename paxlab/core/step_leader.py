"""What candidates and leaders handle: timeouts, Promise, Accepted, HeartbeatAck, client
requests and proposals.

A follower that hears no leader for its randomized timeout runs for leader with a higher
ballot (with `prevote`, only after a majority said in a PreVoteReply that it could win);
a candidate with a majority of promises takes over the open slots; a leader
keeps the pipeline full from the request queue, commits slots in order as majorities
answer, and steps down when it has not heard a majority for an election timeout.
"""

from __future__ import annotations

from paxlab.core.chain import Block, seal_block, verify_block
from paxlab.core.leader import CandidateState, LeaderState, Proposal, plan_takeover, txn_of
from paxlab.core.messages import (
    Accept,
    Accepted,
    Campaign,
    CatchUp,
    ClientReply,
    ClientRequest,
    ElectionTimeout,
    Heartbeat,
    HeartbeatAck,
    HeartbeatTimeout,
    InstallSnapshot,
    Prepare,
    PreVote,
    PreVoteReply,
    Promise,
    Redirect,
)
from paxlab.core.replica_base import (
    ELECTION_TIMER,
    HEARTBEAT_TIMER,
    FollowerState,
    PreVoteRound,
    ReplicaBase,
)

__all__ = ["LeaderSteps"]


class LeaderSteps(ReplicaBase):
    """Handlers for the proposer side; the dispatch table calls each for its role only."""

    # --- timeouts -----------------------------------------------------------------------

    def handle_election_timeout_follower(self, _sender: int, _m: ElectionTimeout) -> None:
        """Run for leader unless a leader spoke within the timeout (then wait again)."""
        if self.now_ms - self.last_leader_contact_ms < self.election_timeout_ms:
            self._arm(
                ELECTION_TIMER,
                self.last_leader_contact_ms + self.election_timeout_ms,
                ElectionTimeout(),
            )
            return
        self.maybe_campaign()

    def maybe_campaign(self) -> None:
        """Run for leader: at once, or with `prevote` only after a pre-vote round."""
        if self.params.prevote:
            self.start_prevote()
        else:
            self.become_candidate()

    def handle_campaign(self, _sender: int, _m: Campaign) -> None:
        """Run for leader now, whoever spoke last (a follower or a candidate; a leader has
        no handler and drops it). No pre-vote, even with `prevote`: a campaign is an
        operator's deliberate transfer under a live leader, which every sticky server
        would refuse; its higher ballot deposes the old leader safely, as Paxos allows."""
        self.become_candidate()

    def handle_election_timeout_candidate(self, _sender: int, _m: ElectionTimeout) -> None:
        """Phase 1 did not finish in time: run again with a higher ballot; with `prevote`,
        ask first, so a candidate cut off mid-election stops raising its ballot."""
        if self.params.prevote:
            self.become_follower(None)
            self.start_prevote()
            return
        self.become_candidate()

    # --- pre-vote (Raft thesis 9.6, on Paxos ballots) -----------------------------------

    def start_prevote(self) -> None:
        """Ask every server whether it would back the ballot we would run with, without
        raising our own: a server that cannot reach a majority keeps its ballot, so on
        rejoining it cannot depose a leader the majority still hears."""
        state = self._state
        assert type(state) is FollowerState, "only a follower runs a pre-vote"
        ballot = self.next_ballot()
        state.prevote = PreVoteRound(ballot=ballot, grants={self.id})
        self._trace(f"pre-vote b={ballot} commit={self.commit_index}")
        if len(state.prevote.grants) >= self.params.majority:
            self.become_candidate()
            return
        self._arm_election_timer()  # no majority by then: another round, same ballot
        self._broadcast(PreVote(ballot=ballot, commit_index=self.commit_index),
                        include_self=False)

    def handle_pre_vote_reply(self, sender: int, m: PreVoteReply) -> None:
        """Count a grant for the round in progress; a majority (us included) starts
        phase 1. The rounds others report only ever raise the ballot we will use."""
        state = self._state
        assert type(state) is FollowerState
        self.max_round_seen = max(self.max_round_seen, m.max_round)
        round_ = state.prevote
        if round_ is None or m.ballot != round_.ballot or not m.granted:
            return
        round_.grants.add(sender)
        if len(round_.grants) >= self.params.majority:
            self._trace(f"pre-vote won b={round_.ballot} grants={sorted(round_.grants)}")
            self.become_candidate()

    def handle_heartbeat_timeout(self, _sender: int, _m: HeartbeatTimeout) -> None:
        leader = self._state
        assert type(leader) is LeaderState
        if not self._has_quorum_contact(leader):
            self._trace("lost contact with a majority; stepping down")
            self.become_follower(None)
            return
        self._broadcast(
            Heartbeat(ballot=leader.ballot, commit_index=self.commit_index), include_self=False
        )
        self._resend_accepts(leader)
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

    def handle_promise(self, sender: int, m: Promise) -> None:
        candidate = self._state
        assert type(candidate) is CandidateState
        if m.ballot != candidate.ballot or m.from_slot != candidate.from_slot:
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
        plan = self.plan_takeover(candidate)
        self.become_leader(plan)
        for block in plan:
            self._propose(block)
        self.maybe_propose()

    def plan_takeover(self, candidate: CandidateState) -> list[Block]:
        """The blocks to propose for the open slots: what the promises report (leader.py)."""
        return plan_takeover(
            self.commit_index,
            self.learner.tip_hash,
            list(candidate.promises.values()),
            self.learner.kv,
            self.params.difficulty,
        )

    # --- phase 2 ------------------------------------------------------------------------

    def handle_accepted(self, sender: int, m: Accepted) -> None:
        leader = self._state
        assert type(leader) is LeaderState
        if m.ballot != leader.ballot:
            return
        leader.last_ack_ms[sender] = self.now_ms
        proposal = leader.proposals.get(m.slot)
        if proposal is None or proposal.block.hash != m.block_hash:
            return
        proposal.acks.add(sender)
        if len(proposal.acks) >= self.params.majority:
            proposal.chosen = True
        learner = self.learner
        chain, base = learner.chain, learner.base  # base + len(chain) is the commit index
        before = len(chain)
        while (head := leader.proposals.get(base + len(chain))) is not None and head.chosen:
            del leader.proposals[base + len(chain)]
            leader.in_flight.difference_update(t.request_id for t in head.block.txns)
            self._learn_decided(head.block)
        if len(chain) > before:
            # Followers learn the new commit index from the next Accept or Heartbeat (at
            # most heartbeat_interval_ms away), which carry it. Nothing a client waits
            # for depends on it: the leader answers clients as it commits.
            self.maybe_propose()

    def handle_heartbeat_ack(self, sender: int, m: HeartbeatAck) -> None:
        leader = self._state
        assert type(leader) is LeaderState
        if m.ballot != leader.ballot:
            return
        leader.last_ack_ms[sender] = self.now_ms
        if m.commit_index < self.learner.base:
            # The blocks it lacks were compacted away: send our state instead, at most
            # once per minimum election timeout (it is the size of the KV store).
            last = leader.snapshot_sent_ms.get(sender)
            if last is None or self.now_ms - last >= self.params.election_timeout_ms_min:
                leader.snapshot_sent_ms[sender] = self.now_ms
                self._send(sender, InstallSnapshot(snapshot=self.snapshot_now()))
        elif m.commit_index < self.commit_index:
            blocks = self.learner.blocks_from(m.commit_index, self.params.catchup_blocks_max)
            self._send(sender, CatchUp(blocks=blocks))

    def maybe_propose(self) -> bool:
        """Fill the pipeline window from the queue, a batch per block; True if any sent."""
        leader = self._state
        if type(leader) is not LeaderState:
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
        leader = self._state
        assert type(leader) is LeaderState and block.height == leader.next_slot
        leader.proposals[block.height] = Proposal(block=block, sent_ms=self.now_ms)
        leader.next_slot += 1
        leader.last_hash = block.hash
        leader.in_flight.update(t.request_id for t in block.txns)
        self._broadcast(
            Accept(ballot=leader.ballot, slot=block.height, block=block,
                   commit_index=self.commit_index)
        )

    def _resend_accepts(self, leader: LeaderState) -> None:
        """Send each proposal unanswered for accept_retry_ms again, to those who did not
        accept it: the network may have lost the Accept or its answer."""
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

    # --- client requests, by role -------------------------------------------------------

    def handle_client_request_leader(self, _client: int, m: ClientRequest) -> None:
        """Lead it into the log, once: a (client, seq) already applied gets the saved
        result, and a retry of one queued or in flight is answered when it commits."""
        leader = self._state
        assert type(leader) is LeaderState
        kv = self.learner.kv
        saved = kv.result_of(m.client, m.seq)
        if saved is not None:
            value = m.value if m.op == "put" else saved.value
            self._reply_client(
                m.client, ClientReply(client=m.client, seq=m.seq, outcome="ok", value=value)
            )
            return
        if kv.is_applied(m.client, m.seq):
            # Older than the client's newest applied op: a late copy, since the client
            # moved on (one op at a time), and its result is retired (kv.ClientSeqs).
            self._trace(f"c{m.client}#{m.seq}: applied before the client's newest op; dropped")
            return
        rid = (m.client, m.seq)
        if rid in leader.in_flight or rid in self.queue:
            return
        if not self.queue.push(m):
            self._trace(f"queue full; dropped c{m.client}#{m.seq}")
            return
        self.maybe_propose()

    def handle_client_request_candidate(self, _client: int, m: ClientRequest) -> None:
        """Keep it for when we lead (or redirect it when we step down)."""
        self.queue.push(m)

    def handle_client_request_follower(self, client: int, m: ClientRequest) -> None:
        """Redirect to the leader we know; a client that nominates us, while our leader
        has been quiet for two heartbeats, makes us run for leader."""
        if m.nominate and self._leader_is_suspect():
            self._trace(f"nominated by c{client}")
            state = self._state
            if not (type(state) is FollowerState and state.prevote is not None):
                self.maybe_campaign()
            self.queue.push(m)
            return
        self._reply_client(
            client, Redirect(client=m.client, seq=m.seq, leader_hint=self.leader_id)
        )

    def _leader_is_suspect(self) -> bool:
        quiet_ms = self.now_ms - self.last_leader_contact_ms
        return quiet_ms >= 2 * self.params.heartbeat_interval_ms
