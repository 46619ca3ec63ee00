"""One read of a well-formed history, shared by the checks that look its events up.

writes_exactly_once, no_lost_writes, no_phantom_reads and linearizable each find events
by (process, seq), the first of each kind counting (a repeated event counts once). Each
used to read the whole history itself, some of them three times; reading it once for all
of them was most of their cost, and check_records does that with index_history.

The index is made only for a history of plain events: dicts with type, f, process, seq
and time (the fields the checks read from every event), type and f exact strs of the
contract's values, process and seq exact ints (the checks sort by them), and a put
invoke's key and value exact strs (value may be None). The simulator and
results.read_history give nothing else. For any other history index_history says None
and each check reads the history its own way, so an odd history (an outside tool's, a
test's) is judged exactly as before, down to the exception it may raise; a test holds
the two ways to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

__all__ = ["COMPLETIONS", "HistoryIndex", "Request", "index_history"]

Request = tuple[int, int]  # (process, seq): a client's op, as the history and txns name it

COMPLETIONS = ("ok", "fail", "info")
_OPS = ("put", "get")
_HEAD = itemgetter("type", "f", "process", "seq", "time")
_KEY_VALUE = itemgetter("key", "value")


class HistoryIndex(NamedTuple):
    """A well-formed history's events by request, each the first of its kind."""

    invokes: dict[Request, dict]  # the first invoke of each request
    completions: dict[Request, dict]  # its first completion, of any kind
    firsts: dict[tuple[str, str], dict[Request, dict]]  # (f, kind): first such completions
    written: set[tuple[str, str | None]]  # (key, value) of every put invoke


def index_history(history: Sequence[dict]) -> HistoryIndex | None:
    """The index of a history whose events are dicts with an exact str type among invoke,
    ok, fail and info, an exact str f of put or get, exact int process and seq, a time,
    and for a put invoke, an exact str key and str or None value; else None.

    Only what decides where an event goes, and what every event's plain reading touches,
    is tested: each test costs per event. Otherwise the checks read the same first events
    with the index as without, and their set shortcuts fall back to the plain way on
    anything they cannot read or hash."""
    invokes: dict[Request, dict] = {}
    completions: dict[Request, dict] = {}
    firsts: dict[tuple[str, str], dict[Request, dict]] = {
        (f, kind): {} for f in _OPS for kind in COMPLETIONS
    }
    written: set[tuple[str, str | None]] = set()
    try:
        for event in history:
            if type(event) is not dict:
                return None
            kind, f, process, seq, _time = _HEAD(event)  # one C call for five fields
            if not (type(kind) is str and type(f) is str and type(process) is int
                    and type(seq) is int):  # fmt: skip
                return None
            request = (process, seq)
            if kind == "invoke":
                if f == "put":
                    key, value = _KEY_VALUE(event)
                    if type(key) is not str or (value is not None and type(value) is not str):
                        return None
                    written.add((key, value))
                elif f != "get":
                    return None
                invokes.setdefault(request, event)
            else:
                found = firsts.get((f, kind))
                if found is None:  # not a completion of a put or a get
                    return None
                found.setdefault(request, event)
                completions.setdefault(request, event)
    except (KeyError, TypeError):  # a field missing, or a value that cannot be hashed
        return None
    return HistoryIndex(invokes, completions, firsts, written)
