"""`paxlab run`, `check` and `report`: run a config in the lab, judge or show a results folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paxlab import results
from paxlab.check import check_run, checks_passed
from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.config import ConfigError, load_config, with_seed
from paxlab.results.report import partial_banner, render_checks, render_report

__all__ = ["HANDLERS", "add_folder_parsers", "add_run_parser"]


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    """`paxlab run CONFIG [--seed N] [--results DIR] [--quiet]`."""
    run = commands.add_parser("run", help="run a config in the lab and verify the results")
    run.add_argument("config", type=Path, help="YAML config, e.g. configs/basic.yaml")
    run.add_argument("--seed", type=int, help="override the config's seed")
    run.add_argument("--results", type=Path, default=Path("results"),
                     help="folder for run folders (default: results)")
    run.add_argument("--quiet", action="store_true", help="no live progress line")


def add_folder_parsers(commands: argparse._SubParsersAction) -> None:
    """`paxlab check [RUN_DIR]` and `paxlab report [RUN_DIR]`."""
    for name, text in (("check", "re-run every check on a results folder"),
                       ("report", "show a results folder's summary and verdicts")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("run_dir", type=Path, nargs="?", default=Path("results/latest"),
                         help="a run folder (default: results/latest)")


def _run(args: argparse.Namespace) -> ExitCode:
    from paxlab.lab import run_lab  # the lab pulls in multiprocessing; only load it to run

    try:
        config = load_config(args.config)
        if args.seed is not None:
            config = with_seed(config, args.seed)
    except ConfigError as error:
        return bad_input(error)
    outcome = run_lab(config, args.results, sys.stdout, live=not args.quiet)
    print()
    print(render_report(outcome.run_dir))
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if outcome.passed else ExitCode.CHECK_FAILED


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


HANDLERS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
    "run": _run, "check": _check, "report": _report,
}
"""Command name -> handler, for `cli.main`'s dispatch."""
