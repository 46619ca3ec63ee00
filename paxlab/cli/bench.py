"""`paxlab bench`, `bench-check` and `bench-sim`: speed, each against a baseline in the same run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.config import ConfigError, load_config

__all__ = ["HANDLERS", "add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """The three bench commands, in the order `paxlab --help` lists them."""
    bench = commands.add_parser(
        "bench", help="measure throughput and latency against a baseline in the same run")
    bench.add_argument("config", type=Path, nargs="?", default=Path("configs/bench.yaml"),
                       help="YAML config (default: configs/bench.yaml)")
    bench.add_argument("--repeats", type=int, default=3,
                       help="runs of each variant, alternated (default: 3)")
    bench.add_argument("--results", type=Path, help="keep the run folders here")
    bench_check = commands.add_parser(
        "bench-check", help="time the linearizability checker on a generated history")
    bench_check.add_argument("--ops", type=int, default=10_000, help="operations (10000)")
    bench_check.add_argument("--keys", type=int, default=10, help="keys (10)")
    bench_check.add_argument("--clients", type=int, default=8, help="clients (8)")
    bench_check.add_argument("--seed", type=int, default=1, help="seed (1)")
    bench_sim = commands.add_parser(
        "bench-sim", help="CPU per simulated seed, checks included, against a calibration")
    bench_sim.add_argument("config", type=Path, nargs="?",
                           default=Path("configs/sim_bench.yaml"),
                           help="YAML config (default: configs/sim_bench.yaml)")
    bench_sim.add_argument("--seeds", default="1-50", help="seeds A-B, both included (1-50)")
    bench_sim.add_argument("--profile", action="store_true",
                           help="also print cProfile's top 15 entries (a second pass)")


def _bench(args: argparse.Namespace) -> ExitCode:
    from paxlab.bench.lab import run_bench

    if args.repeats < 1:
        return bad_input("--repeats must be at least 1")
    try:
        config = load_config(args.config)
    except ConfigError as error:
        return bad_input(error)
    base, mine = run_bench(config, args.repeats, sys.stdout, args.results)
    return ExitCode.OK if base.passed and mine.passed else ExitCode.CHECK_FAILED


def _bench_check(args: argparse.Namespace) -> ExitCode:
    from paxlab.bench.check import run_check_bench

    if min(args.ops, args.keys, args.clients) < 1:
        return bad_input("--ops, --keys and --clients must be at least 1")
    run_check_bench(ops=args.ops, keys=args.keys, clients=args.clients, seed=args.seed,
                    out=sys.stdout)
    return ExitCode.OK


def _bench_sim(args: argparse.Namespace) -> ExitCode:
    """Exit 0 whatever the seeds' checks say: a benchmark, not a test."""
    from paxlab.bench.sim import run_sim_bench
    from paxlab.sim.sweep import parse_seed_range

    try:
        config = load_config(args.config)
        first, last = parse_seed_range(args.seeds)
    except (ConfigError, ValueError) as error:
        return bad_input(error)
    run_sim_bench(config, range(first, last + 1), sys.stdout, source=str(args.config),
                  profile=args.profile)
    return ExitCode.OK


HANDLERS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
    "bench": _bench, "bench-check": _bench_check, "bench-sim": _bench_sim,
}
"""Command name -> handler, for `cli.main`'s dispatch."""
