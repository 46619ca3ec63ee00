"""`paxlab bench-report`: the report page's budgets (issue 13) measured on one simulated run.

Issue 13: "a run of 10,000 ops and 100,000 messages writes its page in under 3 s, opens
interactive in under 2 s, and stays under 10 MB". This simulates configs/report_bench.yaml
(a run that size, with faults) into a results folder as `paxlab sim --out` does, messages
recorded, then times over several repeats: build_model, render_page, the whole
write_report (both and the atomic write), the page's size, and, with selenium and chromium,
the open in a headless browser (paxlab/bench/report_open.py says what that span holds).

The machines are shared and noisy, so the same repeats also time a floor: only reading the
folder's files a report reads most of (history.jsonl, messages.jsonl, chains/*.jsonl) with
json.loads per line and nothing else. No report can be faster than reading its input, so
"vs baseline" says how much the report costs over that floor on this machine at this load,
which compares across machines and commits where the seconds alone do not. Wall-clock
times (time.perf_counter): the budget is what a reader waits. Garbage collection is paused
in the floor as build_model pauses it, so the two are timed alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tabulate import tabulate

from paxlab.bench import report_open
from paxlab.bench.sim import config_line
from paxlab.config.types import Config
from paxlab.report import REPORT_FILE, build_model, write_report
from paxlab.report.model import gc_paused
from paxlab.report.page import render_page
from paxlab.sim.run import simulate, verdicts, write_results

__all__ = ["BUDGET_MB", "BUDGET_MESSAGES", "BUDGET_OPEN_S", "BUDGET_OPS", "BUDGET_WRITE_S",
           "ReportBench", "read_floor", "run_report_bench"]

BUDGET_WRITE_S = 3.0
BUDGET_OPEN_S = 2.0
BUDGET_MB = 10.0  # MB = 10**6 bytes
BUDGET_OPS = 10_000  # the size of run the budgets are for
BUDGET_MESSAGES = 100_000
_FLOOR_FILES = ("history.jsonl", "messages.jsonl")


@dataclass
class ReportBench:
    """Every repeat's figures (seconds; bytes for the page), and the run they are of."""

    run_dir: Path
    ops: int
    messages: int
    faults: int
    floor_s: list[float]
    build_s: list[float]
    render_s: list[float]
    write_s: list[float]
    page_bytes: list[int]
    open_s: list[float]
    open_note: str  # why open_s is empty, or what the open figures hold
    over: list[str]  # "write_report 3.41 s > 3 s", one per budget exceeded
    # CPU seconds of this process (time.process_time) by step: floor, build, render, write
    cpu_s: dict[str, list[float]] = field(
        default_factory=lambda: {"floor": [], "build": [], "render": [], "write": []})

    @property
    def big_enough(self) -> bool:
        return self.ops >= BUDGET_OPS and self.messages >= BUDGET_MESSAGES


def read_floor(run_dir: Path) -> int:
    """Read the files as JSON, one json.loads per line, keep nothing: the floor.
    Returns the number of lines read (so the work cannot be skipped)."""
    paths = [run_dir / name for name in _FLOOR_FILES]
    paths += sorted((run_dir / "chains").glob("*.jsonl"))
    lines = 0
    loads = json.loads
    with gc_paused():  # as build_model runs, so the floor is comparable
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                for line in path.read_bytes().split(b"\n"):
                    if line:
                        loads(line)
                        lines += 1
    return lines


def _timed(action: Callable[[Any], Any], argument: Any, cpu: list[float]) -> tuple[float, Any]:
    """Wall seconds of action(argument), and its value; its CPU seconds go to `cpu`."""
    started, started_cpu = time.perf_counter(), time.process_time()
    value = action(argument)
    cpu.append(time.process_time() - started_cpu)
    return time.perf_counter() - started, value


def _simulate(config: Config, seed: int, out_root: Path, out: TextIO) -> Path:
    """One seed into a results folder under out_root, messages recorded (as run_one does)."""
    out_root.mkdir(parents=True, exist_ok=True)
    messages_to = out_root / f".messages-{seed}-{os.getpid()}.jsonl.tmp"
    started = time.perf_counter()
    try:
        sim_run = simulate(config, seed, messages_to=messages_to)
        checks = [c for c in verdicts(sim_run) if c.name != "liveness"]
        run_dir = write_results(sim_run, config, out_root, checks=checks)
    finally:
        messages_to.unlink(missing_ok=True)
    out.write(f"simulated seed {seed} in {time.perf_counter() - started:.1f} s: "
              f"{sim_run.counts['routed']:,} messages routed, {len(sim_run.faults)} faults; "
              f"results: {run_dir}\n")
    return run_dir


def _measure(run_dir: Path, repeats: int, browser: bool, out: TextIO) -> ReportBench:
    model = build_model(run_dir)  # warm-up, untimed: imports and the page's assets
    render_page(model)
    bench = ReportBench(
        run_dir=run_dir, ops=len(model["ops"]["f"]), messages=model["messages"]["count"],
        faults=len(model["faults"]), floor_s=[], build_s=[], render_s=[], write_s=[],
        page_bytes=[], open_s=[], open_note="", over=[])
    del model
    page = run_dir / REPORT_FILE
    cpu = bench.cpu_s
    for _ in range(repeats):
        bench.floor_s.append(_timed(read_floor, run_dir, cpu["floor"])[0])
        seconds, model = _timed(build_model, run_dir, cpu["build"])
        bench.build_s.append(seconds)
        bench.render_s.append(_timed(render_page, model, cpu["render"])[0])
        del model
        bench.write_s.append(_timed(write_report, run_dir, cpu["write"])[0])
        bench.page_bytes.append(page.stat().st_size)
    _open(bench, page, repeats, browser, out)
    return bench


def _open(bench: ReportBench, page: Path, repeats: int, browser: bool, out: TextIO) -> None:
    missing = report_open.available() if browser else "--no-browser"
    if missing is not None:
        bench.open_note = f"not measured: {missing}"
        if browser:
            bench.open_note += f"; to measure it: {report_open.INSTALL_HINT}"
        return
    samples = []
    for _ in range(repeats):
        try:
            samples.append(report_open.open_once(page))
        except Exception as error:  # selenium raises many kinds when chromium cannot start
            bench.open_note = (f"not measured: chromium failed ({type(error).__name__}: "
                               f"{str(error)[:200]})")
            return
    bench.open_s = [s.ready_s for s in samples]
    errors = sorted({e for s in samples for e in s.errors})
    parse = [s.parse_ms for s in samples if s.parse_ms is not None]
    prepare = [s.prepare_ms for s in samples if s.prepare_ms is not None]
    bench.open_note = (
        "open: headless chromium, a fresh browser each time; from the navigation's start "
        "to paxlab.ready (file read, HTML and script parsed, model parsed, every panel drawn "
        "once; browser start-up and the first paint not included)")
    if parse and prepare:
        bench.open_note += (f"; of which JSON.parse of the model {statistics.median(parse):.0f} "
                            f"ms, preparing {statistics.median(prepare):.0f} ms (medians)")
    if errors:
        bench.open_note += f"; SCRIPT ERRORS: {errors[:3]}"


def _row(label: str, values: list[float], unit: str, budget: float | None,
         floor: float | None, bench: ReportBench, cpu: list[float] | None = None) -> list[str]:
    """One table row; a budget exceeded by the median is noted in bench.over."""
    budget_text = f"{budget:g} {unit}" if budget is not None else "-"
    if not values:
        return [label, "-", "-", "-", budget_text, "-", "not measured", "-"]
    mid = statistics.median(values)
    share, verdict = "-", "-"
    if budget is not None:
        share, verdict = f"{mid / budget:.0%}", "pass" if mid <= budget else "OVER"
        if mid > budget:
            bench.over.append(f"{label}: {mid:.2f} {unit} > {budget:g} {unit}")
    return [label, f"{mid:.2f} {unit}", f"{min(values):.2f}-{max(values):.2f}",
            f"{statistics.median(cpu):.2f} s" if cpu else "-", budget_text, share, verdict,
            f"{mid / floor:.2f}x" if floor else "-"]


def _report(bench: ReportBench, repeats: int, out: TextIO) -> None:
    floor, cpu = statistics.median(bench.floor_s), bench.cpu_s
    rows = [
        _row("baseline: read files as JSON", bench.floor_s, "s", None, floor, bench,
             cpu["floor"]),
        _row("build_model", bench.build_s, "s", None, floor, bench, cpu["build"]),
        _row("render_page", bench.render_s, "s", None, floor, bench, cpu["render"]),
        _row("write_report (whole)", bench.write_s, "s", BUDGET_WRITE_S, floor, bench,
             cpu["write"]),
        _row("page size", [b / 1e6 for b in bench.page_bytes], "MB", BUDGET_MB, None, bench),
        _row("open to paxlab.ready", bench.open_s, "s", BUDGET_OPEN_S, None, bench),
    ]
    out.write(f"\nmedians of {repeats} repeat{'s' if repeats != 1 else ''}: wall clock, its "
              f"range, and CPU of this process\n")
    out.write(tabulate(rows, headers=["metric", "measured", "range", "CPU", "budget",
                                      "of budget", "", "vs baseline"],
                       tablefmt="simple_outline", disable_numparse=True))
    out.write("\n")
    size = "" if bench.big_enough else (
        f" SMALLER than the budgets' run ({BUDGET_OPS:,} ops, {BUDGET_MESSAGES:,} messages): "
        "these figures do not test the budgets")
    out.write(f"run: {bench.ops:,} ops, {bench.messages:,} message rows (one per copy), "
              f"{bench.faults} fault bars.{size}\n")
    out.write(f"baseline: {', '.join(_FLOOR_FILES)} and chains/*.jsonl read with one "
              f"json.loads per line, nothing kept; vs baseline = median / its median\n")
    out.write(bench.open_note + "\n")
    out.write(f"machine: {_cores()} cores, load average {_load()} (1 min) at the end; wall "
              f"clock well above CPU means other processes had the cores\n")
    if bench.over:
        out.write("OVER BUDGET: " + "; ".join(bench.over) + "\n")
    elif bench.open_s:
        out.write("every budget met\n")
    else:
        out.write("the write and size budgets met; the open was not measured\n")


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def run_report_bench(config: Config, seed: int, out: TextIO, repeats: int = 3,
                     keep: Path | None = None, browser: bool = True,
                     source: str = "") -> ReportBench:
    """Simulate `seed` of `config` into a results folder (under `keep`, or a temporary
    folder removed at the end), measure the report on it, and print the table."""
    out.write(f"paxlab bench-report: {source or config.name}, seed {seed}, "
              f"{repeats} repeats; load average {_load()} (1 min) at the start\n"
              f"config: {config_line(config)}\n")
    out.flush()
    root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="paxlab-bench-report-"))
    try:
        run_dir = _simulate(config, seed, root, out)
        out.flush()
        bench = _measure(run_dir, repeats, browser, out)
        _report(bench, repeats, out)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return bench
