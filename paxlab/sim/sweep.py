"""Run one config over a range of seeds, on every core, and report the failing ones, each
with its failed checks and the one command that reproduces it (STYLE.md section 5).

Seeds run in worker processes (`workers`), but results are consumed in seed order, so the
output is the same for any worker count apart from the seeds/s figure. `Shard` splits a
range over machines: shard i/n runs the seeds A + i - 1, A + i - 1 + n, ... of A-B, so
any batch runner can spread a campaign with `--shard $I/$N` and the shards cover the range
exactly once. Under swarm testing (`paxlab.sim.swarm`) each seed also draws its fault mix.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from tabulate import tabulate

from paxlab.check import CheckResult
from paxlab.config.types import Config
from paxlab.results.report import render_checks
from paxlab.scenario.nemesis import expand_faults
from paxlab.sim.mutants import MUTANTS
from paxlab.sim.run import passed, simulate, verdicts, write_results
from paxlab.sim.swarm import swarm_config

__all__ = ["WHOLE", "SeedOutcome", "Shard", "SweepOutcome", "announce", "check_seed",
           "options_line", "parse_seed_range", "parse_shard", "reproduce_command", "run_one",
           "run_sweep"]

_RANGE = re.compile(r"(\d+)-(\d+)")
_SHARD = re.compile(r"(\d+)/(\d+)")


def parse_seed_range(text: str) -> tuple[int, int]:
    """ "A-B" -> (A, B), both included; ValueError unless 0 <= A <= B."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"--seeds {text!r}: expected A-B, e.g. 1-200")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last:
        raise ValueError(f"--seeds {text!r}: the first seed is above the last")
    return first, last


@dataclass(frozen=True, slots=True)
class Shard:
    """Slice `index` (1-based) of `count` slices of a seed range."""

    index: int  # Invariant: 1 <= index <= count.
    count: int

    def seeds(self, first: int, last: int) -> list[int]:
        """The seeds of first..last with (seed - first) % count == index - 1."""
        return list(range(first + self.index - 1, last + 1, self.count))

    def describe(self) -> str:
        return f"shard {self.index}/{self.count}"


WHOLE = Shard(1, 1)
"""No sharding: the whole range on this machine."""


def parse_shard(text: str) -> Shard:
    """ "i/n" -> Shard(i, n); ValueError unless 1 <= i <= n."""
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"--shard {text!r}: expected i/n with 1 <= i <= n, e.g. 2/4 "
                         "(the second of four slices of --seeds)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ValueError(f"--shard {text!r}: n must be at least 1")
    if not 1 <= index <= count:
        raise ValueError(f"--shard {text!r}: i must be from 1 to {count}")
    return Shard(index, count)


@dataclass(frozen=True)
class SeedOutcome:
    """One seed's outcome; `checks` are the failed ones (none: the seed passed)."""

    seed: int
    checks: list[CheckResult]
    options: tuple[str, ...] = ()  # what swarm testing drew for this seed

    @property
    def failed(self) -> bool:
        return bool(self.checks)

    @property
    def first_detail(self) -> str:
        return self.checks[0].details if self.checks else ""

    @property
    def kind(self) -> str:
        """"safety" if any safety check failed, else "liveness" (reported apart)."""
        return "liveness" if all(c.name == "liveness" for c in self.checks) else "safety"


@dataclass(frozen=True)
class SweepOutcome:
    seeds: int  # run on this machine (this shard's share of the range)
    failures: list[SeedOutcome]  # in seed order
    elapsed_s: float

    @property
    def passed(self) -> bool:
        return not self.failures


def check_seed(config: Config, seed: int, mutant: str | None = None,
               swarm: bool = False) -> SeedOutcome:
    """Simulate one seed and keep its failed checks. A seed whose simulation raises is a
    `crashed` failure: a core assertion is a finding, not the end of the sweep."""
    options: tuple[str, ...] = ()
    try:
        if swarm:
            config, drawn = swarm_config(config, seed)
            options = tuple(drawn)
        sim_run = simulate(config, seed) if mutant is None else simulate(config, seed, mutant)
        checks = verdicts(sim_run)
    except (Exception, SystemExit) as error:
        checks = [CheckResult(name="crashed", verdict="fail",
                              details=f"{type(error).__name__}: {error}")]
    return SeedOutcome(seed, [c for c in checks if c.verdict != "pass"], options)


# --- worker processes -------------------------------------------------------------------

_job: tuple[Config, str | None, bool] | None = None  # set once per worker by _start_worker


def _start_worker(job: tuple[Config, str | None, bool]) -> None:
    """Pool initializer: the config travels once per worker, not once per seed. Ctrl-C is
    left to the parent, which then terminates every worker."""
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _job = job


def _check_in_worker(seed: int) -> SeedOutcome:
    assert _job is not None, "worker started without a job"
    config, mutant, swarm = _job
    return check_seed(config, seed, mutant, swarm)


@contextmanager
def _outcomes(config: Config, seeds: Sequence[int], mutant: str | None, swarm: bool,
              workers: int) -> Iterator[Iterator[SeedOutcome]]:
    """Each seed's outcome, in seed order. With more than one worker the seeds run in a
    process pool; leaving the block in any way (done, error, Ctrl-C) ends every worker and
    waits for it, so no process outlives the sweep."""
    workers = min(workers, len(seeds))
    if workers <= 1:
        yield (check_seed(config, seed, mutant, swarm) for seed in seeds)
        return
    pool = multiprocessing.get_context().Pool(workers, initializer=_start_worker,
                                              initargs=((config, mutant, swarm),))
    try:
        yield pool.imap(_check_in_worker, seeds, chunksize=1)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


# --- the sweep --------------------------------------------------------------------------


def reproduce_command(config_arg: str, seed: int, mutant: str | None, swarm: bool) -> str:
    """The one command that replays `seed` exactly as the sweep ran it."""
    flags = (" --swarm" if swarm else "") + (f" --mutant {mutant}" if mutant else "")
    return f"paxlab sim {config_arg} --seed {seed}{flags}"


class _Progress:
    """Seeds done, failures, seeds/s: rewritten in place on a terminal, every ~10% else."""

    def __init__(self, out: TextIO, total: int, clock: Callable[[], float]) -> None:
        self.out, self.total, self.clock = out, total, clock
        self.live = out.isatty()
        self.started = clock()

    def update(self, done: int, failures: int) -> None:
        elapsed = self.clock() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"seeds {done}/{self.total}  failures {failures}  {rate:.3g} seeds/s"
        if self.live:
            self.out.write(f"\r{line}")
            self.out.flush()
        elif done % max(1, self.total // 10) == 0 or done == self.total:
            self.out.write(line + "\n")
            self.out.flush()

    def finish(self) -> float:
        if self.live:
            self.out.write("\n")
        return self.clock() - self.started


def _header(config: Config, first: int, last: int, shard: Shard, count: int,
            mutant: str | None, swarm: bool) -> str:
    where = f"seeds {first}-{last}"
    if shard != WHOLE:
        where += f", {shard.describe()}"
    extra = f", mutant {mutant}" if mutant else ""
    on = "on" if swarm else "off"
    return f"paxlab sim {config.name}: {where} ({_count(count)}), swarm {on}{extra}"


_DETAIL_LINES = 8  # per failed check; the reproduce command shows the rest


def _clip(check: CheckResult) -> CheckResult:
    """A long detail (a linearizability counterexample) cut to its first lines, so a sweep
    with many failing seeds stays readable."""
    lines = check.details.splitlines()
    if len(lines) <= _DETAIL_LINES:
        return check
    more = f"... {len(lines) - _DETAIL_LINES} more lines: run the reproduce command"
    return replace(check, details="\n".join([*lines[:_DETAIL_LINES], more]))


def _render_failure(failure: SeedOutcome, command: str) -> str:
    lines = [f"seed {failure.seed}:", *failure.options,
             render_checks([_clip(check) for check in failure.checks]),
             f"reproduce with: {command}"]
    return "\n".join(lines)


def _count(seeds: int) -> str:
    return f"{seeds} seed" if seeds == 1 else f"{seeds} seeds"


def _short(text: str, width: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def run_sweep(config: Config, first: int, last: int, out: TextIO, config_arg: str,
              clock: Callable[[], float] = time.perf_counter,
              mutant: str | None = None, *, workers: int = 1, shard: Shard = WHOLE,
              swarm: bool = False) -> SweepOutcome:
    """Simulate this shard's seeds of first..last, print progress, then each failing seed
    (its drawn options, failed checks and reproduce command) and a summary.

    `workers` > 1 runs seeds in that many processes; the text written is the same for any
    value apart from the seeds/s figures. `config_arg` is the config as the user named it,
    for the reproduce commands.
    """
    seeds = shard.seeds(first, last)
    out.write(_header(config, first, last, shard, len(seeds), mutant, swarm) + "\n")
    if not seeds:
        out.write(f"{shard.describe()} of seeds {first}-{last} holds no seeds; nothing to run\n")
        return SweepOutcome(seeds=0, failures=[], elapsed_s=0.0)
    progress = _Progress(out, len(seeds), clock)
    failures: list[SeedOutcome] = []
    with _outcomes(config, seeds, mutant, swarm, workers) as outcomes:
        for done, outcome in enumerate(outcomes, start=1):
            if outcome.failed:
                failures.append(outcome)
            progress.update(done, len(failures))
    elapsed_s = progress.finish()
    for failure in failures:
        command = reproduce_command(config_arg, failure.seed, mutant, swarm)
        out.write("\n" + _render_failure(failure, command) + "\n")
    if failures:
        rows = [(f.seed, f.kind, ", ".join(c.name for c in f.checks), _short(f.first_detail))
                for f in failures]
        out.write("\n" + tabulate(rows, headers=("seed", "kind", "failed checks",
                                                 "first detail")) + "\n")
        safety = sum(1 for f in failures if f.kind == "safety")
        out.write(f"{len(failures)} of {_count(len(seeds))} failed: {safety} safety, "
                  f"{len(failures) - safety} liveness only\n")
    else:
        out.write(f"all {_count(len(seeds))} passed\n")
    return SweepOutcome(seeds=len(seeds), failures=failures, elapsed_s=elapsed_s)


# --- one seed ---------------------------------------------------------------------------


def options_line(config: Config, seed: int, drawn: Sequence[str] = ()) -> str:
    """The seed and every option that shapes the run, printed before it starts: one line,
    then one line per option swarm testing drew (`drawn`, from swarm_config)."""
    c, n, w = config.cluster, config.network, config.workload
    faults = len(expand_faults(replace(config, seed=seed)))
    length = f"{w.ops_per_client} ops/client" if w.ops_per_client is not None else (
        f"{w.duration_ms} ms" if w.duration_ms is not None else f"{len(w.ops)} scripted ops")
    line = (f"paxlab sim {config.name}: seed {seed}, {c.servers} servers, "
            f"{config.clients.count} clients, workload {length}, difficulty {c.difficulty}, "
            f"delay {n.delay_ms_mean:g}+-{n.delay_ms_jitter:g} ms, "
            f"drop {n.drop_probability:g}, dup {n.duplicate_probability:g}, {faults} faults")
    return "\n".join([line, *drawn])


def announce(config: Config, seed: int, out: TextIO, mutant: str | None,
             swarm: bool) -> tuple[Config, list[str]]:
    """Print the seed, every option it drew and the mutant; return the config as drawn
    (its swarm draw applied if `swarm`) and the options drawn. Shared by `run_one` and
    the shrinker's command."""
    drawn: list[str] = []
    if swarm:
        config, drawn = swarm_config(config, seed)
    out.write(options_line(config, seed, drawn) + "\n")
    if mutant is not None:
        out.write(f"mutant {mutant}: {MUTANTS[mutant].description}\n")
    return config, drawn


def run_one(config: Config, seed: int, out: TextIO, out_root: Path | None,
            mutant: str | None = None, swarm: bool = False,
            config_arg: str | None = None,
            on_results: Callable[[Path], str] | None = None) -> bool:
    """Simulate one seed (with its swarm draw if `swarm`), print its verdicts, write a
    results folder if asked; the folder's config.yaml is the config as drawn.
    `on_results(run_dir)` runs once the folder is written and returns a line to print
    (the command line draws the report page with it)."""
    config, _ = announce(config, seed, out, mutant, swarm)
    messages_to = None
    if out_root is not None:  # record the messages for the folder; write_results moves them in
        out_root.mkdir(parents=True, exist_ok=True)
        messages_to = out_root / f".messages-{seed}-{os.getpid()}.jsonl.tmp"
    try:
        sim_run = simulate(config, seed, mutant, messages_to=messages_to)
        checks = verdicts(sim_run)
        out.write(f"{sim_run.counts['events']} events, {sim_run.counts['routed']} messages, "
                  f"{len(sim_run.faults)} faults applied, {sim_run.duration_ms:.0f} virtual ms\n")
        out.write(render_checks(checks) + "\n")
        if out_root is not None:
            real = [c for c in checks if c.name != "liveness"]  # partial: its own field
            run_dir = write_results(sim_run, config, out_root, checks=real)
            out.write(f"results: {run_dir}\n")
            if on_results is not None:
                out.write(on_results(run_dir) + "\n")
    finally:
        if messages_to is not None:
            messages_to.unlink(missing_ok=True)  # moved in, unless the run failed
    ok = passed(checks)
    if not ok:
        command = reproduce_command(config_arg or config.source, seed, mutant, swarm)
        out.write(f"reproduce with: {command}\nshrink to a minimal reproducer: "
                  f"{command} --shrink\n")
    return ok
