"""cluster.snapshot_every, retain_blocks and chain_archive: defaults, plumbing into the
core's ReplicaParams, round trip through results/config.yaml, and exact errors."""

from __future__ import annotations

from typing import Any

import pytest

from paxlab.config import ConfigError, config_to_dict, parse_config, refuse_sim_only
from paxlab.config.params import replica_params
from tests.config.helpers import SRC, problems


def test_defaults_snapshot_every_1000_keep_256_and_archive() -> None:
    cluster = parse_config({}, SRC).cluster
    assert (cluster.snapshot_every, cluster.retain_blocks, cluster.chain_archive) == \
        (1000, 256, True)


def test_keys_reach_the_replica_params() -> None:
    config = parse_config({"cluster": {"snapshot_every": 16, "retain_blocks": 4,
                                       "chain_archive": False}}, SRC)
    params = replica_params(config)
    assert (params.snapshot_every, params.retain_blocks) == (16, 4)
    assert config.cluster.chain_archive is False


def test_zero_turns_snapshots_off() -> None:
    assert replica_params(parse_config({"cluster": {"snapshot_every": 0}}, SRC)) \
        .snapshot_every == 0


def test_round_trip_through_config_to_dict() -> None:
    config = parse_config({"cluster": {"snapshot_every": 8, "retain_blocks": 2,
                                       "chain_archive": False}}, SRC)
    assert parse_config(config_to_dict(config), SRC) == config


@pytest.mark.parametrize(("cluster", "message"), [
    ({"snapshot_every": -1},
     "t.yaml: cluster.snapshot_every = -1: expected an integer >= 0"),
    ({"snapshot_every": "often"},
     "t.yaml: cluster.snapshot_every = 'often': expected an integer >= 0"),
    ({"retain_blocks": 0}, "t.yaml: cluster.retain_blocks = 0: expected an integer >= 1"),
    ({"retain_blocks": 2.5}, "t.yaml: cluster.retain_blocks = 2.5: expected an integer >= 1"),
    ({"chain_archive": "yes"},
     "t.yaml: cluster.chain_archive = 'yes': expected true or false"),
])
def test_bad_values_name_the_key_and_what_is_allowed(cluster: dict[str, Any],
                                                      message: str) -> None:
    assert problems({"cluster": cluster}) == (message,)


SNAP = {"snapshot_every": 8, "retain_blocks": 4}


def test_crash_in_compaction_parses_with_defaults_and_round_trips() -> None:
    config = parse_config({"cluster": SNAP, "faults": [
        {"at_ms": 100, "action": "crash_in_compaction", "target": "leader"},
        {"at_ms": 200, "action": "crash_in_compaction", "target": [0, 2], "step": 3,
         "restart_after_ms": 50}]}, SRC)
    first, second = config.faults
    assert (first.target, first.step, first.restart_after_ms) == ("leader", None, 300)
    assert (second.target, second.step, second.restart_after_ms) == ((0, 2), 3, 50)
    assert parse_config(config_to_dict(config), SRC) == config


def test_crash_in_compaction_needs_snapshots() -> None:
    assert problems({"cluster": {"snapshot_every": 0}, "faults": [
        {"at_ms": 0, "action": "crash_in_compaction", "target": 1},
        {"at_ms": 0, "action": "nemesis", "kinds": ["crash", "crash_in_compaction"],
         "until_ms": 900}]}) == (
        "t.yaml: faults[0].action = 'crash_in_compaction': crash_in_compaction needs "
        "snapshots, but cluster.snapshot_every is 0 (never compacts); set it above 0",
        "t.yaml: faults[1].kinds[1] = 'crash_in_compaction': crash_in_compaction needs "
        "snapshots, but cluster.snapshot_every is 0 (never compacts); set it above 0",
    )


def test_crash_in_compaction_step_is_1_to_3() -> None:
    assert problems({"faults": [{"at_ms": 0, "action": "crash_in_compaction", "target": 0,
                                 "step": 4}]}) == (
        "t.yaml: faults[0].step = 4: expected an integer from 1 to 3 or null",)


def test_the_lab_refuses_simulator_only_faults() -> None:
    config = parse_config({"cluster": SNAP, "faults": [
        {"at_ms": 100, "action": "crash_in_compaction", "target": 0},
        {"at_ms": 200, "action": "nemesis", "kinds": ["crash_in_compaction"],
         "until_ms": 900}]}, SRC)
    with pytest.raises(ConfigError) as info:
        refuse_sim_only(config, "lab")
    assert info.value.problems == (
        "t.yaml: faults: crash_in_compaction at 100 ms: simulator only; the lab cannot run "
        "it (use `paxlab sim`, or crash or power_cut here)",
        "t.yaml: faults: nemesis kind crash_in_compaction at 200 ms: simulator only; the lab "
        "cannot run it (use `paxlab sim`, or crash or power_cut here)",
    )
    refuse_sim_only(parse_config({"faults": [{"at_ms": 0, "action": "power_cut"}]}, SRC),
                    "lab")  # nothing sim-only: no error
