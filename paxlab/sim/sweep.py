"""Run one config over a range of seeds and report the failing ones, each with the command
that reproduces it (STYLE.md section 5)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from tabulate import tabulate

from paxlab.check import CheckResult
from paxlab.config_types import Config
from paxlab.nemesis import expand_faults
from paxlab.report import render_checks
from paxlab.sim.mutants import MUTANTS
from paxlab.sim.run import passed, simulate, verdicts, write_results

__all__ = ["SeedFailure", "SweepOutcome", "options_line", "parse_seed_range", "run_one",
           "run_sweep"]

_RANGE = re.compile(r"(\d+)-(\d+)")


def parse_seed_range(text: str) -> tuple[int, int]:
    """ "A-B" -> (A, B), both included; ValueError unless 0 <= A <= B."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"--seeds {text!r}: expected A-B, e.g. 1-200")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last:
        raise ValueError(f"--seeds {text!r}: the first seed is above the last")
    return first, last


@dataclass(frozen=True)
class SeedFailure:
    seed: int
    checks: list[CheckResult]  # the failed ones

    @property
    def first_detail(self) -> str:
        return self.checks[0].details if self.checks else ""


@dataclass(frozen=True)
class SweepOutcome:
    seeds: int
    failures: list[SeedFailure]
    elapsed_s: float

    @property
    def passed(self) -> bool:
        return not self.failures


def run_sweep(config: Config, first: int, last: int, out: TextIO, config_arg: str,
              clock: Callable[[], float] = time.perf_counter,
              mutant: str | None = None) -> SweepOutcome:
    """Simulate seeds first..last in order, print progress, then the failing seeds."""
    failures: list[SeedFailure] = []
    live = out.isatty()
    started = clock()
    total = last - first + 1
    for index, seed in enumerate(range(first, last + 1), start=1):
        try:
            sim_run = simulate(config, seed) if mutant is None else simulate(config, seed, mutant)
            checks = verdicts(sim_run)
        except Exception as error:  # a core assertion is a finding, not the sweep's end
            checks = [CheckResult(name="crashed", verdict="fail",
                                  details=f"{type(error).__name__}: {error}")]
        if not passed(checks):
            failures.append(SeedFailure(seed, [c for c in checks if c.verdict != "pass"]))
        elapsed = clock() - started
        rate = index / elapsed if elapsed > 0 else 0.0
        line = f"seeds {index}/{total}  failures {len(failures)}  {rate:.1f} seeds/s"
        if live:
            out.write(f"\r{line}")
            out.flush()
        elif index % max(1, total // 10) == 0 or index == total:
            out.write(line + "\n")
    if live:
        out.write("\n")
    if failures:
        rows = [(f.seed, ", ".join(c.name for c in f.checks), _short(f.first_detail))
                for f in failures]
        out.write(tabulate(rows, headers=("seed", "failed checks", "first detail")) + "\n")
        for f in failures:
            flag = f" --mutant {mutant}" if mutant is not None else ""
            out.write(f"reproduce with: paxlab sim {config_arg} --seed {f.seed}{flag}\n")
    else:
        out.write(f"all {total} seeds passed\n")
    return SweepOutcome(seeds=total, failures=failures, elapsed_s=clock() - started)


def options_line(config: Config, seed: int) -> str:
    """The seed and every option that shapes the run, printed before it starts."""
    c, n, w = config.cluster, config.network, config.workload
    faults = len(expand_faults(replace(config, seed=seed)))
    length = f"{w.ops_per_client} ops/client" if w.ops_per_client is not None else (
        f"{w.duration_ms} ms" if w.duration_ms is not None else f"{len(w.ops)} scripted ops")
    return (f"paxlab sim {config.name}: seed {seed}, {c.servers} servers, "
            f"{config.clients.count} clients, workload {length}, difficulty {c.difficulty}, "
            f"delay {n.delay_ms_mean:g}+-{n.delay_ms_jitter:g} ms, "
            f"drop {n.drop_probability:g}, dup {n.duplicate_probability:g}, {faults} faults")


def run_one(config: Config, seed: int, out: TextIO, out_root: Path | None,
            mutant: str | None = None) -> bool:
    """Simulate one seed, print its verdicts, write a results folder if asked."""
    out.write(options_line(config, seed) + "\n")
    if mutant is not None:
        out.write(f"mutant {mutant}: {MUTANTS[mutant].description}\n")
    sim_run = simulate(config, seed, mutant)
    checks = verdicts(sim_run)
    out.write(f"{sim_run.counts['events']} events, {sim_run.counts['routed']} messages, "
              f"{len(sim_run.faults)} faults applied, {sim_run.duration_ms:.0f} virtual ms\n")
    out.write(render_checks(checks) + "\n")
    if out_root is not None:
        real = [c for c in checks if c.name != "liveness"]  # partial goes in its own field
        run_dir = write_results(sim_run, config, out_root, checks=real)
        out.write(f"results: {run_dir}\n")
    return passed(checks)


def _short(text: str, width: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."
