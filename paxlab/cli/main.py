"""The `paxlab` command: run a config in the lab, check or report a results folder."""

from __future__ import annotations

import argparse
import enum
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from paxlab import results
from paxlab.check import check_run, checks_passed
from paxlab.config import Config, ConfigError, load_config, with_seed
from paxlab.results.report import partial_banner, render_checks, render_report

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    OK = 0  # every check holds
    CHECK_FAILED = 1  # a check failed, or is unknown, or the run is partial
    BAD_INPUT = 2  # bad arguments, config or missing file
    INTERRUPTED = 130  # Ctrl-C: processes stopped, partial results written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paxlab",
        description="A Multi-Paxos blockchain key-value store you can run, break and verify.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a config in the lab and verify the results")
    run.add_argument("config", type=Path, help="YAML config, e.g. configs/basic.yaml")
    run.add_argument("--seed", type=int, help="override the config's seed")
    run.add_argument("--results", type=Path, default=Path("results"),
                     help="folder for run folders (default: results)")
    run.add_argument("--quiet", action="store_true", help="no live progress line")
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
    sim = commands.add_parser("sim", help="run a config in the deterministic simulator")
    sim.add_argument("config", type=Path, nargs="?",
                     help="YAML config, e.g. configs/nemesis_mix.yaml")
    seeds = sim.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, help="one seed (default: the config's seed)")
    seeds.add_argument("--seeds", help="a range of seeds, A-B, both included")
    sim.add_argument("--out", type=Path, help="write a results folder here (one seed only)")
    sim.add_argument("--mutant", help="run a planted bug (see --list-mutants)")
    sim.add_argument("--shrink", action="store_true",
                     help="with --seed: shrink a failing seed (drop faults, ops, run time) and "
                     "write a standalone YAML reproducer, then replay it once")
    sim.add_argument("--repro-dir", type=Path, default=Path("results/repro"),
                     help="where --shrink writes <name>-seed<N>[-<mutant>].yaml "
                     "(default: results/repro)")
    sim.add_argument("--shrink-budget", type=int, default=300,
                     help="most simulations --shrink may run (default: 300; it also stops "
                     "after 300 s)")
    sim.add_argument("--swarm", action=argparse.BooleanOptionalAction, default=None,
                     help="each seed draws its fault kinds and rates (default: on with "
                     "--seeds, off with --seed; --seed N --swarm replays seed N of a sweep)")
    sim.add_argument("--workers", type=int, default=None,
                     help="processes for --seeds (default: one per core; 1: in this process)")
    sim.add_argument("--shard", help="with --seeds, run only slice i of n, e.g. 2/4, to "
                     "spread a campaign over machines")
    sim.add_argument("--list-mutants", action="store_true",
                     help="list the planted bugs and exit")
    for name, text in (("check", "re-run every check on a results folder"),
                       ("report", "show a results folder's summary and verdicts")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("run_dir", type=Path, nargs="?", default=Path("results/latest"),
                         help="a run folder (default: results/latest)")
    return parser


def _run(args: argparse.Namespace) -> ExitCode:
    from paxlab.lab import run_lab  # the lab pulls in multiprocessing; only load it to run

    try:
        config = load_config(args.config)
        if args.seed is not None:
            config = with_seed(config, args.seed)
    except ConfigError as error:
        print(f"paxlab: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    outcome = run_lab(config, args.results, sys.stdout, live=not args.quiet)
    print()
    print(render_report(outcome.run_dir))
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if outcome.passed else ExitCode.CHECK_FAILED


def _bench(args: argparse.Namespace) -> ExitCode:
    from paxlab.bench.lab import run_bench

    if args.repeats < 1:
        print("paxlab: --repeats must be at least 1", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"paxlab: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    base, mine = run_bench(config, args.repeats, sys.stdout, args.results)
    return ExitCode.OK if base.passed and mine.passed else ExitCode.CHECK_FAILED


def _bench_check(args: argparse.Namespace) -> ExitCode:
    from paxlab.bench.check import run_check_bench

    if min(args.ops, args.keys, args.clients) < 1:
        print("paxlab: --ops, --keys and --clients must be at least 1", file=sys.stderr)
        return ExitCode.BAD_INPUT
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
        print(f"paxlab: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    run_sim_bench(config, range(first, last + 1), sys.stdout, source=str(args.config),
                  profile=args.profile)
    return ExitCode.OK


def _sim(args: argparse.Namespace) -> ExitCode:
    from paxlab.sim.mutants import MUTANTS
    from paxlab.sim.sweep import WHOLE, parse_seed_range, parse_shard, run_one, run_sweep

    if args.list_mutants:
        for mutant in MUTANTS.values():
            print(f"{mutant.name:<20} {mutant.description}")
        return ExitCode.OK
    if args.mutant is not None and args.mutant not in MUTANTS:
        print(f"paxlab: unknown mutant {args.mutant!r}; choose from: {', '.join(MUTANTS)}",
              file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.config is None:
        print("paxlab: sim needs a CONFIG (or --list-mutants)", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        config = load_config(args.config)
        seed_range = parse_seed_range(args.seeds) if args.seeds is not None else None
        shard = parse_shard(args.shard) if args.shard is not None else WHOLE
        if seed_range is None and (args.shard is not None or args.workers is not None):
            raise ValueError("--shard and --workers split a --seeds range; use them with --seeds")
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers {args.workers}: expected at least 1")
    except (ConfigError, ValueError) as error:
        print(f"paxlab: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if seed_range is not None and args.out is not None:
        print("paxlab: --out writes one seed's results; use it with --seed", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.shrink:
        return _sim_shrink(args, config, seed_range is not None)
    if seed_range is None:
        seed = config.seed if args.seed is None else args.seed
        ok = run_one(config, seed, sys.stdout, args.out, mutant=args.mutant,
                     swarm=bool(args.swarm), config_arg=str(args.config))
    else:
        ok = run_sweep(config, *seed_range, sys.stdout, str(args.config), mutant=args.mutant,
                       workers=args.workers or os.cpu_count() or 1, shard=shard,
                       swarm=args.swarm is not False).passed
    return ExitCode.OK if ok else ExitCode.CHECK_FAILED


def _sim_shrink(args: argparse.Namespace, config: Config, many_seeds: bool) -> ExitCode:
    """`paxlab sim CONFIG --seed N --shrink`: exit 1 when the seed fails (the reproducer
    is written), 0 when it passes and there is nothing to shrink."""
    from paxlab.sim.shrink.command import run_shrink

    if many_seeds or args.out is not None:
        print("paxlab: --shrink works on one seed and writes to --repro-dir: use it with "
              "--seed N, without --seeds or --out", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.shrink_budget < 1:
        print(f"paxlab: --shrink-budget {args.shrink_budget}: expected at least 1",
              file=sys.stderr)
        return ExitCode.BAD_INPUT
    seed = config.seed if args.seed is None else args.seed
    ok = run_shrink(config, seed, sys.stdout, str(args.config), args.mutant, args.repro_dir,
                    args.shrink_budget, swarm=bool(args.swarm))
    return ExitCode.OK if ok else ExitCode.CHECK_FAILED


def _check(args: argparse.Namespace) -> ExitCode:
    run_dir = results.resolve_run_dir(args.run_dir)
    checks = check_run(run_dir)  # judged as partial when summary.json says so
    banner = partial_banner(run_dir)  # then the exit code is 1, as for `paxlab report`
    print(render_checks(checks) if banner is None else f"{banner}\n\n{render_checks(checks)}")
    return ExitCode.OK if checks_passed(checks) and banner is None else ExitCode.CHECK_FAILED


def _report(args: argparse.Namespace) -> ExitCode:
    run_dir = results.resolve_run_dir(args.run_dir)
    print(render_report(run_dir))
    summary = results.read_summary(run_dir)
    verdicts = [c.get("verdict") for c in summary.get("checks", [])]
    passed = (bool(verdicts) and all(v == "pass" for v in verdicts)
              and not summary.get("partial") and not summary.get("errors"))
    return ExitCode.OK if passed else ExitCode.CHECK_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "bench": _bench, "bench-check": _bench_check,
                "bench-sim": _bench_sim, "sim": _sim,
                "check": _check, "report": _report}
    try:
        return int(handlers[args.command](args))
    except results.ResultsError as error:
        print(f"paxlab: {error}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print("\npaxlab: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
