"""Tests for paxlab.scenario.nemesis: the expansion is reproducible, safe (never a down majority),
undone by until_ms, inside its window, and expand_faults keeps the schedule's order.

A small model of the cluster's fault state (`_State`) replays an expansion, so "undone"
and "never a majority" are checked on what the faults do, not on how they are written.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import Any

import pytest

from paxlab.config import (
    Config,
    Crash,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    Fault,
    FixLink,
    Heal,
    Isolate,
    Nemesis,
    NetworkConfig,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    Resume,
    SetNetwork,
    config_to_dict,
    parse_config,
)
from paxlab.config.fault_schema import NEMESIS_KINDS, NEMESIS_SERVERS_MIN
from paxlab.scenario.nemesis import LOSSY_CHANGES, expand_faults, expand_nemesis

NETWORK = NetworkConfig(delay_ms_mean=1.0, delay_ms_jitter=0.5, drop_probability=0.01,
                        duplicate_probability=0.0)
ALL_KINDS = tuple(NEMESIS_KINDS)
MINORITY_KINDS = tuple(k for k in ALL_KINDS if k not in ("crash_majority", "power_cut"))
"""The kinds that never stop the cluster: all but the two correlated ones."""


def nemesis(kinds: tuple[str, ...] = ALL_KINDS, at_ms: int = 100, interval_ms: int = 40,
            until_ms: int = 2000, seed: int | None = 7) -> Nemesis:
    return Nemesis(at_ms=at_ms, kinds=kinds, interval_ms=interval_ms, until_ms=until_ms,
                   seed=seed)


def expand(n: Nemesis, servers: int = 5, config_seed: int = 1) -> tuple[Fault, ...]:
    return expand_nemesis(n, servers, config_seed, NETWORK)


class _State:
    """What the faults have done so far. "L" stands for the leader, a server we cannot name."""

    def __init__(self, network: NetworkConfig) -> None:
        self.crashed: set[object] = set()
        self.paused: set[object] = set()
        self.partitioned = False  # any partition shape or isolation
        self.failed_links: set[tuple[int, int]] = set()
        self.one_way: set[tuple[int, int]] = set()  # (from, to)
        self.network = dataclasses.asdict(network)

    @staticmethod
    def _ids(target: Any) -> set[object]:
        if target == "leader":
            return {"L"}
        return set(target) if isinstance(target, tuple) else {target}

    def apply(self, fault: Fault) -> None:
        if isinstance(fault, Crash | CrashInCompaction):  # armed: it may crash any time
            self.crashed |= self._ids(fault.target)
        elif isinstance(fault, Restart):
            self.crashed = set() if fault.target == "all" else self.crashed - self._ids(
                fault.target)
        elif isinstance(fault, Pause):
            self.paused |= self._ids(fault.target)
        elif isinstance(fault, Resume):
            self.paused = set() if fault.target == "all" else self.paused - self._ids(
                fault.target)
        elif isinstance(fault, (Isolate, PartitionHalves, PartitionRing, PartitionBridge)):
            self.partitioned = True
        elif isinstance(fault, FailLink):
            self.failed_links.add(fault.between)
        elif isinstance(fault, FailLinkOneWay):
            self.one_way.add((fault.source, fault.target))
        elif isinstance(fault, FixLink):
            self.failed_links.discard(fault.between)
            self.one_way -= {fault.between, fault.between[::-1]}
        elif isinstance(fault, Heal):
            self.partitioned, self.failed_links, self.one_way = False, set(), set()
        elif isinstance(fault, SetNetwork):
            self.network.update(fault.changes)
        else:
            raise AssertionError(f"a nemesis emitted {fault!r}")

    def is_clean(self, network: NetworkConfig) -> bool:
        return (not self.crashed and not self.paused and not self.partitioned
                and not self.failed_links and not self.one_way
                and self.network == dataclasses.asdict(network))


# --- reproducible -----------------------------------------------------------------------


def test_same_seed_same_faults() -> None:
    assert expand(nemesis()) == expand(nemesis())
    assert expand(nemesis(seed=None), config_seed=7) == expand(nemesis(seed=7), config_seed=99)


def test_same_faults_in_another_process_with_another_hash_seed() -> None:
    """Catches set or dict order leaking into the expansion (STYLE.md section 4)."""
    code = ("from paxlab.scenario.nemesis import expand_nemesis; "
            "from paxlab.config import Nemesis, NetworkConfig; "
            "from paxlab.config.fault_schema import NEMESIS_KINDS; "
            "print(repr(expand_nemesis(Nemesis(at_ms=100, kinds=tuple(NEMESIS_KINDS), "
            "interval_ms=40, until_ms=2000, seed=7), 5, 1, NetworkConfig(delay_ms_mean=1.0, "
            "delay_ms_jitter=0.5, drop_probability=0.01, duplicate_probability=0.0))))")
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == repr(expand(nemesis()))


def test_different_seeds_give_different_faults() -> None:
    runs = {expand(nemesis(seed=seed)) for seed in range(5)}
    assert len(runs) == 5
    assert expand(nemesis(seed=None), config_seed=1) != expand(nemesis(seed=None), config_seed=2)


# --- the timeline -----------------------------------------------------------------------


@pytest.mark.parametrize("interval_ms", [1, 2, 7, 40, 500, 5000])
def test_faults_start_every_interval_and_are_undone_half_an_interval_later(
        interval_ms: int) -> None:
    n = nemesis(at_ms=100, interval_ms=interval_ms, until_ms=1100)
    faults = expand(n)
    starts = list(range(100, 1100, interval_ms))
    half = (interval_ms + 1) // 2
    events = [f.at_ms for f in faults]
    # each start has a fault, then (if it is before until_ms) its undo
    expected = [t for start in starts for t in (start, start + half) if t < 1100 or t == start]
    assert events[:len(expected)] == expected
    assert all(t == 1100 for t in events[len(expected):])


@pytest.mark.parametrize("seed", range(20))
def test_stays_within_its_window_in_time_order(seed: int) -> None:
    n = nemesis(at_ms=250, interval_ms=33, until_ms=900, seed=seed)
    times = [f.at_ms for f in expand(n)]
    assert times == sorted(times)
    assert times[0] == 250 and times[-1] == 900
    assert all(250 <= t <= 900 for t in times)


def test_every_kind_is_picked_and_emits_what_its_table_row_says() -> None:
    faults = expand(nemesis(interval_ms=10, until_ms=3000))
    seen = {type(f) for f in faults}
    assert {Crash, Restart, Pause, Resume, Isolate, Heal, PartitionHalves, PartitionRing,
            PartitionBridge, FailLink, FixLink, FailLinkOneWay, SetNetwork} <= seen
    one_way = {(f.source, f.target) for f in faults if isinstance(f, FailLinkOneWay)}
    assert all(a != b for a, b in one_way) and any(a > b for a, b in one_way)
    assert any(isinstance(f, Crash) and f.target == "leader" for f in faults)
    lossy = [f for f in faults if isinstance(f, SetNetwork) and f.changes == LOSSY_CHANGES]
    assert lossy, "lossy was never picked"
    restores = [f for f in faults if isinstance(f, SetNetwork) and f.changes != LOSSY_CHANGES]
    assert {f.changes for f in restores} == {(("delay_ms_jitter", 0.5), ("drop_probability", 0.01),
                                              ("duplicate_probability", 0.0))}


@pytest.mark.parametrize(("kind", "fault_type", "undo_type"), [
    ("crash_leader", Crash, Restart),
    ("pause_leader", Pause, Resume),
    ("isolate_leader", Isolate, Heal),
])
def test_leader_kinds_target_the_leader_and_undo_all(kind: str, fault_type: type,
                                                     undo_type: type) -> None:
    faults = expand(nemesis(kinds=(kind,), interval_ms=100, until_ms=300, at_ms=0))
    assert [type(f) for f in faults] == [fault_type, undo_type, fault_type, undo_type,
                                         fault_type, undo_type, undo_type]
    assert [f.at_ms for f in faults] == [0, 50, 100, 150, 200, 250, 300]
    assert all(getattr(f, "target", "leader") == "leader" for f in faults[0:-1:2])
    assert all(getattr(f, "target", "all") == "all" for f in faults[1::2])


# --- safe and undone --------------------------------------------------------------------


@pytest.mark.parametrize("servers", [3, 4, 5, 6, 7, 15])
@pytest.mark.parametrize("seed", range(10))
def test_never_crashes_or_pauses_a_majority(servers: int, seed: int) -> None:
    minority = (servers - 1) // 2
    faults = expand(nemesis(kinds=MINORITY_KINDS, interval_ms=15, until_ms=1500, seed=seed),
                    servers=servers)
    state = _State(NETWORK)
    for fault in faults:
        if isinstance(fault, (Crash, Pause)) and fault.target != "leader":
            ids = fault.target if isinstance(fault.target, tuple) else (fault.target,)
            assert 1 <= len(ids) <= minority and len(set(ids)) == len(ids)
            assert all(0 <= i < servers for i in ids)
            assert not isinstance(fault.target, tuple) or len(fault.target) >= 2
        state.apply(fault)
        assert len(state.crashed | state.paused) <= minority, fault


@pytest.mark.parametrize("servers", [1, 2, 3, 5, 15])
@pytest.mark.parametrize("seed", range(10))
def test_everything_is_undone_by_until_ms(servers: int, seed: int) -> None:
    kinds = tuple(k for k in ALL_KINDS if NEMESIS_SERVERS_MIN.get(k, 1) <= servers)
    n = nemesis(kinds=kinds, interval_ms=25, until_ms=1000, seed=seed)
    state = _State(NETWORK)
    for fault in expand(n, servers=servers):
        state.apply(fault)
    assert state.is_clean(NETWORK)


@pytest.mark.parametrize("kinds", [(k,) for k in ALL_KINDS] + [("crash", "lossy")])
def test_undo_all_at_until_ms_is_only_what_the_kinds_need(kinds: tuple[str, ...]) -> None:
    faults = expand(nemesis(kinds=kinds, interval_ms=1000, at_ms=0, until_ms=400))
    final = faults[1:]  # the only fault starts at 0; its undo (at 500) falls past until_ms
    assert all(f.at_ms == 400 for f in final)
    state = _State(NETWORK)
    for fault in faults:
        state.apply(fault)
    assert state.is_clean(NETWORK)
    assert len(final) == len(kinds)  # one undo each here: no kind shares an undo with another


def test_too_few_servers_is_an_error() -> None:
    with pytest.raises(ValueError, match="nemesis kind crash needs at least 3 servers, got 2"):
        expand(nemesis(kinds=("crash",)), servers=2)
    with pytest.raises(ValueError, match="fail_link needs at least 2 servers, got 1"):
        expand(nemesis(kinds=("lossy", "fail_link")), servers=1)


# --- expand_faults ----------------------------------------------------------------------


def schedule(*faults: dict[str, Any], servers: int = 5) -> Config:
    return parse_config({"seed": 3, "cluster": {"servers": servers}, "faults": list(faults)},
                        "n.yaml")


def test_expand_faults_without_nemesis_is_the_schedule() -> None:
    config = schedule({"at_ms": 5, "action": "heal"}, {"at_ms": 1, "action": "partition_ring"})
    assert expand_faults(config) == config.faults


def test_expand_faults_replaces_nemesis_and_keeps_order() -> None:
    config = schedule(
        {"at_ms": 100, "action": "heal"},
        {"at_ms": 100, "action": "nemesis", "kinds": ["crash", "lossy"], "interval_ms": 100,
         "until_ms": 400},
        {"at_ms": 100, "action": "isolate", "target": 1},
        {"at_ms": 150, "action": "partition_halves"},
        {"at_ms": 400, "action": "crash_client", "client": "all"},
        {"at_ms": 0, "action": "set_network", "delay_ms_mean": 2},
    )
    nem = config.faults[2]
    assert isinstance(nem, Nemesis)
    inner = expand_nemesis(nem, 5, 3, config.network)
    out = expand_faults(config)
    assert not any(isinstance(f, Nemesis) for f in out)
    assert [f.at_ms for f in out] == sorted(f.at_ms for f in out)
    assert sorted(out, key=repr) == sorted([*config.faults[:2], *config.faults[3:], *inner],
                                           key=repr)
    # equal times keep file order, with the nemesis's faults in the nemesis's place
    at_100 = [f for f in out if f.at_ms == 100]
    assert at_100 == [config.faults[1], inner[0], config.faults[3]]
    at_400 = [f for f in out if f.at_ms == 400]
    assert at_400 == [*[f for f in inner if f.at_ms == 400], config.faults[-1]]


def test_expansion_is_a_valid_config_of_plain_faults() -> None:
    config = schedule({"at_ms": 0, "action": "nemesis", "kinds": list(ALL_KINDS),
                       "interval_ms": 9, "until_ms": 2000}, servers=7)
    plain = dataclasses.replace(config, faults=expand_faults(config))
    assert len(plain.faults) > 200
    assert parse_config(config_to_dict(plain), plain.source) == plain
