"""`paxlab bench [cluster]`, `bench-check`, `bench-sim` and `bench-report`: speed, each against
a baseline in the same run (for `bench cluster`, PySyncObj)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.config import ConfigError, load_config, refuse_sim_only

__all__ = ["HANDLERS", "add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """The bench commands, in the order `paxlab --help` lists them."""
    bench = commands.add_parser(
        "bench", help="measure throughput and latency against a baseline in the same run")
    bench.add_argument("config", type=Path, nargs="?", default=Path("configs/bench.yaml"),
                       help="YAML config (default: configs/bench.yaml), or the word `cluster` "
                       "for the TCP cluster against PySyncObj")
    bench.add_argument("--repeats", type=int, default=3,
                       help="runs of each variant, alternated (default: 3)")
    bench.add_argument("--results", type=Path, help="keep the run folders here")
    _add_cluster_options(bench)
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
    bench_report = commands.add_parser(
        "bench-report", help="time the HTML report of a 10,000-op run against its budgets")
    bench_report.add_argument("config", type=Path, nargs="?",
                              default=Path("configs/report_bench.yaml"),
                              help="YAML config (default: configs/report_bench.yaml)")
    bench_report.add_argument("--seed", type=int, default=1, help="seed (1)")
    bench_report.add_argument("--repeats", type=int, default=3,
                              help="repeats of each measurement; medians are printed (3)")
    bench_report.add_argument("--keep", type=Path,
                              help="write the results folder (and its report.html) here")
    bench_report.add_argument("--no-browser", action="store_true",
                              help="do not open the page in headless chromium")
    snaps = commands.add_parser(
        "bench-snapshots", help="a million ops through one server: its record file, memory "
        "and restart time with snapshots, against snapshots off in the same run")
    snaps.add_argument("--ops", type=int, default=1_000_000, help="ops with snapshots (1000000)")
    snaps.add_argument("--baseline-ops", type=int, default=200_000,
                       help="ops of the snapshots-off baseline, which grows with them (200000)")
    snaps.add_argument("--clients", type=int, default=64, help="closed-loop clients (64)")
    snaps.add_argument("--snapshot-every", type=int, default=1000, help="blocks (1000)")
    snaps.add_argument("--retain-blocks", type=int, default=256, help="blocks (256)")
    snaps.add_argument("--no-archive", action="store_true",
                       help="drop compacted blocks (cluster.chain_archive: false)")


def _add_cluster_options(bench: argparse.ArgumentParser) -> None:
    """`paxlab bench cluster`'s options; None when not given, so a YAML bench refuses them."""
    group = bench.add_argument_group(
        "paxlab bench cluster", "a local 3-server TCP cluster and PySyncObj under the same "
        "closed-loop load (PySyncObj: pip install -e '.[bench]')")
    group.add_argument("--seconds", type=float, help="measured window of each row (5)")
    group.add_argument("--clients", type=int, help="concurrent closed-loop writers (64)")
    group.add_argument("--warmup", type=float, help="seconds before each window (1)")
    group.add_argument("--loads", type=int, help="paxlab load processes sharing them (1)")
    group.add_argument("--only", help="variants, comma-separated: shipped,like,single,failover")
    group.add_argument("--no-pso", action="store_true", default=None,
                       help="paxlab only, no PySyncObj")
    group.add_argument("--keep", type=Path, help="keep cluster files and logs in this folder")
    group.add_argument("--profile", choices=("cpu", "cprofile", "sample"),
                       help="profile the servers, every thread, and print where time goes: "
                       "cpu (cProfile on each thread's CPU clock), cprofile (wall clock), "
                       "sample (stacks sampled each ms)")


_CLUSTER_OPTIONS = ("seconds", "clients", "warmup", "loads", "only", "no_pso", "keep",
                    "profile")


def _bench_cluster(args: argparse.Namespace) -> ExitCode:
    """Exit 0 whatever the numbers: a benchmark, not a test (a failed start is exit 1)."""
    from paxlab.bench.cluster import VARIANTS, BenchOptions, run_cluster_bench
    from paxlab.bench.cluster_procs import ChildError

    defaults = BenchOptions()
    only = tuple(v.strip() for v in args.only.split(",")) if args.only else VARIANTS
    unknown = [v for v in only if v not in VARIANTS]
    if unknown:
        return bad_input(f"--only: unknown variant {unknown[0]!r}; allowed: "
                         + ", ".join(VARIANTS))
    seconds = args.seconds if args.seconds is not None else defaults.seconds
    warmup = args.warmup if args.warmup is not None else defaults.warmup_s
    clients = args.clients if args.clients is not None else defaults.clients
    loads = args.loads if args.loads is not None else defaults.loads
    if seconds <= 0 or warmup < 0:
        return bad_input("--seconds must be positive and --warmup at least 0")
    if not 1 <= clients <= 1000 or not 1 <= loads <= clients:
        return bad_input("--clients must be 1..1000 (client ids) and --loads 1..clients")
    options = BenchOptions(seconds=seconds, clients=clients, warmup_s=warmup, loads=loads,
                           variants=tuple(v for v in VARIANTS if v in only),
                           pso=not args.no_pso, keep=args.keep, profile=args.profile)
    try:
        run_cluster_bench(options, sys.stdout)
    except ChildError as error:
        print(f"paxlab: bench cluster: {error}", file=sys.stderr)
        return ExitCode.CHECK_FAILED
    return ExitCode.OK


def _bench(args: argparse.Namespace) -> ExitCode:
    from paxlab.bench.lab import run_bench

    if args.config == Path("cluster") and not args.config.is_file():
        return _bench_cluster(args)
    given = [f"--{name.replace('_', '-')}" for name in _CLUSTER_OPTIONS
             if getattr(args, name) is not None]
    if given:
        return bad_input(f"{given[0]} is an option of `paxlab bench cluster` only")

    if args.repeats < 1:
        return bad_input("--repeats must be at least 1")
    try:
        config = load_config(args.config)
        refuse_sim_only(config, "lab")
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


def _bench_report(args: argparse.Namespace) -> ExitCode:
    """Exit 0 whatever the figures: a benchmark reports, it does not fail (it prints
    OVER BUDGET when a budget is exceeded)."""
    from paxlab.bench.report import run_report_bench

    if args.repeats < 1:
        return bad_input("--repeats must be at least 1")
    try:
        config = load_config(args.config)
    except ConfigError as error:
        return bad_input(error)
    run_report_bench(config, args.seed, sys.stdout, repeats=args.repeats, keep=args.keep,
                     browser=not args.no_browser, source=str(args.config))
    return ExitCode.OK


def _bench_snapshots(args: argparse.Namespace) -> ExitCode:
    """Exit 1 when the record file went over its stated bound: that bound is the claim."""
    from paxlab.bench.snapshots import run_snapshot_bench

    if min(args.ops, args.baseline_ops, args.clients, args.snapshot_every) < 1 \
            or args.retain_blocks < 0:
        return bad_input("--ops, --baseline-ops, --clients and --snapshot-every must be at "
                         "least 1, --retain-blocks at least 0")
    result = run_snapshot_bench(args.ops, args.baseline_ops, sys.stdout, clients=args.clients,
                                snapshot_every=args.snapshot_every,
                                retain_blocks=args.retain_blocks,
                                keep_archive=not args.no_archive)
    return ExitCode.OK if result.within_bound else ExitCode.CHECK_FAILED


HANDLERS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
    "bench": _bench, "bench-check": _bench_check, "bench-sim": _bench_sim,
    "bench-report": _bench_report, "bench-snapshots": _bench_snapshots,
}
"""Command name -> handler, for `cli.main`'s dispatch."""
