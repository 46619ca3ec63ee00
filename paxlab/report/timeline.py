"""The run over time: who led, when heights were chosen, throughput and latency per bucket,
and how long the clients took to get answers again after each fault.

Leaders are judged as the network judged them while the run went on
(`paxlab.network.watch.LeaderWatch`): the sender of the highest-ballot Heartbeat or
Accept so far leads. The report also ends a reign when that node goes down, is paused
or is isolated, so the lane shows the gap the clients saw, and starts it again if the
same node leads at the same ballot once it is back.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from paxlab.results.stats import percentile

__all__ = [
    "BUCKETS_WANTED",
    "ballot_key",
    "bucket_us",
    "chain_commits",
    "leader_reigns",
    "recovery",
    "series",
]

BUCKETS_WANTED = 200
"""About this many buckets over the run: fine enough to see a fault's dip, coarse enough
that most buckets hold several ops."""

_BUCKET_US_MIN = 1000


def ballot_key(ballot: str) -> tuple[int, int]:
    """"3.1" -> (3, 1), the order ballots compare in; unreadable ones sort first."""
    round_, _, replica = ballot.partition(".")
    try:
        return (int(round_), int(replica))
    except ValueError:
        return (-1, -1)


def leader_reigns(claims: Sequence[tuple[int, str, str]], away: Sequence[tuple[int, int, str]],
                  end_us: int) -> list[tuple[str, str, int, int]]:
    """(node, ballot, start_us, end_us) per reign, from `claims` (t_us, sender, ballot) of
    every Heartbeat and Accept sent, in time order, and `away` (start_us, end_us, node):
    intervals in which a node was down, paused or isolated."""
    stops = sorted((start, node) for start, _, node in away)
    by_node: dict[str, list[tuple[int, int]]] = {}
    for start, stop, node in away:
        by_node.setdefault(node, []).append((start, stop))
    reigns: list[tuple[str, str, int, int]] = []
    best: tuple[int, int] | None = None
    best_node: str | None = None
    current: tuple[str, str, int] | None = None  # node, ballot, since
    keys: dict[str, tuple[int, int]] = {}
    next_stop = 0
    for t_us, node, ballot in claims:
        while next_stop < len(stops) and stops[next_stop][0] <= t_us:
            stop_us, stopped = stops[next_stop]
            next_stop += 1
            if current is not None and current[0] == stopped:
                reigns.append((current[0], current[1], current[2], stop_us))
                current = None
        key = keys.get(ballot)
        if key is None:
            key = keys[ballot] = ballot_key(ballot)
        if best is None or key > best:
            best, best_node = key, node
            if current is not None:
                reigns.append((current[0], current[1], current[2], t_us))
            current = (node, ballot, t_us)
        elif (current is None and key == best and node == best_node
              and not _is_away(by_node.get(node, ()), t_us)):  # fmt: skip
            current = (node, ballot, t_us)  # back after a pause or an isolation
    if current is not None:
        stop_us = end_us
        for start, stopped in stops[next_stop:]:
            if stopped == current[0]:
                stop_us = start
                break
        reigns.append((current[0], current[1], current[2], max(stop_us, current[2])))
    return reigns


def _is_away(intervals: Sequence[tuple[int, int]], t_us: int) -> bool:
    return any(start <= t_us < stop for start, stop in intervals)


def bucket_us(end_us: int) -> int:
    """A round bucket width (1, 2 or 5 times a power of ten, in us, at least 1 ms) that
    cuts the run into about BUCKETS_WANTED buckets."""
    raw = max(end_us / BUCKETS_WANTED, _BUCKET_US_MIN)
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * power >= raw:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def series(invoke_us: Sequence[int], end_us_: Sequence[int], types: Sequence[str],
           run_end_us: int) -> dict[str, Any]:
    """Completions per bucket by outcome, and the latency percentiles of the ops that
    completed ok in it (null where none did), over the ops' columns."""
    width = bucket_us(run_end_us)
    n = run_end_us // width + 1
    counts = {"ok": [0] * n, "fail": [0] * n, "info": [0] * n}
    latencies: list[list[int]] = [[] for _ in range(n)]
    for invoke, end, kind in zip(invoke_us, end_us_, types, strict=True):
        b = min(max(end, 0) // width, n - 1)
        counts[kind][b] += 1
        if kind == "ok":
            latencies[b].append(end - invoke)
    p = {50: [], 95: [], 99: []}
    for bucket in latencies:
        bucket.sort()
        for q, column in p.items():
            column.append(round(percentile(bucket, q) / 1000, 3) if bucket else None)
    return {"bucket_us": width, "t_us": [i * width for i in range(n)],
            "ok": counts["ok"], "fail": counts["fail"], "info": counts["info"],
            "p50_ms": p[50], "p95_ms": p[95], "p99_ms": p[99]}


def recovery(faults: Sequence[tuple[int, int | None]], invoke_us: Sequence[int],
             end_us_: Sequence[int], types: Sequence[str]) -> list[dict[str, Any]]:
    """Per fault (start_us, end_us): the time from its start to the first ok completion,
    and the time from its end until an op invoked after the end completed ok (the first
    request made once the fault was gone that succeeded); null when none did."""
    ok = [(end, invoke) for invoke, end, kind in zip(invoke_us, end_us_, types, strict=True)
          if kind == "ok"]  # fmt: skip
    ok_ends = sorted(end for end, _ in ok)
    by_invoke = sorted((invoke, end) for end, invoke in ok)
    invokes = [invoke for invoke, _ in by_invoke]
    suffix_min = [0] * len(by_invoke)  # suffix_min[i]: earliest end of ops i.. by invoke
    best = math.inf
    for i in range(len(by_invoke) - 1, -1, -1):
        best = min(best, by_invoke[i][1])
        suffix_min[i] = int(best)
    rows = []
    for index, (start, stop) in enumerate(faults):
        i = bisect.bisect_left(ok_ends, start)
        first_ok = ok_ends[i] - start if i < len(ok_ends) else None
        recover = None
        if stop is not None:
            j = bisect.bisect_left(invokes, stop)
            if j < len(invokes):
                recover = suffix_min[j] - stop
        rows.append({"fault": index, "first_ok_us": first_ok, "recover_us": recover})
    return rows


def chain_commits(blocks: Sequence[dict | None], ok_end_us: dict[tuple[int, int], int]
                  ) -> tuple[list[int], list[int]]:  # fmt: skip
    """Without messages: each height at the first ok completion of a txn it holds (it was
    chosen by then); heights no ok op vouches for are left out. (t_us, heights) sorted."""
    found = []
    for height, block in enumerate(blocks):
        if block is None:
            continue
        times = [ok_end_us[key] for txn in block["txns"] if isinstance(txn, dict)
                 and type(txn.get("client")) is int and type(txn.get("seq")) is int
                 and (key := (txn["client"], txn["seq"])) in ok_end_us]
        if times:
            found.append((min(times), height))
    found.sort()
    return [t for t, _ in found], [h for _, h in found]
