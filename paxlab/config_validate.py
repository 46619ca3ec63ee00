"""Check a parsed YAML document against the schema tables and build the config dataclasses.

Every problem is collected, not just the first, so one edit-and-rerun fixes them all. Each
is one line, `<file>: <dotted key> = <bad value>: <what is allowed>`, with list items as
`faults[2].groups`. The per-key rules come from `paxlab.config_schema`; the cross-field rules
(election timeouts above the heartbeat, server ids below `cluster.servers`, ...) live here,
because they need more than one key. `paxlab.config` turns the lines into a ConfigError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from paxlab.config_schema import (
    CHECKS_KEYS,
    CLIENTS_KEYS,
    CLUSTER_KEYS,
    FAULT_COMMON_KEYS,
    FAULT_KEYS,
    GENERATED_ONLY_KEYS,
    NETWORK_KEYS,
    OP_KEYS,
    TOP_KEYS,
    WORKLOAD_KEYS,
    KeySpec,
    SpecError,
)
from paxlab.config_types import (
    ChecksConfig,
    ClientsConfig,
    ClusterConfig,
    Config,
    FailLink,
    Fault,
    FixLink,
    Heal,
    Isolate,
    NetworkConfig,
    Partition,
    ScriptedOp,
    SetNetwork,
    WorkloadConfig,
)

__all__ = ["show_value", "validate"]

_DEFAULT_OPS_PER_CLIENT = 50


def show_value(value: object) -> str:
    """A bad value as the user would recognise it: YAML words for scalars, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: object) -> str:
    return {list: "a list", dict: "a mapping", str: "a string"}.get(type(value), show_value(value))


class _Problems:
    """Collects every problem, so one run of the validator reports them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def bad(self, path: str, value: object, expected: str) -> None:
        self.lines.append(f"{self.source}: {path} = {show_value(value)}: {expected}")

    def note(self, path: str, text: str) -> None:
        self.lines.append(f"{self.source}: {path}: {text}")

    def unknown(self, path: str, key: object, allowed: Sequence[str]) -> None:
        self.note(_join(path, str(key)), "unknown key; allowed: " + ", ".join(allowed))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _read(raw: Mapping[Any, Any], path: str, specs: Mapping[str, KeySpec],
          problems: _Problems, allowed: Sequence[str] | None = None) -> dict[str, Any]:
    """Check one mapping against its table; return the valid keys, defaults filled in."""
    allowed = list(allowed if allowed is not None else specs)
    for key in raw:
        if key not in allowed:
            problems.unknown(path, key, allowed)
    values: dict[str, Any] = {}
    for key, spec in specs.items():
        where = _join(path, key)
        if key not in raw:
            if spec.required:
                problems.note(where, "missing; expected " + spec.allowed())
            else:
                values[key] = spec.default
            continue
        try:
            values[key] = spec.convert(raw[key])
        except SpecError as exc:
            problems.bad(where, raw[key], str(exc))
    return values


def _section(data: Mapping[Any, Any], name: str, specs: Mapping[str, KeySpec],
             problems: _Problems) -> dict[str, Any] | None:
    """Read a top-level section; None if anything in it is wrong."""
    raw = data.get(name)
    if raw is None:  # absent, or a heading with every key commented out
        raw = {}
    if not isinstance(raw, Mapping):
        problems.bad(name, raw, "expected a mapping with keys: " + ", ".join(specs))
        return None
    start = len(problems.lines)
    values = _read(raw, name, specs, problems)
    return values if len(problems.lines) == start else None


def _cluster(data: Mapping[Any, Any], problems: _Problems) -> ClusterConfig | None:
    v = _section(data, "cluster", CLUSTER_KEYS, problems)
    if v is None:
        return None
    low, high, beat = (v["election_timeout_ms_min"], v["election_timeout_ms_max"],
                       v["heartbeat_interval_ms"])
    if low <= beat:
        problems.bad("cluster.election_timeout_ms_min", low,
                     f"expected an integer > cluster.heartbeat_interval_ms ({beat}), "
                     "or followers would time out while the leader is alive")
        return None
    if high < low:
        problems.bad("cluster.election_timeout_ms_max", high,
                     f"expected an integer >= cluster.election_timeout_ms_min ({low})")
        return None
    return ClusterConfig(**v)


def _clients(data: Mapping[Any, Any], problems: _Problems) -> ClientsConfig | None:
    v = _section(data, "clients", CLIENTS_KEYS, problems)
    if v is None:
        return None
    if v["op_timeout_ms"] < v["request_timeout_ms"]:
        problems.bad("clients.op_timeout_ms", v["op_timeout_ms"],
                     f"expected an integer >= clients.request_timeout_ms "
                     f"({v['request_timeout_ms']})")
        return None
    return ClientsConfig(**v)


def _scripted_ops(raw: object, problems: _Problems, clients: int | None) -> tuple[ScriptedOp, ...]:
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
        v = _read(item, path, OP_KEYS, problems)
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


def _workload(data: Mapping[Any, Any], problems: _Problems,
              clients: int | None) -> WorkloadConfig | None:
    raw = data.get("workload")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.bad("workload", raw, "expected a mapping with keys: " + ", ".join(WORKLOAD_KEYS))
        return None
    start = len(problems.lines)
    v = _read(raw, "workload", WORKLOAD_KEYS, problems)
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


def _server_id(value: object, path: str, problems: _Problems, servers: int | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0 and (
        servers is None or value < servers
    ):
        return value
    limit = f" from 0 to {servers - 1} (cluster.servers is {servers})" if servers else " >= 0"
    problems.bad(path, value, "expected a server id" + limit)
    return None


def _between(raw: object, path: str, problems: _Problems,
             servers: int | None) -> tuple[int, int] | None:
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        problems.bad(path, raw, "expected two different server ids, e.g. [0, 1]")
        return None
    ids = [_server_id(item, f"{path}[{i}]", problems, servers) for i, item in enumerate(raw)]
    if ids[0] is None or ids[1] is None:
        return None
    if ids[0] == ids[1]:
        problems.bad(path, raw, "expected two different server ids, e.g. [0, 1]")
        return None
    return (min(ids), max(ids))


def _groups(raw: object, path: str, problems: _Problems,
            servers: int | None) -> tuple[tuple[int, ...], ...] | None:
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.bad(path, raw, "expected a non-empty list of lists of server ids, "
                     "e.g. [[0], [1, 2]]")
        return None
    start = len(problems.lines)
    seen: dict[int, int] = {}
    groups = []
    for g, group in enumerate(raw):
        if not isinstance(group, (list, tuple)) or not group:
            problems.bad(f"{path}[{g}]", group, "expected a non-empty list of server ids")
            continue
        ids = []
        for i, item in enumerate(group):
            server = _server_id(item, f"{path}[{g}][{i}]", problems, servers)
            if server is not None and server in seen:
                problems.bad(f"{path}[{g}][{i}]", server, f"server {server} is already in "
                             f"{path}[{seen[server]}]; groups must not overlap")
            elif server is not None:
                seen[server] = g
                ids.append(server)
        groups.append(tuple(ids))
    return tuple(groups) if len(problems.lines) == start else None


def _target(raw: object, path: str, problems: _Problems,
            servers: int | None) -> int | Literal["leader"] | None:
    if raw == "leader":
        return "leader"
    limit = f" from 0 to {servers - 1} (cluster.servers is {servers})" if servers else ""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 and (
        servers is None or raw < servers
    ):
        return raw
    problems.bad(path, raw, "expected leader or a server id" + limit)
    return None


def _fault(index: int, item: object, problems: _Problems, servers: int | None) -> Fault | None:
    path = f"faults[{index}]"
    if not isinstance(item, Mapping):
        problems.bad(path, item, "expected a mapping, e.g. {at_ms: 500, action: heal}")
        return None
    action = item.get("action")
    actions = FAULT_COMMON_KEYS["action"].choices
    if "action" not in item:
        problems.note(f"{path}.action", "missing; expected one of: " + ", ".join(actions))
        return None
    if not isinstance(action, str) or action not in FAULT_KEYS:
        problems.bad(f"{path}.action", action, "expected one of: " + ", ".join(actions))
        return None
    own = FAULT_KEYS[action]
    start = len(problems.lines)
    v = _read(item, path, {**FAULT_COMMON_KEYS, **own}, problems,
              allowed=[*FAULT_COMMON_KEYS, *own])
    at_ms = v.get("at_ms", 0)
    fault: Fault | None = None
    if action in ("fail_link", "fix_link") and "between" in item:
        between = _between(item["between"], f"{path}.between", problems, servers)
        if between is not None:
            fault = (FailLink if action == "fail_link" else FixLink)(at_ms=at_ms, between=between)
    elif action == "partition" and "groups" in item:
        groups = _groups(item["groups"], f"{path}.groups", problems, servers)
        fault = None if groups is None else Partition(at_ms=at_ms, groups=groups)
    elif action == "isolate" and "target" in item:
        target = _target(item["target"], f"{path}.target", problems, servers)
        fault = None if target is None else Isolate(at_ms=at_ms, target=target)
    elif action == "heal":
        fault = Heal(at_ms=at_ms)
    elif action == "set_network":
        changes = tuple((key, v[key]) for key in NETWORK_KEYS if key in item and key in v)
        if not any(key in item for key in NETWORK_KEYS):
            problems.note(path, "set_network needs at least one of: " + ", ".join(NETWORK_KEYS))
        fault = SetNetwork(at_ms=at_ms, changes=changes)
    return fault if len(problems.lines) == start else None


def _faults(raw: object, problems: _Problems, servers: int | None) -> tuple[Fault, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        problems.bad("faults", raw, "expected a list of fault actions, "
                     "e.g. - {at_ms: 500, action: heal}")
        return ()
    faults = [_fault(index, item, problems, servers) for index, item in enumerate(raw)]
    return tuple(sorted((f for f in faults if f is not None), key=lambda f: f.at_ms))



def _default_name(source: str) -> str:
    """The file stem, made safe for a folder name, so a config need not repeat its name."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(source).stem)[:100]
    return name if name.strip(".") else "run"


def validate(data: object, source: str) -> tuple[Config | None, tuple[str, ...]]:
    """Return (config, ()) for a valid document, else (None, one line per problem)."""
    if not isinstance(data, Mapping):
        return None, (f"{source}: expected a mapping (key: value lines) at the top level, "
                      f"got {_kind(data)}; allowed keys: " + ", ".join(TOP_KEYS),)
    problems = _Problems(source)
    top = _read(data, "", TOP_KEYS, problems)
    cluster = _cluster(data, problems)
    network = _section(data, "network", NETWORK_KEYS, problems)
    clients = _clients(data, problems)
    workload = _workload(data, problems, clients.count if clients else None)
    faults = _faults(data.get("faults"), problems, cluster.servers if cluster else None)
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
