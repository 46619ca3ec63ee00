"""`paxlab bench-sim`: CPU cost of simulated seeds, checks included, against a calibration.

Issue 6 asks for a 5-server, 4-client, 300-op run with faults in under 100 ms of CPU per
seed, checks included, so that 1,000 seeds finish in a minute on two cores. This measures
exactly that: each seed runs `simulate` then `verdicts` in this process, timed with
`time.process_time` (CPU, not wall clock). Proof of work is timed apart by wrapping
`seal_block` for the duration of the bench: the core reads no clock (STYLE.md 2), so the
measuring has to sit outside it.

The machines are shared and noisy, so the same run also times a fixed calibration between
seeds: the straightforward proof-of-work recipe (json.dumps and sha256 per nonce) for a
fixed number of nonces. It does not depend on paxlab's code, so the ratio of a seed's CPU
to it compares across machines and commits where the milliseconds alone do not.
"""

from __future__ import annotations

import contextlib
import cProfile
import hashlib
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, cast

from tabulate import tabulate

from paxlab.config.schema import CLUSTER_KEYS
from paxlab.config.types import Config
from paxlab.core import chain
from paxlab.results.stats import percentile
from paxlab.scenario.workload import planned_op_count
from paxlab.sim.run import passed, simulate, verdicts

__all__ = ["CALIBRATION_NONCES", "DEFAULT_DIFFICULTY", "SeedSample", "SimBench", "calibrate",
           "config_line", "measure_seed", "run_sim_bench", "seal_attempt_us"]

CALIBRATION_NONCES = 1_000
"""Nonces per calibration sample: a few milliseconds, short enough to run between seeds."""
DEFAULT_DIFFICULTY = cast(int, CLUSTER_KEYS["difficulty"].default)
"""What a config gets without `cluster.difficulty`; the report projects sealing at it."""
_PROFILE_TOP = 15
_SEAL_SAMPLE_BLOCKS = 16
_PROJECTED_SEEDS = 1_000


@dataclass(frozen=True, slots=True)
class SeedSample:
    """One seed's CPU milliseconds and size. `seal_ms` is part of `sim_ms`."""

    seed: int
    sim_ms: float
    check_ms: float
    seal_ms: float
    events: int
    blocks: int
    hash_attempts: int  # nonces tried for the committed blocks: nonce + 1 each
    passed: bool

    @property
    def total_ms(self) -> float:
        return self.sim_ms + self.check_ms


@dataclass(frozen=True, slots=True)
class SimBench:
    """All seeds of one bench, and the calibration samples taken between them."""

    samples: tuple[SeedSample, ...]
    calibration_ms: tuple[float, ...]
    cores: int
    attempt_us: float  # CPU per nonce tried by seal_block at the default difficulty

    def column(self, name: str) -> list[float]:
        return sorted(float(getattr(sample, name)) for sample in self.samples)

    @property
    def baseline_ms(self) -> float:
        return statistics.median(self.calibration_ms)

    @property
    def ratio(self) -> float:
        """The machine-independent figure: the median over seeds of each seed's CPU divided
        by the mean of the calibration samples just before and just after it, so load that
        comes and goes during the bench weighs on both sides of each ratio alike."""
        cal = self.calibration_ms  # Invariant: one more sample than seeds, around each seed.
        ratios = [sample.total_ms / ((cal[i] + cal[i + 1]) / 2) if cal[i] + cal[i + 1] > 0
                  else float("inf") for i, sample in enumerate(self.samples)]
        return statistics.median(ratios)

    @property
    def events_per_s(self) -> float:
        sim_s = sum(self.column("sim_ms")) / 1000
        return sum(self.column("events")) / sim_s if sim_s > 0 else float("inf")

    def share(self, name: str) -> float:
        total = sum(self.column("total_ms"))
        return sum(self.column(name)) / total if total > 0 else 0.0

    @property
    def projected_s(self) -> float:
        """1,000 seeds spread evenly over every core, worker start-up not counted."""
        return statistics.fmean(self.column("total_ms")) * _PROJECTED_SEEDS / 1000 / self.cores


@contextlib.contextmanager
def _timed_sealing() -> Iterator[list[float]]:
    """Wrap `seal_block` wherever paxlab bound it, adding its CPU seconds to the list."""
    original = chain.seal_block
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> chain.Block:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    holders = [module for name, module in list(sys.modules.items())
               if name.startswith("paxlab") and getattr(module, "seal_block", None) is original]
    for module in holders:
        module.seal_block = timed  # type: ignore[attr-defined]
    try:
        yield spent
    finally:
        for module in holders:
            module.seal_block = original  # type: ignore[attr-defined]


def calibrate(nonces: int = CALIBRATION_NONCES) -> float:
    """CPU ms of the straightforward recipe (README, "Block format") over `nonces` nonces
    of one fixed block: the baseline, independent of paxlab's own code."""
    txn = {"client": 0, "seq": 1, "op": "put", "key": "'k0'", "value": "1"}
    doc: dict[str, Any] = {"height": 7, "prev": "0" * 64, "txns": [txn], "nonce": ""}
    started = time.process_time()
    for nonce in range(nonces):
        doc["nonce"] = str(nonce)
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return (time.process_time() - started) * 1000


def seal_attempt_us(blocks: int = 0) -> float:
    """CPU microseconds per nonce that `seal_block` tries, over fixed blocks sealed at the
    default difficulty: enough attempts per block that its fixed cost hardly counts."""
    blocks = blocks or _SEAL_SAMPLE_BLOCKS
    txns = (chain.Txn(client=1, seq=1, op="put", key="'k0'", value="1000001"),)
    started = time.process_time()
    sealed = [chain.seal_block(height, chain.GENESIS_PREV, txns, DEFAULT_DIFFICULTY)
              for height in range(blocks)]
    spent_us = (time.process_time() - started) * 1e6
    return spent_us / sum(int(block.nonce) + 1 for block in sealed)


def measure_seed(config: Config, seed: int) -> SeedSample:
    """Run one seed, checks included, and time its parts in CPU ms."""
    with _timed_sealing() as sealing:
        started = time.process_time()
        run = simulate(config, seed)
        simulated = time.process_time()
    checks = verdicts(run)
    checked = time.process_time()
    chains = list(run.records.chains.values())
    longest = max(chains, key=len, default=[])
    return SeedSample(
        seed=seed, sim_ms=(simulated - started) * 1000, check_ms=(checked - simulated) * 1000,
        seal_ms=sealing[0] * 1000, events=run.counts["events"], blocks=len(longest),
        hash_attempts=sum(int(block["nonce"]) + 1 for block in longest),
        passed=passed(checks),
    )


def config_line(config: Config) -> str:
    """Servers, clients, ops, difficulty and faults in one line for the bench's header."""
    workload = config.workload
    ops = planned_op_count(workload, config.clients.count)
    ops_text = (f"{ops} ops" if ops is not None
                else f"ops for {workload.duration_ms} ms of virtual time")
    faults = "; ".join(fault.describe() for fault in config.faults) or "none"
    return (f"{config.cluster.servers} servers, {config.clients.count} clients, {ops_text}, "
            f"difficulty {config.cluster.difficulty}, faults: {faults}")


def _profile(config: Config, seeds: Sequence[int], out: TextIO) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for seed in seeds:
        verdicts(simulate(config, seed))
    profiler.disable()
    out.write(f"\ncProfile of simulate + verdicts over {len(seeds)} seeds, "
              f"top {_PROFILE_TOP} by own time (a second pass: the timings above are "
              f"unprofiled)\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(_PROFILE_TOP)


def _row(label: str, values: list[float]) -> list[str]:
    values = sorted(values)
    return [label, *(f"{v:.1f}" for v in (percentile(values, 50), percentile(values, 95),
                                          max(values), statistics.fmean(values)))]


def _report(bench: SimBench, difficulty: int, out: TextIO) -> None:
    rows = [
        _row("total", bench.column("total_ms")),
        _row("  simulate", bench.column("sim_ms")),
        _row("    proof of work", bench.column("seal_ms")),
        _row("  checks", bench.column("check_ms")),
        _row("baseline", list(bench.calibration_ms)),
    ]
    out.write(f"\nCPU ms per seed over {len(bench.samples)} seeds (time.process_time)\n")
    out.write(tabulate(rows, headers=["", "p50", "p95", "max", "mean"],
                       tablefmt="simple_outline", disable_numparse=True))
    out.write("\n")
    blocks = sum(bench.column("blocks"))
    attempts = sum(bench.column("hash_attempts"))
    per_seed = statistics.fmean(bench.column("blocks"))
    at_default_ms = bench.attempt_us * 2**DEFAULT_DIFFICULTY * per_seed / 1000
    passing = sum(1 for sample in bench.samples if sample.passed)
    out.write(
        f"events simulated: {statistics.fmean(bench.column('events')):.0f} per seed, "
        f"{bench.events_per_s:,.0f} events/s (CPU in simulate)\n"
        f"proof of work: difficulty {difficulty}, {attempts / blocks if blocks else 0:.0f} "
        f"hash attempts per committed block, {per_seed:.0f} blocks per seed; sealing costs "
        f"{bench.attempt_us:.2f} us per attempt ({_SEAL_SAMPLE_BLOCKS} fixed blocks sealed at "
        f"difficulty {DEFAULT_DIFFICULTY}, the default), so at difficulty {DEFAULT_DIFFICULTY} "
        f"sealing would take about {at_default_ms:.0f} ms per seed\n"
        f"CPU share: proof of work {bench.share('seal_ms'):.0%}, checks "
        f"{bench.share('check_ms'):.0%}, rest of simulate "
        f"{1 - bench.share('seal_ms') - bench.share('check_ms'):.0%}\n"
        f"baseline: {CALIBRATION_NONCES:,} nonces of the plain recipe (json.dumps + sha256 "
        f"per nonce), timed before and after every seed; median {bench.baseline_ms:.2f} ms\n"
        f"vs baseline: {bench.ratio:.2f}x (median over seeds of seed CPU / the baselines "
        f"just before and after it; compare this across machines and commits, not the ms)\n"
        f"projected {_PROJECTED_SEEDS:,} seeds: {bench.projected_s:.1f} s on "
        f"{bench.cores} core{'s' if bench.cores != 1 else ''} (mean CPU x "
        f"{_PROJECTED_SEEDS:,} / cores; worker start-up not counted)\n"
        f"checks: {passing}/{len(bench.samples)} seeds pass (informational: this is a "
        f"benchmark, not a test)\n"
    )


def _cores() -> int:
    affinity: Callable[[int], set[int]] | None = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def run_sim_bench(config: Config, seeds: Sequence[int], out: TextIO, source: str = "",
                  profile: bool = False) -> SimBench:
    """Time every seed (between two calibration samples), print the report, and
    with `profile` print cProfile's top entries from a second, profiled pass."""
    out.write(f"paxlab bench-sim: {source or config.name}, seeds {seeds[0]}-{seeds[-1]}\n"
              f"config: {config_line(config)}\n")
    simulate(config, seeds[0])  # warm up imports and caches outside the timed seeds
    samples: list[SeedSample] = []
    calibration: list[float] = []
    for seed in seeds:
        calibration.append(calibrate())
        sample = measure_seed(config, seed)
        samples.append(sample)
        out.write(f"seed {seed}: {sample.total_ms:6.1f} ms CPU (simulate {sample.sim_ms:.1f}, "
                  f"proof of work {sample.seal_ms:.1f}, checks {sample.check_ms:.1f}), "
                  f"{sample.events} events, {'pass' if sample.passed else 'FAIL'}\n")
        out.flush()
    calibration.append(calibrate())
    bench = SimBench(samples=tuple(samples), calibration_ms=tuple(calibration), cores=_cores(),
                     attempt_us=seal_attempt_us())
    _report(bench, config.cluster.difficulty, out)
    if profile:
        _profile(config, seeds, out)
    return bench
