"""One peer's bounded send queue and its counters, shared by the transport's parts.

Split from connection.py: the queue outlives any one connection (a dialer refills it
across reconnects), and the counters are what `stats()` and the status command show.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from paxlab.cluster.wire import Session

__all__ = ["SEND_QUEUE_MAX", "Outbox", "PeerStats", "QueueWriter"]

SEND_QUEUE_MAX = 4096  # frames waiting for one peer; past it the oldest is dropped


class QueueWriter(Protocol):
    """The connection an Outbox drains into (cluster.connection.Connection), named by what
    it does here so this module needs nothing from that one."""

    session: Session | None  # set once the handshake is done

    def write_queue(self, box: Outbox) -> None: ...


@dataclass(slots=True)
class PeerStats:
    """Counters for one peer, as `stats()` and the status command show them."""

    up: bool = False  # our link to it is authenticated (servers: we dialed; clients: it did)
    inbound: bool = False  # its link to us is authenticated
    reconnects: int = 0  # times our link came back after being up
    auth_failures: int = 0  # handshakes or frames claiming to be it that failed
    dropped: int = 0  # frames lost: queue overflow, nowhere to send, or refused on receipt
    cut: int = 0  # frames dropped because the link is cut by hand
    sent: int = 0
    received: int = 0
    # Our last handshake with it failed because it did not prove our role's key: the two
    # sides hold different secrets. Cleared when a handshake succeeds.
    key_refused: bool = False


class Outbox:
    """One peer's bounded send queue. The transport's `send` appends in the node thread;
    the loop drains it into whichever connection is up. deque append/popleft are atomic
    under the GIL. Each entry is (payload, message number, session, counter): the number
    is the sender's message recorder's (cluster/msgrecord.py; 0 when nothing records),
    and session and counter the frame it was expected to leave as (`next_frame`), so the
    connection notes only the payloads that left otherwise."""

    __slots__ = ("conn", "dialer", "dirty", "peer", "queue", "stats")

    def __init__(self, peer: str, stats: PeerStats) -> None:
        self.peer = peer
        self.stats = stats
        self.queue: deque[tuple[bytes, int, Session | None, int]] = deque()
        self.conn: QueueWriter | None = None
        self.dialer: asyncio.Task[None] | None = None
        self.dirty = False

    def next_frame(self) -> tuple[Session, int] | None:
        """The session and frame counter the next payload put here will leave as, if the
        link stays up: the frames queued before it take the counters in between."""
        conn = self.conn
        session = conn.session if conn is not None else None
        if session is None or len(self.queue) >= SEND_QUEUE_MAX:
            return None
        return session, session.sealer.counter + len(self.queue)

    def put(self, payload: bytes, number: int = 0, session: Session | None = None,
            counter: int = 0) -> int | None:
        """Queue one payload (with its message number and expected frame); if the queue
        was full, the oldest entry is dropped (and counted) and its number returned."""
        lost = None
        if len(self.queue) >= SEND_QUEUE_MAX:
            with contextlib.suppress(IndexError):
                lost = self.queue.popleft()[1]
                self.stats.dropped += 1
        self.queue.append((payload, number, session, counter))
        return lost

    def clear(self) -> list[int]:
        """Drop everything queued (and count it); the message numbers dropped."""
        numbers = [entry[1] for entry in self.queue]
        self.stats.dropped += len(numbers)
        self.queue.clear()
        return numbers
