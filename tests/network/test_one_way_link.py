"""One-way link faults: messages from -> to are lost while to -> from still flow, undone by
fix_link on the pair or heal, in the link model, the fault runner, the nemesis and a
simulated run."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from paxlab.config import FailLinkOneWay, FixLink, Heal, NetworkConfig, parse_config
from paxlab.config.types import Nemesis
from paxlab.network.model import NetworkModel
from paxlab.scenario.faults import FaultRunner
from paxlab.scenario.nemesis import expand_nemesis

CLEAN = NetworkConfig(delay_ms_mean=2.0, delay_ms_jitter=1.0, drop_probability=0.0,
                      duplicate_probability=0.0)
SERVERS = ["s0", "s1", "s2"]


def model() -> NetworkModel:
    return NetworkModel(rules=CLEAN, rng=random.Random(7))


def reasons(net: NetworkModel) -> dict[tuple[str, str], str]:
    return {(a, b): net.fate(a, b).reason for a in SERVERS for b in SERVERS if a != b}


def test_one_way_cut_loses_one_direction_only() -> None:
    net = model()
    net.fail_link_one_way("s0", "s1")
    fates = reasons(net)
    assert fates.pop(("s0", "s1")) == "cut"
    assert set(fates.values()) == {"deliver"}  # s1 -> s0 and every other link still flow
    assert net.active_faults() == ["link s0->s1 down"]


@pytest.mark.parametrize("undo", ["fix_same_order", "fix_reverse_order", "heal"])
def test_fix_link_on_the_pair_or_heal_undoes_it(undo: str) -> None:
    net = model()
    net.fail_link_one_way("s2", "s0")
    if undo == "heal":
        net.heal()
    else:
        net.fix_link(*(("s2", "s0") if undo == "fix_same_order" else ("s0", "s2")))
    assert set(reasons(net).values()) == {"deliver"} and net.active_faults() == []


def test_fix_link_of_another_pair_leaves_it() -> None:
    net = model()
    net.fail_link_one_way("s0", "s1")
    net.fix_link("s0", "s2")
    assert net.is_cut("s0", "s1") and not net.is_cut("s1", "s0")


def test_two_way_and_one_way_cuts_together() -> None:
    """fail_link keeps its meaning: both ways, and fix_link clears everything on the pair."""
    net = model()
    net.fail_link("s0", "s1")
    net.fail_link_one_way("s1", "s0")
    assert net.is_cut("s0", "s1") and net.is_cut("s1", "s0")
    net.fix_link("s1", "s0")
    assert set(reasons(net).values()) == {"deliver"}


def test_clients_are_never_cut_one_way() -> None:
    net = model()
    net.fail_link_one_way("s0", "c0")
    assert not net.is_cut("s0", "c0")


def test_apply_command_is_what_lab_and_sim_call() -> None:
    net = model()
    assert net.apply_command({"cmd": "fail_link_one_way", "source": "s1", "target": "s2"})
    assert net.is_cut("s1", "s2") and not net.is_cut("s2", "s1")
    assert net.apply_command({"cmd": "fix_link", "between": ["s1", "s2"]})
    assert not net.is_cut("s1", "s2")


class _Target:
    """Just enough of a driver for network faults: it records the commands."""

    servers = SERVERS
    clients: list[str] = []

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def apply_network(self, command: dict[str, Any]) -> None:
        self.commands.append(command)


def test_fault_runner_sends_a_directed_command() -> None:
    target = _Target()
    runner = FaultRunner(target, seed=1, note=lambda text: None)  # type: ignore[arg-type]
    detail = runner.apply(FailLinkOneWay(at_ms=0, source=2, target=0))
    assert detail == "fail_link_one_way 2->0"
    assert target.commands == [{"cmd": "fail_link_one_way", "source": "s2", "target": "s0",
                                "detail": "fail_link_one_way 2->0"}]


def test_config_parses_from_and_to() -> None:
    config = parse_config({"faults": [{"at_ms": 5, "action": "fail_link_one_way", "from": 2,
                                       "to": 0}]}, "t.yaml")
    assert config.faults == (FailLinkOneWay(at_ms=5, source=2, target=0),)


def test_nemesis_kind_cuts_an_ordered_pair_and_fixes_it() -> None:
    nemesis = Nemesis(at_ms=0, kinds=("one_way_link",), interval_ms=100, until_ms=2000, seed=3)
    faults = expand_nemesis(nemesis, 3, 1, CLEAN)
    cuts, fixes = faults[0:-1:2], faults[1:-1:2]
    assert all(isinstance(f, FailLinkOneWay) and f.source != f.target for f in cuts)
    assert [f.between for f in fixes] == [  # type: ignore[union-attr]
        (min(c.source, c.target), max(c.source, c.target)) for c in cuts]  # type: ignore[union-attr]
    assert all(isinstance(f, FixLink) for f in fixes) and faults[-1] == Heal(at_ms=2000)
    directions = {(c.source < c.target) for c in cuts}  # type: ignore[union-attr]
    assert directions == {True, False}  # both orders of a pair are drawn


def test_a_simulated_run_cuts_one_direction_and_recovers() -> None:
    """A one-way ring (0 -> 1 -> 2 -> 0 lost) stalls 3 servers: whoever leads cannot reach
    one follower and is not heard by the other. After heal every check passes."""
    from paxlab.sim.run import passed, simulate, verdicts
    from tests.sim.helpers import shipped

    config = shipped("basic")
    ring = tuple(FailLinkOneWay(at_ms=20, source=i, target=(i + 1) % 3) for i in range(3))
    sim_run = simulate(dataclasses.replace(config, faults=(*ring, Heal(at_ms=120))), 3)
    assert [f["detail"] for f in sim_run.faults] == [
        "fail_link_one_way 0->1", "fail_link_one_way 1->2", "fail_link_one_way 2->0", "heal"]
    assert sim_run.counts["cut"] > 0
    assert passed(verdicts(sim_run))
