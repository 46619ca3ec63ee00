"""Exact error texts for the top level, cluster, network, clients, checks and workload keys,
scripted ops included: the message is the user interface of a config error.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.config.helpers import CLUSTER_ALLOWED, problems, scripted

BAD_SECTION_INPUTS: list[tuple[str, dict[str, Any], str]] = [
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
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in BAD_SECTION_INPUTS],
                         ids=[case for case, _, _ in BAD_SECTION_INPUTS])
def test_bad_input_gives_exact_message(data: dict[str, Any], message: str) -> None:
    assert problems(data)[0] == message
