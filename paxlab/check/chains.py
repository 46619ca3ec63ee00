"""Checks that every chain is a valid hash chain and that all servers hold the same one.

Each block is judged by check.blocks, which recomputes hashes from the documented block
format rather than by paxlab.core, so a bug in the core's hashing cannot hide from the
checker, and an outside tool following the README gets the same answer. block_hash,
txn_problem and the other block helpers stay importable from here.

"The same one" has two readings. After a complete run every server has learned every
committed block, so all chains are equal. A partial run (Ctrl-C, a timeout, no quiescence)
stops servers that had not caught up yet: their chains are prefixes of the longest, which
is no fault, so only two different blocks at one height fail there.
"""

from __future__ import annotations

import json
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import attrgetter
from typing import Any

from paxlab.check.blocks import (
    block_hash,
    block_problems,
    is_int,
    leading_zero_bits,
    short,
    txn_problem,
)
from paxlab.check.verdict import CheckResult, fail, passed

__all__ = [
    "GENESIS_PREV",
    "behind_phrase",
    "block_hash",
    "check_chains_identical",
    "check_chains_valid",
    "leading_zero_bits",
    "partial_note",
    "reference_server",
    "servers_phrase",
    "short",
    "txn_problem",
]

GENESIS_PREV = "0" * 64
"""The prev of the block at height 0: there is no previous block to point at."""


def servers_phrase(server_ids: Sequence[int]) -> str:
    """Say "server 1" or "servers 0, 2", so messages read naturally for one or many."""
    ids = ", ".join(str(s) for s in server_ids)
    return f"server {ids}" if len(server_ids) == 1 else f"servers {ids}"


def _same_text(block: Any) -> str:
    """A stand-in for the block's JSON that is cheap to compute and compare. Records hold
    JSON values (parsed from files, or built by to_dict), and for those equal reprs mean
    equal types, values and key order: the same document, judged the same way."""
    return repr(block)


def _prev_key(prev_hash: Any) -> Any:
    """What a previous hash is compared by: a str stands for itself (a tuple never equals
    a str), anything else by its text."""
    return prev_hash if type(prev_hash) is str else ("text", _same_text(prev_hash))


@dataclass(slots=True)
class _Judged:
    """One block object judged at one height after one previous hash."""

    block: Any
    prev_hash: Any  # the hash it had to link to
    problems: list[str]
    text: str | None  # _same_text(block); made only once another object turns up here
    hash: Any  # its own hash field, the next block's prev_hash (None: not a dict)
    txn_count: int


def _judge(
    judged: list[_Judged], block: Any, position: int, prev_hash: Any, difficulty: int
) -> _Judged:
    """The judgement of `block` at `position` after `prev_hash`, given those already made
    at that height (the new one is added to `judged`).

    Chains built in memory share one dict per block across servers, so the same object
    after the same hash object is found by identity, with no text made at all; the
    objects stay alive (and unchanged) during the check. An equal but distinct block
    (chains read from files) is found by `_same_text`, made once per object, as before."""
    for seen in judged:
        if seen.block is block and seen.prev_hash is prev_hash:
            return seen
    text, problems = None, None
    if judged:
        text, prev_key = _same_text(block), _prev_key(prev_hash)
        for seen in judged:
            if seen.text is None:
                seen.text = _same_text(seen.block)
            if seen.text == text and _prev_key(seen.prev_hash) == prev_key:
                problems = seen.problems
                break
    if problems is None:
        problems = block_problems(block, position, prev_hash, difficulty)
    if isinstance(block, dict):
        entry = _Judged(block, prev_hash, problems, text, block.get("hash"),
                        len(block.get("txns") or []))  # fmt: skip
    else:
        entry = _Judged(block, prev_hash, problems, text, None, 0)
    judged.append(entry)
    return entry


def _shared_run(chain: Sequence[Any], other: Sequence[Any]) -> int:
    """How many blocks, from height 0, are the very same objects in both chains. map()
    and list.index compare them in C: the simulator's servers share nearly every block."""
    same = list(map(operator.is_, chain, other))
    return same.index(False) if False in same else len(same)


@dataclass(slots=True)
class _Walk:
    """One chain's judgements by height, and what they add up to."""

    chain: Sequence[Any]
    entries: list[_Judged]
    txns: int
    empty: int
    broken: list[int]  # the heights with problems


def _walk(
    chain: Sequence[Any], before: _Walk | None, judged: defaultdict[int, list[_Judged]],
    difficulty: int,
) -> _Walk:
    """Judge a chain, height by height. Its first blocks that are the very same objects as
    in the chain judged before (the simulator's servers share them) come after the same
    hashes too, so they reuse that chain's judgements wholesale."""
    shared = _shared_run(chain, before.chain) if before else 0
    entries = before.entries[:shared] if before else []
    prev_hash: Any = entries[-1].hash if entries else GENESIS_PREV
    for position in range(shared, len(chain)):
        entry = _judge(judged[position], chain[position], position, prev_hash, difficulty)
        entries.append(entry)
        prev_hash = entry.hash
    # Tally in C (map, compress): most heights have nothing to report.
    counts = list(map(attrgetter("txn_count"), entries))
    broken = list(compress(count(), map(attrgetter("problems"), entries)))
    return _Walk(chain, entries, sum(counts), counts.count(0), broken)


def check_chains_valid(chains: Mapping[int, Sequence[dict]], difficulty: int) -> CheckResult:
    """chains_valid: contiguous heights, prev links, recomputed hashes, proof of work and
    well-formed txns, on every server's chain.

    Servers mostly hold the same blocks, so a block equal to one already judged at the
    same height after the same previous hash reuses that judgement (`_judge`, `_walk`)
    instead of hashing it again; a chain of the very same objects as the one before
    reuses its whole walk."""
    name = "chains_valid"
    if not is_int(difficulty) or not 0 <= difficulty <= 256:
        return fail(name, [f"difficulty {difficulty!r}: expected an integer 0..256"])
    if not chains:
        return fail(name, ["no chains"])
    problems, blocks, empty, txns = [], 0, 0, 0
    judged: defaultdict[int, list[_Judged]] = defaultdict(list)  # by height
    walk: _Walk | None = None
    for sid in sorted(chains):
        chain = chains[sid]
        same = walk and len(chain) == len(walk.chain) == _shared_run(chain, walk.chain)
        if not same:
            walk = _walk(chain, walk, judged, difficulty)
        assert walk is not None
        blocks, txns, empty = blocks + len(chain), txns + walk.txns, empty + walk.empty
        for position in walk.broken:
            for why in walk.entries[position].problems:
                problems.append(f"server {sid} height {position}: {why}")
    if problems:
        return fail(name, problems)
    return passed(
        name,
        f"{len(chains)} chain{'s' if len(chains) != 1 else ''} valid at difficulty {difficulty} "
        f"({blocks} blocks, {empty} of them empty; {txns} txns)",
    )


def _lengths_phrase(lengths: Mapping[int, int]) -> str:
    """'server 1 has 40 blocks, servers 0, 2 have 42', shortest first."""
    by_length: dict[int, list[int]] = {}
    for sid in sorted(lengths):
        by_length.setdefault(lengths[sid], []).append(sid)
    parts = []
    for i, (length, sids) in enumerate(sorted(by_length.items())):
        verb = "has" if len(sids) == 1 else "have"
        parts.append(f"{servers_phrase(sids)} {verb} {length}{' blocks' if i == 0 else ''}")
    return ", ".join(parts)


def _block_key(block: Any) -> str:
    return json.dumps(block, sort_keys=True, default=repr)


def _all_same(blocks: list[Any]) -> bool:
    """True if the blocks are certainly one document: the same object or the same
    `_same_text`. False only means "group them by canonical JSON", the careful way."""
    first = blocks[0]
    if all(block is first for block in blocks):
        return True
    text = _same_text(first)
    return all(block is first or _same_text(block) == text for block in blocks)


def check_chains_identical(
    chains: Mapping[int, Sequence[dict]], partial: bool = False
) -> CheckResult:
    """chains_identical: all chains equal block for block. In a complete run a chain that
    is a strict prefix of another fails too: every server should have learned every
    committed block. In a partial run (interrupted, timed out, never quiescent) a server
    may not have caught up yet, so a prefix passes, naming who lagged and by how much;
    two different blocks at one height fail either way."""
    name = "chains_identical"
    if not chains:
        return fail(name, ["no chains"])
    sids = sorted(chains)
    lengths = {sid: len(chains[sid]) for sid in sids}
    # Up to the first height where some chain holds another object than the first chain,
    # every chain has the very same block: skip that run (compared in C) at once.
    first = chains[sids[0]]
    start = min((_shared_run(chains[sid], first) for sid in sids[1:]), default=len(first))
    for height in range(start, max(lengths.values())):
        present = {sid: chains[sid][height] for sid in sids if height < lengths[sid]}
        everyone = len(present) == len(sids)
        if (everyone or partial) and _all_same(list(present.values())):
            continue
        groups: dict[str, list[int]] = {}
        for sid, block in present.items():
            groups.setdefault(_block_key(block), []).append(sid)
        if len(groups) == 1 and (everyone or partial):
            continue
        problems = []
        if not everyone:
            problems.append(f"{_lengths_phrase(lengths)}; first difference at height {height}")
        if len(groups) > 1:
            hashes = {}
            for group in groups.values():
                block = present[group[0]]
                hashes[servers_phrase(group)] = (
                    block.get("hash") if isinstance(block, dict) else None
                )
            if len(set(map(str, hashes.values()))) == 1:
                what = f"same hash {short(next(iter(hashes.values())))} but different contents"
                problems.append(f"height {height}: {what} on {', '.join(hashes)}")
            else:
                held = "; ".join(f"{who} {short(h)}" for who, h in hashes.items())
                problems.append(f"first difference at height {height}: {held}")
        return fail(name, problems)
    if len(sids) == 1:
        return passed(
            name, f"1 chain (server {sids[0]}, {lengths[sids[0]]} blocks): nothing to compare"
        )
    if len(set(lengths.values())) > 1:  # only a partial run gets here
        longest = max(lengths.values())
        ahead = [sid for sid in sids if lengths[sid] == longest]
        head = chains[ahead[0]][-1].get("hash")
        return passed(
            name,
            f"partial run: chains agree on their common prefix of {min(lengths.values())} "
            f"blocks; {behind_phrase(chains)}; {servers_phrase(ahead)} "
            f"{'holds' if len(ahead) == 1 else 'hold'} all {longest}, head {short(head)}",
        )
    head = chains[sids[0]][-1].get("hash") if lengths[sids[0]] else None
    return passed(
        name,
        f"{len(sids)} chains identical: {lengths[sids[0]]} blocks each, head {short(head)}",
    )


def behind_phrase(chains: Mapping[int, Sequence[Any]]) -> str:
    """Who had not caught up with the longest chain, furthest behind first: "servers 1, 3
    had not caught up (2 of 6 blocks); server 0 had not caught up (5 of 6 blocks)", or ""
    when every chain is as long as the longest. What a partial run's verdicts say."""
    lengths = {sid: len(chain) for sid, chain in chains.items()}
    longest = max(lengths.values(), default=0)
    by_length: dict[int, list[int]] = {}
    for sid in sorted(lengths):
        if lengths[sid] < longest:
            by_length.setdefault(lengths[sid], []).append(sid)
    return "; ".join(
        f"{servers_phrase(sids)} had not caught up ({length} of {longest} blocks)"
        for length, sids in sorted(by_length.items())
    )


def partial_note(chains: Mapping[int, Sequence[Any]]) -> str:
    """What the write checks add to their details in a partial run when some server had
    not caught up: they judge the longest chain, whose prefixes the others hold."""
    behind = behind_phrase(chains)
    return f"; partial run: judged against the longest chain; {behind}" if behind else ""


def reference_server(chains: Mapping[int, Sequence[dict]]) -> int | None:
    """The chain that write checks read: the longest, the lowest server id on a tie (so
    equal chains always give server min id). None when there are no chains."""
    if not chains:
        return None
    return min(chains, key=lambda sid: (-len(chains[sid]), sid))
