"""The verdict card (every check, op counts, speed) and the first problem worth a look.

Checks come from summary.json, as the run judged itself; a folder without them (a run
stopped before its summary) has them recomputed from whatever records could be read,
and says so. The first problem is the earliest moment a failed check points at: the
first op that cannot come next for linearizability (the failing key's window, which can
open with the run, when none is named), the first divergent height's commit for the
chains, a lost write's acknowledgement, an invariant violation's time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from paxlab import results
from paxlab.check import check_records
from paxlab.check.explain import explain_linearizability
from paxlab.report.read import RunFiles
from paxlab.results.report import overall_line
from paxlab.results.stats import summarize_history
from paxlab.results.verdict import CheckResult

__all__ = ["explain_failure", "first_problem", "read_checks", "verdict_card"]

_AT_MS = re.compile(r"\bat (\d+(?:\.\d+)?) ms\b")
_PANEL = {"linearizable": "failure", "chains_identical": "chains", "chains_valid": "chains",
          "kv_identical": "chains", "no_lost_writes": "ops", "writes_exactly_once": "ops",
          "no_phantom_reads": "ops", "liveness": "ops", "invariants": "messages"}  # fmt: skip


def read_checks(files: RunFiles, partial: bool) -> list[CheckResult]:
    """The checks summary.json recorded, or, without any, the checks recomputed from the
    readable records (noted in `unread`); [] when there is nothing to judge."""
    recorded = (files.summary or {}).get("checks")
    if isinstance(recorded, list) and recorded:
        return [CheckResult(str(c.get("name", "?")), str(c.get("verdict", "unknown")),
                            str(c.get("details", "")))
                for c in recorded if isinstance(c, dict)]  # fmt: skip
    if not files.history and not files.chains:
        return []
    chains = {sid: [b for b in blocks if b is not None] for sid, blocks in files.chains.items()}
    records = results.RunRecords(history=files.history, chains=chains,
                                 difficulty=files.difficulty or 0, kvs=files.kvs)
    try:
        checks = check_records(records, partial)
    except Exception as e:  # a check's own bug must not cost the whole report
        files.unread.append(f"checks: could not be recomputed ({type(e).__name__}: {e})")
        return []
    files.unread.append("summary.json: no checks recorded; recomputed from what was read")
    return checks


def _counts(summary: Mapping[str, Any], history: Sequence[dict]) -> dict[str, Any]:
    """ops, throughput and latency as summary.json has them, else from the history."""
    ops = summary.get("ops")
    fine = isinstance(ops, dict) and all(
        isinstance(ops.get(f), dict) and all(isinstance(ops[f].get(k), int)
                                             for k in ("ok", "fail", "info"))
        for f in ("put", "get"))  # fmt: skip
    if fine:
        latency = summary.get("latency_ms")
        throughput = summary.get("throughput_ops_s")
        return {"ops": {f: {k: ops[f][k] for k in ("ok", "fail", "info")} for f in ("put", "get")},
                "throughput_ops_s": float(throughput)
                if isinstance(throughput, (int, float)) else None,
                "latency_ms": {p: float(latency[p]) for p in ("p50", "p95", "p99", "max")}
                if isinstance(latency, dict) and all(isinstance(latency.get(p), (int, float))
                                                     for p in ("p50", "p95", "p99", "max"))
                else None}  # fmt: skip
    stats = summarize_history(history)
    return {"ops": stats["ops"], "throughput_ops_s": stats["throughput_ops_s"] if history else None,
            "latency_ms": stats["latency_ms"] if history else None}


def verdict_card(checks: Sequence[CheckResult], summary: Mapping[str, Any],
                 history: Sequence[dict], partial: bool) -> dict[str, Any]:
    """The model's "verdict", without first_problem (added once the timeline is known)."""
    errors = summary.get("errors")
    errors = [str(e) for e in errors] if isinstance(errors, list) else []
    overall = overall_line(list(checks))
    passed = bool(checks) and all(c.verdict == "pass" for c in checks)
    return {"overall": overall, "passed": passed and not partial and not errors,
            "checks": [{"name": c.name, "verdict": c.verdict, "details": c.details}
                       for c in checks],
            "errors": errors, **_counts(summary, history), "first_problem": None}


def explain_failure(checks: Sequence[CheckResult], history: list[dict],
                    unread: list[str]) -> dict[str, Any] | None:
    """The failing key's explanation (paxlab.check.explain) with times in us, when the
    linearizable check did not pass; None otherwise or when it cannot be had."""
    if not history or all(c.name != "linearizable" or c.verdict == "pass" for c in checks):
        return None
    try:
        explanation = explain_linearizability(history)
    except Exception as e:  # the explainer's bug must not cost the whole report
        unread.append(f"failure: could not be explained ({type(e).__name__}: {e})")
        return None
    return None if explanation is None else in_us(explanation.to_dict())


def in_us(explained: dict[str, Any]) -> dict[str, Any]:
    """window_ns -> window_us, and each op's invoke_ns/end_ns -> invoke_us/end_us."""
    out = {k: v for k, v in explained.items() if k not in ("window_ns", "ops")}
    window = explained.get("window_ns") or [0, 0]
    out["window_us"] = [_us(t) for t in window]
    out["ops"] = []
    for op in explained.get("ops", []):
        row = {k: v for k, v in op.items() if k not in ("invoke_ns", "end_ns")}
        row["invoke_us"] = _us(op.get("invoke_ns"))
        row["end_us"] = _us(op.get("end_ns"))
        out["ops"].append(row)
    return out


def _us(ns: Any) -> int | None:
    return ns // 1000 if isinstance(ns, int) and not isinstance(ns, bool) else None


def _stuck_at(failure: dict[str, Any]) -> int:
    """When the failure shows: the earliest invoke of an op that cannot come next after
    the longest linearizable prefix, else the failing window's start. The window spans
    the key's whole history (from 0 when one key is all the run writes), while the ops
    that cannot come next are where the history stopped making sense."""
    ops = failure.get("ops") or []
    times = [ops[b["op"]]["invoke_us"] for b in failure.get("blocked") or []
             if isinstance(b.get("op"), int) and 0 <= b["op"] < len(ops)
             and isinstance(ops[b["op"]].get("invoke_us"), int)]  # fmt: skip
    return min(times) if times else failure["window_us"][0]


def first_problem(checks: Sequence[CheckResult], failure: dict[str, Any] | None,
                  diverge_at: int | None, commit_at: Mapping[int, int],
                  lost: tuple[int, str] | None) -> dict[str, Any] | None:
    """The earliest problem a failed (or unknown) check points at; None when all pass.
    A linearizability failure is at its first op that cannot come next (_stuck_at).
    `commit_at`: height -> when it was chosen; `lost`: (t_us, text) of the first lost
    write. A problem whose time cannot be told counts as at 0, after those that can."""
    found: list[tuple[int, int, int, str, str]] = []  # (untimed, t_us, order, text, panel)
    for order, check in enumerate(checks):
        if check.verdict == "pass":
            continue
        panel = _PANEL.get(check.name, "ops")
        line = check.details.strip().splitlines()[0] if check.details.strip() else check.name
        text = f"{check.name} {check.verdict}: {line}"
        t_us: int | None = None
        if check.name == "linearizable" and failure is not None:
            t_us = _stuck_at(failure)
            text = f"linearizable {check.verdict}: {failure.get('summary') or line}"
        elif check.name in ("chains_identical", "kv_identical") and diverge_at is not None:
            t_us = commit_at.get(diverge_at)
            text = f"chains differ from height {diverge_at}: {line}"
        elif check.name == "no_lost_writes" and lost is not None:
            t_us, text = lost
        elif check.name == "invariants":
            match = _AT_MS.search(check.details)
            t_us = round(float(match.group(1)) * 1000) if match else None
        found.append((t_us is None, t_us or 0, order, text, panel))
    if not found:
        return None
    _, t_us, _, text, panel = min(found)
    return {"t_us": t_us, "text": text, "panel": panel}
