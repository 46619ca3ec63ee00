"""TcpTransport: `paxlab.host.Transport` over authenticated TCP, for a server or a client.

The node's own thread runs the asyncio loop, inside `receive`: waiting for a message IS
running the loop until one comes or the deadline passes. One thread does all the work,
so a message costs no thread hand-off (with a loop thread every hop waited for the GIL:
in A/B runs, one request at a time, 220-680 us per round trip and 100-220 us of CPU a
side, against 170-330 us and 80-110 us this way). What
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
from typing import Any, Protocol

from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.connection import Connection
from paxlab.cluster.msgrecord import MessageRecorder
from paxlab.cluster.outbox import SEND_QUEUE_MAX, Outbox, PeerStats
from paxlab.cluster.payload import EnvelopeEncoder
from paxlab.cluster.peers import BACKOFF_S_MAX, BACKOFF_S_MIN, CutLinks, Peers
from paxlab.cluster.ports import bind_listener, is_loopback
from paxlab.cluster.wire import FRAME_BYTES_MAX, TAG_BYTES, Keys
from paxlab.core.ids import node_parts
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
PAYLOAD_BYTES_MAX = FRAME_BYTES_MAX - TAG_BYTES  # a bigger one would cost the link
LOCK_WAIT_S = 2.0  # receive waits this long for another thread's flush or close


class TransportError(Exception):
    """The transport cannot start (a listen address it must refuse, a busy port): bad
    input for whoever started the server, exit code 2."""


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
    deadlines into wall time (default: CLOCK_MONOTONIC milliseconds); `recorder` notes
    every message sent and arrived (cluster/msgrecord.py) and is closed with us."""

    def __init__(self, me: str, cluster: ClusterFile, keys: Keys, log: Callable[[str], None],
                 *, on_admin: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 links: CutLinks | None = None, clock: DeadlineClock | None = None,
                 recorder: MessageRecorder | None = None) -> None:
        self.me = me
        self.cluster = cluster
        self.log = log
        self.clock: DeadlineClock = clock if clock is not None else _MonotonicClock()
        # Envelope batches (from the loop) and _Calls (from any thread); deque append and
        # popleft are atomic, so other threads may add calls while the node takes items.
        self._inbox: deque[Any] = deque()
        self._node_thread: int | None = None  # the thread that calls receive
        self._waiting = False  # the loop runs inside receive, waiting for input
        self._loop_lock = threading.Lock()  # one thread at a time runs the loop
        self._closed = False
        self._shut = False
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._encoder = EnvelopeEncoder()
        self._peers = Peers(me, cluster, keys, log, self._loop, deliver=self._deliver,
                            run_on_node=self.call_in_loop, on_admin=on_admin)
        self._peers.links = links
        self._peers.recorder = recorder
        if self._peers.role == "server":
            sock = self._bind(node_parts(me)[1])
            self._server = self._loop.run_until_complete(
                self._loop.create_server(self._peers.accept, sock=sock))
            self._peers.dial_all()

    @property
    def links(self) -> CutLinks | None:
        """The cut links (settable): frames on them are dropped at send and at receive."""
        return self._peers.links

    @links.setter
    def links(self, links: CutLinks | None) -> None:
        self._peers.links = links

    @property
    def connections(self) -> set[Connection]:
        """Every live connection, authenticated or not."""
        return self._peers.connections

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
        peers = self._peers
        recorder = peers.recorder
        box = peers.outboxes.get(target)
        if box is None:
            box = peers.outbox_for_new(target)
            if box is None:
                if recorder is not None:
                    recorder.sent(envelope, "drop")
                return
        links = peers.links
        if links is not None and links.is_cut(self.me, target):
            box.stats.cut += 1
            if recorder is not None:
                recorder.sent(envelope, "cut")
            return
        payload = self._encoder.payload(envelope)
        if len(payload) > PAYLOAD_BYTES_MAX:
            box.stats.dropped += 1
            if recorder is not None:
                recorder.sent(envelope, "drop")
            self.log(f"dropped a {len(payload)}-byte {type(envelope.message).__name__} to "
                     f"{target}: over the {PAYLOAD_BYTES_MAX}-byte frame limit")
            return
        if recorder is None:
            box.put(payload)
        else:
            self._put_recorded(box, payload, envelope, recorder)
        if not box.dirty:
            box.dirty = True
            peers.dirty.append(box)
            if threading.get_ident() != self._node_thread and not self._closed:
                with contextlib.suppress(RuntimeError):  # another thread: wake the node
                    self._loop.call_soon_threadsafe(self._wake)

    @staticmethod
    def _put_recorded(box: Outbox, payload: bytes, envelope: Envelope,
                      recorder: MessageRecorder) -> None:
        """Queue a payload and note its send, with the frame it will leave as when the
        link is up (else the connection notes the frame when it leaves)."""
        frame = box.next_frame()
        if frame is None:
            lost = box.put(payload, recorder.sent(envelope, "deliver"))
        else:
            session, counter = frame
            lost = box.put(payload, recorder.sent(envelope, "deliver", session.link, counter),
                           session, counter)
        if lost:
            recorder.dropped((lost,))

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        """Write what was sent, then run the loop until something arrives or the deadline
        passes, and return the envelopes that came. A queued call runs here and makes this
        return [] (envelopes that came before it are returned first). None once closed."""
        self._node_thread = threading.get_ident()
        if self._closed:
            self._shutdown_here()
            return None
        if not self._inbox or self._peers.dirty:
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
            self._peers.flush_dirty()
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

    def _deliver(self, envelopes: list[Envelope]) -> None:
        self._inbox.append(envelopes)
        if self._waiting:
            self._loop.stop()

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
        """Per peer counters (up, inbound, reconnects, auth_failures, dropped, cut, sent,
        received) and totals (reconnects, auth_failures, refused, dropped)."""
        return self._peers.snapshot()

    def flush(self, timeout_s: float = 1.0) -> bool:
        """Wait until every queued frame and admin reply is handed to the kernel (before
        a crash or a stop). From any thread: when the node's thread is in the loop, it
        does the flushing. False if time ran out or the transport is closed."""
        if self._closed or self._inside_loop():
            return False
        if self._loop_lock.acquire(blocking=False):
            try:
                return bool(self._loop.run_until_complete(self._peers.flushed(timeout_s)))
            finally:
                self._loop_lock.release()
        future = asyncio.run_coroutine_threadsafe(self._peers.flushed(timeout_s), self._loop)
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
            loop.run_until_complete(self._peers.shutdown())
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(_finish(tasks))
            loop.close()
            if self._peers.recorder is not None:  # after the last frames were sealed
                self._peers.recorder.close()
        finally:
            self._loop_lock.release()

async def _finish(tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
