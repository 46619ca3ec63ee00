"""Tests for paxlab.config: defaults, round trip, shipped configs, docs, and exact errors.

Error texts are compared whole, because the message is the user interface of a config
error: it must name the file, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from paxlab.config import (
    ChecksConfig,
    ClientsConfig,
    ClusterConfig,
    Config,
    ConfigError,
    Crash,
    CrashClient,
    FailLink,
    FailLinkOneWay,
    FixLink,
    Heal,
    Isolate,
    Nemesis,
    NetworkConfig,
    Partition,
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
    WorkloadConfig,
    config_to_dict,
    describe_fault,
    load_config,
    parse_config,
    with_seed,
)
from paxlab.config.fault_schema import FAULT_COMMON_KEYS, FAULT_KEYS, NEMESIS_KINDS
from paxlab.config.reference import REGENERATE, drifted_tables, render_tables, rewrite_doc
from paxlab.config.schema import CLUSTER_KEYS, SECTIONS, TOP_KEYS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
DOC = ROOT / "docs" / "configuration.md"
SRC = "t.yaml"
ALL_ACTIONS = ("fail_link, fix_link, fail_link_one_way, partition, partition_halves, "
               "partition_ring, partition_bridge, isolate, heal, set_network, set_link, crash, "
               "restart, pause, resume, crash_client, restart_client, nemesis")
ALL_KINDS = ("crash, crash_leader, pause, pause_leader, isolate_leader, partition_halves, "
             "partition_ring, partition_bridge, fail_link, one_way_link, lossy")


def problems(data: object, source: str = SRC) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source)
    return info.value.problems


def scripted(*ops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"workload": {"type": "scripted", "ops": list(ops)}, **extra}


# --- defaults -------------------------------------------------------------------------


def test_empty_mapping_gives_every_default() -> None:
    assert parse_config({}, "configs/my-run.yaml") == Config(
        name="my-run",
        seed=1,
        source="configs/my-run.yaml",
        cluster=ClusterConfig(servers=3, heartbeat_interval_ms=50, election_timeout_ms_min=300,
                              election_timeout_ms_max=600, batch_size_max=8, pipeline_window=4,
                              difficulty=8, accept_retry_ms=100, fsync="always"),
        network=NetworkConfig(delay_ms_mean=1.0, delay_ms_jitter=0.5, drop_probability=0.0,
                              duplicate_probability=0.0),
        clients=ClientsConfig(count=3, request_timeout_ms=400, op_timeout_ms=5000),
        workload=WorkloadConfig(type="generated", ops_per_client=50, duration_ms=None,
                                put_fraction=0.5, keys=5, key_distribution="uniform",
                                zipf_exponent=1.1, think_time_ms=0, ops=()),
        faults=(),
        checks=ChecksConfig(quiesce_timeout_ms=5000, run_timeout_s=120.0),
    )


def test_empty_sections_and_empty_file_mean_defaults(tmp_path: Path) -> None:
    assert parse_config({"cluster": None, "faults": None}, SRC) == parse_config({}, SRC)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing but a comment\n")
    assert load_config(empty) == parse_config({}, str(empty))


@pytest.mark.parametrize(("source", "name"), [
    ("configs/basic.yaml", "basic"),
    ("my config.yaml", "my_config"),
    ("<string>", "_string_"),
    ("...yaml", "run"),
])
def test_default_name_is_the_file_stem_made_safe(source: str, name: str) -> None:
    assert parse_config({}, source).name == name


def test_numbers_become_floats_and_duration_replaces_ops_per_client() -> None:
    config = parse_config({"network": {"delay_ms_mean": 3}, "checks": {"run_timeout_s": 30},
                           "workload": {"duration_ms": 4000}}, SRC)
    assert type(config.network.delay_ms_mean) is float
    assert type(config.checks.run_timeout_s) is float
    assert (config.workload.ops_per_client, config.workload.duration_ms) == (None, 4000)


# --- round trip and helpers -----------------------------------------------------------


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
               PartitionBridge, Isolate, Heal, SetNetwork, SetLink, Crash, Restart, Pause, Resume,
               CrashClient, RestartClient, Nemesis]
    assert [c.ACTION for c in classes] == list(FAULT_KEYS) == list(
        FAULT_COMMON_KEYS["action"].choices)


def test_with_seed() -> None:
    config = parse_config({}, SRC)
    assert with_seed(config, 42) == parse_config({"seed": 42}, SRC)
    for bad, shown in [(-1, "-1"), (True, "true")]:
        with pytest.raises(ConfigError) as info:
            with_seed(config, bad)  # type: ignore[arg-type]
        assert str(info.value).startswith(f"t.yaml: seed = {shown}: expected an integer >= 0")


def test_configs_are_frozen() -> None:
    config = parse_config({}, SRC)
    with pytest.raises(AttributeError):
        config.cluster.servers = 5  # type: ignore[misc]


# --- shipped configs and docs ---------------------------------------------------------


def test_every_shipped_config_loads() -> None:
    names = {path.name for path in CONFIGS.glob("*.yaml")}
    assert {"basic.yaml", "conflicting_puts.yaml", "lossy_network.yaml",
            "partition.yaml"} <= names
    for path in sorted(CONFIGS.glob("*.yaml")):
        assert load_config(path).name == path.stem


def test_shipped_configs_say_what_the_brief_says() -> None:
    basic = load_config(CONFIGS / "basic.yaml")
    assert (basic.cluster.servers, basic.clients.count, basic.workload.ops_per_client) == (3, 2, 20)
    assert basic.network == parse_config({}, SRC).network and basic.faults == ()
    hot = load_config(CONFIGS / "conflicting_puts.yaml")
    assert (hot.cluster.servers, hot.clients.count, hot.workload.ops_per_client) == (3, 5, 40)
    assert (hot.workload.keys, hot.workload.put_fraction, hot.workload.key_distribution) == (
        2, 0.8, "zipf")
    assert hot.checks.run_timeout_s <= 30
    lossy = load_config(CONFIGS / "lossy_network.yaml")
    assert lossy.network == NetworkConfig(delay_ms_mean=3.0, delay_ms_jitter=3.0,
                                          drop_probability=0.05, duplicate_probability=0.05)
    assert (lossy.clients.count, lossy.workload.ops_per_client) == (3, 30)
    assert lossy.clients.request_timeout_ms == 300
    part = load_config(CONFIGS / "partition.yaml")
    assert (part.cluster.servers, part.clients.count, part.workload.duration_ms) == (5, 3, 4000)
    assert [(f.at_ms, describe_fault(f)) for f in part.faults][-2:] == [
        (1000, "isolate leader"), (2500, "heal")]
    assert {FailLink, FixLink} <= {type(f) for f in part.faults}


def test_doc_holds_the_tables_generated_from_the_schema() -> None:
    problems = drifted_tables(DOC.read_text())
    assert not problems, (
        "docs/configuration.md is out of date: " + "; ".join(problems)
        + f"; regenerate with: {REGENERATE}"
    )


def test_a_drifted_table_is_named_and_rewritten_in_place() -> None:
    tables = render_tables()
    doc = DOC.read_text()
    stale = doc.replace(tables["network"], tables["network"].replace("Mean one-way", "Mean"))
    assert stale != doc
    assert drifted_tables(stale) == ["the 'network' table differs from the schema"]
    assert rewrite_doc(stale) == doc
    no_block = doc.replace("<!-- generated: checks -->", "<!-- generated: checkz -->")
    assert drifted_tables(no_block)[0].startswith("the 'checks' table has no generated block")
    assert rewrite_doc(doc + "\nprose\n") == doc + "\nprose\n"


def test_every_yaml_example_in_the_doc_is_a_valid_config() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 20  # the intro, two workloads and one per fault action
    for block in blocks:
        parse_config(yaml.safe_load(block), "docs/configuration.md")
    actions = {f.ACTION for b in blocks for f in parse_config(yaml.safe_load(b), "d").faults}
    assert actions == set(FAULT_KEYS)


# --- errors: exact shapes -------------------------------------------------------------

CLUSTER_ALLOWED = ", ".join(CLUSTER_KEYS)
CRASH_TARGETS = ("a server id from 0 to 2, a non-empty list of distinct server ids, or one of: "
                 "leader, random, minority, majority, all (cluster.servers is 3)")
RESTART_TARGETS = ("a server id from 0 to 2, a non-empty list of distinct server ids, or one "
                   "of: random, minority, majority, all (cluster.servers is 3)")


def fault(action: str, at_ms: int = 0, **keys: Any) -> dict[str, Any]:
    """A config with one fault item."""
    return {"faults": [{"at_ms": at_ms, "action": action, **keys}]}


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top", {"sed": 1},
     "t.yaml: sed: unknown key; allowed: name, seed, cluster, network, clients, workload, "
     "faults, checks"),
    ("unknown cluster", {"cluster": {"server": 3}},
     f"t.yaml: cluster.server: unknown key; allowed: {CLUSTER_ALLOWED}"),
    ("unknown network", {"network": {"loss": 0.1}},
     "t.yaml: network.loss: unknown key; allowed: delay_ms_mean, delay_ms_jitter, "
     "drop_probability, duplicate_probability"),
    ("unknown clients", {"clients": {"number": 3}},
     "t.yaml: clients.number: unknown key; allowed: count, request_timeout_ms, op_timeout_ms"),
    ("unknown workload", {"workload": {"ops": 3, "type": "generated", "reads": 1}},
     "t.yaml: workload.reads: unknown key; allowed: type, ops_per_client, duration_ms, "
     "put_fraction, keys, key_distribution, zipf_exponent, think_time_ms, ops"),
    ("unknown checks", {"checks": {"timeout": 1}},
     "t.yaml: checks.timeout: unknown key; allowed: quiesce_timeout_ms, run_timeout_s, "
     "liveness_timeout_ms"),
    ("unknown op key", scripted({"at_ms": 0, "client": 0, "f": "get", "key": "1", "k": 2}),
     "t.yaml: workload.ops[0].k: unknown key; allowed: at_ms, client, f, key, value"),
    ("unknown fault key", {"faults": [{"at_ms": 0, "action": "heal", "target": 1}]},
     "t.yaml: faults[0].target: unknown key; allowed: at_ms, action"),
    ("wrong type", {"cluster": {"servers": "3"}},
     "t.yaml: cluster.servers = '3': expected an integer from 1 to 15"),
    ("float for int", {"clients": {"count": 2.0}},
     "t.yaml: clients.count = 2.0: expected an integer from 1 to 1000"),
    ("bool for int", {"cluster": {"servers": True}},
     "t.yaml: cluster.servers = true: expected an integer from 1 to 15 "
     "(true and false are not numbers)"),
    ("bool for number", {"network": {"delay_ms_mean": False}},
     "t.yaml: network.delay_ms_mean = false: expected a number >= 0 "
     "(true and false are not numbers)"),
    ("out of range", {"network": {"drop_probability": 1.5}},
     "t.yaml: network.drop_probability = 1.5: expected a number from 0 to 1"),
    ("too many servers", {"cluster": {"servers": 16}},
     "t.yaml: cluster.servers = 16: expected an integer from 1 to 15"),
    ("not finite", {"network": {"delay_ms_mean": float("inf")}},
     "t.yaml: network.delay_ms_mean = inf: expected a number >= 0"),
    ("open bound", {"checks": {"run_timeout_s": 0}},
     "t.yaml: checks.run_timeout_s = 0: expected a number > 0"),
    ("negative seed", {"seed": -1}, "t.yaml: seed = -1: expected an integer >= 0"),
    ("null not allowed", {"seed": None}, "t.yaml: seed = null: expected an integer >= 0"),
    ("bad choice", {"workload": {"key_distribution": "normal"}},
     "t.yaml: workload.key_distribution = 'normal': expected one of: uniform, zipf"),
    ("bad name", {"name": "my run"},
     "t.yaml: name = 'my run': expected 1 to 100 letters, digits, '_', '.' or '-' "
     "(not only dots)"),
    ("dots name", {"name": ".."},
     "t.yaml: name = '..': expected 1 to 100 letters, digits, '_', '.' or '-' "
     "(not only dots)"),
    ("section not mapping", {"network": [1]},
     "t.yaml: network = [1]: expected a mapping with keys: delay_ms_mean, delay_ms_jitter, "
     "drop_probability, duplicate_probability"),
    ("election min", {"cluster": {"heartbeat_interval_ms": 300}},
     "t.yaml: cluster.election_timeout_ms_min = 300: expected an integer > "
     "cluster.heartbeat_interval_ms (300), or followers would time out while the leader "
     "is alive"),
    ("election max", {"cluster": {"election_timeout_ms_max": 299}},
     "t.yaml: cluster.election_timeout_ms_max = 299: expected an integer >= "
     "cluster.election_timeout_ms_min (300)"),
    ("op timeout", {"clients": {"op_timeout_ms": 399}},
     "t.yaml: clients.op_timeout_ms = 399: expected an integer >= "
     "clients.request_timeout_ms (400)"),
    ("both counts", {"workload": {"ops_per_client": 5, "duration_ms": 100}},
     "t.yaml: workload.duration_ms = 100: expected null when workload.ops_per_client is "
     "set: give exactly one of them"),
    ("ops for generated", {"workload": {"ops": []}},
     "t.yaml: workload.ops: only used when workload.type is scripted; add type: scripted "
     "or remove ops"),
    ("generated key for scripted",
     {"workload": {"type": "scripted", "keys": 3,
                   "ops": [{"at_ms": 0, "client": 0, "f": "get", "key": "1"}]}},
     "t.yaml: workload.keys: only used when workload.type is generated; remove it"),
    ("scripted without ops", {"workload": {"type": "scripted"}},
     "t.yaml: workload.ops: missing; a scripted workload needs a non-empty list of ops, "
     "e.g. {at_ms: 0, client: 0, f: put, key: \"'x'\", value: \"1\"}"),
    ("scripted empty ops", {"workload": {"type": "scripted", "ops": []}},
     "t.yaml: workload.ops = []: expected a non-empty list of ops, "
     "e.g. {at_ms: 0, client: 0, f: put, key: \"'x'\", value: \"1\"}"),
    ("bad literal", scripted({"at_ms": 0, "client": 0, "f": "get", "key": "x y"}),
     "t.yaml: workload.ops[0].key = 'x y': not a Python literal (it is read with "
     "ast.literal_eval, which runs no code); a string needs quotes inside the YAML quotes: "
     "for the string x y, write \"'x y'\""),
    ("code is not a literal",
     scripted({"at_ms": 0, "client": 0, "f": "put", "key": "'k'", "value": "__import__('os')"}),
     "t.yaml: workload.ops[0].value = \"__import__('os')\": not a Python literal (it is "
     "read with ast.literal_eval, which runs no code); a string needs quotes inside the "
     "YAML quotes: for the string x y, write \"'x y'\""),
    ("unhashable key", scripted({"at_ms": 0, "client": 0, "f": "get", "key": "[1]"}),
     "t.yaml: workload.ops[0].key = '[1]': a list cannot be a key (not hashable); use a "
     "str, int, float, bool, None, bytes or a tuple of these"),
    ("set value", scripted({"at_ms": 0, "client": 0, "f": "put", "key": "1", "value": "{2}"}),
     "t.yaml: workload.ops[0].value = '{2}': sets are not allowed: their printed order can "
     "differ between runs"),
    ("not a literal type", scripted({"at_ms": 0, "client": 0, "f": "get", "key": ["x"]}),
     "t.yaml: workload.ops[0].key = ['x']: expected a Python literal in a string, e.g. "
     "\"'x'\" (the string x), \"1\" or \"(1, 'a')\""),
    ("put without value", scripted({"at_ms": 0, "client": 0, "f": "put", "key": "'x'"}),
     "t.yaml: workload.ops[0].value: missing; a put needs a value, e.g. value: \"1\""),
    ("get with value", scripted({"at_ms": 0, "client": 0, "f": "get", "key": "'x'",
                                 "value": "1"}),
     "t.yaml: workload.ops[0].value = '1': a get takes no value; remove it"),
    ("op missing key", scripted({"at_ms": 0, "client": 0, "f": "get"}),
     "t.yaml: workload.ops[0].key: missing; expected a hashable Python literal in a string, "
     "e.g. \"'x'\" (the string x), \"1\" or \"(1, 'a')\""),
    ("op client too big", scripted({"at_ms": 0, "client": 3, "f": "get", "key": "1"}),
     "t.yaml: workload.ops[0].client = 3: expected a client id from 0 to 2 "
     "(clients.count is 3)"),
    ("op not mapping", scripted("get x"),  # type: ignore[arg-type]
     "t.yaml: workload.ops[0] = 'get x': expected a mapping, e.g. {at_ms: 0, client: 0, "
     "f: put, key: \"'x'\", value: \"1\"}"),
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
    # nemesis
    ("unknown nemesis kind", fault("nemesis", kinds=["crash", "explode"], until_ms=100),
     f"t.yaml: faults[0].kinds[1] = 'explode': expected one of: {ALL_KINDS}"),
    ("nemesis kinds empty", fault("nemesis", kinds=[], until_ms=100),
     f"t.yaml: faults[0].kinds = []: expected a non-empty list of kinds, from: {ALL_KINDS}"),
    ("nemesis kinds not a list", fault("nemesis", kinds="crash", until_ms=100),
     f"t.yaml: faults[0].kinds = 'crash': expected a non-empty list of kinds, from: "
     f"{ALL_KINDS}"),
    ("nemesis kind twice", fault("nemesis", kinds=["lossy", "lossy"], until_ms=100),
     "t.yaml: faults[0].kinds[1] = 'lossy': lossy is listed twice"),
    ("nemesis kind needs servers",
     {"cluster": {"servers": 2}, **fault("nemesis", kinds=["fail_link", "crash"], until_ms=9)},
     "t.yaml: faults[0].kinds[1] = 'crash': crash needs at least 3 servers "
     "(cluster.servers is 2)"),
    ("until_ms equal to at_ms", fault("nemesis", at_ms=100, kinds=["lossy"], until_ms=100),
     "t.yaml: faults[0].until_ms = 100: expected an integer > faults[0].at_ms (100)"),
    ("until_ms before at_ms", fault("nemesis", at_ms=100, kinds=["lossy"], until_ms=50),
     "t.yaml: faults[0].until_ms = 50: expected an integer > faults[0].at_ms (100)"),
    ("nemesis without until_ms", fault("nemesis", kinds=["lossy"]),
     "t.yaml: faults[0].until_ms: missing; expected an integer >= 0"),
    ("nemesis interval 0", fault("nemesis", kinds=["lossy"], until_ms=9, interval_ms=0),
     "t.yaml: faults[0].interval_ms = 0: expected an integer >= 1"),
    ("nemesis negative seed", fault("nemesis", kinds=["lossy"], until_ms=9, seed=-2),
     "t.yaml: faults[0].seed = -2: expected an integer >= 0 or null"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in BAD_INPUTS],
                         ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_gives_exact_message(data: dict[str, Any], message: str) -> None:
    assert problems(data)[0] == message


def test_top_level_not_a_mapping() -> None:
    assert problems([1, 2]) == (
        "t.yaml: expected a mapping (key: value lines) at the top level, got a list; "
        "allowed keys: name, seed, cluster, network, clients, workload, faults, checks",)


def test_every_problem_is_reported_in_file_order() -> None:
    found = problems({"seed": -1, "cluster": {"servers": 0}, "network": {"drop_probability": 2},
                      "faults": [{"at_ms": 0, "action": "boom"}, {"at_ms": -1, "action": "heal"}]})
    assert [line.split(" = ")[0] for line in found] == [
        "t.yaml: seed", "t.yaml: cluster.servers", "t.yaml: network.drop_probability",
        "t.yaml: faults[0].action", "t.yaml: faults[1].at_ms"]
    with pytest.raises(ConfigError) as info:
        parse_config({"seed": -1, "cluster": {"servers": 0}}, SRC)
    assert str(info.value) == "\n".join(info.value.problems)


def test_invalid_cluster_does_not_cause_spurious_server_id_errors() -> None:
    assert problems({"cluster": {"servers": True},
                     "faults": [{"at_ms": 0, "action": "isolate", "target": 9},
                                {"at_ms": 0, "action": "crash", "target": [9, 12]},
                                {"at_ms": 0, "action": "partition_bridge"},
                                {"at_ms": 0, "action": "nemesis", "kinds": ["crash"],
                                 "until_ms": 5}]}) == (
        "t.yaml: cluster.servers = true: expected an integer from 1 to 15 "
        "(true and false are not numbers)",)


def test_invalid_clients_do_not_cause_spurious_client_id_errors() -> None:
    assert problems({"clients": {"count": 0},
                     "faults": [{"at_ms": 0, "action": "crash_client", "client": 9}]}) == (
        "t.yaml: clients.count = 0: expected an integer from 1 to 1000",)


def test_invalid_at_ms_does_not_cause_a_spurious_until_ms_error() -> None:
    assert problems(fault("nemesis", at_ms=-5, kinds=["lossy"], until_ms=0)) == (
        "t.yaml: faults[0].at_ms = -5: expected an integer >= 0",)


def test_every_problem_of_a_nemesis_is_reported() -> None:
    found = problems({"cluster": {"servers": 2}, **fault(
        "nemesis", at_ms=10, kinds=["pause", "boom", "pause"], until_ms=10, interval_ms=0)})
    assert [line.split(" = ")[0] for line in found] == [
        "t.yaml: faults[0].interval_ms", "t.yaml: faults[0].kinds[0]",
        "t.yaml: faults[0].kinds[1]", "t.yaml: faults[0].kinds[2]", "t.yaml: faults[0].until_ms"]


def test_literals_are_read_without_running_code() -> None:
    ops = parse_config(scripted(
        {"at_ms": 0, "client": 0, "f": "put", "key": True, "value": 2.5},
        {"at_ms": 0, "client": 0, "f": "put", "key": "b'k'", "value": "-3"},
    ), SRC).workload.ops
    assert [(op.key, op.value) for op in ops] == [("True", "2.5"), ("b'k'", "-3")]
    for code in ["__import__('os')", "open('x')", "(lambda: 1)()", "1 if 1 else 2"]:
        found = problems(scripted({"at_ms": 0, "client": 0, "f": "get", "key": code}))
        assert "not a Python literal" in found[0]


def test_config_modules_never_call_eval_or_exec() -> None:
    for path in sorted((ROOT / "paxlab").glob("config*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile"), f"{path}: {node.func.id}"


# --- files ----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: no such config file"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("cluster:\n  servers: 3\n   heartbeat_interval_ms: 4\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: line 3, column 25: invalid YAML: mapping values are not allowed here")


def test_repeated_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("cluster:\n  servers: 3\nseed: 2\ncluster:\n  servers: 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: line 4, column 1: invalid YAML: duplicate key 'cluster' (first on line 1)")


def test_file_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- servers: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{path}: expected a mapping (key: value lines) at the top level, got a list")


def test_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("workload:\n  type: scripted\n  ops:\n"
                    "    - {at_ms: 0, client: 0, f: get, key: x}\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert str(info.value).startswith(f"{path}: workload.ops[0].key = 'x': not a Python literal")


def test_client_faults_accept_target_like_server_faults() -> None:
    """A user who writes target: for a client fault, as for a server fault, gets what
    client: gives (issue 11, the fourth bug); client: keeps working."""
    for action in ("crash_client", "restart_client"):
        for who in (1, "all"):
            by_target = parse_config(fault(action, at_ms=700, target=who), SRC).faults
            by_client = parse_config(fault(action, at_ms=700, client=who), SRC).faults
            assert by_target == by_client
