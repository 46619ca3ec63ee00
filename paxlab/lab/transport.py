"""The lab's Transport for `run_node`: frames over a Pipe to the router, commands from
the launcher over a second Pipe, both waited on at once until the node's next deadline.

Blocking on both pipes (multiprocessing.connection.wait) with the deadline as timeout
means an idle process uses no CPU and a timer fires on time. A command is handled as it
comes, by the process's own `on_command`; one that ends the process returns False.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from paxlab.core.codec import decode_envelope, encode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Envelope
from paxlab.lab.control import RunClock, recv_control

__all__ = ["DRAIN_MAX", "PipeTransport"]

DRAIN_MAX = 64  # messages taken per wake-up before timers get their turn


class PipeTransport:
    """`paxlab.host.Transport` over the router link and the launcher's control pipe.

    `send_frame` writes one encoded frame (a server hands it to its _Outbox thread);
    `on_command(command)` answers a launcher command, False when the node must stop;
    `log` gets a line for each invalid frame dropped."""

    def __init__(self, link: Connection, control: Connection, clock: RunClock,
                 send_frame: Callable[[bytes], None],
                 on_command: Callable[[dict[str, Any]], bool],
                 log: Callable[[str], None]) -> None:
        self.link = link
        self.control = control
        self.clock = clock
        self.send_frame = send_frame
        self.on_command = on_command
        self.log = log

    def send(self, envelope: Envelope) -> None:
        self.send_frame(encode_envelope(envelope))

    def receive(self, deadline_ms: float | None) -> list[Envelope] | None:
        arrived: list[Envelope] = []
        timeout = self.clock.seconds_until(deadline_ms)
        for conn in wait([self.link, self.control], timeout):
            if conn is self.control:
                if not self.on_command(recv_control(self.control)):
                    return None
                continue
            for _ in range(DRAIN_MAX):
                try:
                    arrived.append(decode_envelope(self.link.recv_bytes()))
                except RemoteError as error:
                    self.log(f"dropped invalid frame: {error}")
                if not self.link.poll():
                    break
        return arrived
