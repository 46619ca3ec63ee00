"""`paxlab run`, `check` and `report`: run a config in the lab, judge or show a results folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paxlab import results
from paxlab.check import check_run, checks_passed
from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.cli.pages import page_line
from paxlab.config import ConfigError, load_config, refuse_sim_only, with_seed
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
    """`paxlab check [RUN_DIR]` and `paxlab report [RUN_DIR] [--html [--out FILE]] [--png]`."""
    for name, text in (("check", "re-run every check on a results folder"),
                       ("report", "show a results folder's summary and verdicts")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("run_dir", type=Path, nargs="?", default=Path("results/latest"),
                         help="a run folder (default: results/latest)")
        if name == "report":
            sub.add_argument("--html", action="store_true",
                             help="write one self-contained page, RUN_DIR/report.html")
            sub.add_argument("--out", type=Path, help="the page's path (with --html)")
            sub.add_argument("--png", action="store_true",
                             help="write PNG plots beside the page (needs matplotlib: "
                                  "pip install 'paxlab[plots]')")
            sub.add_argument("--screenshot", type=Path, metavar="PNG",
                             help="write the page and a picture of it, taken by headless "
                                  "Chromium (apt-get install chromium)")
            sub.add_argument("--view", choices=("failure", "messages", "chains"),
                             help="with --screenshot: the panel the picture shows first")


def _run(args: argparse.Namespace) -> ExitCode:
    from paxlab.lab import run_lab  # the lab pulls in multiprocessing; only load it to run

    try:
        config = load_config(args.config)
        if args.seed is not None:
            config = with_seed(config, args.seed)
        refuse_sim_only(config, "lab")
    except ConfigError as error:
        return bad_input(error)
    outcome = run_lab(config, args.results, sys.stdout, live=not args.quiet)
    print()
    print(render_report(outcome.run_dir))
    print(page_line(outcome.run_dir))
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
    if args.out is not None and not (args.html or args.screenshot):
        return bad_input("--out names the page: use it with --html")
    if args.view is not None and args.screenshot is None:
        return bad_input("--view picks the panel of a --screenshot: use it with --screenshot")
    if args.html or args.png or args.screenshot:
        return _report_files(args)
    run_dir = results.resolve_run_dir(args.run_dir)
    print(render_report(run_dir))
    summary = results.read_summary(run_dir)
    verdicts = [c.get("verdict") for c in summary.get("checks", [])]
    passed = (bool(verdicts) and all(v == "pass" for v in verdicts)
              and not summary.get("partial") and not summary.get("errors"))
    return ExitCode.OK if passed else ExitCode.CHECK_FAILED


def _report_files(args: argparse.Namespace) -> ExitCode:
    """--html, --png and --screenshot: build the model once, write the page, the plots
    and the picture asked for, print each path. A damaged or partial folder still gets its
    page; it says what it could not read. Without matplotlib, --png says how to get it and
    the page is written all the same."""
    from paxlab.report import build_model, write_report  # the report only when asked for
    from paxlab.report.png import PlotsUnavailable, write_pngs
    from paxlab.report.screenshot import ScreenshotError, screenshot

    run_dir = _report_dir(args.run_dir)
    model = build_model(run_dir)
    written: list[Path] = []
    if args.html or args.screenshot:
        written.append(write_report(run_dir, args.out, model=model))
    code = ExitCode.OK if model["verdict"]["passed"] else ExitCode.CHECK_FAILED
    if args.screenshot:
        try:
            written.append(screenshot(written[0], args.screenshot, view=args.view))
        except ScreenshotError as error:
            code = bad_input(error)
    if args.png:
        folder = written[0].parent if written else run_dir
        try:
            written += write_pngs(model, folder)
        except PlotsUnavailable as error:
            code = bad_input(error)
    for path in written:
        print(path)
    return code


def _report_dir(path: Path) -> Path:
    """The run folder `path` names (as for the text report), or, for a folder that has no
    history or summary yet (a run stopped early), the folder itself if it holds any part
    of a run: the page says what is missing."""
    try:
        return results.resolve_run_dir(path)
    except results.ResultsError:
        parts = ("config.yaml", "history-parts", "chains", "messages.jsonl", "kv")
        if Path(path).is_dir() and any((Path(path) / part).exists() for part in parts):
            return Path(path).resolve()
        raise


HANDLERS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
    "run": _run, "check": _check, "report": _report,
}
"""Command name -> handler, for `cli.main`'s dispatch."""
