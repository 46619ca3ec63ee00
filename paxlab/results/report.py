"""Renders a run's summary and check verdicts as text tables, readable in seconds.

The report reads summary.json (through paxlab.results), so it shows what the run
recorded; `paxlab check` recomputes verdicts from the records when they are in doubt.
A partial run's banner also reads the chains' heights, to say plainly which servers had
not caught up when the run stopped. The verdict line comes last, where the eye lands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from paxlab import results
from paxlab.results.verdict import CheckResult

__all__ = ["overall_line", "partial_banner", "render_checks", "render_report"]

_TABLEFMT = "simple_outline"
_DETAILS_WIDTH = 72
_MISSING = "-"


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str], **options: Any) -> str:
    return tabulate(rows, headers=list(headers), tablefmt=_TABLEFMT, **options)


def _get(mapping: Any, *path: str) -> Any:
    """summary[path...], or "-" when a partial run never wrote it: a report never crashes
    on a missing field, it shows the gap."""
    for key in path:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return _MISSING
        mapping = mapping[key]
    return mapping


def _number(value: Any, fmt: str, unit: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _MISSING
    return f"{value:{fmt}}{unit}"


def overall_line(check_results: Sequence[CheckResult]) -> str:
    """One line that answers "did it hold?". Unknown counts as failed: it was not shown to
    hold. No checks at all is said outright rather than passed."""
    if not check_results:
        return "NO CHECKS RUN: nothing was verified"
    bad = [r for r in check_results if r.verdict != "pass"]
    if not bad:
        return "ALL CHECKS PASS"
    names = [r.name if r.verdict == "fail" else f"{r.name} ({r.verdict})" for r in bad]
    return f"CHECKS FAILED: {', '.join(names)}"


def render_checks(check_results: list[CheckResult]) -> str:
    """The checks table (check, verdict, details) and the overall line."""
    if not check_results:
        return overall_line(check_results)
    rows = [(r.name, r.verdict.upper(), r.details) for r in check_results]
    table = _table(rows, ("check", "verdict", "details"), maxcolwidths=[None, None, _DETAILS_WIDTH])
    return f"{table}\n{overall_line(check_results)}"


def _run_table(summary: Mapping[str, Any]) -> str:
    partial = _get(summary, "partial")
    row = [
        _get(summary, "config"),
        _get(summary, "seed"),
        _get(summary, "servers"),
        _get(summary, "clients"),
        _get(summary, "difficulty"),
        _number(_get(summary, "duration_s"), ".1f", " s"),
        _get(summary, "leader_changes"),
        "YES" if partial is True else "no" if partial is False else _MISSING,
    ]
    headers = ("config", "seed", "servers", "clients", "difficulty", "duration", "leader changes",
               "partial")  # fmt: skip
    return _table([row], headers)


def _ops_table(summary: Mapping[str, Any]) -> str:
    rows = []
    totals = [0, 0, 0]
    for f in ("put", "get"):
        counts = [_get(summary, "ops", f, outcome) for outcome in ("ok", "fail", "info")]
        rows.append([f, *counts])
        totals = [t + (c if isinstance(c, int) else 0) for t, c in zip(totals, counts, strict=True)]
    rows.append(["total", *totals])
    return _table(rows, ("op", "ok", "fail", "info"))


def _performance_table(summary: Mapping[str, Any]) -> str:
    values = [_get(summary, "throughput_ops_s")]
    values += [_get(summary, "latency_ms", p) for p in ("p50", "p95", "p99", "max")]
    row = [_number(values[0], ".1f"), *(_number(v, ".2f") for v in values[1:])]
    headers = ("throughput ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    return _table([row], headers, disable_numparse=True, colalign=("right",) * len(headers))


def _faults_table(faults: Sequence[Any]) -> str:
    rows = [
        (_number(_get(f, "time_ms"), ",d"), _get(f, "action"), _get(f, "detail")) for f in faults
    ]
    return _table(rows, ("time ms", "action", "detail"), maxcolwidths=[None, None, _DETAILS_WIDTH])


def _summary_checks(summary: Mapping[str, Any]) -> list[CheckResult]:
    entries = summary.get("checks")
    return [
        CheckResult(str(_get(c, "name")), str(_get(c, "verdict")), str(_get(c, "details")))
        for c in (entries if isinstance(entries, list) else [])
    ]


def partial_banner(run_dir: Path) -> str | None:
    """What a reader must know first about a partial run: it was cut short, and which
    servers had not caught up (their chains are judged as prefixes of the longest, see
    check.chains). None for a complete run, or a folder without a readable summary."""
    try:
        partial = results.read_summary(run_dir).get("partial")
    except results.ResultsError:
        return None
    if partial is not True:
        return None
    banner = ("PARTIAL RUN: interrupted, timed out or never quiescent; the numbers cover "
              "what was recorded")
    caught_up = _caught_up(run_dir)
    return f"{banner}\n{caught_up}" if caught_up else banner


def _caught_up(run_dir: Path) -> str | None:
    """"Not caught up when the run stopped: servers 0, 1 (224 of 226 blocks)", or that
    all had; None without readable chains (the checks report why)."""
    try:
        lengths = {sid: len(chain) for sid, chain in results.read_chains(run_dir).items()}
    except results.ResultsError:
        return None
    if not lengths:
        return None
    longest = max(lengths.values())
    by_length: dict[int, list[int]] = {}
    for sid in sorted(lengths):
        by_length.setdefault(lengths[sid], []).append(sid)
    if len(by_length) == 1:
        return f"Every server had caught up: {len(lengths)} at {longest} blocks"
    behind = "; ".join(
        f"{'server' if len(sids) == 1 else 'servers'} {', '.join(map(str, sids))} "
        f"({length} of {longest} blocks)"
        for length, sids in sorted(by_length.items()) if length < longest
    )
    return f"Not caught up when the run stopped: {behind}"


def render_report(run_dir: Path) -> str:
    """The whole report for a run folder (or results/latest): run, operations, performance,
    faults when there were any, then the checks and the overall verdict line."""
    run_dir = results.resolve_run_dir(run_dir)
    summary = results.read_summary(run_dir)
    title = f"Run {run_dir.name} (started {_get(summary, 'started_at')})"
    sections = [f"{title}\n{_run_table(summary)}"]
    banner = partial_banner(run_dir)
    if banner:
        sections.append(banner)
    errors = summary.get("errors")
    if isinstance(errors, list) and errors:
        sections.append("ERRORS (the run fails whatever the checks say)\n"
                        + "\n".join(f"- {e}" for e in errors))
    if summary.get("fsync") == "never":
        sections.append("fsync: never. A benchmark setting: crashed servers may forget what "
                        "they promised, so this run proves nothing about durability")
    sections.append(f"Operations\n{_ops_table(summary)}")
    sections.append(f"Performance\n{_performance_table(summary)}")
    faults = summary.get("faults")
    if isinstance(faults, list) and faults:
        sections.append(f"Faults ({len(faults)})\n{_faults_table(faults)}")
    sections.append(f"Checks\n{render_checks(_summary_checks(summary))}")
    return "\n\n".join(sections) + "\n"
