"""One server's protocol state machine: proposer/leader, acceptor and learner in one.

`Replica.step(now_ms, envelope) -> Output` is the only door: it handles one message (a
peer's, a client's, or a local timer event) and returns what to persist, send and arm.
The handlers live in mixins by phase (elections.py, replication.py, requests.py) over
the shared state in replica_base.py; this module wires them into one dispatch table.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from paxlab.core.elections import ElectionMixin
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import node_parts
from paxlab.core.messages import (
    Accept,
    Accepted,
    Boot,
    CatchUp,
    ClientRequest,
    ElectionTimeout,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    HeartbeatTimeout,
    Message,
    Prepare,
    Promise,
    Reject,
)
from paxlab.core.output import Effects, Output
from paxlab.core.recovery import RecoveredState
from paxlab.core.replica_base import ReplicaParams, Role
from paxlab.core.replication import ReplicationMixin
from paxlab.core.requests import ClientRequestMixin

__all__ = ["Replica", "ReplicaParams", "Role"]


class Replica(ElectionMixin, ReplicationMixin, ClientRequestMixin):
    """Multi-Paxos with a stable leader. Reading order: step, then the handlers by phase."""

    def __init__(
        self,
        replica_id: int,
        params: ReplicaParams,
        rng: random.Random,
        *,
        recovered: RecoveredState | None = None,
    ) -> None:
        super().__init__(replica_id, params, rng, recovered=recovered)
        self._handlers: dict[type[Message], Callable[[int, Message], None]] = {
            Boot: self.handle_boot,
            ElectionTimeout: self.handle_election_timeout,
            HeartbeatTimeout: self.handle_heartbeat_timeout,
            Prepare: self.handle_prepare,
            Promise: self.handle_promise,
            Accept: self.handle_accept,
            Accepted: self.handle_accepted,
            Reject: self.handle_reject,
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
        self._dispatch(envelope)
        local = self._local  # what the handlers sent this replica, in order
        while local:
            self._dispatch(local.popleft())
        self.check_invariants()
        return self._fx.freeze()

    def _dispatch(self, envelope: Envelope) -> None:
        message = envelope.message
        kind = type(message)
        handler = self._handlers.get(kind)
        if handler is None:
            self._trace(f"ignored {envelope.describe()}: not for a server")
            return
        # Clients may only send requests, and servers only protocol messages: anything
        # else is a confused or hostile peer, traced and dropped.
        sender_kind, sender = node_parts(envelope.source)
        if (sender_kind == "client") != (kind is ClientRequest):
            self._trace(f"ignored {envelope.describe()}: wrong kind of sender")
            return
        try:
            handler(sender, message)
        except RemoteError as error:
            self._trace(f"rejected {envelope.describe()}: {error}")

    # --- invariants ---------------------------------------------------------------------

    def check_invariants(self) -> None:
        """Cheap structural checks after every step; a failure is a paxlab bug."""
        assert (self.role is Role.LEADER) == (self.leader is not None)
        assert (self.role is Role.CANDIDATE) == (self.candidate is not None)
        promised = self.acceptor.promised
        assert promised is None or self.max_round_seen >= promised.round
        leader = self.leader
        if leader is not None:
            commit_index = len(self.learner.chain)
            # At most pipeline_window proposals: min() is cheap, unlike a generator.
            proposals = leader.proposals
            assert not proposals or min(proposals) >= commit_index
            assert leader.next_slot >= commit_index

