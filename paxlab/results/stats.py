"""Summary statistics of a history: op outcomes, throughput and latency for summary.json.

Kept apart from the checkers because numbers describe a run while checks judge it; a slow
run can be correct and a fast one wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["percentile", "summarize_history"]

_OPS = ("put", "get")
_OUTCOMES = ("ok", "fail", "info")
_PERCENTILES = (50, 95, 99)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: always a value that was observed, never an interpolation.
    0.0 for no values, so an empty run gives zeros instead of a crash."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize_history(history: list[dict]) -> dict:
    """{"ops", "throughput_ops_s", "latency_ms"} as summary.json has them.

    Each invoke pairs with the completion that has the same (process, seq). An invoke with
    no completion counts as info: the run ended before the client knew the outcome.
    Throughput is ok ops over the span from the first invoke to the last completion;
    latency (invoke to ok, in ms) is over ok ops only.
    """
    ops = {f: dict.fromkeys(_OUTCOMES, 0) for f in _OPS}
    invokes: dict[tuple[int, int], dict] = {}
    completed: set[tuple[int, int]] = set()
    latencies_ms: list[float] = []
    first_invoke_ns: int | None = None
    last_completion_ns: int | None = None
    for event in history:
        op = (event["process"], event["seq"])
        if event["type"] == "invoke":
            invokes.setdefault(op, event)
            if first_invoke_ns is None or event["time"] < first_invoke_ns:
                first_invoke_ns = event["time"]
            continue
        if op in completed:
            continue  # a second completion of one op is not a second op
        completed.add(op)
        ops[event["f"]][event["type"]] += 1
        if last_completion_ns is None or event["time"] > last_completion_ns:
            last_completion_ns = event["time"]
        if event["type"] == "ok" and op in invokes:
            latencies_ms.append((event["time"] - invokes[op]["time"]) / 1e6)
    for op, event in invokes.items():
        if op not in completed:
            ops[event["f"]]["info"] += 1
    ok_count = sum(ops[f]["ok"] for f in _OPS)
    span_s = 0.0
    if first_invoke_ns is not None and last_completion_ns is not None:
        span_s = max(0, last_completion_ns - first_invoke_ns) / 1e9
    latencies_ms.sort()
    latency = {f"p{p}": round(percentile(latencies_ms, p), 3) for p in _PERCENTILES}
    latency["max"] = round(latencies_ms[-1], 3) if latencies_ms else 0.0
    return {
        "ops": ops,
        "throughput_ops_s": round(ok_count / span_s, 3) if span_s > 0 else 0.0,
        "latency_ms": latency,
    }
