"""`paxlab sim`: one seed or a sweep in the deterministic simulator, and `--shrink`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.cli.pages import page_line
from paxlab.config import Config, ConfigError, load_config

__all__ = ["HANDLERS", "add_parser"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    """`paxlab sim CONFIG [--seed N | --seeds A-B] ...`."""
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


def _sim(args: argparse.Namespace) -> ExitCode:
    from paxlab.sim.mutants import MUTANTS
    from paxlab.sim.sweep import WHOLE, parse_seed_range, parse_shard, run_one, run_sweep

    if args.list_mutants:
        for mutant in MUTANTS.values():
            print(f"{mutant.name:<20} {mutant.description}")
        return ExitCode.OK
    if args.mutant is not None and args.mutant not in MUTANTS:
        return bad_input(f"unknown mutant {args.mutant!r}; choose from: {', '.join(MUTANTS)}")
    if args.config is None:
        return bad_input("sim needs a CONFIG (or --list-mutants)")
    try:
        config = load_config(args.config)
        seed_range = parse_seed_range(args.seeds) if args.seeds is not None else None
        shard = parse_shard(args.shard) if args.shard is not None else WHOLE
        if seed_range is None and (args.shard is not None or args.workers is not None):
            raise ValueError("--shard and --workers split a --seeds range; use them with --seeds")
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers {args.workers}: expected at least 1")
    except (ConfigError, ValueError) as error:
        return bad_input(error)
    if seed_range is not None and args.out is not None:
        return bad_input("--out writes one seed's results; use it with --seed")
    if args.shrink:
        return _sim_shrink(args, config, seed_range is not None)
    if seed_range is None:
        seed = config.seed if args.seed is None else args.seed
        ok = run_one(config, seed, sys.stdout, args.out, mutant=args.mutant,
                     swarm=bool(args.swarm), config_arg=str(args.config),
                     on_results=page_line)
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
        return bad_input("--shrink works on one seed and writes to --repro-dir: use it with "
                         "--seed N, without --seeds or --out")
    if args.shrink_budget < 1:
        return bad_input(f"--shrink-budget {args.shrink_budget}: expected at least 1")
    seed = config.seed if args.seed is None else args.seed
    ok = run_shrink(config, seed, sys.stdout, str(args.config), args.mutant, args.repro_dir,
                    args.shrink_budget, swarm=bool(args.swarm))
    return ExitCode.OK if ok else ExitCode.CHECK_FAILED


HANDLERS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {"sim": _sim}
"""Command name -> handler, for `cli.main`'s dispatch."""
