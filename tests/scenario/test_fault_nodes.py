"""Each applied fault names the nodes it hit (summary.json's faults[].nodes)."""

from __future__ import annotations

from typing import Any

import pytest

from paxlab.config.types import (
    Crash,
    CrashClient,
    FailLink,
    FailLinkOneWay,
    Fault,
    FixLink,
    Heal,
    Isolate,
    Partition,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    SetNetwork,
)
from paxlab.scenario.faults import FaultRunner, cut_off

SERVERS = ["s0", "s1", "s2", "s3", "s4"]


class FakeCluster:
    """Five servers and two clients; s4 leads. Faults only change who is up."""

    servers = SERVERS
    clients = ["c0", "c1"]

    def __init__(self) -> None:
        self.crashed: set[str] = set()
        self.paused: set[str] = set()
        self.network: list[dict[str, Any]] = []

    def leader(self) -> str | None:
        return "s4"

    def is_up(self, node: str) -> bool:
        return node not in self.crashed and node not in self.paused

    def is_crashed(self, node: str) -> bool:
        return node in self.crashed

    def is_paused(self, node: str) -> bool:
        return node in self.paused

    def crash(self, node: str) -> None:
        self.crashed.add(node)

    def restart(self, node: str) -> None:
        self.crashed.discard(node)

    def pause(self, node: str) -> None:
        self.paused.add(node)

    def resume(self, node: str) -> None:
        self.paused.discard(node)

    def apply_network(self, command: dict[str, Any]) -> None:
        self.network.append(command)


@pytest.mark.parametrize(("fault", "nodes"), [
    (Crash(at_ms=0, target=1), ["s1"]),
    (Pause(at_ms=0, target="leader"), ["s4"]),
    (CrashClient(at_ms=0, client="all"), ["c0", "c1"]),
    (FailLink(at_ms=0, between=(0, 1)), ["s0", "s1"]),
    (FixLink(at_ms=0, between=(0, 1)), ["s0", "s1"]),
    (FailLinkOneWay(at_ms=0, source=3, target=1), ["s1", "s3"]),
    (Isolate(at_ms=0, target="leader"), ["s4"]),
    (Partition(at_ms=0, groups=((0, 1, 2), (3, 4))), ["s3", "s4"]),
    (Partition(at_ms=0, groups=((3,),)), ["s3"]),  # the rest form one more group
    (PartitionRing(at_ms=0), SERVERS),  # each keeps a majority; every one lost links
    (Heal(at_ms=0), []),
    (SetNetwork(at_ms=0, changes=(("drop_probability", 0.5),)), []),
], ids=lambda v: getattr(v, "ACTION", None) or "")
def test_nodes_hit(fault: Fault, nodes: list[str]) -> None:
    runner = FaultRunner(FakeCluster(), 1, lambda _: None)
    assert runner.apply_at(fault, 100) is not None
    (applied,) = runner.applied
    assert applied["nodes"] == nodes
    assert list(applied) == ["time_ms", "action", "detail", "nodes"]


def test_random_partitions_name_the_sides_cut_off() -> None:
    runner = FaultRunner(FakeCluster(), 1, lambda _: None)
    runner.apply_at(PartitionHalves(at_ms=0), 0)
    runner.apply_at(PartitionBridge(at_ms=0), 0)
    halves, bridge = runner.applied
    small = halves["detail"].split("(")[1].split(" | ")[0].split()
    assert halves["nodes"] == small and len(small) == 2  # the minority half
    label = bridge["detail"]  # "partition_bridge (s0 s1 | bridge s2 | s3 s4)"
    bridge_node = label.split("bridge ")[-1].split(" |")[0]
    assert sorted(bridge["nodes"]) == sorted(set(SERVERS) - {bridge_node})


def test_a_fault_that_does_nothing_is_not_recorded() -> None:
    runner = FaultRunner(FakeCluster(), 1, lambda _: None)
    assert runner.apply_at(Restart(at_ms=0, target="all"), 0) is None
    assert runner.applied == []


def test_cut_off_when_no_side_has_a_majority() -> None:
    pairs = [[a, b] for a in ("s0", "s1") for b in ("s2", "s3")]
    assert cut_off(pairs, ["s0", "s1", "s2", "s3"]) == {"s0", "s1", "s2", "s3"}
    assert cut_off([], SERVERS) == set()
