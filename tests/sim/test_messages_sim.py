"""The simulator records messages only for a results folder, and recording changes
nothing: the same seed gives the same digest with and without it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from paxlab.cli import main
from paxlab.config import Config
from paxlab.config.types import NetworkConfig
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.messages import Envelope, Heartbeat
from paxlab.network.recorder import MessageRecorder
from paxlab.network.watch import HeldMessages
from paxlab.results import resolve_run_dir
from paxlab.results.messages import read_messages
from paxlab.sim.clock import EventHeap
from paxlab.sim.network import Arrival, SimNetwork
from paxlab.sim.run import simulate
from tests.sim.golden import digests, load_golden
from tests.sim.helpers import CONFIGS, short_nemesis
from tests.sim.test_power import without_correlated


def lossy_nemesis() -> Config:
    """The short nemesis without its two correlated kinds (crash_majority, power_cut): a
    whole-cluster stop leaves too little traffic for every fate to show up."""
    config = without_correlated(short_nemesis())
    network = dataclasses.replace(config.network, drop_probability=0.05,
                                  duplicate_probability=0.05)
    return dataclasses.replace(config, network=network)


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_recording_leaves_the_run_unchanged(tmp_path: Path, seed: int) -> None:
    """A lossy short nemesis cuts, pauses and crashes servers (seeds 1, 2: both; 7: pauses) and
    drops and duplicates messages, so every fate and most outcomes show up."""
    config = lossy_nemesis()
    plain = simulate(config, seed)
    recorded = simulate(config, seed, messages_to=tmp_path / "messages.jsonl")
    assert recorded.trace_digest() == plain.trace_digest()
    assert plain.messages is None and recorded.messages == tmp_path / "messages.jsonl"
    records = read_messages(tmp_path)
    assert records.problems == [] and records.header["driver"] == "sim"
    counts = plain.counts
    fates = Counter(s.fate for s in records.sends)
    assert len(records.sends) == counts["routed"]
    assert all(fates[f] == counts[f] > 0 for f in ("deliver", "drop", "duplicate", "cut"))
    outcomes = Counter(a.outcome for a in records.arrivals)
    assert outcomes["down"] + outcomes["held"] > 0
    assert outcomes["down"] == counts["lost_down"] and outcomes["held"] == counts["held"]
    # Every copy reaches its door, unless the run ended first; a held copy is released
    # or lost.
    copies = fates["deliver"] + 2 * fates["duplicate"]
    first = outcomes["delivered"] + outcomes["down"] + outcomes["held"]
    assert 0 <= copies - first <= 20
    assert outcomes["released"] + outcomes["lost"] <= outcomes["held"]
    sent_at = {s.id: s.t_us for s in records.sends}
    assert all(a.t_us >= sent_at[a.id] for a in records.arrivals)
    assert max(a.t_us for a in records.arrivals) <= round(plain.duration_ms * 1000)


@pytest.mark.parametrize("name", ["pause_leader", "leader_crash"])
def test_a_recorded_shipped_run_keeps_its_golden_digests(name: str) -> None:
    assert digests(name, 1, record=True) == load_golden()[name]["1"]


def test_sim_out_writes_the_messages(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["sim", str(CONFIGS / "basic.yaml"), "--seed", "3", "--out", str(out)])
    assert code == 0
    run_dir = resolve_run_dir(out)
    records = read_messages(run_dir)
    assert records.problems == [] and len(records.sends) > 100
    assert {"Prepare", "Promise", "Accept", "Accepted", "ClientRequest", "ClientReply"} <= {
        s.type for s in records.sends}
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # temp moved in


class Nodes:
    """The cluster as the network sees it: each node's status, set by hand."""

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}

    def status(self, node: str) -> str:
        return self.statuses.get(node, "up")


def test_held_released_down_and_lost_copies(tmp_path: Path) -> None:
    """What arrive_recorded, resume and down write, copy by copy (the cap pushes out)."""
    heap = EventHeap()
    recorder = MessageRecorder.open(tmp_path / "messages.jsonl", "sim")
    network = SimNetwork(NetworkConfig(delay_ms_mean=1, delay_ms_jitter=0, drop_probability=0,
                                       duplicate_probability=0), 1, heap, 3,
                         recorder)
    network.held = HeldMessages(cap=1)
    nodes = Nodes()

    def send_and_arrive(target: str) -> bool:
        network.send(Envelope(source=NodeId("s0"), target=NodeId(target),
                              message=Heartbeat(ballot=Ballot(1, 0), commit_index=0)))
        arrival = heap.pop()
        assert isinstance(arrival, Arrival)
        return network.arrive_recorded(arrival, nodes)

    assert send_and_arrive("s1")  # 1 delivered
    nodes.statuses["s1"] = "paused"
    network.pause("s1")
    assert not send_and_arrive("s1")  # 2 held
    assert not send_and_arrive("s1")  # 3 held, pushing 2 out past the cap
    nodes.statuses["s1"] = "up"
    network.resume("s1")
    assert network.arrive_recorded(heap.pop(), nodes)  # 3 released
    nodes.statuses["s2"] = "paused"
    network.pause("s2")
    assert not send_and_arrive("s2")  # 4 held
    nodes.statuses["s2"] = "down"
    network.down("s2")  # 4 lost
    assert not send_and_arrive("s2")  # 5 down
    recorder.close()
    arrivals = [(a.id, a.t_us, a.outcome) for a in read_messages(tmp_path).arrivals]
    assert arrivals == [(1, 1000, "delivered"), (2, 2000, "held"), (2, 3000, "lost"),
                        (3, 3000, "held"), (3, 3000, "released"), (4, 4000, "held"),
                        (4, 4000, "lost"), (5, 5000, "down")]
    assert network.counts["held"] == 3 and network.counts["lost_down"] == 1
