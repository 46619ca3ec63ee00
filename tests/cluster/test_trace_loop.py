"""The server loop tells its message record what became of each arrival (delivered, held
by a pause then released, cut by a failed link) and notes the sends it cuts itself;
around a scripted transport (tests/cluster/test_server_loop.py's Rig)."""

from __future__ import annotations

import json
from pathlib import Path

from paxlab.cluster.clock import SLOW_HOP_MS
from paxlab.cluster.msgrecord import NODE_MESSAGES_FILE, MessageRecorder
from paxlab.core import Ballot
from paxlab.core.messages import Envelope, Heartbeat
from tests.cluster.test_server_loop import Rig, heartbeat


def rows(folder: Path) -> list[list[object]]:
    return [json.loads(line) for line in
            (folder / NODE_MESSAGES_FILE).read_text().splitlines()[1:]]


def test_arrivals_get_their_fate_from_the_loop_and_cut_sends_are_noted(
        tmp_path: Path) -> None:
    rig = Rig()
    rec = rig.state.messages = MessageRecorder.open(tmp_path, "s0", deferred=True)
    first, second, third = heartbeat("s1", 1), heartbeat("s1", 2), heartbeat("s2", 3)
    # The transport opened these frames (frame counters 0, 1 on link L; 0 on M).
    rec.door(first, "s1", "L", 0)
    rec.door(second, "s1", "L", 1)
    rec.door(third, "s2", "M", 0)
    rig.inner.items.extend([[first], rig.command({"cmd": "pause", "ms": None}), [second],
                            rig.command({"cmd": "resume"})])
    assert rig.loop.receive(None) == [first]
    assert rig.loop.receive(None) == [second]  # held while paused, released on resume
    rig.loop.run_command({"cmd": "fault", "net": {"cmd": "fail_link", "a": "s0", "b": "s2"}})
    rig.inner.items.append([third])
    rig.inner.items.append([])
    assert rig.loop.receive(None) == []
    to_s2 = Envelope(source="s0", target="s2", message=Heartbeat(ballot=Ballot(1, 0),
                                                                 commit_index=0))
    rig.loop.send(to_s2)
    assert rig.inner.sent == []  # cut here: the transport never sees it
    rec.close()
    assert [row[:4] + row[-1:] for row in rows(tmp_path)] == [
        ["a", "s1", "L", 0, "delivered"],
        ["a", "s1", "L", 1, "held"],
        ["a", "s1", "L", 1, "released"],
        ["a", "s2", "M", 0, "cut"],
        ["s", 1, rows(tmp_path)[4][2], "s2", "cut"],
    ]
    assert rec.pending() == {"door": 0, "held": 0, "sent": 1}


def test_slow_mode_keeps_the_time_a_message_was_sent(tmp_path: Path) -> None:
    """A slow hop is the network's delay: the send line has the time the server sent it,
    not the time the hop ended and the transport took it."""
    rig = Rig()
    rec = rig.state.messages = MessageRecorder.open(tmp_path, "s0", deferred=True)
    rig.loop.run_command({"cmd": "slow", "on": True})
    to_s1 = Envelope(source="s0", target="s1", message=Heartbeat(ballot=Ballot(1, 0),
                                                                 commit_index=0))
    rig.loop.send(to_s1)
    assert rig.inner.sent == []
    stamped = rec._stamps[id(to_s1)]
    rig.time.ns += SLOW_HOP_MS * 1_000_000
    rig.inner.items.append([])
    rig.loop.receive(None)
    assert rig.inner.sent == [to_s1]
    # The scripted transport does not record; the real one calls `sent`, which keeps it:
    assert rec.sent(to_s1, "deliver") == 1 and not rec._stamps
    rec.close()
    assert rows(tmp_path)[0][2] == stamped
