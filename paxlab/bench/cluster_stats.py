"""What a closed-loop load measured: committed ops/s, latency percentiles, failover time.

Load processes (paxlab's and PySyncObj's alike) report each ok operation as a pair of
CLOCK_MONOTONIC readings (invoked, done), which Linux shares between processes, so the
parent can merge them, cut one window out of the run and line them up with the instant
it killed a leader. Everything here is plain arithmetic on those pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Measured",
    "Samples",
    "encode_report",
    "failover_ms",
    "measure_window",
    "per_op_us",
    "percentile",
    "ratio_text",
]

_NS_PER_MS = 1_000_000


@dataclass(slots=True)
class Samples:
    """The ok operations of one load run, merged across processes, plus what went wrong.

    `invoked_ns[i]` and `done_ns[i]` belong to one operation."""

    invoked_ns: list[int] = field(default_factory=list)
    done_ns: list[int] = field(default_factory=list)
    errors: int = 0  # operations that ended fail or unknown (info), or a library error

    def add_report(self, report: dict) -> None:
        """Merge a load process's report: {"base_ns", "invoked_us", "done_us", "errors"}.

        Microseconds after a base keep the JSON short (a run has up to ~100,000 ops)."""
        base = int(report["base_ns"])
        self.invoked_ns.extend(base + int(us) * 1000 for us in report["invoked_us"])
        self.done_ns.extend(base + int(us) * 1000 for us in report["done_us"])
        self.errors += int(report.get("errors", 0))


def encode_report(base_ns: int, pairs: Iterable[tuple[int, int]], errors: int) -> dict:
    """The report a load process prints: the inverse of `Samples.add_report`."""
    invoked: list[int] = []
    done: list[int] = []
    for start, end in pairs:
        invoked.append((start - base_ns) // 1000)
        done.append((end - base_ns) // 1000)
    return {"base_ns": base_ns, "invoked_us": invoked, "done_us": done, "errors": errors}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence; NaN when empty.

    Nearest rank, not interpolation: p99 of 100 samples is the 99th, a real latency."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class Measured:
    """One row of the table: a system under one variant of the load."""

    system: str  # "paxlab" or "PySyncObj"
    variant: str
    clients: int
    ops_s: float
    p50_ms: float
    p99_ms: float
    ops: int  # ok operations completed inside the window
    errors: int
    failover_ms: float | None = None  # None: not measured in this variant
    note: str = ""
    cpu: str = ""  # CPU per process over the window, "s0 95%, s1 40%, load0 80%"
    cpu_us_per_op: float = math.nan  # CPU of all its processes (load too) per ok op


def measure_window(system: str, variant: str, clients: int, samples: Samples,
                   start_ns: int, end_ns: int, note: str = "") -> Measured:
    """Ops completed inside [start_ns, end_ns) and their latencies.

    The window leaves out the warm-up (connections, first elections, caches) and the
    tail where loads stop one by one."""
    latencies = sorted(
        (done - invoked) / _NS_PER_MS
        for invoked, done in zip(samples.invoked_ns, samples.done_ns, strict=True)
        if start_ns <= done < end_ns
    )
    seconds = (end_ns - start_ns) / 1e9
    return Measured(
        system=system, variant=variant, clients=clients,
        ops_s=len(latencies) / seconds if seconds > 0 else math.nan,
        p50_ms=percentile(latencies, 50), p99_ms=percentile(latencies, 99),
        ops=len(latencies), errors=samples.errors, note=note,
    )


def failover_ms(done_ns: Iterable[int], kill_ns: int) -> float | None:
    """Time from the kill until oks flow again: the end of the longest pause in ok
    completions that reaches past the kill, minus the kill time.

    Operations already committed by the old leader may still complete just after the
    kill; they end before the pause starts, so they do not count as recovery. None when
    no ok came after the kill."""
    ordered = sorted(done_ns)
    after = [t for t in ordered if t > kill_ns]
    if not after:
        return None
    before = [t for t in ordered if t <= kill_ns]
    previous = before[-1] if before else kill_ns
    best_gap, best_end = -1, after[0]
    for t in after:
        if t - previous > best_gap:
            best_gap, best_end = t - previous, t
        previous = t
    return (best_end - kill_ns) / _NS_PER_MS


def per_op_us(cpu_seconds: float, ops: int) -> float:
    """CPU microseconds per committed op (all of a system's processes, its load too): on a
    shared machine, where neighbours steal cycles and ops/s moves with them, this moves
    much less."""
    return cpu_seconds * 1e6 / ops if ops else math.nan


def ratio_text(mine: float, theirs: float) -> str:
    """`1.84x`, or `-` when either side is missing."""
    if not (theirs > 0 and math.isfinite(theirs) and math.isfinite(mine)):
        return "-"
    return f"{mine / theirs:.2f}x"
