"""Finds, in O(n log n), a reason a register whose puts all write different values cannot be
linearizable, so the search need not exhaust every order to prove it.

Gibbons and Korach (Testing shared memories, 1997) group each put with the gets that read
its value into a cluster. In any linearization a cluster holds the register for one stretch
of time that no other put enters: it starts no later than the earliest answer among its
ops (min_ret) and ends no earlier than the latest invoke (max_inv). When min_ret < max_inv,
the stretch covers the forward zone [min_ret, max_inv]; otherwise it touches the backward
zone [max_inv, min_ret]. So two forward zones may not overlap, nor may a backward zone lie
inside another cluster's forward zone, and no get may answer before its put was invoked.
Every conflict found here is a proof; finding none proves nothing here (info puts loosen
the argument), and the search decides. Ties count as concurrent, as in the search.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from paxlab.check.ops import Op

__all__ = ["Conflict", "find_conflict"]


@dataclass(frozen=True)
class Conflict:
    """Why the ops cannot be linearized, and the op to point at."""

    why: str
    op: Op


@dataclass
class _Cluster:
    value: str | None
    writer: Op | None  # None: the register's initial "not found"
    min_ret: float
    max_inv: float
    min_ret_op: Op | None
    max_inv_op: Op | None
    reads: int = 0


def _ms(t: float) -> str:
    return "the start" if t == -math.inf else f"{t / 1e6:.3f} ms"


def _who(op: Op | None) -> str:
    return "nothing" if op is None else f"the {op.f} by process {op.process} seq {op.seq}"


def _shown(value: str | None) -> str:
    return "not found" if value is None else value


def _clusters(ops: Sequence[Op]) -> list[_Cluster] | Conflict | None:
    """Each value's cluster; a Conflict for a get answered before its put was invoked;
    None when two puts write one value (then the zones argument does not hold)."""
    clusters: dict[str | None, _Cluster] = {None: _Cluster(None, None, -math.inf, -math.inf,
                                                             None, None)}  # fmt: skip
    for op in ops:
        if op.f == "put":
            if op.value in clusters:
                return None
            ret = op.return_ns if op.is_required and op.return_ns is not None else math.inf
            clusters[op.value] = _Cluster(op.value, op, ret, op.invoke_ns, op, op)
    for op in ops:
        cluster = clusters.get(op.value) if op.f == "get" else None
        if cluster is None or op.return_ns is None:
            continue  # a phantom read: the search reports it
        if cluster.writer and op.return_ns < cluster.writer.invoke_ns:
            invoked = _ms(cluster.writer.invoke_ns)
            why = f"why: {_who(op)} read {op.value} at {_ms(op.return_ns)}, before its put "
            return Conflict(f"{why}was invoked at {invoked}", op)
        cluster.reads += 1
        if op.return_ns < cluster.min_ret:
            cluster.min_ret, cluster.min_ret_op = op.return_ns, op
        if op.invoke_ns > cluster.max_inv:
            cluster.max_inv, cluster.max_inv_op = op.invoke_ns, op
    # An info put nobody read has a backward zone that ends at infinity, and the initial
    # value nobody read one that ends before time starts: no forward zone holds them.
    return list(clusters.values())


def _holds(c: _Cluster) -> str:
    """'1 must be in the register from A (X answered) until B (Y was invoked)'."""
    since = "" if c.min_ret_op is None else f" ({_who(c.min_ret_op)} answered)"
    until = f" ({_who(c.max_inv_op)} was invoked)"
    return (f"{_shown(c.value)} must be in the register from {_ms(c.min_ret)}{since} "
            f"until {_ms(c.max_inv)}{until}")  # fmt: skip


def find_conflict(ops: Sequence[Op]) -> Conflict | None:
    """A proof that one key's ops (fail ops and info gets already left out) are not
    linearizable, or None: none found, or some value is written twice."""
    clusters = _clusters(ops)
    if not isinstance(clusters, list):
        return clusters
    forward = sorted((c for c in clusters if c.min_ret < c.max_inv), key=lambda c: c.min_ret)
    for before, after in itertools.pairwise(forward):
        if after.min_ret < before.max_inv:
            assert before.max_inv_op is not None
            why = f"why: {_holds(before)}, but {_holds(after)}"
            return Conflict(why, before.max_inv_op)
    starts = [c.min_ret for c in forward]
    for c in clusters:
        if c.min_ret < c.max_inv:
            continue
        at = bisect.bisect_left(starts, c.max_inv) - 1
        if at >= 0 and c.min_ret < forward[at].max_inv:
            zone = forward[at]
            assert zone.max_inv_op is not None
            why = (f"why: {_holds(zone)}, but {_shown(c.value)} must be in it at some time "
                   f"from {_ms(c.max_inv)} to {_ms(c.min_ret)}")  # fmt: skip
            return Conflict(why, zone.max_inv_op)
    return None
