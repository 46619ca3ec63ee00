"""Shared by the config tests: a parse that must fail, and small config builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paxlab.config import ConfigError, parse_config
from paxlab.config.schema import CLUSTER_KEYS

__all__ = [
    "ALL_ACTIONS",
    "ALL_KINDS",
    "CLUSTER_ALLOWED",
    "CONFIGS",
    "CRASH_TARGETS",
    "RESTART_TARGETS",
    "ROOT",
    "SRC",
    "fault",
    "problems",
    "scripted",
]

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SRC = "t.yaml"
ALL_ACTIONS = ("fail_link, fix_link, fail_link_one_way, partition, partition_halves, "
               "partition_ring, partition_bridge, isolate, heal, set_network, set_link, crash, "
               "crash_majority, power_cut, crash_in_compaction, restart, pause, resume, "
               "crash_client, restart_client, nemesis")
ALL_KINDS = ("crash, crash_leader, crash_majority, power_cut, crash_in_compaction, pause, "
             "pause_leader, "
             "isolate_leader, partition_halves, "
             "partition_ring, partition_bridge, fail_link, one_way_link, lossy")


def problems(data: object, source: str = SRC) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source)
    return info.value.problems


def scripted(*ops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"workload": {"type": "scripted", "ops": list(ops)}, **extra}


CLUSTER_ALLOWED = ", ".join(CLUSTER_KEYS)


CRASH_TARGETS = ("a server id from 0 to 2, a non-empty list of distinct server ids, or one of: "
                 "leader, random, minority, majority, all (cluster.servers is 3)")


RESTART_TARGETS = ("a server id from 0 to 2, a non-empty list of distinct server ids, or one "
                   "of: random, minority, majority, all (cluster.servers is 3)")


def fault(action: str, at_ms: int = 0, **keys: Any) -> dict[str, Any]:
    """A config with one fault item."""
    return {"faults": [{"at_ms": at_ms, "action": action, **keys}]}
