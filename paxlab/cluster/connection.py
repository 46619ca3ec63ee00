"""One TCP connection of a Owner: handshake, then sealed frames both ways.

An asyncio Protocol (no streams: bytes go straight from `data_received` into the
sans-IO FrameReader, and a peer's queued frames leave in one `write`). It enforces who
may say what: the envelope's source must be the authenticated peer, the target must be
us, a client may send only its own ClientRequests, a server only server-to-server
messages (and, to a client, replies), admin only admin requests. A handshake or tag
failure closes the connection without a word to the peer; the transport logs it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from paxlab.cluster.msgrecord import MessageRecorder
from paxlab.cluster.outbox import Outbox, PeerStats
from paxlab.cluster.payload import ADMIN, ENVELOPE, decode_json_payload, reply_payload
from paxlab.cluster.ports import is_loopback
from paxlab.cluster.wire import (
    FRAME_BYTES_MAX,
    HANDSHAKE_BYTES_MAX,
    Acceptor,
    AcceptorRefused,
    Connector,
    FrameReader,
    Role,
    Session,
    WireError,
    role_of,
)
from paxlab.core.codec import decode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.ids import node_parts
from paxlab.core.messages import ClientReply, ClientRequest, Envelope, Redirect

__all__ = ["HANDSHAKES_PENDING_MAX", "HANDSHAKES_PENDING_PER_HOST_MAX", "HANDSHAKE_TIMEOUT_S",
           "Connection", "LinkEnds", "Owner"]

HANDSHAKE_TIMEOUT_S = 5.0  # an acceptor drops a peer that has not authenticated by then
# Unauthenticated connections at once, in all and from one host; past either the new
# one is closed at once, so one flooding host cannot lock out the others.
HANDSHAKES_PENDING_MAX = 512
HANDSHAKES_PENDING_PER_HOST_MAX = 32
WRITE_BUFFER_HIGH = 4 * 1024 * 1024  # past this the kernel is behind: stop writing, queue
LOGGED_DROPS_MAX = 10  # per connection; then one line per 1000, so a bad peer can't flood
_CLIENT_TYPES = (ClientReply, Redirect, ClientRequest)


@dataclass(frozen=True, slots=True)
class LinkEnds:
    """The remote address, for log lines ("127.0.0.1:40112")."""

    remote: str


class Owner(Protocol):
    """What a connection needs from its transport (TcpTransport)."""

    me: str
    role: Role
    log: Callable[[str], None]
    connections: set[Connection]
    admin_pending: int
    recorder: MessageRecorder | None

    def is_cut(self, source: str, target: str) -> bool: ...
    def deliver(self, envelopes: list[Envelope]) -> None: ...
    def peer_stats(self, peer: str) -> PeerStats: ...
    def auth_failed(self, ends: LinkEnds, claimed: str | None, reason: str) -> None: ...
    def refused(self, host: str, pending: int, from_host: int) -> None: ...
    def inbound_opened(self, conn: Connection, peer: str) -> None: ...
    def inbound_closed(self, conn: Connection, peer: str) -> None: ...
    async def run_admin(self, request: dict[str, Any]) -> dict[str, Any]: ...


class Connection(asyncio.Protocol):
    """Both sides of the handshake and the sealed stream after it (inside the loop)."""

    def __init__(self, owner: Owner, *, acceptor: Acceptor | None = None,
                 connector: Connector | None = None, outbox: Outbox | None = None) -> None:
        self.owner = owner
        self.acceptor = acceptor
        self.connector = connector
        self.outbox = outbox  # where our frames to the peer wait (a dialer's or our own)
        self.reader = FrameReader(HANDSHAKE_BYTES_MAX)
        self.session: Session | None = None
        self.peer_role: Role | None = None  # once open
        self.transport: asyncio.Transport | None = None
        self.ends = LinkEnds("?")
        self.paused = False
        self.failed = False
        self.drops = 0
        self.loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[Session] = self.loop.create_future()
        self.closed: asyncio.Future[str] = self.loop.create_future()
        self.opened.add_done_callback(_consume)  # a failed dial may never await it
        self._close_reason = "closed by peer"
        self._timer: asyncio.TimerHandle | None = None
        self._admin_lock = asyncio.Lock()

    # --- asyncio callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.ends = LinkEnds(f"{peer[0]}:{peer[1]}")
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        if self.connector is not None:
            self.owner.connections.add(self)
            transport.write(self.connector.hello())
            return
        pending = [c for c in self.owner.connections if c.session is None]
        host = self.ends.remote.rsplit(":", 1)[0]
        from_host = sum(1 for c in pending if c.ends.remote.rsplit(":", 1)[0] == host)
        # This machine's own clients may all start at once (a benchmark): no host cap.
        per_host = from_host >= HANDSHAKES_PENDING_PER_HOST_MAX and not is_loopback(host)
        if len(pending) >= HANDSHAKES_PENDING_MAX or per_host:
            self.owner.refused(host, len(pending), from_host)
            transport.abort()
            return
        self.owner.connections.add(self)
        self._timer = self.loop.call_later(HANDSHAKE_TIMEOUT_S, self._handshake_timeout)

    def data_received(self, data: bytes) -> None:
        if self.session is None:
            self.reader.push(data)
            try:
                while self.session is None:
                    body = self.reader.pop()
                    if body is None:
                        return
                    self._handshake(body)
            except RemoteError as error:
                self._fail_handshake(str(error), error)
                return
            data = b""
        try:
            bodies = self.reader.feed(data)
        except WireError as error:
            self._fail_open(str(error))
            return
        if bodies:
            self._receive(bodies)
        if self.reader.broken is not None and self.session is not None:
            self._fail_open(str(self.reader.broken))

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
        if exc is not None:
            self._close_reason = str(exc) or type(exc).__name__
        if self.session is None:
            if self.acceptor is not None and self.reader.pending:
                self._auth_failed("closed in the middle of the handshake")
            if not self.opened.done():
                self.opened.set_exception(WireError(f"handshake failed: {self._close_reason}"))
        else:
            if self.reader.pending:
                self._close_reason += f" (mid-frame, {self.reader.pending} bytes dropped)"
            if self.acceptor is not None:
                self.owner.inbound_closed(self, self.session.peer)
        if not self.closed.done():
            self.closed.set_result(self._close_reason)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.outbox is not None:
            self.write_queue(self.outbox)

    # --- handshake ----------------------------------------------------------------------

    def _handshake(self, body: bytes) -> None:
        assert self.transport is not None
        if self.acceptor is not None:
            if not self.acceptor.answered:
                self.transport.write(self.acceptor.on_hello(body))
                return
            self._open(self.acceptor.on_confirm(body))
            return
        assert self.connector is not None
        try:
            confirm, session = self.connector.on_challenge(body)
        except AcceptorRefused as error:
            self.transport.write(error.confirm)  # so a wrong secret shows in the server's log
            raise
        self.transport.write(confirm)
        self._open(session)

    def _open(self, session: Session) -> None:
        self.session = session
        self.peer_role = role_of(session.peer)
        self.reader.limit = FRAME_BYTES_MAX
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.acceptor is not None:
            self.owner.inbound_opened(self, session.peer)
        if not self.opened.done():
            self.opened.set_result(session)

    def _handshake_timeout(self) -> None:
        if self.session is None:
            self._auth_failed(f"no handshake within {HANDSHAKE_TIMEOUT_S:g} s")
            self.reader.clear()  # logged once: not again as a half frame on close
            self.abort()

    def _fail_handshake(self, reason: str, error: RemoteError | None = None) -> None:
        if self.acceptor is not None:
            self._auth_failed(reason)
        elif not self.opened.done():
            # The dialer keeps the kind: AcceptorRefused tells it the secrets differ.
            self.opened.set_exception(error if isinstance(error, WireError) else WireError(reason))
        self.reader.clear()
        self.abort()

    def _auth_failed(self, reason: str) -> None:
        claimed = self.acceptor.claimed if self.acceptor is not None else None
        self.owner.auth_failed(self.ends, claimed, reason)

    # --- the open stream ----------------------------------------------------------------

    def _fail_open(self, reason: str) -> None:
        """A frame broke the stream (bad length or tag): nothing after it can be trusted."""
        assert self.session is not None
        if self.failed:
            return
        self.failed = True
        self.owner.auth_failed(self.ends, self.session.peer, reason)
        self._close_reason = f"closed after a bad frame: {reason}"
        self.reader.clear()
        self.abort()

    def _receive(self, bodies: list[bytes]) -> None:
        session = self.session
        assert session is not None
        peer, owner = session.peer, self.owner
        stats = owner.peer_stats(peer)
        recorder = owner.recorder
        opener = session.opener
        arrived: list[Envelope] = []
        for body in bodies:
            counter = opener.counter  # this frame's number on the link, as the sender sealed it
            try:
                payload = opener.open(body)
            except WireError as error:
                self._fail_open(str(error))
                break
            if payload[:1] == ENVELOPE and self.peer_role != "admin":
                try:
                    envelope = decode_envelope(payload[1:])
                    refusal = self._refusal(envelope)
                except RemoteError as error:
                    refusal = str(error)
                if refusal is not None:
                    self._drop(stats, refusal)
                elif owner.is_cut(peer, owner.me):
                    stats.cut += 1
                    if recorder is not None:
                        recorder.arrived(peer, session.link, counter, "cut")
                else:
                    arrived.append(envelope)
                    if recorder is not None:
                        recorder.door(envelope, peer, session.link, counter)
            elif payload[:1] == ADMIN and self.peer_role == "admin":
                try:
                    request = decode_json_payload(payload)
                except WireError as error:
                    self._drop(stats, str(error))
                    continue
                self.loop.create_task(self._answer_admin(request))
            else:
                self._drop(stats, f"{self.peer_role} may not send {payload[:1]!r} frames")
        if arrived:
            stats.received += len(arrived)
            owner.deliver(arrived)

    def _refusal(self, envelope: Envelope) -> str | None:
        """Why this envelope may not come from this peer, or None."""
        session = self.session
        assert session is not None
        if envelope.source != session.peer:
            return f"source {envelope.source} is not the authenticated {session.peer}"
        if envelope.target != self.owner.me:
            return f"target {envelope.target} is not me"
        message = envelope.message
        if self.peer_role == "client":
            if type(message) is not ClientRequest:
                return f"a client may send only ClientRequest, not {type(message).__name__}"
            if message.client != node_parts(session.peer)[1]:
                return f"request of client {message.client} from {session.peer}"
        elif self.owner.role == "client":
            if type(message) not in (ClientReply, Redirect):
                return f"a server sends a client only replies, not {type(message).__name__}"
        elif type(message) in _CLIENT_TYPES:
            return f"{type(message).__name__} between servers"
        return None

    def _drop(self, stats: Any, reason: str) -> None:
        stats.dropped += 1
        self.drops += 1
        if self.drops <= LOGGED_DROPS_MAX or self.drops % 1000 == 0:
            peer = self.session.peer if self.session is not None else "?"
            self.owner.log(f"dropped a frame from {peer} ({self.ends.remote}): {reason}"
                           f" [{self.drops} so far]")

    async def _answer_admin(self, request: dict[str, Any]) -> None:
        self.owner.admin_pending += 1  # flush() waits for the reply too
        try:
            async with self._admin_lock:  # replies leave in request order
                reply = await self.owner.run_admin(request)
                self.send_now(reply_payload(reply))
        finally:
            self.owner.admin_pending -= 1

    # --- writing ------------------------------------------------------------------------

    def own_outbox(self, box: Outbox) -> Outbox:
        """Make `box` this inbound connection's own queue (replies to a client)."""
        self.outbox = box
        box.conn = self
        return box

    def write_queue(self, box: Outbox) -> None:
        """Seal and write every queued frame of `box` in one write."""
        session, transport = self.session, self.transport
        if session is None or transport is None or self.paused or transport.is_closing():
            return
        queued = box.queue
        sealer = session.sealer
        seal = sealer.seal
        first = sealer.counter
        frames = []
        numbers = []
        unexpected = False  # a payload left as another frame than its send line says
        try:
            while True:
                payload, number, expected, counter = queued.popleft()
                if expected is not session or counter != sealer.counter:
                    unexpected = True
                frames.append(seal(payload))
                numbers.append(number)
        except IndexError:
            pass
        if frames:
            box.stats.sent += len(frames)
            transport.write(b"".join(frames))
            recorder = self.owner.recorder
            if unexpected and recorder is not None:
                recorder.sealed(box.peer, session.link, first, numbers)

    def send_now(self, payload: bytes) -> None:
        """Write one payload at once (admin replies)."""
        if self.session is not None and self.transport is not None:
            self.transport.write(self.session.seal(payload))

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def close(self) -> None:
        """Close after writing what is buffered."""
        if self.transport is not None:
            self._close_reason = "closed by us"
            self.transport.close()

    def abort(self) -> None:
        """Close now, dropping anything buffered."""
        if self.transport is not None:
            self.transport.abort()


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
