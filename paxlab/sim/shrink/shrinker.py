"""Shrinks a failing seed to a small fixed config that still fails the same way.

A failing seed of a 3-second run with hundreds of ops and a dozen faults says that
something is wrong, not what. Delta debugging (Zeller and Hildebrandt, "Simplifying and
Isolating Failure-Inducing Input") cuts it down while the failure persists: the run is
first pinned (`paxlab.sim.shrink.pin`), then greedy passes drop faults, whole clients, single ops,
and finally everything after a cut time (binary search), round after round, until a round
drops nothing or the budget of simulations or seconds is spent.

The failure "persists" when at least one of the target checks still fails: by default
the safety checks that failed on the original seed (liveness only when nothing else
failed). A crash of the simulator (an exception) is its own
kind, `crashed:<ExceptionType>`, so a candidate that crashes does not stand in for a lost
safety failure. The search has no randomness: the same arguments give the same result,
unless the wall-time cap is what stopped it. The engine (budget, cache, ddmin) is in
`paxlab.sim.shrink.search`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paxlab.check import CheckResult
from paxlab.config.types import Config, CrashClient, RestartClient, ScriptedOp
from paxlab.scenario.nemesis import expand_faults
from paxlab.sim.run import SimRun
from paxlab.sim.shrink.pin import pin, pin_faults, revalidate
from paxlab.sim.shrink.search import (
    Search,
    Tried,
    failure_kinds,
    invoked,
    matches,
    op_count,
    trial,
)

__all__ = ["BUDGET_SIMULATIONS", "TIME_LIMIT_S", "ShrinkError", "ShrinkResult", "shrink"]

BUDGET_SIMULATIONS = 300
TIME_LIMIT_S = 300.0


class ShrinkError(ValueError):
    """Nothing to shrink: the seed passes, or fails none of the checks asked for."""


@dataclass(frozen=True)
class ShrinkResult:
    """What the shrinker found, with the sizes a user wants to see before and after."""

    seed: int
    mutant: str | None
    target_checks: tuple[str, ...]
    original_checks: tuple[CheckResult, ...]
    pin_note: str  # empty when faults and ops were pinned; else what could not be, and why
    reproduces: bool  # False: not even the pinned start failed again; `config` is unshrunk
    config: Config  # the smallest config found that still fails
    checks: tuple[CheckResult, ...]  # its verdicts
    failed_check: str  # the first target check that still fails ("" if none)
    faults_before: int  # the expanded fault list of the original config
    faults_after: int
    ops_before: int  # ops the original run invoked
    ops_after: int  # ops in the final op list (or invoked, for a generated workload)
    run_ms_before: float  # virtual ms until the workload ended
    run_ms_after: float
    simulations: int  # the original run included
    elapsed_s: float
    steps: tuple[str, ...]  # one line per accepted step
    stopped: str  # why the search ended

    def sizes_line(self) -> str:
        return (f"faults {self.faults_before} -> {self.faults_after}, "
                f"ops {self.ops_before} -> {self.ops_after}, "
                f"run {self.run_ms_before:.0f} -> {self.run_ms_after:.0f} virtual ms")


def _describe_op(op: ScriptedOp) -> str:
    value = f"={op.value}" if op.value is not None else ""
    return f"c{op.client} {op.f} {op.key}{value} at {op.at_ms} ms"


def _with_ops(config: Config, ops: Sequence[ScriptedOp]) -> Config:
    return dataclasses.replace(config, workload=dataclasses.replace(config.workload,
                                                                    ops=tuple(ops)))


def _with_count(config: Config, count: int) -> Config:
    return dataclasses.replace(config, clients=dataclasses.replace(config.clients, count=count))


def _best(search: Search) -> Config:
    assert search.best is not None
    return search.best


def _fault_pass(search: Search) -> bool:
    base = _best(search)

    def build(kept: list[int]) -> Config:
        return dataclasses.replace(base, faults=tuple(base.faults[i] for i in kept))

    def label(chunk: list[int]) -> str:
        if len(chunk) > 3:
            return f"{len(chunk)} faults"
        return ", ".join(f"{base.faults[i].describe()} at {base.faults[i].at_ms} ms"
                         for i in chunk)

    return search.ddmin(list(range(len(base.faults))), build, label)


def _op_pass(search: Search) -> bool:
    """Single ops. Any subset of a client's ops, in order, is a valid script for it."""
    base = _best(search)
    ops = base.workload.ops

    def label(chunk: list[int]) -> str:
        return f"{len(chunk)} ops" if len(chunk) > 1 else _describe_op(ops[chunk[0]])

    return search.ddmin(list(range(len(ops))),
                        lambda kept: _with_ops(base, [ops[i] for i in kept]), label)


def _client_pass(search: Search) -> bool:
    """Every op of some clients at once: cheaper than finding them op by op."""
    base = _best(search)

    def build(kept: list[int]) -> Config:
        return _with_ops(base, [op for op in base.workload.ops if op.client in kept])

    def label(chunk: list[int]) -> str:
        return "the ops of clients " + ", ".join(f"c{c}" for c in chunk)

    clients = sorted({op.client for op in base.workload.ops})
    changed = search.ddmin(clients, build, label)
    return _compact_clients(search) or changed


def _compact_clients(search: Search) -> bool:
    """Clients left without ops: drop the top ids, then renumber the rest to 0..k-1. Each
    is a new run to try (a client's id seeds its retries), so each must still fail."""
    base = _best(search)
    used = sorted({op.client for op in base.workload.ops})
    count = base.clients.count
    idle = f"c{used[-1] + 1}" + (f"..c{count - 1}" if count - 1 > used[-1] + 1 else "")
    changed = used[-1] + 1 < count and search.accept(_with_count(base, used[-1] + 1),
                                                     f"dropped idle clients {idle}")
    base = _best(search)
    if used == list(range(len(used))) or search.exhausted:
        return changed
    new_id = {old: new for new, old in enumerate(used)}
    faults = []
    for fault in base.faults:
        if isinstance(fault, CrashClient | RestartClient) and fault.client != "all":
            if fault.client not in new_id:
                return changed  # a client fault still names an idle client
            fault = dataclasses.replace(fault, client=new_id[fault.client])
        faults.append(fault)
    ops = [dataclasses.replace(op, client=new_id[op.client]) for op in base.workload.ops]
    compact = _with_ops(_with_count(dataclasses.replace(base, faults=tuple(faults)),
                                    len(used)), ops)
    renamed = ", ".join(f"c{old}->c{new}" for old, new in new_id.items() if old != new)
    return search.accept(compact, f"renumbered clients {renamed}") or changed


def _cut(config: Config, at_ms: int) -> Config:
    """`config` without anything after `at_ms`: later faults and ops dropped, or a
    duration workload ending there (its seeded generator deals the same ops until then)."""
    config = dataclasses.replace(config, faults=tuple(f for f in config.faults
                                                      if f.at_ms <= at_ms))
    workload = config.workload
    if workload.type == "scripted":
        return _with_ops(config, [op for op in workload.ops if op.at_ms <= at_ms])
    if workload.duration_ms is not None:
        return dataclasses.replace(config, workload=dataclasses.replace(
            workload, duration_ms=max(1, at_ms)))
    return config


def _cut_times(config: Config) -> list[int]:
    """Where a cut can go: each fault and op time; for a duration workload also 32 steps."""
    workload = config.workload
    times = {f.at_ms for f in config.faults}
    if workload.type == "scripted":
        times |= {op.at_ms for op in workload.ops}
    elif workload.duration_ms is not None:
        step = max(1, workload.duration_ms // 32)
        times |= set(range(step, workload.duration_ms + 1, step))
        times = {t for t in times if t <= workload.duration_ms}
    return sorted(times)


def _cut_pass(search: Search) -> bool:
    """Binary search for the earliest cut that still fails. Failure is not monotone in
    time, so this is a heuristic, but a cut is only accepted once seen to fail."""
    base = _best(search)
    times = _cut_times(base)
    if not times:
        return False
    low, high = 0, len(times) - 1
    if revalidate(_cut(base, times[high])) != base:
        high += 1  # even the last cut drops something: index len(times) means "no cut"
    while low < high and not search.exhausted:
        middle = (low + high) // 2
        if search.fails(_cut(base, times[middle])) is not None:
            high = middle
        else:
            low = middle + 1
    if high >= len(times):
        return False
    return search.accept(_cut(base, times[high]), f"cut the run after {times[high]} ms")


def _start(config: Config, sim_run: SimRun | None, search: Search
           ) -> tuple[Config, bool, str]:
    """The config the search starts from, whether it still fails, and what could not be
    pinned. Tried in order: faults and ops pinned; faults pinned with the generated
    workload; the expanded faults with random targets left as words (the original run)."""
    tries: list[tuple[Config, str]] = []
    if sim_run is not None and invoked(sim_run) > 0:
        tries.append((pin(config, sim_run), "pinning the op list lost the failure (a config "
                      "times ops to the whole ms, so the run drifts), so the workload stays "
                      "generated and only faults and run length shrink"))
    if sim_run is not None:
        tries.append((pin_faults(config, sim_run), "writing out the random fault targets lost "
                      "the failure too, so they stay words"))
    tries.append((pin_faults(config), "even the expanded fault list did not fail again"))
    lost: list[str] = []
    for candidate, note in tries:
        found = search.fails(candidate)
        if found is not None:
            return found, True, "; ".join(lost)
        if search.exhausted:
            lost.append(f"stopped before the pinned config was tried ({search.stopped})")
            break
        lost.append(note)
    return tries[-1][0], False, "; ".join(lost)


def _search_loop(search: Search) -> None:
    """Pass after pass until a whole round drops nothing or the budget is spent."""
    passes: list[Callable[[Search], bool]] = [_fault_pass, _cut_pass]
    if _best(search).workload.type == "scripted":
        passes = [_fault_pass, _client_pass, _op_pass, _cut_pass]
    changed = True
    while changed and not search.exhausted:
        changed = False
        for step in passes:
            changed = step(search) or changed


def shrink(config: Config, seed: int, mutant: str | None = None,
           target_checks: Sequence[str] | None = None, budget: int = BUDGET_SIMULATIONS,
           time_limit_s: float = TIME_LIMIT_S, progress: Callable[[str], None] | None = None,
           clock: Callable[[], float] = time.monotonic,
           first: tuple[list[CheckResult], SimRun | None] | None = None) -> ShrinkResult:
    """Shrink a failing (config, seed, mutant) to a small fixed config that still fails one
    of `target_checks` (default: every check that failed on the original seed).

    `budget` bounds the simulations, the original one included; `time_limit_s` the wall
    time. `progress` gets one line per accepted step. `first` is the original run's
    `trial()` if the caller has it already. Raises ShrinkError when the seed passes, or
    fails none of `target_checks`.
    """
    started = clock()
    config = dataclasses.replace(config, seed=seed)
    checks, sim_run = first if first is not None else trial(config, seed, mutant)
    failing = failure_kinds(checks)
    flag = f" --mutant {mutant}" if mutant else ""
    if not failing:
        raise ShrinkError(f"{config.name} --seed {seed}{flag} passes every check: "
                          "nothing to shrink")
    # A safety failure must not shrink into a mere liveness one: a run cut short of its
    # faults' heal can time out for reasons that have nothing to do with the bug.
    safety = tuple(kind for kind in failing if kind != "liveness")
    targets = tuple(target_checks) if target_checks else (safety or failing)
    if not any(matches(k, t) for k in failing for t in targets):
        raise ShrinkError(f"{config.name} --seed {seed}{flag} does not fail "
                          f"{', '.join(targets)}; it fails: {', '.join(failing)}")
    search = Search(seed, mutant, targets, budget, started + time_limit_s, clock,
                    progress or (lambda line: None))
    search.simulations = 1
    search.best, reproduces, pin_note = _start(config, sim_run, search)
    if reproduces:
        _search_loop(search)
    best = _best(search)
    tried = search.cache.get(best, Tried(False, (), 0.0, 0))
    still = [k for k in failure_kinds(tried.checks) if any(matches(k, t) for t in targets)]
    stopped = search.stopped or "nothing more could be dropped"
    return ShrinkResult(
        seed=seed, mutant=mutant, target_checks=targets, original_checks=tuple(checks),
        pin_note=pin_note, reproduces=reproduces, config=best, checks=tried.checks,
        failed_check=still[0].split(":", 1)[0] if still else "",
        faults_before=len(expand_faults(config)), faults_after=len(best.faults),
        ops_before=invoked(sim_run), ops_after=op_count(best, tried),
        run_ms_before=sim_run.workload_ms if sim_run is not None else 0.0,
        run_ms_after=tried.run_ms, simulations=search.simulations,
        elapsed_s=clock() - started, steps=tuple(search.steps),
        stopped=stopped if reproduces else "the pinned config does not fail: " + pin_note)
