"""Liveness, judged apart from safety: once the faults are over, the cluster must finish.

Safety checks look at what happened; liveness asks whether the cluster recovered. The
simulator records `healed_ms`, the moment the run last became fault free (every server up,
the network as the config set it; at the latest when the workload ends and everything is
healed). From then on the cluster has `checks.liveness_timeout_ms` to answer: an op that
times out (ends as "info") after healed_ms + that bound is a liveness failure, and so is a
cluster that does not converge to one chain within `checks.quiesce_timeout_ms`. Livelocks,
such as endless elections after a one-way link fault, show up here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paxlab.check import CheckResult

__all__ = ["liveness_check"]

NS_PER_MS = 1_000_000
SHOWN = 3


def _late_timeouts(history: Sequence[dict[str, Any]], deadline_ms: float
                   ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(invoke, info) pairs of ops that ended unanswered after `deadline_ms`."""
    pending: dict[int, dict[str, Any]] = {}
    late = []
    deadline = deadline_ms * NS_PER_MS
    for event in history:
        if event["type"] == "invoke":
            pending[event["process"]] = event
            continue
        invoke = pending.pop(event["process"], None)
        if invoke is not None and event["type"] == "info" and event["time"] > deadline:
            late.append((invoke, event))
    return late


def _describe(invoke: dict[str, Any], info: dict[str, Any]) -> str:
    return (f"c{invoke['process']} {invoke['f']} {invoke['key']} (seq {invoke['seq']}) "
            f"invoked at {invoke['time'] / NS_PER_MS:.0f} ms, unanswered at "
            f"{info['time'] / NS_PER_MS:.0f} ms")


def liveness_check(history: Sequence[dict[str, Any]], healed_ms: float | None,
                   bound_ms: int, quiescent: bool, quiesce_timeout_ms: int,
                   errors: Sequence[str] = ()) -> CheckResult:
    """One `liveness` verdict from the history (in time order) and how the run ended."""
    problems = list(errors)
    if not quiescent:
        problems.append(f"servers did not converge within {quiesce_timeout_ms} ms "
                        "after the workload")
    healed = f"healed at {healed_ms:.0f} ms" if healed_ms is not None else "never healed"
    if healed_ms is not None:
        late = _late_timeouts(history, healed_ms + bound_ms)
        if late:
            shown = "; ".join(_describe(*pair) for pair in late[:SHOWN])
            more = f" (and {len(late) - SHOWN} more)" if len(late) > SHOWN else ""
            problems.append(f"{len(late)} op(s) unanswered more than {bound_ms} ms after "
                            f"the faults ended ({healed}): {shown}{more}")
    if problems:
        return CheckResult(name="liveness", verdict="fail", details="; ".join(problems))
    return CheckResult(name="liveness", verdict="pass",
                       details=f"{healed}; every op answered within {bound_ms} ms after; "
                       "servers converged")
