"""YAML -> frozen config dataclasses; errors name the file, the key and what is allowed.

This is the one door other modules use. The whole file is checked before anything starts,
and every problem is reported, one per line, as `<file>: <dotted key> = <bad value>: <what
is allowed>`. The parts: `schema` and `fault_schema` (the key tables), `reference` (renders
them into docs/configuration.md), `validate` and `validate_faults` (the checks, reporting through
`problems`), `types` (the dataclasses, re-exported here), `params` (config -> core knobs).
`paxlab.scenario.nemesis` turns a `nemesis` fault into concrete faults. Keys and values
of scripted ops are read with `ast.literal_eval` only, never `eval`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from paxlab.config.fault_schema import SIM_ONLY_ACTIONS
from paxlab.config.problems import show_value
from paxlab.config.schema import TOP_KEYS, SpecError
from paxlab.config.types import (
    ChecksConfig,
    ClientsConfig,
    ClientTarget,
    ClusterConfig,
    Config,
    Crash,
    CrashClient,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    Fault,
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
    ServerTarget,
    SetLink,
    SetNetwork,
    WorkloadConfig,
)
from paxlab.config.validate import validate

__all__ = [
    "ChecksConfig",
    "ClientTarget",
    "ClientsConfig",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "Crash",
    "CrashClient",
    "CrashInCompaction",
    "FailLink",
    "FailLinkOneWay",
    "Fault",
    "FixLink",
    "Heal",
    "Isolate",
    "Nemesis",
    "NetworkConfig",
    "Partition",
    "PartitionBridge",
    "PartitionHalves",
    "PartitionRing",
    "Pause",
    "Restart",
    "RestartClient",
    "Resume",
    "ScriptedOp",
    "ServerTarget",
    "SetLink",
    "SetNetwork",
    "StrictLoader",
    "WorkloadConfig",
    "config_to_dict",
    "describe_fault",
    "load_config",
    "parse_config",
    "read_yaml_file",
    "refuse_sim_only",
    "with_seed",
]

class ConfigError(Exception):
    """The config file is missing, unreadable or invalid: bad input, exit code 2.

    `problems` holds one line per problem; str() joins them, first problem first.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


def parse_config(data: object, source: str) -> Config:
    """Validate an already-parsed YAML document; `source` names it in messages.

    Raises ConfigError listing every problem found, first problem first.
    """
    config, problems = validate(data, source)
    if config is None:
        raise ConfigError(problems)
    return config



class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a repeated key, which plain YAML loading silently drops."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {seen[key]})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # unhashable key: SafeLoader reports it below
                pass
        return super().construct_mapping(node, deep=deep)


def read_yaml_file(path: str | Path, what: str = "config file",
                   error: type[ConfigError] = ConfigError) -> object:
    """Read one YAML file with StrictLoader (a repeated key is an error); every failure is
    `error` naming the file, and `what` says what kind of file was expected. An empty file
    is None. Shared by the lab's configs and the cluster file, so both report alike."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{source}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{source}: is a directory, expected a YAML {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{source}: cannot read {what}: {exc}") from None
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise error(f"{source}:{where} invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {exc}") from None


def load_config(path: str | Path) -> Config:
    """Read and validate one config file; every failure is a ConfigError naming the file."""
    data = read_yaml_file(path)
    return parse_config({} if data is None else data, str(path))


def _fields(section: Any) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in dataclasses.fields(section)}


def _fault_dict(fault: Fault) -> dict[str, Any]:
    out: dict[str, Any] = {"at_ms": fault.at_ms, "action": fault.ACTION}
    if isinstance(fault, (FailLink, FixLink, SetLink)):
        out["between"] = list(fault.between)
    if isinstance(fault, FailLinkOneWay):
        out.update({"from": fault.source, "to": fault.target})
    if isinstance(fault, Partition):
        out["groups"] = [list(group) for group in fault.groups]
    elif isinstance(fault, Isolate):
        out["target"] = fault.target
    elif isinstance(fault, (Crash, Restart, Pause, Resume)):
        out["target"] = list(fault.target) if isinstance(fault.target, tuple) else fault.target
    elif isinstance(fault, CrashInCompaction):
        out.update(target=list(fault.target) if isinstance(fault.target, tuple)
                   else fault.target, step=fault.step, restart_after_ms=fault.restart_after_ms)
    elif isinstance(fault, (CrashClient, RestartClient)):
        out["client"] = fault.client
    elif isinstance(fault, (SetNetwork, SetLink)):
        out.update(fault.changes)
    elif isinstance(fault, Nemesis):
        out.update(kinds=list(fault.kinds), interval_ms=fault.interval_ms,
                   until_ms=fault.until_ms, seed=fault.seed)
    return out


def _workload_dict(workload: WorkloadConfig) -> dict[str, Any]:
    if workload.type == "scripted":
        ops = []
        for op in workload.ops:
            item: dict[str, Any] = {"at_ms": op.at_ms, "client": op.client, "f": op.f,
                                    "key": op.key}
            if op.value is not None:
                item["value"] = op.value
            ops.append(item)
        return {"type": "scripted", "ops": ops}
    out = _fields(workload)
    del out["ops"]
    return out


def config_to_dict(config: Config) -> dict[str, Any]:
    """The resolved config in the YAML shape, defaults filled in, for results/config.yaml.

    Only plain dicts, lists, str, int, float and None, so yaml.safe_dump writes it, and
    parse_config(config_to_dict(c), c.source) == c. Keys that a workload type does not use
    are left out, because parse_config rejects them.
    """
    return {
        "name": config.name,
        "seed": config.seed,
        "cluster": _fields(config.cluster),
        "network": _fields(config.network),
        "clients": _fields(config.clients),
        "workload": _workload_dict(config.workload),
        "faults": [_fault_dict(fault) for fault in config.faults],
        "checks": _fields(config.checks),
    }


def with_seed(config: Config, seed: int) -> Config:
    """The same run with another seed, as `--seed` and seed sweeps need."""
    try:
        TOP_KEYS["seed"].convert(seed)
    except SpecError as exc:
        raise ConfigError(f"{config.source}: seed = {show_value(seed)}: {exc}") from None
    return dataclasses.replace(config, seed=seed)


def refuse_sim_only(config: Config, driver: str) -> None:
    """ConfigError naming every fault (or nemesis kind) only the simulator can carry out,
    for a driver that cannot: the lab cannot stop a server process between two steps of
    its compaction (the simulator steps its disk; a real one would need a crash hook in
    the storage). Called before anything starts."""
    problems = []
    for fault in config.faults:
        kinds = fault.kinds if isinstance(fault, Nemesis) else (fault.ACTION,)
        for kind in kinds:
            if kind in SIM_ONLY_ACTIONS:
                what = f"nemesis kind {kind}" if isinstance(fault, Nemesis) else kind
                problems.append(
                    f"{config.source}: faults: {what} at {fault.at_ms} ms: simulator only; "
                    f"the {driver} cannot run it (use `paxlab sim`, or crash or power_cut "
                    "here)")
    if problems:
        raise ConfigError(problems)


def describe_fault(fault: Fault) -> str:
    """One stable line for logs and reports, e.g. "partition [0] | [1, 2]" or "crash leader"."""
    return fault.describe()
