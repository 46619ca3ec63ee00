"""The launcher's control channel to its processes: small JSON objects over a Pipe.

Control messages are our own, between our own processes, but they still travel as JSON
rather than pickles so that nothing a process receives can run code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["RunClock", "await_start", "interrupts_deferred", "recv_control", "send_control"]


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) back until the block ends, then let it through.

    A pipe message is a 4-byte length, then the body. A KeyboardInterrupt raised between
    the two reads (or writes) leaves the pipe out of step: the next read takes part of a
    JSON body as a length of some gigabytes and blocks until the other side closes, so an
    interrupted run hung instead of winding down. Reading and handling one whole message
    with SIGINT held back, and sending one whole message likewise, keeps every pipe in
    step; the interrupt arrives just after.

    In the main thread a handler notes the signal for the block and replays it at the end.
    Blocking the signal (pthread_sigmask) is not enough there: a mask is per thread, so
    with any other thread alive the kernel hands SIGINT to that thread and Python raises
    it in the main thread at once. Other threads cannot set handlers; they block it."""
    if threading.current_thread() is not threading.main_thread():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            _replay_interrupt(previous)


def _replay_interrupt(handler: Any) -> None:
    """Deliver a held-back SIGINT to the handler that was in force before the block:
    Python's (KeyboardInterrupt), an outer block's recorder, or the default action."""
    if callable(handler):
        handler(signal.SIGINT, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGINT)
    # SIG_IGN (or a handler set outside Python, None): the signal was to be ignored.


def send_control(conn: Connection, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    with interrupts_deferred():
        conn.send_bytes(data)


def recv_control(conn: Connection) -> dict[str, Any]:
    message = json.loads(conn.recv_bytes())
    if not isinstance(message, dict):
        raise ValueError(f"control message must be an object, got {message!r}")
    return message


class RunClock:
    """Time since the run started, shared by all lab processes.

    CLOCK_MONOTONIC is system-wide, so every process measures from the same start and
    history times from different clients can be merged in order."""

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns

    def now_ns(self) -> int:
        return time.monotonic_ns() - self.start_ns

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def seconds_until(self, at_ms: float | None) -> float | None:
        if at_ms is None:
            return None
        return max(0.0, (at_ms * 1_000_000 - self.now_ns()) / 1e9)


def await_start(conn: Connection) -> RunClock | None:
    """After "ready": wait for the run clock. None if told to stop first. Any other
    command that arrives before the clock (a status poll racing a restart) is ignored."""
    while True:
        message = recv_control(conn)
        if "start_ns" in message:
            return RunClock(message["start_ns"])
        if message.get("cmd") == "stop":
            return None
