"""Runs the seven checks, in their fixed order, on a run's records in memory or on disk."""

from __future__ import annotations

from pathlib import Path

from paxlab import results
from paxlab.check.chains import check_chains_identical, check_chains_valid
from paxlab.check.kv import check_kv_identical
from paxlab.check.linearizable import check_linearizable
from paxlab.check.reads import check_no_lost_writes, check_no_phantom_reads
from paxlab.check.verdict import CheckResult
from paxlab.check.writes import check_writes_exactly_once

__all__ = ["CHECK_NAMES", "check_records", "check_run", "checks_passed"]

CHECK_NAMES = (
    "chains_valid",
    "chains_identical",
    "kv_identical",
    "writes_exactly_once",
    "no_lost_writes",
    "no_phantom_reads",
    "linearizable",
)
"""The checks in the order they run and are reported: from the chain's own soundness up to
what the clients were promised, so the first failure usually explains the later ones."""


def check_records(records: results.RunRecords) -> list[CheckResult]:
    """Every check on records already in memory; the simulator calls this directly."""
    return [
        check_chains_valid(records.chains, records.difficulty),
        check_chains_identical(records.chains),
        check_kv_identical(records.chains, records.kvs),
        check_writes_exactly_once(records.history, records.chains),
        check_no_lost_writes(records.history, records.chains),
        check_no_phantom_reads(records.history),
        check_linearizable(records.history),
    ]


def check_run(run_dir: Path) -> list[CheckResult]:
    """Every check on a run folder (or results/latest). A missing or malformed file raises
    results.ResultsError: bad input is not a failed check."""
    run_dir = results.resolve_run_dir(run_dir)
    return check_records(results.read_records(run_dir))


def checks_passed(check_results: list[CheckResult]) -> bool:
    """True only if there are results and every verdict is pass: an unknown is not a pass,
    and neither is having checked nothing."""
    return bool(check_results) and all(r.verdict == "pass" for r in check_results)
