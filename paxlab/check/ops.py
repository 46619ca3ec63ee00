"""The history's operations: each invoke paired with its completion by (process, seq).

Pairing is by (process, seq) alone, never by "the process's open op": a killed client's
last op stays open while its restarted process issues new ones under the same id.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import NamedTuple

__all__ = ["Op", "history_ops"]


class Op(NamedTuple):
    """One operation: an invoke and its completion, paired by (process, seq).

    A NamedTuple rather than a frozen dataclass: as immutable, but several times cheaper
    to build (a frozen dataclass's __init__ sets each field through object.__setattr__),
    and the linearizable check builds one per op of every run."""

    process: int
    seq: int
    f: str  # "put" or "get"
    key: str
    value: str | None  # put: the value written; get: the value read (ok only) or None
    invoke_ns: int
    outcome: str  # "ok", "fail", "info", or "open" (no completion: the client was killed)
    return_ns: int | None  # the completion's time; None when open

    @property
    def is_required(self) -> bool:
        """Must take effect inside [invoke, return]: only ops acknowledged ok."""
        return self.outcome == "ok"

    @property
    def is_searched(self) -> bool:
        """Fail ops never happened, and a get without an ok read nothing we know of."""
        return self.outcome != "fail" and (self.f == "put" or self.outcome == "ok")


def history_ops(history: Sequence[dict]) -> list[Op]:
    """Every op in the history, by invoke time. A repeated event counts once (the first);
    a completion without an invoke is taken to have been invoked at time 0, the widest
    interval it could have had."""
    invokes: dict[tuple[int, int], dict] = {}
    completions: dict[tuple[int, int], dict] = {}
    for event in history:
        found = invokes if event["type"] == "invoke" else completions
        found.setdefault((event["process"], event["seq"]), event)
    ops = []
    # Every pair once: the invoked ones, then completions without an invoke (the sort
    # below fixes the order, as (process, seq) is unique).
    pids = [*invokes, *(pid for pid in completions if pid not in invokes)]
    for pid in pids:
        invoke, done = invokes.get(pid), completions.get(pid)
        first = invoke or done
        assert first is not None
        outcome = done["type"] if done else "open"
        if first["f"] == "put":
            value = first["value"]
        else:  # a get's value is what its ok read; any other get read nothing we know
            value = done["value"] if done and outcome == "ok" else None
        invoke_ns = invoke["time"] if invoke else 0
        return_ns = max(done["time"], invoke_ns) if done else None
        ops.append(Op(pid[0], pid[1], first["f"], first["key"], value, invoke_ns, outcome,
                      return_ns))  # fmt: skip
    ops.sort(key=attrgetter("invoke_ns", "process", "seq"))  # attrgetter: no Python call per op
    return ops
