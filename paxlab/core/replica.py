"""One server's protocol state machine: proposer/leader, acceptor and learner in one.

`Replica.step(now_ms, envelope) -> Output` is the only door. It handles one message (a
peer's, a client's, or a local timer event) in three stages, and then the messages the
replica sent itself the same way:

1. checks: the message is for a server, and the sender may send this kind;
2. the ballot gate, written once for every role: refuse a stale ballot with a Reject,
   check an Accept's block, promise a current ballot, and step down before a higher one
   (or a Reject naming one);
3. the table: `(role, message type) -> handler`. A message a role does not handle is
   dropped; handlers live by role in step_acceptor.py and step_leader.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from paxlab.core.chain import verify_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot, node_parts
from paxlab.core.leader import CandidateState, LeaderState
from paxlab.core.messages import (
    Accept,
    Accepted,
    Boot,
    Campaign,
    CatchUp,
    ClientRequest,
    ElectionTimeout,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    HeartbeatTimeout,
    InstallSnapshot,
    Message,
    Prepare,
    PreVote,
    PreVoteReply,
    Promise,
    Reject,
)
from paxlab.core.output import Effects, Output
from paxlab.core.recovery import RecoveredState
from paxlab.core.replica_base import FollowerState, ReplicaParams, Role, RoleState
from paxlab.core.step_acceptor import AcceptorSteps
from paxlab.core.step_leader import LeaderSteps

__all__ = ["Replica", "ReplicaParams", "Role"]

Handler = Callable[[int, Any], None]

# Messages whose ballot an acceptor promises: the gate refuses them below the promise.
_PROMISED_BALLOT = frozenset({Prepare, Accept, Heartbeat})
_SERVER_MESSAGES = frozenset({
    Boot, Campaign, ElectionTimeout, HeartbeatTimeout, Prepare, Promise, Accept, Accepted, Reject,
    Heartbeat, HeartbeatAck, CatchUp, ClientRequest, PreVote, PreVoteReply, InstallSnapshot,
})


class Replica(AcceptorSteps, LeaderSteps):
    """Multi-Paxos with a stable leader. Reading order: step, the gate, the table."""

    def __init__(
        self,
        replica_id: int,
        params: ReplicaParams,
        rng: random.Random,
        *,
        recovered: RecoveredState | None = None,
    ) -> None:
        super().__init__(replica_id, params, rng, recovered=recovered)
        every_role: dict[type[Message], Handler] = {
            Boot: self.handle_boot,
            PreVote: self.handle_pre_vote,
            Prepare: self.handle_prepare,
            Accept: self.handle_accept,
            Heartbeat: self.handle_heartbeat,
        }
        # Keyed by the role-state class, which is the role (replica_base.Role).
        self._table: dict[type[RoleState], dict[type[Message], Handler]] = {
            FollowerState: {
                **every_role,
                CatchUp: self.handle_catch_up,
                InstallSnapshot: self.handle_install_snapshot,
                ElectionTimeout: self.handle_election_timeout_follower,
                Campaign: self.handle_campaign,
                PreVoteReply: self.handle_pre_vote_reply,
                ClientRequest: self.handle_client_request_follower,
            },
            CandidateState: {
                **every_role,
                CatchUp: self.handle_catch_up,
                InstallSnapshot: self.handle_install_snapshot,
                ElectionTimeout: self.handle_election_timeout_candidate,
                Campaign: self.handle_campaign,
                Promise: self.handle_promise,
                ClientRequest: self.handle_client_request_candidate,
            },
            LeaderState: {
                **every_role,
                HeartbeatTimeout: self.handle_heartbeat_timeout,
                Accepted: self.handle_accepted,
                HeartbeatAck: self.handle_heartbeat_ack,
                ClientRequest: self.handle_client_request_leader,
            },
        }

    # --- the one door -------------------------------------------------------------------

    def step(self, now_ms: int, envelope: Envelope) -> Output:
        """Handle one envelope (and the messages this replica sends itself) at `now_ms`."""
        if now_ms < self.now_ms:
            raise UsageError(f"time went backwards: {now_ms} < {self.now_ms}")
        if envelope.target != self.node:
            raise UsageError(f"{self.node} stepped with an envelope for {envelope.target}")
        self.now_ms = now_ms
        self._fx = fx = Effects()
        self._dispatch(envelope)
        local = self._local  # what the handlers sent this replica, in order
        while local:
            self._dispatch(local.popleft())
        if self.params.snapshot_every:
            self.maybe_compact()
        if self._compacting is not None:
            self._finish_compaction()
        self.check_invariants()
        return fx.freeze()

    def _dispatch(self, envelope: Envelope) -> None:
        message = envelope.message
        kind = type(message)
        if kind not in _SERVER_MESSAGES:
            self._trace(f"ignored {envelope.describe()}: not for a server")
            return
        # Clients may only send requests, and servers only protocol messages: anything
        # else is a confused or hostile peer, traced and dropped.
        sender_kind, sender = node_parts(envelope.source)
        if (sender_kind == "client") != (kind is ClientRequest):
            self._trace(f"ignored {envelope.describe()}: wrong kind of sender")
            return
        try:
            if kind in _PROMISED_BALLOT:
                if not self._gate(sender, message):  # type: ignore[arg-type]
                    return
            elif kind is Reject:
                self._gate_reject(sender, message)  # type: ignore[arg-type]
                return
            handler = self._table[type(self._state)].get(kind)
            if handler is not None:
                handler(sender, message)
        except RemoteError as error:
            self._trace(f"rejected {envelope.describe()}: {error}")

    # --- the ballot gate ----------------------------------------------------------------

    def _gate(self, sender: int, m: Prepare | Accept | Heartbeat) -> bool:
        """Refuse a stale ballot; otherwise promise it and follow where it leads.
        True: the role's handler runs next."""
        promised = self.acceptor.promised
        if promised is not None and m.ballot < promised:
            self.refuse_stale(sender, m)
            return False
        kind = type(m)
        if kind is Prepare:
            self._hear_candidate(m.ballot)
            return True
        if kind is Accept and sender != self.id and m.slot >= self.learner.commit_index:
            # A block for an open slot must be valid before it can even make us follow
            # (one below the commit index is only compared with the chain's block).
            verify_block(m.block, self.params.difficulty)  # type: ignore[union-attr]
        self._follow(m.ballot)
        return True

    def refuse_stale(self, sender: int, m: Prepare | Accept | Heartbeat) -> None:
        """"An acceptor promises never to accept a proposal numbered less than n"
        (Paxos Made Simple): it answers with the higher ballot it promised instead."""
        assert self.acceptor.promised is not None
        self._send(sender, Reject(ballot=self.acceptor.promised))

    def _hear_candidate(self, ballot: Ballot) -> None:
        """A Prepare at `ballot` >= our promise. A new ballot of another replica makes us
        a follower with no known leader, and lets its candidate finish before our own
        election timeout fires."""
        if ballot != self.acceptor.promised and ballot.replica != self.id:
            state = self._state
            if type(state) is FollowerState:
                state.prevote = None  # someone else runs: let it finish
            else:
                self.become_follower(None)
            self.leader_id = None
            self.last_leader_contact_ms = self.now_ms
        self._raise_promise(ballot)

    def _follow(self, ballot: Ballot) -> None:
        """An Accept or Heartbeat at `ballot` >= our promise: its replica leads it."""
        if (ballot is self.acceptor.promised and type(self._state) is FollowerState
                and self.leader_id == ballot.replica != self.id):
            # Already following this very ballot (nearly every Accept and Heartbeat):
            # the promise stands and max_round_seen covers it (check_invariants).
            self.last_leader_contact_ms = self.now_ms
            return
        self._raise_promise(ballot)
        if ballot.replica == self.id:
            return
        state = self._state
        if type(state) is not FollowerState:
            self.become_follower(ballot.replica)
        else:
            state.prevote = None  # a leader spoke: no need to run
            if self.leader_id != ballot.replica:
                self._trace(f"following s{ballot.replica} b={ballot}")
                self._redirect_queue(ballot.replica)
        self.leader_id = ballot.replica
        self.last_leader_contact_ms = self.now_ms

    def _gate_reject(self, sender: int, m: Reject) -> None:
        """A Reject names a ballot above the one we sent: remember its round, and a
        candidate or leader it outranks steps down."""
        self.max_round_seen = max(self.max_round_seen, m.ballot.round)
        mine = self.leader.ballot if self.leader else (
            self.candidate.ballot if self.candidate else None
        )
        if mine is not None and m.ballot > mine:
            self._trace(f"rejected by s{sender}: b={m.ballot} > b={mine}")
            self.become_follower(None)

    # --- invariants ---------------------------------------------------------------------

    def check_invariants(self) -> None:
        """Cheap structural checks after every step; a failure is a paxlab bug."""
        promised = self.acceptor.promised
        assert promised is None or self.max_round_seen >= promised.round
        leader = self.leader
        if leader is not None:
            assert self.leader_id == self.id
            commit_index = self.learner.commit_index
            proposals = leader.proposals
            assert not proposals or min(proposals) >= commit_index
            assert leader.next_slot >= commit_index
