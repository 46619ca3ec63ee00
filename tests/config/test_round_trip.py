"""A config survives config_to_dict and YAML unchanged, and parses to canonical values."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from paxlab.config import (
    Config,
    Crash,
    CrashClient,
    FailLink,
    FailLinkOneWay,
    Nemesis,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    RestartClient,
    Resume,
    ScriptedOp,
    SetLink,
    SetNetwork,
    config_to_dict,
    describe_fault,
    load_config,
    parse_config,
)
from paxlab.config.fault_schema import NEMESIS_KINDS
from paxlab.config.schema import SECTIONS, TOP_KEYS
from tests.config.helpers import CONFIGS, SRC, scripted

NEW_FAULTS: list[dict[str, Any]] = [
    {"at_ms": 10, "action": "crash", "target": "leader"},
    {"at_ms": 10, "action": "crash", "target": [4, 0]},
    {"at_ms": 11, "action": "restart", "target": "all"},
    {"at_ms": 11, "action": "restart", "target": 0},
    {"at_ms": 12, "action": "pause", "target": "minority"},
    {"at_ms": 12, "action": "pause", "target": [3]},
    {"at_ms": 13, "action": "resume", "target": "majority"},
    {"at_ms": 13, "action": "resume", "target": "random"},
    {"at_ms": 14, "action": "crash_client", "client": 2},
    {"at_ms": 15, "action": "restart_client", "client": "all"},
    {"at_ms": 16, "action": "partition_halves"},
    {"at_ms": 17, "action": "partition_ring"},
    {"at_ms": 18, "action": "partition_bridge"},
    {"at_ms": 19, "action": "set_link", "between": [2, 1], "drop_probability": 1},
    {"at_ms": 19, "action": "fail_link_one_way", "from": 4, "to": 1},
    {"at_ms": 20, "action": "nemesis", "kinds": ["lossy", "crash"], "until_ms": 900},
    {"at_ms": 21, "action": "nemesis", "kinds": list(NEMESIS_KINDS), "interval_ms": 7,
     "until_ms": 22, "seed": 3},
]


def rich_configs() -> list[Config]:
    shipped = [load_config(path) for path in sorted(CONFIGS.glob("*.yaml"))]
    every_fault = parse_config({
        "name": "rich", "seed": 9, "cluster": {"servers": 5},
        "workload": {"duration_ms": 100, "key_distribution": "zipf", "zipf_exponent": 2},
        "faults": [
            {"at_ms": 9, "action": "heal"},
            {"at_ms": 1, "action": "fail_link", "between": [3, 1]},
            {"at_ms": 2, "action": "fix_link", "between": [1, 3]},
            {"at_ms": 3, "action": "partition", "groups": [[4], [0, 2]]},
            {"at_ms": 4, "action": "isolate", "target": 2},
            {"at_ms": 5, "action": "isolate", "target": "leader"},
            {"at_ms": 6, "action": "set_network", "duplicate_probability": 0.5,
             "delay_ms_mean": 2},
            *NEW_FAULTS,
        ],
    }, "rich.yaml")
    script = parse_config(scripted(
        {"at_ms": 10, "client": 1, "f": "get", "key": "( 1,'a' )"},
        {"at_ms": 0, "client": 0, "f": "put", "key": 7, "value": None},
        {"at_ms": 0, "client": 2, "f": "put", "key": "'x'", "value": "{'a': [1, 2.5]}"},
    ), "script.yaml")
    fsync = parse_config({"cluster": {"fsync": "never"}}, "fsync.yaml")
    return [*shipped, every_fault, script, fsync]


@pytest.mark.parametrize("config", rich_configs(), ids=lambda c: c.name)
def test_round_trip_through_dict_and_yaml(config: Config) -> None:
    data = config_to_dict(config)
    assert parse_config(data, config.source) == config
    assert parse_config(yaml.safe_load(yaml.safe_dump(data)), config.source) == config
    assert "seed" in data and "source" not in data


def test_config_to_dict_has_every_key_of_the_schema() -> None:
    data = config_to_dict(parse_config({}, SRC))
    assert list(data) == list(TOP_KEYS)
    for section, specs in SECTIONS.items():
        expected = [key for key in specs if key != "ops"]
        assert list(data[section]) == expected


def test_faults_sorted_by_time_stably_and_canonical() -> None:
    config = rich_configs()[-3]
    assert [f.at_ms for f in config.faults][:7] == [1, 2, 3, 4, 5, 6, 9]
    assert config.faults[0] == FailLink(at_ms=1, between=(1, 3))
    assert config.faults[5] == SetNetwork(
        at_ms=6, changes=(("delay_ms_mean", 2.0), ("duplicate_probability", 0.5)))
    same_time = parse_config({"faults": [{"at_ms": 5, "action": "heal"},
                                         {"at_ms": 5, "action": "isolate", "target": 0},
                                         {"at_ms": 1, "action": "heal"}]}, SRC)
    assert [describe_fault(f) for f in same_time.faults] == ["heal", "heal", "isolate 0"]
    assert [f.at_ms for f in same_time.faults] == [1, 5, 5]


def test_new_faults_parse_to_canonical_dataclasses() -> None:
    faults = rich_configs()[-3].faults[7:]
    assert faults == (
        Crash(at_ms=10, target="leader"),
        Crash(at_ms=10, target=(0, 4)),
        Restart(at_ms=11, target="all"),
        Restart(at_ms=11, target=0),
        Pause(at_ms=12, target="minority"),
        Pause(at_ms=12, target=(3,)),
        Resume(at_ms=13, target="majority"),
        Resume(at_ms=13, target="random"),
        CrashClient(at_ms=14, client=2),
        RestartClient(at_ms=15, client="all"),
        PartitionHalves(at_ms=16),
        PartitionRing(at_ms=17),
        PartitionBridge(at_ms=18),
        SetLink(at_ms=19, between=(1, 2), changes=(("drop_probability", 1.0),)),
        FailLinkOneWay(at_ms=19, source=4, target=1),
        Nemesis(at_ms=20, kinds=("lossy", "crash"), interval_ms=500, until_ms=900, seed=None),
        Nemesis(at_ms=21, kinds=tuple(NEMESIS_KINDS), interval_ms=7, until_ms=22, seed=3),
    )


def test_fsync_is_a_cluster_choice() -> None:
    assert parse_config({}, SRC).cluster.fsync == "always"
    assert rich_configs()[-1].cluster.fsync == "never"
    assert config_to_dict(rich_configs()[-1])["cluster"]["fsync"] == "never"


def test_scripted_ops_are_canonical_and_sorted() -> None:
    ops = rich_configs()[-2].workload.ops
    assert ops == (
        ScriptedOp(at_ms=0, client=0, f="put", key="7", value="None"),
        ScriptedOp(at_ms=0, client=2, f="put", key="'x'", value="{'a': [1, 2.5]}"),
        ScriptedOp(at_ms=10, client=1, f="get", key="(1, 'a')", value=None),
    )
    workload = rich_configs()[-2].workload
    assert (workload.ops_per_client, workload.duration_ms) == (None, None)
