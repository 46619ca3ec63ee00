"""Builds summary.json for a lab run: what ran, how it went, and each check's verdict."""

from __future__ import annotations

from typing import Any

from paxlab.config import Config
from paxlab.results.stats import summarize_history
from paxlab.results.verdict import CheckResult

__all__ = ["build_summary"]


def build_summary(
    config: Config,
    history: list[dict],
    *,
    started_at: str,
    duration_s: float,
    workload_s: float,
    partial: bool,
    faults: list[dict[str, Any]],
    leader_changes: int,
    checks: list[CheckResult],
    errors: list[str],
) -> dict[str, Any]:
    return {
        "config": config.name,
        "seed": config.seed,
        "partial": partial,
        "started_at": started_at,
        "duration_s": round(duration_s, 3),
        "workload_s": round(workload_s, 3),
        "servers": config.cluster.servers,
        "clients": config.clients.count,
        "difficulty": config.cluster.difficulty,
        "batch_size_max": config.cluster.batch_size_max,
        "pipeline_window": config.cluster.pipeline_window,
        "fsync": config.cluster.fsync,
        **summarize_history(history),
        "faults": faults,
        "leader_changes": leader_changes,
        "errors": errors,
        "checks": [
            {"name": c.name, "verdict": c.verdict, "details": c.details} for c in checks
        ],
    }
