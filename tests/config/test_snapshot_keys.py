"""cluster.snapshot_every, retain_blocks and chain_archive: defaults, plumbing into the
core's ReplicaParams, round trip through results/config.yaml, and exact errors."""

from __future__ import annotations

from typing import Any

import pytest

from paxlab.config import config_to_dict, parse_config
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
