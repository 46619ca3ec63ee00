"""TcpTransport: `paxlab.host.Transport` over authenticated TCP, for a server or a client.

The node's own thread runs the asyncio loop, inside `receive`: waiting for a message IS
running the loop until one comes or the deadline passes. One thread does all the work,
so a message costs no thread hand-offs (a loop in a second thread made every hop wait
for the GIL: 280-520 us per request round trip, against about 100 us this way). What
`send` queues leaves at the start of the next `receive`, all frames of a peer in one
write. Other threads (a console, a signal handler) reach the node only through
`call_in_loop`, which wakes the loop and runs the function on the node's thread between
two steps; admin requests take the same path, so nothing else ever touches the replica.
Frames are checked as they arrive (connection.py, wire.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.connection import SEND_QUEUE_MAX, Connection, LinkEnds, Outbox, PeerStats
from paxlab.cluster.ports import bind_listener, is_loopback
from paxlab.cluster.wire import Acceptor, Connector, Keys, WireError, envelope_payload, role_of
from paxlab.core.ids import node_parts, server_node
from paxlab.core.messages import Envelope

__all__ = [
    "BACKOFF_S_MAX",
    "BACKOFF_S_MIN",
    "RECEIVE_BATCH_MAX",
    "SEND_QUEUE_MAX",
    "CutLinks",
    "DeadlineClock",
    "PeerStats",
    "TcpTransport",
    "TransportError",
]

RECEIVE_BATCH_MAX = 512  # envelopes one receive returns, so timers get their turn
BACKOFF_S_MIN, BACKOFF_S_MAX = 0.05, 1.0
CONNECT_TIMEOUT_S = 2.0
ADMIN_TIMEOUT_S = 10.0  # how long an admin request waits for the node's loop
LOCK_WAIT_S = 2.0  # receive waits this long for another thread's flush or close


class TransportError(Exception):
    """The transport cannot start (a listen address it must refuse, a busy port): bad
    input for whoever started the server, exit code 2."""


class CutLinks(Protocol):
    """Which links are cut by hand (cluster/links.py LinkFilter)."""

    def is_cut(self, source: str, target: str) -> bool: ...


class DeadlineClock(Protocol):
    """The node's clock as the transport needs it: wall seconds until a node time."""

    def seconds_until(self, at_ms: float | None) -> float | None: ...


class _MonotonicClock:
    """Default clock: milliseconds of CLOCK_MONOTONIC (for nodes that pass none)."""

    def now_ms(self) -> float:
        return time.monotonic_ns() / 1e6

    def seconds_until(self, at_ms: float | None) -> float | None:
        return None if at_ms is None else max(0.0, (at_ms - self.now_ms()) / 1000)


class _Call:
    """A function the node thread runs between two steps (console and admin commands)."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.fn())
        except BaseException as error:  # handed to the caller, who reports it
            self.future.set_exception(error)


class TcpTransport:
    """The TCP transport of node `me` ("sN" or "cN") in `cluster`.

    A server binds its `listen` endpoint here (TransportError if that is not allowed or
    the port is busy) and dials every other server, reconnecting with backoff; a client
    dials a server when it first sends to it. Sockets move only while the node's thread
    is in `receive`, `flush` or `close`, and `log` is called from there too.
    `on_admin(request) -> reply` answers admin requests, run like `call_in_loop`.
    `links` (settable) drops frames on cut links both ways; `clock` turns receive
    deadlines into wall time (default: CLOCK_MONOTONIC milliseconds)."""

    def __init__(self, me: str, cluster: ClusterFile, keys: Keys, log: Callable[[str], None],
                 *, on_admin: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 links: CutLinks | None = None, clock: DeadlineClock | None = None) -> None:
        self.me = me
        self.role = role_of(me)
        self.cluster = cluster
        self.keys = keys
        self.log = log
        self.on_admin = on_admin
        self.links = links
        self.clock: DeadlineClock = clock if clock is not None else _MonotonicClock()
        self.peers: dict[str, PeerStats] = {}
        self.auth_failures = 0  # all of them, also from peers that claimed nobody valid
        self.connections: set[Connection] = set()  # every live one, authenticated or not
        self.closing = False
        self._outboxes: dict[str, Outbox] = {}
        self._inbound: dict[str, Connection] = {}  # authenticated peers that dialed us
        # Envelope batches (from the loop) and _Calls (from any thread); deque append and
        # popleft are atomic, so other threads may add calls while the node takes items.
        self._inbox: deque[Any] = deque()
        self._dirty: deque[Outbox] = deque()  # outboxes with frames to write
        self._node_thread: int | None = None  # the thread that calls receive
        self._waiting = False  # the loop runs inside receive, waiting for input
        self.admin_pending = 0  # admin replies not yet written
        self._loop_lock = threading.Lock()  # one thread at a time runs the loop
        self._closed = False
        self._shut = False
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        server_count = len(cluster.servers)
        for i in range(server_count):
            if server_node(i) != me:
                self._outbox(server_node(i))
        if self.role == "server":
            sock = self._bind(node_parts(me)[1])

            def accept() -> Connection:
                return Connection(self, acceptor=Acceptor(keys, me, server_count))

            self._server = self._loop.run_until_complete(
                self._loop.create_server(accept, sock=sock))
            for box in self._outboxes.values():
                self._start_dialer(box)

    def _bind(self, server_id: int) -> Any:
        entry = self.cluster.servers.get(server_id)
        if entry is None:
            raise TransportError(f"{self.cluster.path}: no server s{server_id} "
                                 f"(servers are s0..s{len(self.cluster.servers) - 1})")
        if self.cluster.secret is None and not is_loopback(entry.listen.host):
            raise TransportError(
                f"{self.cluster.path}: s{server_id} would listen on {entry.listen} without a "
                "secret; without one, servers listen on loopback only (127.0.0.1, ::1). "
                "Add a secret file (paxlab cluster init writes one) or listen on 127.0.0.1")
        try:
            return bind_listener(entry.listen)
        except OSError as error:
            raise TransportError(f"s{server_id}: {error.strerror or error}") from error

    # --- the node's side ----------------------------------------------------------------

    def send(self, envelope: Envelope) -> None:
        """Queue one envelope for its target; never blocks. It leaves at the next receive.
        Dropped (and counted) when the link is cut, the queue is full, or a client target
        has no connection to us."""
        target = envelope.target
        box = self._outboxes.get(target)
        if box is None:
            box = self._outbox_for_new(target)
            if box is None:
                return
        links = self.links
        if links is not None and links.is_cut(self.me, target):
            box.stats.cut += 1
            return
        box.put(envelope_payload(envelope))
        if not box.dirty:
            box.dirty = True
            self._dirty.append(box)
            if threading.get_ident() != self._node_thread and not self._closed:
                with contextlib.suppress(RuntimeError):  # another thread: wake the node
                    self._loop.call_soon_threadsafe(self._wake)

    def _outbox_for_new(self, target: str) -> Outbox | None:
        kind, number = node_parts(target)
        if kind == "server" and number < len(self.cluster.servers) and target != self.me:
            return self._outbox(target)
        stats = self.peers.setdefault(target, PeerStats()) if kind == "client" else None
        if stats is not None:
            stats.dropped += 1  # a client that is not connected to us: nowhere to send
        return None

    def _outbox(self, peer: str) -> Outbox:
        box = self._outboxes.get(peer)
        if box is None:
            box = self._outboxes[peer] = Outbox(peer, self.peers.setdefault(peer, PeerStats()))
        return box

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        """Write what was sent, then run the loop until something arrives or the deadline
        passes, and return the envelopes that came. A queued call runs here and makes this
        return [] (envelopes that came before it are returned first). None once closed."""
        self._node_thread = threading.get_ident()
        if self._closed:
            self._shutdown_here()
            return None
        if not self._inbox or self._dirty:
            self._run_loop(self.clock.seconds_until(deadline_ms), block=not self._inbox)
            if self._closed:
                self._shutdown_here()
                return None
        return self._take()

    def _take(self) -> list[Envelope]:
        inbox = self._inbox
        arrived: list[Envelope] = []
        while inbox:
            item = inbox[0]
            if type(item) is list:
                room = RECEIVE_BATCH_MAX - len(arrived)
                if len(item) > room:
                    arrived.extend(item[:room])
                    inbox[0] = item[room:]
                    return arrived
                arrived.extend(item)
                inbox.popleft()
            else:
                if arrived:
                    return arrived
                inbox.popleft()
                item.run()
                return []
        return arrived

    def _run_loop(self, timeout_s: float | None, *, block: bool = True) -> None:
        """Run the loop until `_wake` stops it or `timeout_s` passes; with block=False (or
        a past deadline) take one look at the sockets without waiting."""
        loop = self._loop
        if self._inside_loop() or not self._loop_lock.acquire(timeout=LOCK_WAIT_S):
            return  # a signal handler inside the loop, or another thread is flushing
        try:
            self._flush_dirty()
            handle = None
            if not block or (timeout_s is not None and timeout_s <= 0):
                loop.stop()  # run_forever then polls once without blocking
            elif timeout_s is not None:
                handle = loop.call_later(timeout_s, loop.stop)
            self._waiting = True
            try:
                loop.run_forever()
            finally:
                self._waiting = False
                if handle is not None:
                    handle.cancel()
        finally:
            self._loop_lock.release()

    def _wake(self) -> None:
        """Stop waiting: input arrived, or another thread queued a call or a frame."""
        if self._waiting:
            self._loop.stop()

    def call_in_loop(self, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        """Run `fn` on the node's thread at its next receive, from any thread; the future
        has its result (or its exception)."""
        call = _Call(fn)
        if self._closed:
            call.future.set_exception(RuntimeError("transport closed"))
            return call.future
        self._inbox.append(call)
        with contextlib.suppress(RuntimeError):  # closed meanwhile
            self._loop.call_soon_threadsafe(self._wake)
        return call.future

    def stats(self) -> dict[str, Any]:
        """Per peer counters plus totals, for the status command."""
        peers = {peer: asdict(stats) for peer, stats in sorted(self.peers.items())}
        return {"peers": peers,
                "reconnects": sum(p["reconnects"] for p in peers.values()),
                "auth_failures": self.auth_failures,
                "dropped": sum(p["dropped"] for p in peers.values())}

    def flush(self, timeout_s: float = 1.0) -> bool:
        """Wait until every queued frame and admin reply is handed to the kernel (before
        a crash or a stop). From any thread: when the node's thread is in the loop, it
        does the flushing. False if time ran out or the transport is closed."""
        if self._closed or self._inside_loop():
            return False
        if self._loop_lock.acquire(blocking=False):
            try:
                return bool(self._loop.run_until_complete(self._flushed(timeout_s)))
            finally:
                self._loop_lock.release()
        future = asyncio.run_coroutine_threadsafe(self._flushed(timeout_s), self._loop)
        try:
            return bool(future.result(timeout_s + 0.5))
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            return False

    def _inside_loop(self) -> bool:
        """True in a callback of our running loop (or a signal handler that interrupted
        one): the loop cannot be run again from here."""
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def close(self) -> None:
        """Close every socket and stop; receive returns None from now on. From any thread:
        another thread waits (up to 3 s) for the node's thread to leave the loop."""
        if self._closed:
            self._shutdown_here()
            return
        self._closed = True
        for item in list(self._inbox):
            if isinstance(item, _Call) and item.future.set_running_or_notify_cancel():
                item.future.set_exception(RuntimeError("transport closed"))
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake)
        self._shutdown_here()

    def _shutdown_here(self) -> None:
        if self._shut:
            return
        if self._inside_loop():
            return  # a signal handler inside the loop: receive finishes it on the way out
        if not self._loop_lock.acquire(timeout=3):  # the node's thread leaves the loop
            self.log("transport close: the node's thread did not leave the loop in 3 s")
            return
        try:
            if self._shut:
                return
            self._shut = True
            loop = self._loop
            loop.run_until_complete(self._shutdown())
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(_finish(tasks))
            loop.close()
        finally:
            self._loop_lock.release()

    # --- inside the loop ----------------------------------------------------------------

    def _flush_dirty(self) -> None:
        dirty = self._dirty
        while dirty:
            box = dirty.popleft()
            box.dirty = False
            if box.conn is not None:
                box.conn.write_queue(box)
            elif box.dialer is None and box.peer[0] == "s" and not self.closing:
                self._start_dialer(box)

    def _start_dialer(self, box: Outbox) -> None:
        if box.dialer is None and not self.closing:
            box.dialer = self._loop.create_task(self._dial(box))

    async def _dial(self, box: Outbox) -> None:
        """Keep a link to one server: connect, handshake, wait for it to drop, back off.
        A client stops once nothing is queued (it dials again on its next send)."""
        entry = self.cluster.servers[node_parts(box.peer)[1]]
        delay = BACKOFF_S_MIN
        was_up = False
        last_error = ""
        try:
            while not self.closing and (self.role == "server" or box.queue):
                conn = Connection(self, connector=Connector(self.keys, self.me, box.peer),
                                  outbox=box)
                try:
                    await asyncio.wait_for(self._loop.create_connection(
                        lambda conn=conn: conn, entry.address.host, entry.address.port),
                        CONNECT_TIMEOUT_S)
                    await asyncio.wait_for(conn.opened, CONNECT_TIMEOUT_S)
                except (OSError, WireError, TimeoutError) as error:
                    conn.abort()
                    reason = str(error) or type(error).__name__
                    if reason != last_error:
                        self.log(f"link to {box.peer} at {entry.address} down: {reason}")
                        last_error = reason
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, BACKOFF_S_MAX)
                    continue
                delay, last_error = BACKOFF_S_MIN, ""
                if was_up:
                    box.stats.reconnects += 1
                was_up = True
                box.stats.up = True
                self.log(f"link to {box.peer} up")
                box.conn = conn
                conn.write_queue(box)
                reason = await conn.closed
                box.conn = None
                box.stats.up = False
                if not self.closing:
                    self.log(f"link to {box.peer} lost: {reason}")
        finally:
            box.dialer = None

    # Called by Connection (loop thread).

    def is_cut(self, source: str, target: str) -> bool:
        links = self.links
        return links is not None and links.is_cut(source, target)

    def deliver(self, envelopes: list[Envelope]) -> None:
        self._inbox.append(envelopes)
        if self._waiting:
            self._loop.stop()

    def peer_stats(self, peer: str) -> PeerStats:
        return self.peers.setdefault(peer, PeerStats())

    def auth_failed(self, ends: LinkEnds, claimed: str | None, reason: str) -> None:
        self.auth_failures += 1
        if claimed is not None and claimed in self.peers:
            self.peers[claimed].auth_failures += 1
        self.log(f"auth failure from {ends.remote} (claimed {claimed or 'nothing'}): {reason}")

    def inbound_opened(self, conn: Connection, peer: str) -> None:
        old = self._inbound.get(peer)
        self._inbound[peer] = conn
        if old is not None:
            old.abort()  # the peer restarted or redialed; its old link is dead
        stats = self.peer_stats(peer)
        stats.inbound = True
        if peer[0] == "c":
            stats.up = True
            self._outboxes[peer] = conn.own_outbox(Outbox(peer, stats))

    def inbound_closed(self, conn: Connection, peer: str) -> None:
        if self._inbound.get(peer) is conn:
            del self._inbound[peer]
            stats = self.peer_stats(peer)
            stats.inbound = False
            if peer[0] == "c":
                stats.up = False
                self._outboxes.pop(peer, None)

    async def run_admin(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer an admin request through `on_admin`, run on the node's thread."""
        if self.on_admin is None:
            return {"ok": False, "error": f"{self.me} takes no admin requests"}
        on_admin = self.on_admin
        call = _Call(lambda: on_admin(request))
        self._inbox.append(call)
        self._wake()
        future = call.future
        try:
            reply = await asyncio.wait_for(asyncio.wrap_future(future), ADMIN_TIMEOUT_S)
        except TimeoutError:
            return {"ok": False, "error": f"{self.me} did not answer within {ADMIN_TIMEOUT_S:g} s"}
        except Exception as error:
            self.log(f"admin request {request.get('cmd')!r} failed: {error!r}")
            return {"ok": False, "error": f"{type(error).__name__}: {error}"}
        if not isinstance(reply, dict):
            return {"ok": False, "error": f"bad reply from the admin handler: {reply!r}"}
        return reply

    async def _flushed(self, timeout_s: float) -> bool:
        deadline = self._loop.time() + timeout_s
        while self._loop.time() < deadline:
            self._flush_dirty()
            busy = [b for b in self._outboxes.values() if b.queue and b.conn is not None]
            if (not busy and not self.admin_pending
                    and all(c.buffered() == 0 for c in self.connections)):
                return True
            await asyncio.sleep(0.005)
        return False

    async def _shutdown(self) -> None:
        self.closing = True
        self._flush_dirty()
        for box in list(self._outboxes.values()):
            if box.dialer is not None:
                box.dialer.cancel()
            if box.conn is not None:
                box.conn.close()
        for conn in list(self._inbound.values()):
            conn.close()
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            self._server.close()
        for _ in range(3):  # let close() reach connection_lost and the sockets
            await asyncio.sleep(0)


async def _finish(tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
