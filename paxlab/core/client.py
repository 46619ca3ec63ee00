"""A client session: one operation at a time, numbered by seq, retried until answered.

Every attempt of one operation carries the same (client, seq), so the replicated state
machine applies it at most once however many servers see it. The session follows leader
hints, and when a server stays silent it moves on to the next one and nominates it: a
server that has lost touch with its leader then runs for leader itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from paxlab.core.errors import UsageError
from paxlab.core.fast_init import fast_init
from paxlab.core.ids import NodeId, client_node, node_kind, node_number, server_node
from paxlab.core.messages import (
    ClientReply,
    ClientRequest,
    Envelope,
    Redirect,
    RequestTimeout,
    Submit,
)
from paxlab.core.output import Completion, Effects, Output, TimerCommand

__all__ = ["ClientParams", "ClientSession", "Operation"]

REQUEST_TIMER = "request"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientParams:
    server_count: int
    request_timeout_ms: int = 400  # per attempt
    op_timeout_ms: int = 5000  # then the outcome is unknown: "info"
    redirect_backoff_ms: int = 20  # pause before retrying when nobody knows a leader


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    op: str
    key: str
    value: str | None


@dataclass(slots=True)
class _Pending:
    seq: int
    operation: Operation
    target: int
    attempt: int
    deadline_ms: int
    hops: int = 0  # redirects followed since the last pause; bounded to stop ping-pong


class ClientSession:
    """Pure client state machine: `step(now_ms, envelope) -> Output`, like a replica."""

    def __init__(
        self, client_id: int, params: ClientParams, rng: random.Random, last_seq: int = 0
    ) -> None:
        """`last_seq`: the highest seq an earlier incarnation of this client used, so a
        restarted client never reuses a (client, seq) pair."""
        self.id = client_id
        self.node: NodeId = client_node(client_id)
        self.params = params
        self.rng = rng
        self.now_ms = 0
        self.seq = last_seq  # Invariant: the seq of the latest operation submitted.
        self.leader_hint: int | None = None
        self.pending: _Pending | None = None
        self._fx = Effects()

    @property
    def busy(self) -> bool:
        return self.pending is not None

    def step(self, now_ms: int, envelope: Envelope) -> Output:
        if now_ms < self.now_ms:
            raise UsageError(f"time went backwards: {now_ms} < {self.now_ms}")
        self.now_ms = now_ms
        self._fx = Effects()
        m = envelope.message
        if isinstance(m, Submit):
            self._submit(Operation(op=m.op, key=m.key, value=m.value))
        elif isinstance(m, RequestTimeout):
            self._on_timeout(m)
        elif isinstance(m, ClientReply):
            self._on_reply(envelope.source, m)
        elif isinstance(m, Redirect):
            self._on_redirect(envelope.source, m)
        else:
            self._fx.trace.append(f"ignored {envelope.describe()}")
        return self._fx.freeze()

    def give_up(self, now_ms: int) -> Output:
        """The run is over: an operation still pending has an unknown outcome."""
        self.now_ms = max(self.now_ms, now_ms)
        self._fx = Effects()
        if self.pending is not None:
            self._finish("info", None, "run ended before an answer")
        return self._fx.freeze()

    def _submit(self, operation: Operation) -> None:
        if self.pending is not None:
            raise UsageError(f"c{self.id}: submit while op {self.pending.seq} is pending")
        self.seq += 1
        first = (
            self.leader_hint
            if self.leader_hint is not None
            else self.id % self.params.server_count
        )
        self.pending = _Pending(
            seq=self.seq,
            operation=operation,
            target=first,
            attempt=0,
            deadline_ms=self.now_ms + self.params.op_timeout_ms,
        )
        self._send_attempt(nominate=False)

    def _send_attempt(self, nominate: bool) -> None:
        pending = self.pending
        assert pending is not None
        pending.attempt += 1
        op = pending.operation
        request = ClientRequest(
            client=self.id, seq=pending.seq, op=op.op,  # type: ignore[arg-type]
            key=op.key, value=op.value, nominate=nominate,
        )
        self._fx.to_send.append(
            Envelope(source=self.node, target=server_node(pending.target), message=request)
        )
        self._arm(self.now_ms + self.params.request_timeout_ms)

    def _arm(self, at_ms: int) -> None:
        pending = self.pending
        assert pending is not None
        self._fx.timers.append(
            TimerCommand(
                key=REQUEST_TIMER,
                at_ms=min(at_ms, pending.deadline_ms),
                message=RequestTimeout(seq=pending.seq, attempt=pending.attempt),
            )
        )

    def _on_timeout(self, m: RequestTimeout) -> None:
        pending = self.pending
        if pending is None or m.seq != pending.seq or m.attempt != pending.attempt:
            return  # a timer for an attempt already answered or superseded
        if self.now_ms >= pending.deadline_ms:
            self._finish("info", None, f"no answer within {self.params.op_timeout_ms} ms")
            return
        if self.leader_hint == pending.target:
            self.leader_hint = None
        pending.target = (pending.target + 1) % self.params.server_count
        self._send_attempt(nominate=True)

    def _on_reply(self, source: str, m: ClientReply) -> None:
        pending = self.pending
        if pending is None or m.seq != pending.seq or m.client != self.id:
            return  # a late answer to an earlier attempt
        if node_kind(source) == "server":
            self.leader_hint = node_number(source)
        self._finish(m.outcome, m.value, m.error)

    def _on_redirect(self, source: str, m: Redirect) -> None:
        pending = self.pending
        if pending is None or m.seq != pending.seq:
            return
        asked = node_number(source)
        if asked != pending.target:
            return  # a redirect from an attempt we already moved on from
        hint = m.leader_hint
        usable = hint is not None and hint != asked and 0 <= hint < self.params.server_count
        if usable and pending.hops < self.params.server_count:
            assert hint is not None
            self.leader_hint = hint
            pending.target = hint
            pending.hops += 1
            self._send_attempt(nominate=False)
            return
        # Nobody knows a leader yet (an election is running), or hints go round in a
        # circle: pause, then try the next server.
        self.leader_hint = None
        pending.hops = 0
        pending.attempt += 1
        self._arm(self.now_ms + self.params.redirect_backoff_ms)

    def _finish(self, outcome: str, read_value: str | None, error: str | None) -> None:
        pending = self.pending
        assert pending is not None
        op = pending.operation
        value = op.value if op.op == "put" else read_value
        self._fx.completed.append(
            Completion(
                client=self.id, seq=pending.seq, op=op.op,  # type: ignore[arg-type]
                key=op.key, value=value, outcome=outcome,  # type: ignore[arg-type]
                error=error,
            )
        )
        self._fx.timers.append(TimerCommand(key=REQUEST_TIMER, at_ms=None))
        self.pending = None
