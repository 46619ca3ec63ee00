"""Check a parsed YAML document against the schema tables and build the config dataclasses.

Every problem is collected, not just the first, so one edit-and-rerun fixes them all. Each
is one line, `<file>: <dotted key> = <bad value>: <what is allowed>`, with list items as
`faults[2].groups`. The per-key rules come from `paxlab.config.schema`; the cross-field rules
(election timeouts above the heartbeat, client ids below `clients.count`, ...) live here,
because they need more than one key, and those of the faults list in
`paxlab.config.validate_faults`. `paxlab.config` turns the lines into a ConfigError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paxlab.config.problems import Problems, read_keys, show_value
from paxlab.config.schema import (
    CHECKS_KEYS,
    CLIENTS_KEYS,
    CLUSTER_KEYS,
    GENERATED_ONLY_KEYS,
    NETWORK_KEYS,
    OP_KEYS,
    TOP_KEYS,
    WORKLOAD_KEYS,
    KeySpec,
)
from paxlab.config.types import (
    ChecksConfig,
    ClientsConfig,
    ClusterConfig,
    Config,
    NetworkConfig,
    ScriptedOp,
    WorkloadConfig,
)
from paxlab.config.validate_faults import validate_faults

__all__ = ["read_clients_section", "read_cluster_section", "read_section", "validate"]

_DEFAULT_OPS_PER_CLIENT = 50


def _kind(value: object) -> str:
    return {list: "a list", dict: "a mapping", str: "a string"}.get(type(value), show_value(value))


def _section(data: Mapping[Any, Any], name: str, specs: Mapping[str, KeySpec],
             problems: Problems) -> dict[str, Any] | None:
    """Read a top-level section; None if anything in it is wrong."""
    return read_section(data.get(name), name, specs, problems)


def read_section(raw: object, path: str, specs: Mapping[str, KeySpec], problems: Problems,
                 fixed: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """Read one section mapping against its table; None if anything in it is wrong.

    Keys in `fixed` are not allowed in the file and take the given values: the cluster
    file, for one, lists its servers itself, so its `cluster:` section has no `servers`.
    """
    fixed = fixed or {}
    allowed = [key for key in specs if key not in fixed]
    if raw is None:  # absent, or a heading with every key commented out
        raw = {}
    if not isinstance(raw, Mapping):
        problems.bad(path, raw, "expected a mapping with keys: " + ", ".join(allowed))
        return None
    start = len(problems.lines)
    values = read_keys(raw, path, {k: s for k, s in specs.items() if k not in fixed},
                       problems, allowed)
    values.update(fixed)
    return values if len(problems.lines) == start else None


def read_cluster_section(raw: object, problems: Problems, path: str = "cluster",
                         fixed: Mapping[str, Any] | None = None) -> ClusterConfig | None:
    """The `cluster:` section with its cross-key rules; shared with the cluster file."""
    v = read_section(raw, path, CLUSTER_KEYS, problems, fixed)
    if v is None:
        return None
    low, high, beat = (v["election_timeout_ms_min"], v["election_timeout_ms_max"],
                       v["heartbeat_interval_ms"])
    if low <= beat:
        problems.bad(f"{path}.election_timeout_ms_min", low,
                     f"expected an integer > {path}.heartbeat_interval_ms ({beat}), "
                     "or followers would time out while the leader is alive")
        return None
    if high < low:
        problems.bad(f"{path}.election_timeout_ms_max", high,
                     f"expected an integer >= {path}.election_timeout_ms_min ({low})")
        return None
    return ClusterConfig(**v)


def read_clients_section(raw: object, problems: Problems, path: str = "clients",
                         fixed: Mapping[str, Any] | None = None) -> ClientsConfig | None:
    """The `clients:` section with its cross-key rule; shared with the cluster file."""
    v = read_section(raw, path, CLIENTS_KEYS, problems, fixed)
    if v is None:
        return None
    if v["op_timeout_ms"] < v["request_timeout_ms"]:
        problems.bad(f"{path}.op_timeout_ms", v["op_timeout_ms"],
                     f"expected an integer >= {path}.request_timeout_ms "
                     f"({v['request_timeout_ms']})")
        return None
    return ClientsConfig(**v)


def _scripted_ops(raw: object, problems: Problems, clients: int | None) -> tuple[ScriptedOp, ...]:
    example = "e.g. {at_ms: 0, client: 0, f: put, key: \"'x'\", value: \"1\"}"
    if raw is None:
        problems.note("workload.ops", "missing; a scripted workload needs a non-empty list "
                      f"of ops, {example}")
        return ()
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.bad("workload.ops", raw, f"expected a non-empty list of ops, {example}")
        return ()
    ops = []
    for index, item in enumerate(raw):
        path = f"workload.ops[{index}]"
        if not isinstance(item, Mapping):
            problems.bad(path, item, f"expected a mapping, {example}")
            continue
        start = len(problems.lines)
        v = read_keys(item, path, OP_KEYS, problems)
        client = v.get("client")
        if client is not None and clients is not None and client >= clients:
            problems.bad(f"{path}.client", client, f"expected a client id from 0 to "
                         f"{clients - 1} (clients.count is {clients})")
        if v.get("f") == "put" and "value" not in item:
            problems.note(f"{path}.value", "missing; a put needs a value, e.g. value: \"1\"")
        if v.get("f") == "get" and "value" in item:
            problems.bad(f"{path}.value", item["value"], "a get takes no value; remove it")
        if len(problems.lines) == start:
            ops.append(ScriptedOp(**v))
    return tuple(sorted(ops, key=lambda op: op.at_ms))


def _workload(data: Mapping[Any, Any], problems: Problems,
              clients: int | None) -> WorkloadConfig | None:
    raw = data.get("workload")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.bad("workload", raw, "expected a mapping with keys: " + ", ".join(WORKLOAD_KEYS))
        return None
    start = len(problems.lines)
    v = read_keys(raw, "workload", WORKLOAD_KEYS, problems)
    if v.get("type") == "scripted":
        for key in GENERATED_ONLY_KEYS:
            if key in raw:
                problems.note(f"workload.{key}", "only used when workload.type is generated; "
                              "remove it")
        v.update(ops_per_client=None, duration_ms=None,
                 ops=_scripted_ops(raw.get("ops"), problems, clients))
    elif v.get("type") == "generated":
        if "ops" in raw:
            problems.note("workload.ops", "only used when workload.type is scripted; "
                          "add type: scripted or remove ops")
        if v.get("ops_per_client") is not None and v.get("duration_ms") is not None:
            problems.bad("workload.duration_ms", v["duration_ms"], "expected null when "
                         "workload.ops_per_client is set: give exactly one of them")
        elif v.get("ops_per_client") is None and v.get("duration_ms") is None:
            v["ops_per_client"] = _DEFAULT_OPS_PER_CLIENT
        v["ops"] = ()
    if len(problems.lines) != start:
        return None
    return WorkloadConfig(**v)


def _default_name(source: str) -> str:
    """The file stem, made safe for a folder name, so a config need not repeat its name."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(source).stem)[:100]
    return name if name.strip(".") else "run"


def validate(data: object, source: str) -> tuple[Config | None, tuple[str, ...]]:
    """Return (config, ()) for a valid document, else (None, one line per problem)."""
    if not isinstance(data, Mapping):
        return None, (f"{source}: expected a mapping (key: value lines) at the top level, "
                      f"got {_kind(data)}; allowed keys: " + ", ".join(TOP_KEYS),)
    problems = Problems(source)
    top = read_keys(data, "", TOP_KEYS, problems)
    cluster = read_cluster_section(data.get("cluster"), problems)
    network = _section(data, "network", NETWORK_KEYS, problems)
    clients = read_clients_section(data.get("clients"), problems)
    workload = _workload(data, problems, clients.count if clients else None)
    faults = validate_faults(data.get("faults"), problems, cluster.servers if cluster else None,
                             clients.count if clients else None,
                             cluster.snapshot_every if cluster else None)
    checks = _section(data, "checks", CHECKS_KEYS, problems)
    if problems.lines:
        return None, tuple(problems.lines)
    assert cluster and network is not None and clients and workload and checks is not None
    config = Config(
        name=top["name"] if top["name"] is not None else _default_name(source),
        seed=top["seed"],
        source=source,
        cluster=cluster,
        network=NetworkConfig(**network),
        clients=clients,
        workload=workload,
        faults=faults,
        checks=ChecksConfig(**checks),
    )
    return config, ()
