"""Checks two promises one op at a time: an acknowledged put is in the chain
(no_lost_writes), and every value a get read was written to its key (no_phantom_reads).

Both overlap other checks on purpose (writes_exactly_once, linearizable), but each gives
a focused verdict with its own table, so the first line of a report says which promise
broke without reading a linearizability counterexample.

When no chain starts at 0 (every server installed a snapshot), no_lost_writes reads a
chain without its lowest blocks: a put it does not find may be there, so it says unknown
rather than fail (and passes only when it finds every acknowledged put).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from operator import itemgetter

from paxlab.check.chain_views import chain_start, chain_where, partial_note, reference_server
from paxlab.check.history import HistoryIndex
from paxlab.check.txns import TxnIndex, acked_all_in, txn_index
from paxlab.check.verdict import CheckResult, fail, passed, plain_table, unknown

__all__ = ["check_no_lost_writes", "check_no_phantom_reads"]

_ROWS_MAX = 30


def _ms(ns: object) -> str:
    return f"{ns / 1e6:.3f}" if isinstance(ns, int) else "-"


def _table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """At most _ROWS_MAX rows, and a line saying how many more there were."""
    text = plain_table(rows[:_ROWS_MAX], headers)
    return text + (f"\n... and {len(rows) - _ROWS_MAX} more" if len(rows) > _ROWS_MAX else "")


def _completions(history: Sequence[dict], f: str, kind: str) -> dict[tuple[int, int], dict]:
    """Completions of one op and kind by (process, seq); a repeated one counts once."""
    found: dict[tuple[int, int], dict] = {}
    for event in history:
        if event.get("type") == kind and event.get("f") == f:
            found.setdefault((event["process"], event["seq"]), event)
    return found


def _invoke_times(history: Sequence[dict]) -> dict[tuple[int, int], int]:
    times: dict[tuple[int, int], int] = {}
    for event in history:
        if event.get("type") == "invoke":
            times.setdefault((event["process"], event["seq"]), event["time"])
    return times


def check_no_lost_writes(
    history: Sequence[dict], chains: Mapping[int, Sequence[dict]],
    txns: TxnIndex | None = None, index: HistoryIndex | None = None, partial: bool = False,
) -> CheckResult:
    """no_lost_writes: every put acknowledged ok is in the final chain, as a put of the
    same key and value under its (client, seq). The chain is the one writes_exactly_once
    reads: the longest, the lowest server id on a tie; in a partial run the details say
    which servers had not caught up with it. `txns` (txn_index of that chain)
    and `index` (index_history of the history) are given when the caller has them already
    (check_records shares them); they are only read."""
    name = "no_lost_writes"
    sid = reference_server(chains)
    if sid is None:
        return fail(name, ["no chains"])
    start = chain_start(chains[sid])
    where = chain_where(sid, chains[sid], start)
    note = partial_note(chains) if partial else ""
    if txns is None:
        txns = txn_index(chains[sid], start)
    if index is not None:
        acked = index.firsts["put", "ok"]
        if acked_all_in(acked, txns):  # the common case, in C; any doubt reads on below
            return passed(name, f"all {len(acked)} acknowledged puts are in {where}{note}")
    places = txns.places
    invoked = _invoke_times(history)
    acked = _completions(history, "put", "ok")
    rows = []
    for (client, seq), event in sorted(acked.items()):
        found = places.get((client, seq), [])
        same = [
            h for h, txn in found
            if txn.get("op") == "put" and (txn.get("key"), txn.get("value"))
            == (event["key"], event["value"])
        ]  # fmt: skip
        if same:
            continue
        if found:
            height, txn = found[0]
            instead = f"height {height}: {txn.get('op')} {txn.get('key')}={txn.get('value')}"
        else:
            instead = "nothing"
        rows.append((client, seq, event["key"], event["value"],
                     _ms(invoked.get((client, seq))), _ms(event["time"]), instead))  # fmt: skip
    if rows:
        headers = ("client", "seq", "key", "value", "invoked ms", "acked ms", "chain has")
        head = f"{len(rows)} of {len(acked)} acknowledged puts are not in {where}:"
        if start:  # they may be in the blocks below, which no chain holds
            return unknown(name, f"{head}\n{_table(rows, headers)}\nno chain holds blocks "
                                 f"0..{start - 1}, where they may be")  # fmt: skip
        return fail(name, [f"{head}\n{_table(rows, headers)}"])
    return passed(name, f"all {len(acked)} acknowledged puts are in {where}{note}")


_KEY_VALUE = itemgetter("key", "value")


def check_no_phantom_reads(history: Sequence[dict], index: HistoryIndex | None = None
                           ) -> CheckResult:  # fmt: skip
    """no_phantom_reads: every non-null value an ok get read was written to that key by
    some put in the history, whatever that put's outcome (a put that ended fail and was
    read anyway is for linearizable to judge). Null, "not found", is always allowed here.
    `index` is index_history of the history when the caller has it (check_records)."""
    name = "no_phantom_reads"
    if index is not None and _surely_written(index):
        return _all_written(name, index.firsts["get", "ok"])
    written: dict[str, set[str]] = {}  # value -> keys it was written to
    for event in history:
        if event.get("type") == "invoke" and event.get("f") == "put":
            written.setdefault(event["value"], set()).add(event["key"])
    invoked = _invoke_times(history)
    reads = _completions(history, "get", "ok")
    rows = []
    for (client, seq), event in sorted(reads.items()):
        value, key = event["value"], event["key"]
        if value is None or key in written.get(value, ()):
            continue
        elsewhere = sorted(written.get(value, ()))
        note = f"written to {', '.join(elsewhere)}" if elsewhere else "never written"
        rows.append((client, seq, key, value, _ms(invoked.get((client, seq))),
                     _ms(event["time"]), note))  # fmt: skip
    if rows:
        found = sum(1 for e in reads.values() if e["value"] is not None)
        headers = ("client", "seq", "key", "read", "invoked ms", "answered ms", "that value was")
        head = f"{len(rows)} of {found} values read were never written to their key:"
        return fail(name, [f"{head}\n{_table(rows, headers)}"])
    return _all_written(name, reads)


def _surely_written(index: HistoryIndex) -> bool:
    """The common case, by set difference in C: every (key, value) read, of exact str
    keys and str or None values (compared as the loop below compares them), is a put's
    or reads nothing. False says only "look closer", also for what it cannot read or hash."""
    try:
        read = set(map(_KEY_VALUE, index.firsts["get", "ok"].values()))
    except (KeyError, TypeError):
        return False
    if not set(map(type, itertools.chain.from_iterable(read))) <= {str, type(None)}:
        return False
    return all(value is None for _key, value in read - index.written)


def _all_written(name: str, reads: Mapping[tuple[int, int], dict]) -> CheckResult:
    found = sum(1 for e in reads.values() if e["value"] is not None)
    return passed(
        name,
        f"all {found} values read were written to their key by some put "
        f"({len(reads) - found} gets found nothing)",
    )
