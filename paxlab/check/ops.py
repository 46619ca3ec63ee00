"""The history's operations: each invoke paired with its completion by (process, seq).

Pairing is by (process, seq) alone, never by "the process's open op": a killed client's
last op stays open while its restarted process issues new ones under the same id.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

from paxlab.check.history import HistoryIndex

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


def history_ops(history: Sequence[dict], index: HistoryIndex | None = None) -> list[Op]:
    """Every op in the history, by invoke time. A repeated event counts once (the first);
    a completion without an invoke is taken to have been invoked at time 0, the widest
    interval it could have had. `index` is index_history of the history when the caller
    has it (check_records): it holds the same first invokes and completions."""
    if index is not None:
        invokes, completions = index.invokes, index.completions
    else:
        invokes, completions = {}, {}
        for event in history:
            found = invokes if event["type"] == "invoke" else completions
            found.setdefault((event["process"], event["seq"]), event)
    # Each op's fields in Op's order: plain tuples, sorted, then made Ops in C at once
    # (_as_op), where Op(...) per op would run a Python __new__.
    rows = []
    for (process, seq), invoke in invokes.items():
        done = completions.get((process, seq))
        outcome = done["type"] if done else "open"
        f = invoke["f"]
        if f == "put":
            value = invoke["value"]
        else:  # a get's value is what its ok read; any other get read nothing we know
            value = done["value"] if done and outcome == "ok" else None
        invoke_ns = invoke["time"]
        return_ns = done["time"] if done else None
        if done and invoke_ns > return_ns:  # max(done["time"], invoke_ns), without the call
            return_ns = invoke_ns
        rows.append((process, seq, f, invoke["key"], value, invoke_ns, outcome, return_ns))
    if not completions.keys() <= invokes.keys():  # (a set test in C: rarely true)
        rows += [_uninvoked(pid, done) for pid, done in completions.items()
                 if pid not in invokes]  # fmt: skip
    rows.sort(key=_BY_INVOKE)  # (process, seq) is unique: the order is total
    return list(map(_as_op, rows))


def _uninvoked(pid: tuple[int, int], done: dict) -> tuple:
    """The fields of an op with a completion but no invoke: invoked at time 0."""
    outcome, f = done["type"], done["f"]
    value = done["value"] if f == "put" or outcome == "ok" else None
    return (pid[0], pid[1], f, done["key"], value, 0, outcome, max(done["time"], 0))


_BY_INVOKE = itemgetter(5, 0, 1)  # invoke_ns, process, seq: no Python call per op
_as_op = functools.partial(tuple.__new__, Op)  # Op._make without its Python frame
