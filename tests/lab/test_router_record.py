"""The router records every message it routes and what became of each copy at the
target's door. In process: pipes and a fake clock, no child processes."""

from __future__ import annotations

import dataclasses
import io
import random
from collections import Counter
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from paxlab.config.types import NetworkConfig
from paxlab.core.codec import encode_envelope
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.messages import Envelope, Heartbeat
from paxlab.lab.router import Router
from paxlab.network.model import NetworkModel
from paxlab.network.recorder import MessageRecorder
from paxlab.network.watch import HeldMessages
from paxlab.results.messages import ArrivalRow, MessageRecords, messages_path, read_messages

NETWORK = NetworkConfig(delay_ms_mean=0, delay_ms_jitter=0, drop_probability=0,
                        duplicate_probability=0)
BEAT = Heartbeat(ballot=Ballot(1, 0), commit_index=3)


class FakeClock:
    """The run clock, moved by hand: 1 ms per reading, so arrivals follow sends."""

    def __init__(self) -> None:
        self.ns = 0

    def now_ns(self) -> int:
        self.ns += 1_000_000
        return self.ns

    def now_ms(self) -> int:
        return self.ns // 1_000_000


class Rig:
    def __init__(self, tmp_path: Path, network: NetworkConfig = NETWORK) -> None:
        self.nodes: dict[str, Connection] = {}
        router_ends = {}
        for node in ("s0", "s1", "s2", "c0"):
            self.nodes[node], router_ends[node] = Pipe(duplex=True)
        self.lab_end, control = Pipe(duplex=True)
        self.dir = tmp_path
        model = NetworkModel(rules=network, rng=random.Random("1:network"))
        self.recorder = MessageRecorder.open(messages_path(tmp_path), "lab")
        self.router = Router(router_ends, control, model, io.StringIO(),
                             FakeClock(), self.recorder)  # type: ignore[arg-type]
        self.router_ends = router_ends

    def send(self, source: str, target: str) -> None:
        envelope = Envelope(source=NodeId(source), target=NodeId(target), message=BEAT)
        self.nodes[source].send_bytes(encode_envelope(envelope))
        self.router._receive(self.router_ends[source])
        self.router._deliver_due()

    def records(self) -> MessageRecords:
        self.recorder.close()
        records = read_messages(self.dir)
        assert records.problems == []
        return records

    def outcomes(self) -> list[tuple[int, str]]:
        return [(a.id, a.outcome) for a in self.records().arrivals]


def test_a_delivered_message_has_one_send_and_one_arrival(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.send("s0", "s1")
    assert rig.nodes["s1"].poll(0)
    records = rig.records()
    (send,) = records.sends
    assert (send.id, send.src, send.dst, send.type, send.ballot, send.slot, send.fate) == (
        1, "s0", "s1", "Heartbeat", "1.0", 3, "deliver")
    assert records.arrivals == [ArrivalRow(1, 2000, "delivered")]  # 1 ms later on the fake


@pytest.mark.parametrize(("rules", "fate", "copies"), [
    ({"drop_probability": 1.0}, "drop", 0),
    ({"duplicate_probability": 1.0}, "duplicate", 2),
])
def test_drops_and_duplicates(tmp_path: Path, rules: dict, fate: str, copies: int) -> None:

    rig = Rig(tmp_path, dataclasses.replace(NETWORK, **rules))
    rig.send("s0", "s1")
    records = rig.records()
    assert [s.fate for s in records.sends] == [fate]
    assert [a.outcome for a in records.arrivals] == ["delivered"] * copies
    assert rig.router.counts[fate] == 1


def test_a_cut_link_records_the_cut_and_no_arrival(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.router._command({"cmd": "fail_link", "between": ["s0", "s1"]})
    rig.send("s0", "s1")
    rig.send("s0", "s2")
    records = rig.records()
    assert [(s.dst, s.fate) for s in records.sends] == [("s1", "cut"), ("s2", "deliver")]
    assert [(a.id, a.outcome) for a in records.arrivals] == [(2, "delivered")]


def test_held_while_paused_then_released(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.router._process_command("pause", "s1")
    rig.send("s0", "s1")
    rig.send("s2", "s1")
    assert not rig.nodes["s1"].poll(0)
    rig.router._process_command("resume", "s1")
    rig.router._deliver_due()
    assert rig.outcomes() == [(1, "held"), (2, "held"), (1, "released"), (2, "released")]


def test_a_crashed_target_loses_held_and_later_copies(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.router._process_command("pause", "s1")
    rig.send("s0", "s1")
    rig.router._process_command("down", "s1")
    rig.send("s0", "s1")
    assert rig.outcomes() == [(1, "held"), (1, "lost"), (2, "down")]


def test_a_copy_pushed_out_past_the_hold_cap_is_lost(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.router.held = HeldMessages(cap=1)
    rig.router._process_command("pause", "s1")
    rig.send("s0", "s1")
    rig.send("s2", "s1")
    rig.router._process_command("resume", "s1")
    rig.router._deliver_due()
    assert rig.outcomes() == [(1, "held"), (1, "lost"), (2, "held"), (2, "released")]


def test_every_send_matches_the_router_counts(tmp_path: Path) -> None:

    rig = Rig(tmp_path, dataclasses.replace(NETWORK, drop_probability=0.3,
                                            duplicate_probability=0.3))
    for i in range(60):
        rig.send(f"s{i % 3}", f"s{(i + 1) % 3}")
    records = rig.records()
    fates = Counter(s.fate for s in records.sends)
    counts = rig.router.counts
    assert {k: fates[k] for k in ("deliver", "drop", "duplicate")} == {
        k: counts[k] for k in ("deliver", "drop", "duplicate")}
    assert len(records.sends) == counts["routed"] == 60
    assert len(records.arrivals) == counts["deliver"] + 2 * counts["duplicate"]


def test_without_a_recorder_nothing_is_written(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.router.recorder = None
    rig.router._process_command("pause", "s1")
    rig.send("s0", "s1")
    rig.router._process_command("resume", "s1")
    rig.router._deliver_due()
    assert rig.nodes["s1"].poll(0)
    assert rig.records().sends == []
