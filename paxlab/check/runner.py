"""Runs the seven checks, in their fixed order, on a run's records in memory or on disk."""

from __future__ import annotations

from pathlib import Path

from paxlab import results
from paxlab.check.chains import (
    chain_start,
    check_chains_identical,
    check_chains_valid,
    reference_server,
)
from paxlab.check.history import index_history
from paxlab.check.kv import check_kv_identical
from paxlab.check.linearizable import check_linearizable
from paxlab.check.reads import check_no_lost_writes, check_no_phantom_reads
from paxlab.check.txns import txn_index
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


def check_records(records: results.RunRecords, partial: bool = False) -> list[CheckResult]:
    """Every check on records already in memory; the simulator calls this directly.

    `partial`: the run was interrupted, timed out or never quiescent, so servers may have
    stopped before catching up. Their chains are then judged as prefixes of the longest
    and their KVs against their own chains (see chains_identical, kv_identical); a
    complete run (the default) keeps the strict rules: every chain and KV the same."""
    # Three checks read the txns of one chain (the reference: the longest from 0;
    # kv_identical replays it), and
    # four look up the history's events by request: index each once for all of them
    # (None: a history too odd to index, which each check then reads its own way).
    sid = reference_server(records.chains)
    txns = None
    if sid is not None:
        chain = records.chains[sid]
        txns = txn_index(chain, chain_start(chain))
    history, index = records.history, index_history(records.history)
    return [
        check_chains_valid(records.chains, records.difficulty),
        check_chains_identical(records.chains, partial),
        check_kv_identical(records.chains, records.kvs, txns, partial),
        check_writes_exactly_once(history, records.chains, txns, index, partial),
        check_no_lost_writes(history, records.chains, txns, index, partial),
        check_no_phantom_reads(history, index),
        check_linearizable(history, index=index),
    ]


def check_run(run_dir: Path, partial: bool | None = None) -> list[CheckResult]:
    """Every check on a run folder (or results/latest). A missing or malformed file raises
    results.ResultsError: bad input is not a failed check.

    `partial` None reads it from the folder's summary.json (`"partial": true`), so
    `paxlab check` judges a folder as the run did; without a summary the run counts as
    complete. The lab checks before it writes the summary, so it says which it was."""
    run_dir = results.resolve_run_dir(run_dir)
    summary = _summary(run_dir)
    if partial is None:
        partial = summary.get("partial") is True
    checks = check_records(results.read_records(run_dir), partial)
    return checks + _recorded_live(summary)


def _summary(run_dir: Path) -> dict:
    """summary.json, or {} when there is none (yet) or it cannot be read: the checks
    recompute everything else from the records."""
    try:
        return results.read_summary(run_dir)
    except results.ResultsError:
        return {}


LIVE_CHECKS = ("invariants",)
"""Checks judged while the run went on (the invariant monitor watches every message), so
a results folder cannot recompute them: `check_run` repeats their recorded verdicts."""


def _recorded_live(summary: dict) -> list[CheckResult]:
    recorded = summary.get("checks", [])
    if not isinstance(recorded, list):
        return []
    return [CheckResult(name=c["name"], verdict=c["verdict"],
                        details=f"(recorded during the run) {c.get('details', '')}")
            for c in recorded if isinstance(c, dict) and c.get("name") in LIVE_CHECKS]


def checks_passed(check_results: list[CheckResult]) -> bool:
    """True only if there are results and every verdict is pass: an unknown is not a pass,
    and neither is having checked nothing."""
    return bool(check_results) and all(r.verdict == "pass" for r in check_results)
