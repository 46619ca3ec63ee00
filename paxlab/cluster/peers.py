"""The transport's peers, inside its loop: the links we dial, the ones dialed to us, the
send queues and the counters `stats()` shows.

A server keeps a link to every other server (reconnecting with backoff); a client dials
a server when it has something for it. A server answers a client over the link the
client dialed. Each Connection reports here (it is the connections' Owner): what
arrived, who failed to authenticate, which links opened and closed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.connection import HANDSHAKE_TIMEOUT_S, Connection, LinkEnds
from paxlab.cluster.msgrecord import MessageRecorder
from paxlab.cluster.outbox import Outbox, PeerStats
from paxlab.cluster.wire import Acceptor, AcceptorRefused, Connector, Keys, Role, WireError, role_of
from paxlab.core.ids import node_parts, server_node
from paxlab.core.messages import Envelope

__all__ = ["ADMIN_TIMEOUT_S", "BACKOFF_S_MAX", "BACKOFF_S_MIN", "CONNECT_TIMEOUT_S",
           "CutLinks", "Peers"]

BACKOFF_S_MIN, BACKOFF_S_MAX = 0.05, 1.0
CONNECT_TIMEOUT_S = 2.0
ADMIN_TIMEOUT_S = 10.0  # how long an admin request waits for the node's loop


class CutLinks(Protocol):
    """Which links are cut by hand (cluster/links.py LinkFilter)."""

    def is_cut(self, source: str, target: str) -> bool: ...


class Peers:
    """Every link of node `me`, used only inside the loop (and by `send`, which appends
    to a queue and marks it dirty). `deliver` hands arrived envelopes to the node;
    `run_on_node` runs a function on the node's thread (admin requests)."""

    def __init__(self, me: str, cluster: ClusterFile, keys: Keys, log: Callable[[str], None],
                 loop: asyncio.AbstractEventLoop, *,
                 deliver: Callable[[list[Envelope]], None],
                 run_on_node: Callable[[Callable[[], Any]], concurrent.futures.Future[Any]],
                 on_admin: Callable[[dict[str, Any]], dict[str, Any]] | None) -> None:
        self.me = me
        self.role: Role = role_of(me)
        self.cluster = cluster
        self.keys = keys
        self.log = log
        self.loop = loop
        self.deliver = deliver
        self.run_on_node = run_on_node
        self.on_admin = on_admin
        self.links: CutLinks | None = None
        self.recorder: MessageRecorder | None = None  # notes messages sealed and arrived
        self.stats: dict[str, PeerStats] = {}
        self.auth_failures = 0  # all of them, also from peers that claimed nobody valid
        self.refused_connections = 0  # closed unheard: too many handshakes pending
        self.connections: set[Connection] = set()  # every live one, authenticated or not
        self.admin_pending = 0  # admin replies not yet written
        self.closing = False
        self.outboxes: dict[str, Outbox] = {}
        self.dirty: deque[Outbox] = deque()  # outboxes with frames to write
        self._inbound: dict[str, Connection] = {}  # authenticated peers that dialed us
        self._refusing = False
        for i in range(len(cluster.servers)):
            if server_node(i) != me:
                self.outbox(server_node(i))

    def accept(self) -> Connection:
        """A protocol for one inbound connection (the listener's factory)."""
        return Connection(self, acceptor=Acceptor(self.keys, self.me, len(self.cluster.servers)))

    def dial_all(self) -> None:
        for box in self.outboxes.values():
            self.start_dialer(box)

    def outbox(self, peer: str) -> Outbox:
        box = self.outboxes.get(peer)
        if box is None:
            box = self.outboxes[peer] = Outbox(peer, self.peer_stats(peer))
        return box

    def outbox_for_new(self, target: str) -> Outbox | None:
        """The queue for a target we have none for yet: a server we may dial, or None (a
        client that is not connected to us: nowhere to send, counted as dropped)."""
        kind, number = node_parts(target)
        if kind == "server" and number < len(self.cluster.servers) and target != self.me:
            return self.outbox(target)
        if kind == "client":
            self.peer_stats(target).dropped += 1
        return None

    def snapshot(self) -> dict[str, Any]:
        """Per peer counters plus totals, for the status command."""
        peers = {peer: asdict(stats) for peer, stats in sorted(self.stats.items())}
        return {"peers": peers,
                "reconnects": sum(p["reconnects"] for p in peers.values()),
                "auth_failures": self.auth_failures,
                "refused": self.refused_connections,
                "dropped": sum(p["dropped"] for p in peers.values())}

    # --- writing and dialing ------------------------------------------------------------

    def flush_dirty(self) -> None:
        dirty = self.dirty
        while dirty:
            box = dirty.popleft()
            box.dirty = False
            if box.conn is not None:
                box.conn.write_queue(box)
            elif box.dialer is None and box.peer[0] == "s" and not self.closing:
                self.start_dialer(box)

    def start_dialer(self, box: Outbox) -> None:
        if box.dialer is None and not self.closing:
            box.dialer = self.loop.create_task(self._dial(box))

    async def _dial(self, box: Outbox) -> None:
        """Keep a link to one server: connect, handshake, wait for it to drop, back off.
        A client stops once nothing is queued (it dials again on its next send). Frames
        queued when an attempt fails are dropped and counted."""
        entry = self.cluster.servers[node_parts(box.peer)[1]]
        delay = BACKOFF_S_MIN
        was_up = False
        last_error = ""
        try:
            while not self.closing and (self.role == "server" or box.queue):
                conn = Connection(self, connector=Connector(self.keys, self.me, box.peer),
                                  outbox=box)
                try:
                    await asyncio.wait_for(self.loop.create_connection(
                        lambda conn=conn: conn, entry.address.host, entry.address.port),
                        CONNECT_TIMEOUT_S)
                    await asyncio.wait_for(conn.opened, CONNECT_TIMEOUT_S)
                except (OSError, WireError, TimeoutError) as error:
                    conn.abort()
                    box.stats.key_refused = isinstance(error, AcceptorRefused)
                    # What waited for an unreachable peer is dropped, as a network would:
                    # the protocol resends what matters, and a peer back after an hour
                    # gets no hour-old burst.
                    lost = box.clear()
                    if self.recorder is not None:
                        self.recorder.dropped(number for number in lost if number)
                    reason = str(error) or type(error).__name__
                    if reason != last_error:
                        self.log(f"link to {box.peer} at {entry.address} down: {reason}")
                        last_error = reason
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, BACKOFF_S_MAX)
                    continue
                delay, last_error = BACKOFF_S_MIN, ""
                box.stats.key_refused = False
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

    # --- what connections report (the Owner protocol) -----------------------------------

    def is_cut(self, source: str, target: str) -> bool:
        links = self.links
        return links is not None and links.is_cut(source, target)

    def peer_stats(self, peer: str) -> PeerStats:
        stats = self.stats.get(peer)
        if stats is None:
            stats = self.stats[peer] = PeerStats()
        return stats

    def auth_failed(self, ends: LinkEnds, claimed: str | None, reason: str) -> None:
        self.auth_failures += 1
        if claimed is not None and claimed in self.stats:
            self.stats[claimed].auth_failures += 1
        self.log(f"auth failure from {ends.remote} (claimed {claimed or 'nothing'}): {reason}")

    def refused(self, host: str, pending: int, from_host: int) -> None:
        """A connection closed unheard: too many handshakes pending. One log line per
        flood (when it starts), not one per socket."""
        self.refused_connections += 1
        if not self._refusing:
            self._refusing = True
            self.log(f"refusing connections from {host}: {from_host} handshakes pending "
                     f"from it, {pending} in all")
            self.loop.call_later(HANDSHAKE_TIMEOUT_S, self._end_refusing)

    def _end_refusing(self) -> None:
        self._refusing = False

    def inbound_opened(self, conn: Connection, peer: str) -> None:
        old = self._inbound.get(peer)
        self._inbound[peer] = conn
        if old is not None:
            old.abort()  # the peer restarted or redialed; its old link is dead
        stats = self.peer_stats(peer)
        stats.inbound = True
        if peer[0] == "c":
            stats.up = True
            self.outboxes[peer] = conn.own_outbox(Outbox(peer, stats))

    def inbound_closed(self, conn: Connection, peer: str) -> None:
        if self._inbound.get(peer) is conn:
            del self._inbound[peer]
            stats = self.peer_stats(peer)
            stats.inbound = False
            if peer[0] == "c":
                stats.up = False
                self.outboxes.pop(peer, None)

    async def run_admin(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer an admin request through `on_admin`, run on the node's thread."""
        on_admin = self.on_admin
        if on_admin is None:
            return {"ok": False, "error": f"{self.me} takes no admin requests"}
        future = self.run_on_node(lambda: on_admin(request))
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

    # --- flushing and closing -----------------------------------------------------------

    async def flushed(self, timeout_s: float) -> bool:
        """Write until nothing waits: queues, admin replies, socket buffers."""
        deadline = self.loop.time() + timeout_s
        while self.loop.time() < deadline:
            self.flush_dirty()
            busy = [b for b in self.outboxes.values() if b.queue and b.conn is not None]
            if (not busy and not self.admin_pending
                    and all(c.buffered() == 0 for c in self.connections)):
                return True
            await asyncio.sleep(0.005)
        return False

    async def shutdown(self) -> None:
        """Write what is queued, stop dialing, close every connection."""
        self.closing = True
        self.flush_dirty()
        for box in list(self.outboxes.values()):
            if box.dialer is not None:
                box.dialer.cancel()
        for conn in list(self.connections):
            conn.close()  # writes what is buffered first
        for _ in range(10):  # up to 100 ms for the last bytes to leave
            if not self.connections:
                break
            await asyncio.sleep(0.01 if any(c.buffered() for c in self.connections) else 0)
        for conn in list(self.connections):
            conn.abort()
        await asyncio.sleep(0)  # connection_lost closes the sockets
