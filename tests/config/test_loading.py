"""Loading a config: defaults, shipped configs, file errors, and how problems are reported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from paxlab.config import (
    ChecksConfig,
    ClientsConfig,
    ClusterConfig,
    Config,
    ConfigError,
    FailLink,
    FixLink,
    NetworkConfig,
    WorkloadConfig,
    describe_fault,
    load_config,
    parse_config,
    with_seed,
)
from tests.config.helpers import CONFIGS, ROOT, SRC, problems, scripted


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
    paths = sorted((ROOT / "paxlab" / "config").glob("*.py"))
    assert len(paths) >= 8  # the package, not the old loose config*.py modules
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile"), f"{path}: {node.func.id}"


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
