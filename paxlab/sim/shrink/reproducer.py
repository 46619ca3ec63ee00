"""Writes a shrunk failure as a standalone YAML config that replays it.

A reproducer is an ordinary config file: `paxlab sim FILE --seed N` runs it in the
simulator (deterministic: it fails the same check every time) and, for the correct
protocol, `paxlab run FILE` runs it in the lab (real time: the same faults and ops, but
the timing differs, so it may or may not fail there). Its comment header says where it
came from, which check fails and the commands to replay it, so the file alone is enough
to file a bug. The body is `config_to_dict`, so `load_config` gives back the same Config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from paxlab.config import config_to_dict
from paxlab.config.types import Config

__all__ = ["DEFAULT_DIR", "Origin", "replay_commands", "reproducer_name", "reproducer_yaml",
           "write_reproducer"]

DEFAULT_DIR = Path("results/repro")


@dataclass(frozen=True)
class Origin:
    """Where a failure was found, for the reproducer's header."""

    config_file: str  # the config the failing run came from ("" if built in code)
    name: str  # that config's name; it names the reproducer file
    swarm: str | None = None  # the swarm options the seed drew, if it ran in a swarm
    notes: tuple[str, ...] = ()  # more header lines, e.g. how much the shrinker dropped


def reproducer_name(name: str, seed: int, mutant: str | None) -> str:
    """`<name>-seed<N>[-<mutant>].yaml`."""
    return f"{name}-seed{seed}" + (f"-{mutant}" if mutant else "") + ".yaml"


def replay_commands(path: str | Path, seed: int, mutant: str | None) -> list[str]:
    """The simulator command, and the lab one when there is no mutant (the lab runs only
    the correct protocol)."""
    flag = f" --mutant {mutant}" if mutant else ""
    commands = [f"paxlab sim {path} --seed {seed}{flag}"]
    if mutant is None:
        commands.append(f"paxlab run {path}")
    return commands


class _FlowMap(dict):  # type: ignore[type-arg]
    """A mapping written on one line, so a fault or an op reads as one line of the file."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    """Keys and values are Python literals such as 'k0': write "'k0'", not '''k0'''."""
    style = '"' if "'" in data and '"' not in data and "\\" not in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_FlowMap, _flow_map)
_Dumper.add_representer(str, _text)


def _body(config: Config) -> str:
    data: dict[str, Any] = config_to_dict(config)
    data["faults"] = [_FlowMap(fault) for fault in data["faults"]]
    if "ops" in data["workload"]:
        data["workload"]["ops"] = [_FlowMap(op) for op in data["workload"]["ops"]]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     width=100, allow_unicode=True)


def _comment(lines: Sequence[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def reproducer_yaml(config: Config, seed: int, mutant: str | None, failed_check: str,
                    origin: Origin, path: str | Path | None = None) -> str:
    """The reproducer's text: a comment header, then `config` with `seed`. `path` is where
    the file will be, for the replay commands (default: its file name)."""
    config_seeded = replace(config, seed=seed)
    where = path if path is not None else reproducer_name(origin.name, seed, mutant)
    came_from = f"config {origin.config_file or origin.name}, seed {seed}"
    if mutant:
        came_from += f", mutant {mutant}"
    if origin.swarm:
        came_from += f", swarm options {origin.swarm}"
    commands = replay_commands(where, seed, mutant)
    header = [
        f"Reproducer: {origin.name} seed {seed}" + (f" with mutant {mutant}" if mutant else ""),
        f"From: {came_from}",
        f"Fails: {failed_check}",
        *origin.notes,
        "",
        "Replay in the simulator (deterministic, fails every time):",
        f"  {commands[0]}",
    ]
    if mutant is None:
        header += ["Replay in the lab (real time: same faults and ops, other timing, so it",
                   "may not fail there):", f"  {commands[1]}"]
    else:
        header += ["The lab runs only the correct protocol, so this replays in the simulator."]
    return _comment(header) + "\n" + _body(config_seeded)


def write_reproducer(config: Config, seed: int, mutant: str | None, failed_check: str,
                     origin: Origin, directory: Path = DEFAULT_DIR) -> Path:
    """Write the reproducer as `<directory>/<name>-seed<N>[-<mutant>].yaml`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / reproducer_name(origin.name, seed, mutant)
    path.write_text(reproducer_yaml(config, seed, mutant, failed_check, origin, path),
                    encoding="utf-8")
    return path
