"""Checks that every acknowledged put is in the chain exactly once, and nothing is twice.

An "ok" is a promise to the client: a put acknowledged but missing from the chain is a lost
write, and a (client, seq) committed twice is a retry applied as a new request. A put that
ended "fail" was certainly not applied, so finding it in the chain breaks that promise too.
"info" puts may or may not be there; only the at-most-once rule applies to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paxlab.check.chains import reference_server
from paxlab.check.verdict import CheckResult, fail, passed

__all__ = ["Places", "check_writes_exactly_once", "txn_places"]

Request = tuple[int, int]  # (client, seq)
Places = Mapping[Request, list[tuple[int, dict]]]  # txn_places: request -> (height, txn)s


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def txn_places(chain: Sequence[dict]) -> dict[Request, list[tuple[int, dict]]]:
    """(client, seq) -> every (height, txn) where it occurs. Txns without integer client and
    seq are skipped here; chains_valid reports them."""
    places: dict[Request, list[tuple[int, dict]]] = {}
    for height, block in enumerate(chain):
        txns = block.get("txns") if isinstance(block, dict) else None
        if not isinstance(txns, list):
            continue
        for txn in txns:
            if not isinstance(txn, dict):
                continue
            client, seq = txn.get("client"), txn.get("seq")
            # A plain int passes on its exact type alone; only others need _is_int's bool test.
            if (type(client) is int or _is_int(client)) and (type(seq) is int or _is_int(seq)):
                found = places.get((client, seq))
                if found is None:
                    places[(client, seq)] = [(height, txn)]
                else:
                    found.append((height, txn))
    return places


_KINDS = ("ok", "fail", "info")


def _puts(history: Sequence[dict]) -> dict[str, dict[Request, dict]]:
    """Put completions by kind (ok, fail, info), each by (client, seq); a repeated
    completion counts once. One pass over the history serves all three kinds."""
    found: dict[str, dict[Request, dict]] = {kind: {} for kind in _KINDS}
    for event in history:
        kind = event.get("type")
        if kind in _KINDS and event.get("f") == "put":  # `in` a tuple compares with ==
            found[kind].setdefault((event["process"], event["seq"]), event)
    return found


def _txn_text(txn: dict) -> str:
    if txn.get("op") == "put":
        return f"put {txn.get('key')}={txn.get('value')}"
    return f"{txn.get('op')} {txn.get('key')}"


def check_writes_exactly_once(
    history: Sequence[dict], chains: Mapping[int, Sequence[dict]],
    places: Places | None = None,
) -> CheckResult:
    """writes_exactly_once, read against the longest chain (lowest server id on a tie).
    `places` is txn_places of that chain when the caller has it already (check_records
    shares it with no_lost_writes); it is only read."""
    name = "writes_exactly_once"
    sid = reference_server(chains)
    if sid is None:
        return fail(name, ["no chains"])
    chain = chains[sid]
    where = f"server {sid}'s chain ({len(chain)} blocks)"
    if places is None:
        places = txn_places(chain)
    problems: list[str] = []
    duplicates = {req: found for req, found in places.items() if len(found) > 1}
    for (client, seq), found in sorted(duplicates.items()):
        heights = ", ".join(str(h) for h, _ in found)
        problems.append(
            f"client {client} seq {seq}: {_txn_text(found[0][1])} appears {len(found)} times "
            f"in {where}, at heights {heights}"
        )
    puts = _puts(history)
    acked = puts["ok"]
    for (client, seq), event in sorted(acked.items()):
        put = f"put {event['key']}={event['value']}"
        found = places.get((client, seq), [])
        if not found:
            problems.append(f"client {client} seq {seq}: acknowledged {put} is not in {where}")
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
    if problems:
        return fail(name, problems)
    info = puts["info"]
    committed = sum(1 for req in info if req in places)
    return passed(
        name,
        f"{len(acked)} acknowledged puts found exactly once in {where}; "
        f"0 duplicate (client, seq); {committed} of {len(info)} info puts committed",
    )
