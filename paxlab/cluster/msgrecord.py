"""One cluster node's own record of its messages: what it sent, what reached it, in its data dir.

A TCP cluster has no router that sees every message, as the lab's does. So each server
(and each client) writes what it sees, in `messages.jsonl` in its own folder, and
`paxlab cluster check` joins the files (cluster/msgmerge.py) into the results folder's
`messages.jsonl` (docs/results-contract.md, "Messages").

To join a send with its arrival without changing the wire, the recorder uses what both
ends of a frame already share: the session's transcript (`Session.link`, a short hash of
it) and the direction's frame counter, which every frame's tag covers. The sender notes
each message when it is handed to the transport ("s"), with its own number and, when the
link is up, the frame it will leave as (the frames queued before it take the counters in
between); only when messages leave as other frames (queued before the link came up, or
after a full queue dropped one) does the connection note which ("w"). The receiver notes
the link and counter of each frame it opened ("a"). A message lost before it left (a
full queue, a peer that cannot be dialed) is noted "d".

Lines are JSON arrays, one per event; times are this host's wall clock in microseconds:

    {"format": "paxlab-node-messages", "version": 1, "node": "s0", "pid": 412,
     "start_us": ..., ...}
    ["s", n, t_us, dst, type, ballot, slot, ops, fate(, link, counter)]
                                                   fate: deliver | cut | drop
    ["w", dst, link, counter, [n, ...]]            left as frames counter, counter+1, ...
    ["d", [n, ...]]                                queued, then dropped unsent
    ["a", src, link, counter, t_us, outcome]       delivered | held | released | lost | cut

Each start of the process appends a new header (a run: pid and start_us name it) and
numbers its messages from 1. The writes are buffered (no fsync): a server writes at least
once a second, when it is dumped (`cluster check` dumps every server first), before it
crashes itself, and when it stops; a client writes every line. A kill -9 from outside
loses at most the last second of a server's lines. At 32 MiB the file becomes
messages.1.jsonl (replacing an older one) and the run goes on in a new file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from paxlab.core.messages import Envelope, Message
from paxlab.network.recorder import message_fields

__all__ = ["FILE_BYTES_MAX", "NODE_FORMAT", "NODE_MESSAGES_FILE", "NODE_VERSION",
           "OLD_MESSAGES_FILE", "MessageRecorder", "fields_text"]

NODE_MESSAGES_FILE = "messages.jsonl"
NODE_FORMAT = "paxlab-node-messages"
NODE_VERSION = 1
FLUSH_NS = 1_000_000_000  # a server's lines reach the file at least this often
_quote = json.encoder.encode_basestring_ascii  # str -> its JSON text, in C
LINES_HELD_MAX = 512  # or sooner, once this many lines wait (about 32 KiB)
FILE_BYTES_MAX = 32 * 1024 * 1024  # then the file becomes OLD_MESSAGES_FILE and a new one starts
OLD_MESSAGES_FILE = "messages.1.jsonl"


def fields_text(message: Message) -> str:
    """`type, ballot, slot, ops` of the results contract's send line
    (paxlab.network.recorder.message_fields: the lab's and the simulator's reading of a
    message), as JSON text without brackets."""
    kind, ballot, slot, ops = message_fields(message)
    ops_text = "null" if ops is None else "[" + ",".join(
        ["[%d,%d]" % op for op in ops]) + "]"  # noqa: UP031
    return (f'{_quote(kind)},{"null" if ballot is None else _quote(ballot)},'
            f'{"null" if slot is None else f"{slot:d}"},{ops_text}')


class MessageRecorder:
    """The event file of node `node`. Used from the node's thread (the transport's loop
    runs there too); `flush` may also come from the thread that crashes the server.

    `deferred` (a server): the transport only notes where each arriving envelope came
    from (`door`), and the server loop says what became of it (`take`, then
    `delivered`/`hold`), since only the loop knows whether the server is paused. A
    client (not deferred) records each arrival as delivered at once."""

    def __init__(self, path: Path, node: str, *, flush_ns: int = FLUSH_NS,
                 deferred: bool = False, file_bytes_max: int = FILE_BYTES_MAX) -> None:
        self.node = node
        self.deferred = deferred
        self.path = path
        self._file_bytes_max = file_bytes_max
        self._header = json.dumps({"format": NODE_FORMAT, "version": NODE_VERSION,
                                   "node": node, "pid": os.getpid(), "clock": "wall",
                                   "time_unit": "us", "start_us": time.time_ns() // 1000},
                                  separators=(",", ":")) + "\n"
        self._fd = -1  # opened O_APPEND: each flush is one write at the end
        self._bytes = 0  # the file's size
        self._pending: list[str] = []  # lines not yet written
        self._flush_ns = flush_ns
        self._flushed_ns = time.monotonic_ns()
        self._n = 0
        self._fields_of: object = None  # the last message described (broadcasts repeat it)
        self._fields = ""
        # By id() of a live envelope: where it came from, until the loop says its fate
        # (`_door`), or while it is held by a paused server (`_held`). The envelopes
        # stay alive meanwhile (in the transport's inbox, in ServerState.held), so an
        # id() is not reused while it is a key here.
        self._door: dict[int, tuple[str, str, int, int]] = {}
        self._held: dict[int, tuple[str, str, int]] = {}
        self._stamps: dict[int, int] = {}  # envelopes delayed by slow mode: their send time
        self.closed = False

    @classmethod
    def open(cls, folder: Path, node: str, *, flush_ns: int = FLUSH_NS,
             deferred: bool = False, file_bytes_max: int = FILE_BYTES_MAX) -> MessageRecorder:
        """Append to `folder/messages.jsonl` under a fresh header: a process start."""
        folder.mkdir(parents=True, exist_ok=True)
        recorder = cls(folder / NODE_MESSAGES_FILE, node, flush_ns=flush_ns,
                       deferred=deferred, file_bytes_max=file_bytes_max)
        recorder._open_file()
        return recorder

    def _open_file(self) -> None:
        """Open the file and write the header. A last line torn by a crash is ended
        first, so the header starts a line of its own."""
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                           0o644)
        self._bytes = size = os.fstat(self._fd).st_size
        torn = size > 0 and os.pread(self._fd, 1, size - 1) != b"\n"
        self._pending.insert(0, ("\n" if torn else "") + self._header)
        self.flush()

    def _rotate(self) -> None:
        """The file is full: it becomes messages.1.jsonl (replacing an older one) and a
        new file starts, under the same header, so an idle cluster left up for weeks
        keeps its last 32 to 64 MiB of messages per node, not all of them."""
        try:
            os.close(self._fd)
            os.replace(self.path, self.path.with_name(OLD_MESSAGES_FILE))
        except OSError:
            self._file_bytes_max = sys.maxsize  # cannot rename it: keep appending
        self._open_file()

    # --- sending -----------------------------------------------------------------------

    def sent(self, envelope: Envelope, fate: str, link: str | None = None,
             counter: int = 0) -> int:
        """A message handed to the network: its number (unique in this process). `link`
        and `counter`: the frame it is expected to leave as (the connection notes it
        with `sealed` if it leaves as another)."""
        message = envelope.message
        if message is not self._fields_of:
            self._fields = fields_text(message)
            self._fields_of = message
        t_us = time.time_ns() // 1000
        if self._stamps:
            t_us = self._stamps.pop(id(envelope), t_us)
        n = self._n = self._n + 1
        frame = "" if link is None else f',"{link}",{counter}'
        self._line(f'["s",{n},{t_us},"{envelope.target}",{self._fields},"{fate}"{frame}]\n')
        return n

    def stamp(self, envelope: Envelope) -> None:
        """The node sends `envelope` now but the transport gets it later (slow mode's
        hop): its send line keeps this time."""
        self._stamps[id(envelope)] = time.time_ns() // 1000

    def sealed(self, target: str, link: str, counter: int, numbers: list[int]) -> None:
        """Messages `numbers` left as frames `counter`, `counter + 1`, ... of `link`
        (noted when one of them did not leave as its send line expected)."""
        self._line(f'["w","{target}","{link}",{counter},{_ints(numbers)}]\n')

    def dropped(self, numbers: Iterable[int]) -> None:
        """Queued messages dropped before they were sealed (queue full, peer unreachable)."""
        numbers = list(numbers)
        if numbers:
            self._line(f'["d",{_ints(numbers)}]\n')

    # --- arriving ----------------------------------------------------------------------

    def arrived(self, source: str, link: str, counter: int, outcome: str) -> None:
        """Frame `counter` of `link` from `source` reached us, with this outcome."""
        self._line(f'["a","{source}","{link}",{counter},{time.time_ns() // 1000},"{outcome}"]\n')

    def door(self, envelope: Envelope, source: str, link: str, counter: int) -> None:
        """The transport opened `envelope`: delivered now (a client), or noted for the
        server loop's `take` (deferred)."""
        if self.deferred:
            self._door[id(envelope)] = (source, link, counter, time.time_ns() // 1000)
        else:
            self.arrived(source, link, counter, "delivered")

    def take(self, envelope: Envelope, outcome: str) -> None:
        """The server loop's verdict on an envelope from `door`: "delivered", "held"
        (then `release` later) or "cut". Envelopes the transport did not see (a test's
        fake) are ignored."""
        where = self._door.pop(id(envelope), None)
        if where is None:
            return
        source, link, counter, t_us = where
        if outcome == "held":
            self._held[id(envelope)] = (source, link, counter)
        self._line(f'["a","{source}","{link}",{counter},{t_us},"{outcome}"]\n')

    def release(self, envelope: Envelope, outcome: str) -> None:
        """A held envelope is handed over ("released") or discarded ("lost")."""
        where = self._held.pop(id(envelope), None)
        if where is not None:
            self.arrived(*where, outcome)

    # --- the file ------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        pending = self._pending
        pending.append(text)
        if len(pending) >= LINES_HELD_MAX \
                or time.monotonic_ns() - self._flushed_ns >= self._flush_ns:
            self.flush()

    def flush(self) -> None:
        """Hand the lines held to the kernel in one write (no fsync: a crash of the
        process loses nothing flushed; only a crash of the host does)."""
        self._flushed_ns = time.monotonic_ns()
        if not self._pending or self.closed:
            return
        pending, self._pending = self._pending, []  # one swap: the crash thread may flush too
        data = "".join(pending).encode()
        self._bytes += len(data)
        with contextlib.suppress(OSError):  # a full disk costs the record, not the server
            while data:
                data = data[os.write(self._fd, data):]
        if self._bytes >= self._file_bytes_max:
            self._rotate()

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def pending(self) -> dict[str, Any]:
        """Counts for tests and status: envelopes awaiting a verdict, held ones."""
        return {"door": len(self._door), "held": len(self._held), "sent": self._n}


def _ints(numbers: list[int]) -> str:
    return "[" + ",".join(map(str, numbers)) + "]"
