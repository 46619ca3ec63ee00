"""The link model: which messages are cut, dropped, duplicated and how late they arrive."""

from __future__ import annotations

import random
from typing import Any

import pytest

from paxlab.config.types import NetworkConfig
from paxlab.network.model import NetworkModel

CLEAN = NetworkConfig(delay_ms_mean=2.0, delay_ms_jitter=1.0, drop_probability=0.0,
                      duplicate_probability=0.0)
SERVERS = ["s0", "s1", "s2", "s3", "s4"]


def model(rules: NetworkConfig = CLEAN) -> NetworkModel:
    return NetworkModel(rules=rules, rng=random.Random(7))


def test_clean_network_delivers_once_within_jitter() -> None:
    net = model()
    for _ in range(200):
        fate = net.fate("s0", "s1")
        assert fate.reason == "deliver" and len(fate.delays_ms) == 1
        assert 1.0 <= fate.delays_ms[0] <= 3.0


def test_jitter_reorders() -> None:
    net = model()
    delays = [net.fate("c0", "s1").delays_ms[0] for _ in range(50)]
    assert delays != sorted(delays)


def test_failed_link_cuts_both_ways_until_fixed() -> None:
    net = model()
    net.fail_link("s0", "s1")
    assert net.fate("s0", "s1").reason == "cut" and net.fate("s1", "s0").reason == "cut"
    assert net.fate("s0", "s2").reason == "deliver"
    net.fix_link("s1", "s0")
    assert net.fate("s0", "s1").reason == "deliver"


def test_partition_groups_and_unlisted_servers() -> None:
    net = model()
    net.partition([["s0", "s1"], ["s2", "s3"]], SERVERS)
    assert not net.is_cut("s0", "s1") and not net.is_cut("s2", "s3")
    assert net.is_cut("s1", "s2") and net.is_cut("s4", "s0") and net.is_cut("s3", "s4")
    net.partition([["s0"]], SERVERS)  # a later partition replaces the earlier one
    assert not net.is_cut("s1", "s2") and net.is_cut("s0", "s1")
    net.heal()
    assert not any(net.is_cut(a, b) for a in SERVERS for b in SERVERS)


def test_clients_are_never_cut_off() -> None:
    net = model()
    net.isolate("s2")
    assert net.is_cut("s2", "s0") and net.is_cut("s1", "s2")
    assert not net.is_cut("c0", "s2") and not net.is_cut("s2", "c0")


def test_drop_and_duplicate_rates() -> None:
    net = model(NetworkConfig(delay_ms_mean=1.0, delay_ms_jitter=0.0, drop_probability=0.3,
                              duplicate_probability=0.2))
    fates = [net.fate("s0", "s1").reason for _ in range(4000)]
    assert 0.25 < fates.count("drop") / 4000 < 0.35
    assert 0.11 < fates.count("duplicate") / 4000 < 0.17  # 0.2 of the 0.7 not dropped
    net.set_rules(drop_probability=0.0, duplicate_probability=0.0)
    assert {net.fate("s0", "s1").reason for _ in range(100)} == {"deliver"}


def _reference_fate(net: NetworkModel, source: str, target: str, rng: random.Random
                    ) -> tuple[str, tuple[float, ...]]:
    """The fate as first written, with Random.uniform and max: `fate` inlines its delay
    draw and has a fast path for a network without faults, and must draw the same
    numbers in the same order to the same bits."""
    if net.is_cut(source, target):
        return "cut", ()
    rules = net.link_rules.get(frozenset((source, target)), net.rules)

    def delay() -> float:
        jitter = rules.delay_ms_jitter
        offset = rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
        return max(0.0, rules.delay_ms_mean + offset)

    if rules.drop_probability > 0 and rng.random() < rules.drop_probability:
        return "drop", ()
    if rules.duplicate_probability > 0 and rng.random() < rules.duplicate_probability:
        first = delay()
        return "duplicate", (first, delay())
    return "deliver", (delay(),)


@pytest.mark.parametrize("rules", [
    CLEAN,
    NetworkConfig(delay_ms_mean=1.1, delay_ms_jitter=0.3, drop_probability=0.2,
                  duplicate_probability=0.3),  # a jitter not a power of 2: rounding shows
    NetworkConfig(delay_ms_mean=0.2, delay_ms_jitter=1.3, drop_probability=0.0,
                  duplicate_probability=0.5),  # often below 0: clamped to 0.0
    NetworkConfig(delay_ms_mean=3, delay_ms_jitter=0, drop_probability=0.1,  # type: ignore[arg-type]
                  duplicate_probability=0.0),  # ints, as YAML may give them
    NetworkConfig(delay_ms_mean=3, delay_ms_jitter=0, drop_probability=0,  # type: ignore[arg-type]
                  duplicate_probability=0),  # the fast path, without a draw
], ids=["clean", "lossy", "clamped", "ints", "ints-plain"])
def test_fates_draw_exactly_as_the_reference_does(rules: NetworkConfig) -> None:
    net, reference_rng = model(rules), random.Random(7)
    for _ in range(2000):
        fate = net.fate("s0", "s1")
        expected = _reference_fate(net, "s0", "s1", reference_rng)
        assert repr((fate.reason, fate.delays_ms)) == repr(expected)


def test_every_command_keeps_the_fast_path_in_step() -> None:
    # fate skips the fault checks while none is in force: each change must end or
    # resume that, or a cut link would deliver (or a healed one stay lossy).
    net, reference_rng = model(CLEAN), random.Random(7)
    commands: list[dict[str, Any]] = [
        {"cmd": "fail_link", "between": ["s0", "s1"]}, {"cmd": "fix_link", "between": ["s1", "s0"]},
        {"cmd": "fail_link_one_way", "source": "s1", "target": "s2"}, {"cmd": "heal"},
        {"cmd": "cut", "pairs": [["s0", "s2"]], "label": "x"}, {"cmd": "heal"},
        {"cmd": "isolate", "target": "s1"}, {"cmd": "heal"},
        {"cmd": "set_network", "changes": {"drop_probability": 0.5}}, {"cmd": "quiesce"},
        {"cmd": "set_network", "changes": {"duplicate_probability": 0.5}}, {"cmd": "quiesce"},
        {"cmd": "set_link", "between": ["s0", "s1"], "changes": {"delay_ms_mean": 9.0}},
        {"cmd": "heal"}, {"cmd": "quiesce"},
        {"cmd": "set_network", "changes": {"delay_ms_jitter": 0.0}},
    ]
    for command in commands:
        assert net.apply_command(command)
        pairs = [("s0", "s1"), ("s1", "s2"), ("s2", "s0"), ("c0", "s1")] * 10
        for index, (source, target) in enumerate(pairs):
            got: tuple[str, tuple[float, ...]]
            if index % 2 and (delay_ms := net.plain_delay_ms()) is not None:  # as the sim does
                got = ("deliver", (delay_ms,))
            else:
                fate = net.fate(source, target)
                got = (fate.reason, fate.delays_ms)
            expected = _reference_fate(net, source, target, reference_rng)
            assert repr(got) == repr(expected), command


def test_active_faults_describe_what_is_in_force() -> None:
    net = model()
    assert net.active_faults() == []
    net.fail_link("s1", "s0")
    net.isolate("s3")
    net.set_rules(drop_probability=0.1)
    assert net.active_faults() == ["link s0-s1 down", "s3 isolated", "drop 0.1"]


def test_ring_lets_each_server_see_only_its_neighbours() -> None:
    from paxlab.network.model import ring_cuts

    net = model()
    net.set_partition(ring_cuts(SERVERS), "ring")
    for i, server in enumerate(SERVERS):
        seen = {other for other in SERVERS if other != server and not net.is_cut(server, other)}
        assert seen == {SERVERS[(i - 1) % 5], SERVERS[(i + 1) % 5]}


def test_bridge_sees_both_halves_which_do_not_see_each_other() -> None:
    from paxlab.network.model import bridge_cuts

    net = model()
    cuts, label = bridge_cuts(SERVERS, random.Random(3))
    net.set_partition(cuts, label)
    bridge = label.split("bridge ")[1].split(" ")[0]
    assert not any(net.is_cut(bridge, other) for other in SERVERS)
    left, right = (side.split() for side in label.replace(f"bridge {bridge} | ", "").split(" | "))
    assert len(left) + len(right) == 4
    assert all(net.is_cut(a, b) for a in left for b in right)


def test_random_halves_are_seeded_and_cover_everyone() -> None:
    from paxlab.network.model import random_halves

    halves = random_halves(SERVERS, random.Random(1))
    assert sorted(halves[0] + halves[1]) == SERVERS and len(halves[0]) == 2
    assert halves == random_halves(SERVERS, random.Random(1))


def test_link_rules_override_one_link_and_survive_heal_but_not_calm() -> None:
    net = model()
    net.set_link("s0", "s1", drop_probability=1.0)
    assert {net.fate("s1", "s0").reason for _ in range(20)} == {"drop"}
    assert net.fate("s0", "s2").reason == "deliver"
    net.heal()
    assert net.fate("s0", "s1").reason == "drop"
    net.calm()
    assert net.fate("s0", "s1").reason == "deliver"


def test_resolve_servers_targets() -> None:
    from paxlab.scenario.targets import resolve_servers

    rng = random.Random(5)
    assert resolve_servers(2, SERVERS, SERVERS, None, rng) == ["s2"]
    assert resolve_servers((0, 3), SERVERS, SERVERS, None, rng) == ["s0", "s3"]
    assert resolve_servers("leader", SERVERS, SERVERS, "s4", rng) == ["s4"]
    assert resolve_servers("leader", SERVERS, SERVERS, None, rng) == []
    assert resolve_servers("all", SERVERS, ["s1", "s3"], None, rng) == ["s1", "s3"]
    assert len(resolve_servers("minority", SERVERS, SERVERS, None, rng)) == 2
    assert len(resolve_servers("majority", SERVERS, SERVERS, None, rng)) == 3
    assert len(resolve_servers("random", SERVERS, SERVERS, None, rng)) == 1
    assert resolve_servers(2, SERVERS, ["s0"], None, rng) == [], "only from the pool"
