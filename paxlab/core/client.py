"""A client session: one operation at a time, numbered by seq, retried until answered.

Every attempt of one operation carries the same (client, seq), so the replicated state
machine applies it at most once however many servers see it. The session follows leader
hints, and when a server stays silent it moves on to the next one and nominates it: a
server that has lost touch with its leader then runs for leader itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from paxlab.core._fast_init import fast_init
from paxlab.core.errors import UsageError
from paxlab.core.ids import NodeId, client_node, node_parts, server_node
from paxlab.core.messages import (
    ClientReply,
    ClientRequest,
    Envelope,
    Redirect,
    RequestTimeout,
    Submit,
)
from paxlab.core.output import EMPTY_OUTPUT, Completion, Output, TimerCommand

__all__ = ["ClientParams", "ClientSession", "Operation"]

REQUEST_TIMER = "request"

# What every finished operation asks of the timer table; immutable, so one serves all.
_CANCEL_REQUEST_TIMER = TimerCommand(key=REQUEST_TIMER, at_ms=None)


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
    # The operation's fields sit here rather than in an Operation: one object less per op.
    seq: int
    op: str
    key: str
    value: str | None
    target: int
    attempt: int
    deadline_ms: int
    hops: int = 0  # redirects followed since the last pause; bounded to stop ping-pong


class ClientSession:
    """Pure client state machine: `step(now_ms, envelope) -> Output`, like a replica.

    Each handler returns its step's Output directly: a client step asks for at most a
    send, a timer and a completion."""

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
        # Server addresses by number, made once rather than formatted on every attempt.
        self._servers = tuple(server_node(i) for i in range(params.server_count))

    @property
    def busy(self) -> bool:
        return self.pending is not None

    def step(self, now_ms: int, envelope: Envelope) -> Output:
        if now_ms < self.now_ms:
            raise UsageError(f"time went backwards: {now_ms} < {self.now_ms}")
        self.now_ms = now_ms
        m = envelope.message
        if isinstance(m, Submit):
            return self._submit(m)
        if isinstance(m, ClientReply):
            return self._on_reply(envelope.source, m)
        if isinstance(m, RequestTimeout):
            return self._on_timeout(m)
        if isinstance(m, Redirect):
            return self._on_redirect(envelope.source, m)
        return Output(trace=(f"ignored {envelope.describe()}",))

    def give_up(self, now_ms: int) -> Output:
        """The run is over: an operation still pending has an unknown outcome."""
        self.now_ms = max(self.now_ms, now_ms)
        if self.pending is None:
            return EMPTY_OUTPUT
        return self._finish("info", None, "run ended before an answer")

    def _submit(self, m: Submit) -> Output:
        if self.pending is not None:
            raise UsageError(f"c{self.id}: submit while op {self.pending.seq} is pending")
        self.seq += 1
        first = (
            self.leader_hint
            if self.leader_hint is not None
            else self.id % self.params.server_count
        )
        self.pending = _Pending(self.seq, m.op, m.key, m.value, first, 0,
                                self.now_ms + self.params.op_timeout_ms)
        return self._send_attempt(nominate=False)

    def _send_attempt(self, nominate: bool) -> Output:
        pending = self.pending
        assert pending is not None
        pending.attempt += 1
        request = ClientRequest(
            client=self.id, seq=pending.seq, op=pending.op,  # type: ignore[arg-type]
            key=pending.key, value=pending.value, nominate=nominate,
        )
        target = pending.target
        servers = self._servers
        # A leader hint taken from a reply's sender can name a server beyond the table.
        address = servers[target] if target < len(servers) else server_node(target)
        envelope = Envelope(source=self.node, target=address, message=request)
        return Output(to_send=(envelope,),
                       timers=(self._timer(self.now_ms + self.params.request_timeout_ms),))

    def _timer(self, at_ms: int) -> TimerCommand:
        """The request timer for the current attempt, never past the op's deadline."""
        pending = self.pending
        assert pending is not None
        deadline_ms = pending.deadline_ms
        return TimerCommand(
            key=REQUEST_TIMER,
            at_ms=at_ms if at_ms < deadline_ms else deadline_ms,
            message=RequestTimeout(seq=pending.seq, attempt=pending.attempt),
        )

    def _on_timeout(self, m: RequestTimeout) -> Output:
        pending = self.pending
        if pending is None or m.seq != pending.seq or m.attempt != pending.attempt:
            return EMPTY_OUTPUT  # a timer for an attempt already answered or superseded
        if self.now_ms >= pending.deadline_ms:
            return self._finish("info", None, f"no answer within {self.params.op_timeout_ms} ms")
        if self.leader_hint == pending.target:
            self.leader_hint = None
        pending.target = (pending.target + 1) % self.params.server_count
        return self._send_attempt(nominate=True)

    def _on_reply(self, source: str, m: ClientReply) -> Output:
        pending = self.pending
        if pending is None or m.seq != pending.seq or m.client != self.id:
            return EMPTY_OUTPUT  # a late answer to an earlier attempt
        kind, number = node_parts(source)
        if kind == "server":
            self.leader_hint = number
        return self._finish(m.outcome, m.value, m.error)

    def _on_redirect(self, source: str, m: Redirect) -> Output:
        pending = self.pending
        if pending is None or m.seq != pending.seq:
            return EMPTY_OUTPUT
        asked = node_parts(source)[1]
        if asked != pending.target:
            return EMPTY_OUTPUT  # a redirect from an attempt we already moved on from
        hint = m.leader_hint
        usable = hint is not None and hint != asked and 0 <= hint < self.params.server_count
        if usable and pending.hops < self.params.server_count:
            assert hint is not None
            self.leader_hint = hint
            pending.target = hint
            pending.hops += 1
            return self._send_attempt(nominate=False)
        # Nobody knows a leader yet (an election is running), or hints go round in a
        # circle: pause, then try the next server.
        self.leader_hint = None
        pending.hops = 0
        pending.attempt += 1
        return Output(timers=(self._timer(self.now_ms + self.params.redirect_backoff_ms),))

    def _finish(self, outcome: str, read_value: str | None, error: str | None) -> Output:
        pending = self.pending
        assert pending is not None
        value = pending.value if pending.op == "put" else read_value
        completion = Completion(
            client=self.id, seq=pending.seq, op=pending.op,  # type: ignore[arg-type]
            key=pending.key, value=value, outcome=outcome,  # type: ignore[arg-type]
            error=error,
        )
        self.pending = None
        return Output(timers=(_CANCEL_REQUEST_TIMER,), completed=(completion,))
