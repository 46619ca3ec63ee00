"""The control channel keeps its pipes in step when Ctrl-C lands mid-message."""

from __future__ import annotations

import os
import signal
from multiprocessing import Pipe

import pytest

from paxlab.lab.control import interrupts_deferred, recv_control, send_control


def test_ctrl_c_waits_until_the_block_ends() -> None:
    done: list[str] = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C would, mid-read
        done.append("the whole message was read and handled")
    assert done == ["the whole message was read and handled"]


def test_a_message_sent_under_ctrl_c_arrives_whole() -> None:
    reader, writer = Pipe(duplex=False)
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        send_control(writer, {"event": "progress", "done": 7})
    send_control(writer, {"event": "stopped"})
    assert recv_control(reader) == {"event": "progress", "done": 7}
    assert recv_control(reader) == {"event": "stopped"}  # still in step


def test_ctrl_c_waits_even_when_another_thread_could_take_the_signal() -> None:
    """Blocking SIGINT is per thread: with a second thread alive (an asyncio resolver, a
    test's helper), the kernel hands the signal to that thread and Python raises it in
    the main thread at once, mid-message. The interrupt must still wait for the block."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        reader, writer = Pipe(duplex=False)
        done: list[str] = []
        with pytest.raises(KeyboardInterrupt), interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("after the signal")
            send_control(writer, {"event": "progress", "done": 7})
        assert done == ["after the signal"]
        send_control(writer, {"event": "stopped"})
        assert recv_control(reader) == {"event": "progress", "done": 7}
        assert recv_control(reader) == {"event": "stopped"}
    finally:
        stop.set()
        other.join()
