"""`paxlab bench`: throughput and latency of a config against a baseline, in one run.

The machines we run on are shared and noisy, so a number alone means little: the bench
alternates the config as written with a baseline variant (one op per block, one slot in
flight) and reports each one's median over the repetitions and their ratio.
"""

from __future__ import annotations

import dataclasses
import io
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tabulate import tabulate

from paxlab import results
from paxlab.config import Config

__all__ = ["Measurement", "baseline_of", "run_bench"]


@dataclasses.dataclass(frozen=True)
class Measurement:
    variant: str
    throughput_ops_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    passed: bool


def baseline_of(config: Config) -> Config:
    """The same run with one op per block and one slot in flight."""
    cluster = dataclasses.replace(config.cluster, batch_size_max=1, pipeline_window=1)
    return dataclasses.replace(config, cluster=cluster, name=f"{config.name}-baseline")


def _measure(variant: str, config: Config, root: Path,
             run: Callable[..., object]) -> Measurement:
    outcome = run(config, root, io.StringIO(), live=False)
    summary = results.read_summary(outcome.run_dir)  # type: ignore[attr-defined]
    latency = summary["latency_ms"]
    return Measurement(
        variant=variant,
        throughput_ops_s=summary["throughput_ops_s"],
        p50_ms=latency["p50"],
        p95_ms=latency["p95"],
        p99_ms=latency["p99"],
        passed=outcome.passed,  # type: ignore[attr-defined]
    )


def _median(samples: list[Measurement], variant: str) -> Measurement:
    def mid(field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples)

    return Measurement(
        variant=variant,
        throughput_ops_s=mid("throughput_ops_s"),
        p50_ms=mid("p50_ms"),
        p95_ms=mid("p95_ms"),
        p99_ms=mid("p99_ms"),
        passed=all(s.passed for s in samples),
    )


def run_bench(config: Config, repeats: int, out: TextIO,
              results_root: Path | None = None) -> tuple[Measurement, Measurement]:
    """Alternate baseline and config `repeats` times each; print and return the medians."""
    from paxlab.lab import run_lab

    variants = [("baseline", baseline_of(config)), ("config", config)]
    samples: dict[str, list[Measurement]] = {"baseline": [], "config": []}
    with tempfile.TemporaryDirectory(prefix="paxlab-bench-") as scratch:
        root = results_root if results_root is not None else Path(scratch)
        for round_number in range(repeats):
            for variant, variant_config in variants:
                measured = _measure(variant, variant_config, root, run_lab)
                samples[variant].append(measured)
                out.write(f"round {round_number + 1}/{repeats} {variant:<8} "
                          f"{measured.throughput_ops_s:8.1f} ops/s  "
                          f"p50 {measured.p50_ms:6.2f} ms  checks "
                          f"{'pass' if measured.passed else 'FAIL'}\n")
                out.flush()
    base = _median(samples["baseline"], "baseline (batch 1, window 1)")
    mine = _median(
        samples["config"],
        f"{config.name} (batch {config.cluster.batch_size_max}, "
        f"window {config.cluster.pipeline_window})",
    )
    rows = [
        [m.variant, f"{m.throughput_ops_s:.1f}", f"{m.p50_ms:.2f}", f"{m.p95_ms:.2f}",
         f"{m.p99_ms:.2f}", f"{m.throughput_ops_s / base.throughput_ops_s:.2f}x"
         if base.throughput_ops_s else "-", "pass" if m.passed else "FAIL"]
        for m in (base, mine)
    ]
    out.write(f"\nmedians of {repeats} runs each, {config.cluster.servers} servers, "
              f"{config.clients.count} clients, difficulty {config.cluster.difficulty}\n")
    out.write(tabulate(rows, headers=["variant", "ops/s", "p50 ms", "p95 ms", "p99 ms",
                                      "vs baseline", "checks"], tablefmt="simple_outline"))
    out.write("\n")
    return base, mine
