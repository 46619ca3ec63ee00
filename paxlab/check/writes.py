"""Checks that every acknowledged put is in the chain exactly once, and nothing is twice.

An "ok" is a promise to the client: a put acknowledged but missing from the chain is a lost
write, and a (client, seq) committed twice is a retry applied as a new request. A put that
ended "fail" was certainly not applied, so finding it in the chain breaks that promise too.
"info" puts may or may not be there; only the at-most-once rule applies to them.

The chain read is the reference (chains.reference_server): the longest from height 0.
When every server installed a snapshot, no chain holds the blocks below the lowest
snapshot, so a put missing there or committed twice there cannot be seen: the check
still fails on what it sees, but never passes (unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from paxlab.check.chain_views import chain_start, chain_where, partial_note, reference_server
from paxlab.check.history import COMPLETIONS, HistoryIndex, Request
from paxlab.check.txns import Places, TxnIndex, acked_all_in, txn_index
from paxlab.check.verdict import CheckResult, fail, passed, unknown

__all__ = ["Places", "check_writes_exactly_once", "txn_places"]


def txn_places(chain: Sequence[dict]) -> dict[Request, list[tuple[int, dict]]]:
    """(client, seq) -> every (height, txn) where it occurs (txn_index's places)."""
    return txn_index(chain).places


def _puts(history: Sequence[dict]) -> dict[str, dict[Request, dict]]:
    """Put completions by kind (ok, fail, info), each by (client, seq); a repeated
    completion counts once. One pass over the history serves all three kinds."""
    found: dict[str, dict[Request, dict]] = {kind: {} for kind in COMPLETIONS}
    for event in history:
        kind = event.get("type")
        if kind in COMPLETIONS and event.get("f") == "put":  # `in` a tuple compares with ==
            found[kind].setdefault((event["process"], event["seq"]), event)
    return found


def _txn_text(txn: dict) -> str:
    if txn.get("op") == "put":
        return f"put {txn.get('key')}={txn.get('value')}"
    return f"{txn.get('op')} {txn.get('key')}"


def _surely_once(puts: Mapping[str, Mapping[Request, dict]], txns: TxnIndex) -> bool:
    """The common case, tested in C: no request twice in the chain, every acknowledged
    put there as the same put, no put that ended fail there. Then the rules below find
    nothing; False says only "look closer". For well-formed puts (HistoryIndex's) only."""
    places = txns.places
    return (
        max(map(len, places.values()), default=1) == 1
        and acked_all_in(puts["ok"], txns)
        and puts["fail"].keys().isdisjoint(places)
    )


def check_writes_exactly_once(
    history: Sequence[dict], chains: Mapping[int, Sequence[dict]],
    txns: TxnIndex | None = None, index: HistoryIndex | None = None, partial: bool = False,
) -> CheckResult:
    """writes_exactly_once, read against the longest chain (lowest server id on a tie).
    In a partial run the details say which servers had not caught up with it.
    `txns` (txn_index of that chain) and `index` (index_history of the history) are given
    when the caller has them already: check_records shares them between checks. They are
    only read; without them the check reads the chain and history itself."""
    name = "writes_exactly_once"
    sid = reference_server(chains)
    if sid is None:
        return fail(name, ["no chains"])
    chain = chains[sid]
    start = chain_start(chain)
    where = chain_where(sid, chain, start)
    if txns is None:
        txns = txn_index(chain, start)
    places = txns.places
    if index is None:
        puts = _puts(history)
    else:  # the same first put completions of each kind, by request
        puts = {kind: index.firsts["put", kind] for kind in COMPLETIONS}
    unseen: list[str] = []
    if index is None or not _surely_once(puts, txns):
        problems = _problems(places, puts, where, unseen if start else None)
        if problems:
            return fail(name, problems)
    if start:
        missing = (f"{len(unseen)} acknowledged puts are not in it (they may be below); "
                   if unseen else "")  # fmt: skip
        return unknown(
            name,
            f"read {where}: {missing}no chain holds blocks 0..{start - 1}, so a put "
            f"missing or committed twice there cannot be seen" + "".join(
                f"\n{line}" for line in unseen[:5]),
        )
    acked, info = puts["ok"], puts["info"]
    committed = sum(1 for req in info if req in places)
    return passed(
        name,
        f"{len(acked)} acknowledged puts found exactly once in {where}; "
        f"0 duplicate (client, seq); {committed} of {len(info)} info puts committed"
        f"{partial_note(chains) if partial else ''}",
    )


def _problems(places: Places, puts: Mapping[str, Mapping[Request, dict]], where: str,
              unseen: list[str] | None = None) -> list[str]:  # fmt: skip
    """Every broken promise: requests committed twice, acknowledged puts missing or
    different, failed puts committed. With `unseen` (a list), the chain read starts
    above 0: an acknowledged put missing from it may be below, so it goes there instead."""
    problems: list[str] = []
    duplicates = {req: found for req, found in places.items() if len(found) > 1}
    for (client, seq), found in sorted(duplicates.items()):
        heights = ", ".join(str(h) for h, _ in found)
        problems.append(
            f"client {client} seq {seq}: {_txn_text(found[0][1])} appears {len(found)} times "
            f"in {where}, at heights {heights}"
        )
    for (client, seq), event in sorted(puts["ok"].items()):
        put = f"put {event['key']}={event['value']}"
        found = places.get((client, seq), [])
        if not found:
            line = f"client {client} seq {seq}: acknowledged {put} is not in {where}"
            (problems if unseen is None else unseen).append(line)
            continue
        height, txn = found[0]
        same = txn.get("op") == "put" and (txn.get("key"), txn.get("value")) == (
            event["key"],
            event["value"],
        )
        if not same:
            problems.append(
                f"client {client} seq {seq}: acknowledged {put} but height {height} "
                f"has {_txn_text(txn)}"
            )
    for (client, seq), event in sorted(puts["fail"].items()):
        for height, _txn in places.get((client, seq), []):
            problems.append(
                f"client {client} seq {seq}: put {event['key']} ended 'fail' "
                f"(certainly not applied) but is committed at height {height}"
            )
    return problems
