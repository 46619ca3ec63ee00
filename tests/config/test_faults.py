"""Fault items: their descriptions, the table every action comes from, and exact error texts."""

from __future__ import annotations

from typing import Any

import pytest

from paxlab.config import (
    Crash,
    CrashClient,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    FixLink,
    Heal,
    Isolate,
    Nemesis,
    Partition,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    RestartClient,
    Resume,
    SetLink,
    SetNetwork,
    describe_fault,
    parse_config,
)
from paxlab.config.fault_schema import CRASH_SHORTHANDS, FAULT_COMMON_KEYS, FAULT_KEYS
from tests.config.helpers import ALL_ACTIONS, CRASH_TARGETS, RESTART_TARGETS, SRC, fault, problems


@pytest.mark.parametrize(("fault", "text"), [
    (FailLink(at_ms=0, between=(0, 1)), "fail_link 0-1"),
    (FixLink(at_ms=0, between=(0, 1)), "fix_link 0-1"),
    (FailLinkOneWay(at_ms=0, source=2, target=0), "fail_link_one_way 2->0"),
    (Partition(at_ms=0, groups=((0,), (1, 2))), "partition [0] | [1, 2]"),
    (Isolate(at_ms=0, target="leader"), "isolate leader"),
    (Isolate(at_ms=0, target=2), "isolate 2"),
    (Heal(at_ms=0), "heal"),
    (SetNetwork(at_ms=0, changes=(("drop_probability", 0.1),)), "set_network drop_probability=0.1"),
    (SetNetwork(at_ms=0, changes=(("delay_ms_mean", 5.0), ("drop_probability", 0.0))),
     "set_network delay_ms_mean=5 drop_probability=0"),
    (SetLink(at_ms=0, between=(0, 2), changes=(("delay_ms_mean", 5.0), ("drop_probability", 1.0))),
     "set_link 0-2 delay_ms_mean=5 drop_probability=1"),
    (Crash(at_ms=0, target="leader"), "crash leader"),
    (Crash(at_ms=0, target=(0, 2)), "crash [0, 2]"),
    (Crash(at_ms=0, target=1), "crash 1"),
    (Restart(at_ms=0, target="all"), "restart all"),
    (Pause(at_ms=0, target=(3,)), "pause [3]"),
    (Resume(at_ms=0, target="minority"), "resume minority"),
    (CrashClient(at_ms=0, client=1), "crash_client 1"),
    (RestartClient(at_ms=0, client="all"), "restart_client all"),
    (PartitionHalves(at_ms=0), "partition_halves"),
    (PartitionRing(at_ms=0), "partition_ring"),
    (PartitionBridge(at_ms=0), "partition_bridge"),
    (Nemesis(at_ms=0, kinds=("crash", "pause"), interval_ms=400, until_ms=5000, seed=7),
     "nemesis crash, pause every 400 ms until 5000 ms (seed 7)"),
    (Nemesis(at_ms=0, kinds=("lossy",), interval_ms=500, until_ms=900, seed=None),
     "nemesis lossy every 500 ms until 900 ms (config seed)"),
])
def test_describe_fault(fault: Any, text: str) -> None:
    assert describe_fault(fault) == text


def test_every_fault_class_names_an_action_of_the_table() -> None:
    classes = [FailLink, FixLink, FailLinkOneWay, Partition, PartitionHalves, PartitionRing,
               PartitionBridge, Isolate, Heal, SetNetwork, SetLink, Crash, CrashInCompaction,
               Restart, Pause, Resume, CrashClient, RestartClient, Nemesis]
    actions = [a for a in FAULT_KEYS if a not in CRASH_SHORTHANDS]  # they parse to Crash
    assert [c.ACTION for c in classes] == actions
    assert list(FAULT_KEYS) == list(FAULT_COMMON_KEYS["action"].choices)


def test_client_faults_accept_target_like_server_faults() -> None:
    """A user who writes target: for a client fault, as for a server fault, gets what
    client: gives (issue 11, the fourth bug); client: keeps working."""
    for action in ("crash_client", "restart_client"):
        for who in (1, "all"):
            by_target = parse_config(fault(action, at_ms=700, target=who), SRC).faults
            by_client = parse_config(fault(action, at_ms=700, client=who), SRC).faults
            assert by_target == by_client


BAD_FAULT_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown action", {"faults": [{"at_ms": 0, "action": "explode"}]},
     f"t.yaml: faults[0].action = 'explode': expected one of: {ALL_ACTIONS}"),
    ("missing action", {"faults": [{"at_ms": 0}]},
     f"t.yaml: faults[0].action: missing; expected one of: {ALL_ACTIONS}"),
    ("missing at_ms", {"faults": [{"action": "heal"}]},
     "t.yaml: faults[0].at_ms: missing; expected an integer >= 0"),
    ("faults not a list", {"faults": {"at_ms": 0, "action": "heal"}},
     "t.yaml: faults = {'at_ms': 0, 'action': 'heal'}: expected a list of fault actions, "
     "e.g. - {at_ms: 500, action: heal}"),
    ("fault not mapping", {"faults": ["heal"]},
     "t.yaml: faults[0] = 'heal': expected a mapping, e.g. {at_ms: 500, action: heal}"),
    ("unknown server in group", {"faults": [{"at_ms": 0, "action": "partition",
                                             "groups": [[0], [1, 3]]}]},
     "t.yaml: faults[0].groups[1][1] = 3: expected a server id from 0 to 2 "
     "(cluster.servers is 3)"),
    ("overlapping groups", {"faults": [{"at_ms": 0, "action": "partition",
                                        "groups": [[0, 1], [1, 2]]}]},
     "t.yaml: faults[0].groups[1][0] = 1: server 1 is already in faults[0].groups[0]; "
     "groups must not overlap"),
    ("empty group", {"faults": [{"at_ms": 0, "action": "partition", "groups": [[0], []]}]},
     "t.yaml: faults[0].groups[1] = []: expected a non-empty list of server ids"),
    ("no groups", {"faults": [{"at_ms": 0, "action": "partition", "groups": []}]},
     "t.yaml: faults[0].groups = []: expected a non-empty list of lists of server ids, "
     "e.g. [[0], [1, 2]]"),
    ("missing groups", {"faults": [{"at_ms": 0, "action": "partition"}]},
     "t.yaml: faults[0].groups: missing; expected a non-empty list of non-empty, disjoint "
     "lists of server ids"),
    ("same server twice", {"faults": [{"at_ms": 0, "action": "fail_link", "between": [1, 1]}]},
     "t.yaml: faults[0].between = [1, 1]: expected two different server ids, e.g. [0, 1]"),
    ("three servers", {"faults": [{"at_ms": 0, "action": "fix_link", "between": [0, 1, 2]}]},
     "t.yaml: faults[0].between = [0, 1, 2]: expected two different server ids, e.g. [0, 1]"),
    ("link to unknown server", {"faults": [{"at_ms": 0, "action": "fail_link",
                                            "between": [0, 7]}]},
     "t.yaml: faults[0].between[1] = 7: expected a server id from 0 to 2 "
     "(cluster.servers is 3)"),
    ("bool server", {"faults": [{"at_ms": 0, "action": "fail_link", "between": [True, 0]}]},
     "t.yaml: faults[0].between[0] = true: expected a server id from 0 to 2 "
     "(cluster.servers is 3)"),
    ("bad target", {"faults": [{"at_ms": 0, "action": "isolate", "target": "follower"}]},
     "t.yaml: faults[0].target = 'follower': expected leader or a server id from 0 to 2 "
     "(cluster.servers is 3)"),
    ("set_network bad value", {"faults": [{"at_ms": 0, "action": "set_network",
                                           "drop_probability": 2}]},
     "t.yaml: faults[0].drop_probability = 2: expected a number from 0 to 1"),
    ("set_network bad key", {"faults": [{"at_ms": 0, "action": "set_network",
                                         "servers": 2}]},
     "t.yaml: faults[0].servers: unknown key; allowed: at_ms, action, delay_ms_mean, "
     "delay_ms_jitter, drop_probability, duplicate_probability"),
    ("set_network nothing", {"faults": [{"at_ms": 0, "action": "set_network"}]},
     "t.yaml: faults[0]: set_network needs at least one of: delay_ms_mean, delay_ms_jitter, "
     "drop_probability, duplicate_probability"),
    ("fsync choice", {"cluster": {"fsync": "sometimes"}},
     "t.yaml: cluster.fsync = 'sometimes': expected one of: always, never"),
    # process fault targets
    ("unknown target word", fault("crash", target="follower"),
     f"t.yaml: faults[0].target = 'follower': expected {CRASH_TARGETS}"),
    ("leader cannot be restarted", fault("restart", target="leader"),
     f"t.yaml: faults[0].target = 'leader': expected {RESTART_TARGETS}"),
    ("resume words", fault("resume", target="everyone"),
     f"t.yaml: faults[0].target = 'everyone': expected {RESTART_TARGETS}"),
    ("target id out of range", fault("pause", target=3),
     f"t.yaml: faults[0].target = 3: expected {CRASH_TARGETS}"),
    ("bool target", fault("crash", target=True),
     f"t.yaml: faults[0].target = true: expected {CRASH_TARGETS}"),
    ("target list id out of range", fault("crash", target=[0, 5]),
     "t.yaml: faults[0].target[1] = 5: expected a server id from 0 to 2 "
     "(cluster.servers is 3)"),
    ("empty target list", fault("crash", target=[]),
     "t.yaml: faults[0].target = []: expected a non-empty list of distinct server ids"),
    ("duplicate target ids", fault("pause", target=[1, 1]),
     "t.yaml: faults[0].target[1] = 1: server 1 is listed twice"),
    ("missing target", fault("crash"),
     "t.yaml: faults[0].target: missing; expected a server id, a non-empty list of distinct "
     "server ids, or one of: leader, random, minority, majority, all"),
    # client faults
    ("client id out of range", fault("crash_client", client=3),
     "t.yaml: faults[0].client = 3: expected all or a client id from 0 to 2 "
     "(clients.count is 3)"),
    ("client word", fault("restart_client", client="every"),
     "t.yaml: faults[0].client = 'every': expected all or a client id from 0 to 2 "
     "(clients.count is 3)"),
    ("client and target both given", fault("crash_client", client=0, target=1),
     "t.yaml: faults[0].target: give client or target, not both (they name the same "
     "clients)"),
    ("client target out of range", fault("restart_client", target=3),
     "t.yaml: faults[0].target = 3: expected all or a client id from 0 to 2 "
     "(clients.count is 3)"),
    ("client fault names nobody", fault("crash_client"),
     "t.yaml: faults[0].client: missing; expected `all` or a client id (as client: or "
     "target:)"),
    ("client fault unknown key", fault("crash_client", client=0, server=1),
     "t.yaml: faults[0].server: unknown key; allowed: at_ms, action, client, target"),
    # partition shapes and set_link
    ("bridge with 2 servers", {"cluster": {"servers": 2}, **fault("partition_bridge")},
     "t.yaml: faults[0].action = 'partition_bridge': partition_bridge needs at least 3 "
     "servers (cluster.servers is 2)"),
    ("shape takes no keys", fault("partition_ring", groups=[[0]]),
     "t.yaml: faults[0].groups: unknown key; allowed: at_ms, action"),
    ("set_link nothing", fault("set_link", between=[0, 1]),
     "t.yaml: faults[0]: set_link needs at least one of: delay_ms_mean, delay_ms_jitter, "
     "drop_probability, duplicate_probability"),
    ("set_link no between", fault("set_link", drop_probability=0.5),
     "t.yaml: faults[0].between: missing; expected two different server ids, e.g. [0, 1]"),
    ("one way to itself", fault("fail_link_one_way", **{"from": 2, "to": 2}),
     "t.yaml: faults[0].to = 2: expected a server id other than faults[0].from (2)"),
    ("one way to unknown server", fault("fail_link_one_way", **{"from": 0, "to": 3}),
     "t.yaml: faults[0].to = 3: expected a server id from 0 to 2 (cluster.servers is 3)"),
    ("one way from a list", fault("fail_link_one_way", **{"from": [0], "to": 1}),
     "t.yaml: faults[0].from = [0]: expected a server id from 0 to 2 (cluster.servers is 3)"),
    ("one way without to", fault("fail_link_one_way", **{"from": 0}),
     "t.yaml: faults[0].to: missing; expected a server id other than `from`"),
    ("one way with between", fault("fail_link_one_way", between=[0, 1]),
     "t.yaml: faults[0].between: unknown key; allowed: at_ms, action, from, to"),
    ("set_link same server", fault("set_link", between=[2, 2], delay_ms_mean=3),
     "t.yaml: faults[0].between = [2, 2]: expected two different server ids, e.g. [0, 1]"),
    ("set_link bad value", fault("set_link", between=[0, 1], duplicate_probability=-1),
     "t.yaml: faults[0].duplicate_probability = -1: expected a number from 0 to 1"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in BAD_FAULT_INPUTS],
                         ids=[case for case, _, _ in BAD_FAULT_INPUTS])
def test_bad_input_gives_exact_message(data: dict[str, Any], message: str) -> None:
    assert problems(data)[0] == message
