"""Pins one simulated run into a fixed config: concrete faults and a scripted op list.

A failing seed of a generated workload under a nemesis is a poor thing to shrink: drop one
op and the seeded generator, or one fault and the seeded fault runner, deals every later
choice differently. So the shrinker starts from the run as it happened: the nemesis
expanded into plain faults, each random target (random, minority, majority,
partition_halves) replaced by the servers it hit in that run, and the workload replaced by
the ops the clients invoked, at their invoke times. `leader` targets stay words, since
"whoever leads then" is what a reproducer means in `paxlab run` too.

Config times are whole ms while the simulator's are not, so a pinned op may go out a
fraction of a ms earlier than in the original run; the run is then close to, not the same
as, the original one. Callers (the shrinker) check that the pinned config still fails.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from paxlab.config import config_to_dict, parse_config
from paxlab.config.types import (
    Config,
    Crash,
    Fault,
    Partition,
    PartitionHalves,
    Pause,
    Restart,
    Resume,
    ScriptedOp,
)
from paxlab.scenario.nemesis import expand_faults
from paxlab.sim.run import SimRun

__all__ = ["count_ops", "pin", "pin_faults", "pinned_name", "revalidate"]

NS_PER_MS = 1_000_000
_RANDOM_WORDS = frozenset({"random", "minority", "majority"})
_SERVER = re.compile(r"\bs(\d+)\b")


def pinned_name(name: str, seed: int) -> str:
    """`<name>-seed<N>-repro`, cut to the 100 characters a config name may have; a
    reproducer shrunk again keeps its name."""
    suffix = f"-seed{seed}-repro"
    return name if name.endswith(suffix) else name[: 100 - len(suffix)] + suffix


def revalidate(config: Config) -> Config:
    """The config as the loader would build it from its own YAML: the one way to be sure a
    changed config is valid and that its reproducer file loads back to the same thing.
    Raises ConfigError when it is not valid."""
    return parse_config(config_to_dict(config), config.source)


def _servers_in(text: str) -> tuple[int, ...]:
    return tuple(int(number) for number in _SERVER.findall(text))


def _resolved(fault: Fault, detail: str) -> Fault:
    """`fault` with the random choice it made in this run written out, if it made one."""
    chosen = detail[len(fault.describe()):]  # " (s0, s2)" or " (s0 s2 | s1)"
    if isinstance(fault, Crash | Pause | Restart | Resume) and fault.target in _RANDOM_WORDS:
        ids = tuple(sorted(_servers_in(chosen)))
        if ids:
            return dataclasses.replace(fault, target=ids[0] if len(ids) == 1 else ids)
    if isinstance(fault, PartitionHalves) and "|" in chosen:
        groups = tuple(_servers_in(half) for half in chosen.split("|"))
        if all(groups):
            return Partition(at_ms=fault.at_ms, groups=groups)
    return fault


def _concrete_faults(config: Config, applied: Sequence[dict[str, Any]]) -> tuple[Fault, ...]:
    """The expanded faults, with the random choices of `applied` (the run's applied faults,
    in the order they fired) written in. Faults fire in list order, and only those that did
    something are in `applied`, so one pass pairs them up by time, action and text."""
    out: list[Fault] = []
    index = 0
    for fault in expand_faults(config):
        record = applied[index] if index < len(applied) else None
        if (record is not None and record["time_ms"] == fault.at_ms
                and record["action"] == fault.ACTION
                and str(record["detail"]).startswith(fault.describe())):
            index += 1
            fault = _resolved(fault, str(record["detail"]))
        out.append(fault)
    return tuple(out)


def _invoked_ops(history: Sequence[dict[str, Any]]) -> tuple[ScriptedOp, ...]:
    """Every invoke of the history as a scripted op at its invoke time (whole ms, rounded
    down), per client in invoke order; sorted by time, as the loader sorts them."""
    ops = [
        ScriptedOp(at_ms=int(event["time"]) // NS_PER_MS, client=int(event["process"]),
                   f=event["f"], key=event["key"],
                   value=event["value"] if event["f"] == "put" else None)
        for event in history if event["type"] == "invoke"
    ]
    return tuple(sorted(ops, key=lambda op: op.at_ms))  # stable: per-client order holds


def count_ops(config: Config) -> int | None:
    """Scripted ops of a config; None for a generated workload."""
    return len(config.workload.ops) if config.workload.type == "scripted" else None


def pin_faults(config: Config, sim_run: SimRun | None = None) -> Config:
    """The config with its faults pinned (see `pin`) and its workload unchanged. Without
    `sim_run` the nemesis is still expanded, but random targets stay words: that run is
    the original one exactly, since the fault runner draws them in the same order."""
    seed = sim_run.seed if sim_run is not None else config.seed
    config = dataclasses.replace(config, seed=seed)
    applied = sim_run.faults if sim_run is not None else []
    return revalidate(dataclasses.replace(
        config, name=pinned_name(config.name, seed), faults=_concrete_faults(config, applied)))


def pin(config: Config, sim_run: SimRun) -> Config:
    """`sim_run` (a SimRun of `config`) as a fixed config: the concrete faults it ran, the
    ops its clients invoked as a scripted workload, its seed, and the name
    `<name>-seed<N>-repro`. The timing of each op is kept to the ms. Raises ValueError for
    a run whose clients invoked nothing (a scripted workload needs an op)."""
    faulted = pin_faults(config, sim_run)
    ops = _invoked_ops(sim_run.records.history)
    if not ops:
        raise ValueError(f"{config.name} seed {sim_run.seed}: no op was invoked, "
                         "so there is no op list to pin")
    workload = dataclasses.replace(
        faulted.workload, type="scripted", ops_per_client=None, duration_ms=None, ops=ops)
    return revalidate(dataclasses.replace(faulted, workload=workload))
