"""Checks that each server's KV store equals the replay of its own chain, and that all agree.

The chain is the log and the KV store is its state machine; a KV that differs from the
replay means a server applied something other than what it committed.

A server that installed a snapshot holds its chain only from the snapshot height b, so it
cannot be replayed alone: its blocks are replayed after the reference chain's (the
longest from 0) blocks 0..b-1, which, when the chains agree as chains_identical requires,
is the replay of the reference chain up to that server's tip. Without a chain from 0
that reaches b-1 its KV cannot be judged (unknown).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

from paxlab.check.blocks import txn_problem
from paxlab.check.chain_views import chain_starts, reference_server, servers_phrase
from paxlab.check.txns import TxnIndex, txn_index
from paxlab.check.verdict import CheckResult, fail, passed, unknown

__all__ = ["MalformedChain", "check_kv_identical", "first_difference", "replay"]


class MalformedChain(ValueError):
    """A chain that cannot be replayed; chains_valid reports the details."""


def replay(blocks: Sequence[dict]) -> dict[str, str]:
    """The KV a chain produces: txns in block order, each (client, seq) applied at most once
    (a retried request committed twice must not apply twice), put sets, get reads only."""
    kv = txn_index(blocks).kv  # every txn plain, the common case: replayed as it read them
    if kv is not None:
        return kv
    kv = {}
    applied: set[tuple[int, int]] = set()
    for position, block in enumerate(blocks):
        txns = block.get("txns") if isinstance(block, dict) else None
        if not isinstance(txns, list):
            raise MalformedChain(f"height {position}: block has no txns list")
        for i, txn in enumerate(txns):
            why = txn_problem(txn)
            if why:
                raise MalformedChain(f"height {position} txn {i}: {why}")
            request = (txn["client"], txn["seq"])
            if request in applied:
                continue
            applied.add(request)
            if txn["op"] == "put":
                kv[txn["key"]] = txn["value"]
    return kv


def _same_objects(chain: Sequence[Any], other: Sequence[Any]) -> bool:
    """The very same block objects in the same order; compared in C (map, all), which
    costs a few times less than a tuple of their ids."""
    return len(chain) == len(other) and all(map(operator.is_, chain, other))


_MISSING: Any = object()


def _show(value: Any) -> str:
    return "missing" if value is _MISSING else repr(value)


def first_difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(key, a's value, b's value) at the first key (sorted) where they differ, or None."""
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, _MISSING), b.get(key, _MISSING)
        if va != vb:
            return key, _show(va), _show(vb)
    return None


def check_kv_identical(
    chains: Mapping[int, Sequence[dict]], kvs: Mapping[int, Mapping[str, str]],
    txns: TxnIndex | None = None, partial: bool = False,
) -> CheckResult:
    """kv_identical: every KV equals the replay of its server's chain, and all KVs are equal.
    In a partial run a server that had not caught up holds the KV of a shorter chain, so
    KVs are compared only between servers whose chains have the same height (the chains
    themselves must agree on their common prefix: chains_identical judges that).
    Unknown (never pass) when a chain is too malformed to replay and nothing else failed.
    `txns` is txn_index of one of the chains when the caller has it (check_records): its
    replay serves every server holding the very same blocks."""
    name = "kv_identical"
    if not kvs:
        return fail(name, ["no KV snapshots"])
    problems: list[str] = []
    undecided: list[str] = []
    # Chains made of the very same block objects replay to the same KV: the simulator's
    # servers share them, so replay each distinct chain once. Identity, not equality: an
    # equal block may differ in type (1 == True), which replay rejects.
    replays: list[tuple[Sequence[dict], dict[str, str]]] = []
    starts = chain_starts(chains)
    if txns is not None and txns.kv is not None and not txns.start:
        replays.append((txns.chain, txns.kv))
    for sid in sorted(set(chains) | set(kvs)):
        if sid not in kvs:
            problems.append(f"server {sid}: has a chain but no KV snapshot")
            continue
        if sid not in chains:
            problems.append(f"server {sid}: has a KV snapshot but no chain")
            continue
        chain, its_chain = chains[sid], "its chain"
        if starts[sid]:
            chain, its_chain, why = _below_from_reference(chains, starts, sid)
            if why:
                undecided.append(why)
                continue
        try:
            expected = next((kv for seen, kv in replays if _same_objects(chain, seen)), None)
            if expected is None:
                expected = replay(chain)
                replays.append((chain, expected))
        except MalformedChain as e:
            undecided.append(f"server {sid}: cannot replay its chain ({e}); see chains_valid")
            continue
        diff = first_difference(kvs[sid], expected)
        if diff:
            key, in_kv, by_replay = diff
            problems.append(
                f"server {sid}: KV differs from the replay of {its_chain} at key {key}: "
                f"KV has {in_kv}, replay has {by_replay}"
            )
    heights = _heights(chains, kvs, starts) if partial else {None: sorted(kvs)}
    for group in heights.values():
        base = group[0]
        for sid in group[1:]:
            diff = first_difference(kvs[sid], kvs[base])
            if diff:
                key, mine, theirs = diff
                problems.append(
                    f"server {sid} and server {base} differ at key {key}: {mine} vs {theirs}"
                )
    if problems:
        return fail(name, problems)
    if undecided:
        return unknown(name, "\n".join(undecided))
    if len(heights) > 1:
        compared = ", ".join(
            f"{servers_phrase(group)} at {height} blocks ({len(kvs[group[0]])} keys)"
            for height, group in heights.items()
        )
        return passed(
            name,
            f"partial run: {len(kvs)} KVs equal the replay of their own chains; KVs "
            f"compared only at the same height: {compared}",
        )
    kv_word = "KV" if len(kvs) == 1 else "KVs"
    return passed(
        name,
        f"{len(kvs)} {kv_word} equal the replay of their chains and each other "
        f"({len(kvs[min(kvs)])} keys){_snapshot_note(chains, starts)}",
    )


def _below_from_reference(
    chains: Mapping[int, Sequence[dict]], starts: Mapping[int, int], sid: int
) -> tuple[list[dict], str, str | None]:
    """What server `sid`'s KV is the replay of when its chain starts at b > 0: the
    reference chain's blocks 0..b-1 and then its own; with how to say it, and why not
    (a str) when no chain from 0 reaches height b-1."""
    start, ref = starts[sid], reference_server(chains)
    assert ref is not None
    reference = chains[ref]
    tip = start + len(chains[sid]) - 1
    what = f"server {ref}'s blocks 0..{start - 1} and its own {start}..{tip}"
    if starts[ref] or len(reference) < start:
        why = (f"server {sid}: its chain starts at height {start} (it installed a snapshot) "
               f"and no chain from 0 holds blocks 0..{start - 1}: "
               f"its KV cannot be replayed")  # fmt: skip
        return [], what, why
    return [*reference[:start], *chains[sid]], what, None


def _snapshot_note(chains: Mapping[int, Sequence[dict]], starts: Mapping[int, int]) -> str:
    """How the KVs of servers whose chain starts above 0 were replayed ('' if none)."""
    ref = reference_server(chains)
    late = [sid for sid in sorted(starts) if starts[sid] and sid in chains]
    if not late:
        return ""
    return (f"; {servers_phrase(late)} started from a snapshot: replayed on server {ref}'s "
            f"blocks below {'their starts' if len(late) > 1 else starts[late[0]]}")  # fmt: skip


def _heights(
    chains: Mapping[int, Sequence[dict]], kvs: Mapping[int, Mapping[str, str]],
    starts: Mapping[int, int] | None = None,
) -> dict[int | None, list[int]]:
    """The servers with a KV, grouped by the height their chain reaches (its start plus
    its length; None: no chain), highest first; each group's ids ascending, so its first
    is the one compared with."""
    starts = starts or {}
    groups: dict[int | None, list[int]] = {}
    for sid in sorted(kvs):
        end = starts.get(sid, 0) + len(chains[sid]) if sid in chains else None
        groups.setdefault(end, []).append(sid)
    return dict(sorted(groups.items(), key=lambda item: -1 if item[0] is None else -item[0]))
