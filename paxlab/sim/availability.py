"""How available a run was: leader changes and the longest stretch with no answer.

Safety checks say nothing about a cluster that keeps electing; these two numbers do.
`leader_changes` is the network's count (network/watch.py: each new sender of the
highest-ballot Heartbeat or Accept). `longest_gap_ms` is the longest time during the
workload with no op completing `ok`, from the start to the first ok, between two, and from
the last to the workload's end: what a user sees as an outage. `compare_prevote` runs the
same config and seeds with `cluster.prevote` off and on, for docs/protocol.md "Pre-vote":

    python -m paxlab.sim.availability configs/rejoin.yaml --seeds 1-20
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from paxlab.config import load_config
from paxlab.config.types import Config
from paxlab.sim.run import SimRun, passed, simulate, verdicts
from paxlab.sim.sweep import parse_seed_range

__all__ = ["Availability", "availability", "compare_prevote", "longest_gap_ms", "main"]

NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Availability:
    """One run's liveness numbers, and whether every check (safety and liveness) held."""

    seed: int
    leader_changes: int
    longest_gap_ms: float
    passed: bool


def longest_gap_ms(history: Iterable[dict[str, Any]], workload_ms: float) -> float:
    """The longest time within [0, workload_ms] with no `ok` completion (history times
    are ns). A run with no ok at all was unavailable the whole workload."""
    times = sorted(e["time"] / NS_PER_MS for e in history
                   if e["type"] == "ok" and e["time"] / NS_PER_MS <= workload_ms)
    marks = [0.0, *times, float(workload_ms)]
    return max(b - a for a, b in itertools.pairwise(marks))


def availability(run: SimRun) -> Availability:
    return Availability(seed=run.seed, leader_changes=run.leader_changes,
                        longest_gap_ms=longest_gap_ms(run.records.history, run.workload_ms),
                        passed=passed(verdicts(run)))


def with_prevote(config: Config, on: bool) -> Config:
    return replace(config, cluster=replace(config.cluster, prevote=on))


def compare_prevote(config: Config, seeds: Sequence[int]) -> dict[bool, list[Availability]]:
    """The same seeds with `cluster.prevote` false, then true."""
    return {on: [availability(simulate(with_prevote(config, on), seed)) for seed in seeds]
            for on in (False, True)}


def summary_lines(name: str, results: dict[bool, list[Availability]]) -> list[str]:
    lines = []
    for on, runs in results.items():
        changes = sum(r.leader_changes for r in runs)
        gaps = [r.longest_gap_ms for r in runs]
        lines.append(
            f"{name} prevote={'on ' if on else 'off'} seeds={len(runs)} "
            f"leader_changes={changes} (mean {changes / len(runs):.2f}) "
            f"longest_gap_ms mean={sum(gaps) / len(gaps):.0f} max={max(gaps):.0f} "
            f"passed={sum(r.passed for r in runs)}/{len(runs)}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paxlab.sim.availability",
                                     description="Leader changes and outages, "
                                     "cluster.prevote off vs on, same seeds.")
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--seeds", default="1-20", help="A-B, both included (1-20)")
    args = parser.parse_args(argv)
    first, last = parse_seed_range(args.seeds)
    ok = True
    for path in args.configs:
        config = load_config(path)
        results = compare_prevote(config, range(first, last + 1))
        for line in summary_lines(config.name, results):
            print(line, flush=True)
        ok = ok and all(r.passed for runs in results.values() for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
