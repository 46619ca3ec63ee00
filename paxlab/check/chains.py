"""Checks that every chain is a valid hash chain and that all servers hold the same one.

Each block is judged by check.blocks, which recomputes hashes from the documented block
format rather than by paxlab.core, so a bug in the core's hashing cannot hide from the
checker, and an outside tool following the README gets the same answer. block_hash,
txn_problem and the other block helpers stay importable from here.

"The same one" has two readings. After a complete run every server has learned every
committed block, so all chains are equal. A partial run (Ctrl-C, a timeout, no quiescence)
stops servers that had not caught up yet: their chains are prefixes of the longest, which
is no fault, so only two different blocks at one height fail there.

A chain from a snapshot (check.chain_views says when a file starts above 0) is judged
from its first block, which must link to block b-1 in another server's chain.
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
from paxlab.check.chain_views import (
    behind_phrase,
    by_preference,
    chain_start,
    chain_starts,
    chain_where,
    holds_phrase,
    partial_note,
    reference_server,
    servers_phrase,
    snapshot_note,
)
from paxlab.check.verdict import CheckResult, fail, passed, unknown

__all__ = [
    "GENESIS_PREV",
    "behind_phrase",
    "block_hash",
    "chain_start",
    "chain_starts",
    "chain_where",
    "check_chains_identical",
    "check_chains_valid",
    "holds_phrase",
    "leading_zero_bits",
    "partial_note",
    "reference_server",
    "servers_phrase",
    "short",
    "snapshot_note",
    "txn_problem",
]

GENESIS_PREV = "0" * 64
"""The prev of the block at height 0: there is no previous block to point at."""



def _held_hash(
    chains: Mapping[int, Sequence[Any]], starts: Mapping[int, int], height: int, sid: int
) -> tuple[int, Any] | None:
    """(server, hash field) of the block at `height` in another server's chain than
    `sid`'s, read from the chain the reference rules prefer (from 0, longest, lowest
    id), or None when no other chain holds that height."""
    for other in by_preference(chains, starts):
        start = starts[other]
        if other != sid and start <= height < start + len(chains[other]):
            block = chains[other][height - start]
            return other, block.get("hash") if isinstance(block, dict) else None
    return None


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
    start: int  # the height of its first block
    first_prev: Any  # the hash its first block had to link to
    entries: list[_Judged]
    txns: int
    empty: int
    broken: list[int]  # the positions (heights - start) with problems


def _walk(
    chain: Sequence[Any], before: _Walk | None, judged: defaultdict[int, list[_Judged]],
    difficulty: int, start: int = 0, first_prev: Any = GENESIS_PREV,
) -> _Walk:
    """Judge a chain, height by height from `start`, its first block linked to
    `first_prev`. Its first blocks that are the very same objects as in the chain judged
    before (the simulator's servers share them), from the same start after the same hash,
    come after the same hashes too, so they reuse that chain's judgements wholesale."""
    if before and (before.start != start or before.first_prev != first_prev):
        before = None
    shared = _shared_run(chain, before.chain) if before else 0
    entries = before.entries[:shared] if before else []
    prev_hash: Any = entries[-1].hash if entries else first_prev
    for position in range(shared, len(chain)):
        height = start + position
        entry = _judge(judged[height], chain[position], height, prev_hash, difficulty)
        entries.append(entry)
        prev_hash = entry.hash
    # Tally in C (map, compress): most heights have nothing to report.
    counts = list(map(attrgetter("txn_count"), entries))
    broken = list(compress(count(), map(attrgetter("problems"), entries)))
    return _Walk(chain, start, first_prev, entries, sum(counts), counts.count(0), broken)


def check_chains_valid(chains: Mapping[int, Sequence[dict]], difficulty: int) -> CheckResult:
    """chains_valid: contiguous heights, prev links, recomputed hashes, proof of work and
    well-formed txns, on every server's chain.

    A chain that starts at b > 0 (its server installed a snapshot) is judged from its
    first block, which must be at height b and whose prev must be the hash of block b-1
    in another server's chain; when no server holds block b-1 the chain cannot be linked,
    and the verdict is unknown unless something failed.

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
    starts = chain_starts(chains)
    links: list[str] = []  # how each chain from b > 0 was linked, or why not
    unlinked: list[str] = []
    for sid in sorted(chains):
        chain, start = chains[sid], starts[sid]
        first_prev: Any = GENESIS_PREV
        link = _held_hash(chains, starts, start - 1, sid) if start else None
        if link is not None:
            first_prev = link[1]
            links.append(f"{holds_phrase(sid, start, len(chain))}, linked to server "
                         f"{link[0]}'s block {start - 1}")  # fmt: skip
        elif start:  # judge the rest from its own first link; say it hangs loose
            first_prev = chain[0].get("prev")
            unlinked.append(
                f"{holds_phrase(sid, start, len(chain))}, but no server holds block "
                f"{start - 1}: its first block could not be linked to the chain below"
            )
        same = (walk and walk.start == start and walk.first_prev == first_prev
                and len(chain) == len(walk.chain) == _shared_run(chain, walk.chain))  # fmt: skip
        if not same:
            walk = _walk(chain, walk, judged, difficulty, start, first_prev)
        assert walk is not None
        blocks, txns, empty = blocks + len(chain), txns + walk.txns, empty + walk.empty
        for position in walk.broken:
            for why in walk.entries[position].problems:
                if position == 0 and link is not None and why.startswith("bad prev link"):
                    why = (f"bad prev link: its first block's prev {short(chain[0].get('prev'))} "
                           f"is not the hash of block {start - 1} on server {link[0]} "
                           f"({short(link[1])})")  # fmt: skip
                problems.append(f"server {sid} height {start + position}: {why}")
    if problems:
        return fail(name, problems)
    counted = (
        f"{len(chains)} chain{'s' if len(chains) != 1 else ''} valid at difficulty {difficulty} "
        f"({blocks} blocks, {empty} of them empty; {txns} txns)"
    )
    if unlinked:
        return unknown(name, "; ".join([f"{counted} block by block", *unlinked, *links]))
    return passed(name, "; ".join([counted, *links]))


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
    starts = chain_starts(chains)
    if any(starts.values()):
        return _identical_from_starts(chains, starts, partial)
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


def _identical_from_starts(
    chains: Mapping[int, Sequence[Any]], starts: Mapping[int, int], partial: bool
) -> CheckResult:
    """chains_identical when some chain starts above 0 (its server installed a snapshot):
    chains must agree at every height they share. A chain's missing heights below its
    start are no difference; its tip is judged as any other's (complete run: every tip
    equal; partial run: a chain may end early). Rare, so plainer than the common path."""
    name = "chains_identical"
    sids = sorted(chains)
    spans = [(sid, starts[sid], starts[sid] + len(chains[sid]), chains[sid]) for sid in sids]
    ends = {sid: end for sid, _, end, _ in spans}
    held = "; ".join(holds_phrase(sid, starts[sid], len(chains[sid])) for sid in sids)
    for height in range(min(starts.values()), max(ends.values())):
        present = {sid: chain[height - start] for sid, start, end, chain in spans
                   if start <= height < end}  # fmt: skip
        ended = [sid for sid in sids if ends[sid] <= height]
        if (not ended or partial) and (len(present) < 2 or _all_same(list(present.values()))):
            continue
        groups: dict[str, list[int]] = {}
        for sid, block in present.items():
            groups.setdefault(_block_key(block), []).append(sid)
        if len(groups) < 2 and (not ended or partial):
            continue
        problems = []
        if ended:
            problems.append(f"{held}; {servers_phrase(ended)} "
                            f"{'ends' if len(ended) == 1 else 'end'} below height {height}, "
                            f"which {servers_phrase(sorted(present))} "
                            f"{'holds' if len(present) == 1 else 'hold'}")  # fmt: skip
        if len(groups) > 1:
            shown = "; ".join(f"{servers_phrase(group)} {short(_hash_of(present[group[0]]))}"
                              for group in groups.values())  # fmt: skip
            problems.append(f"first difference at height {height}: {shown}")
        return fail(name, problems)
    top = max(ends.values())
    ahead = [sid for sid in sids if ends[sid] == top]
    head = short(_hash_of(chains[ahead[0]][-1])) if top else "none"
    if len(set(ends.values())) > 1:  # only a partial run gets here
        return passed(
            name,
            f"partial run: chains agree at every height they share; {behind_phrase(chains)}; "
            f"{servers_phrase(ahead)} {'holds' if len(ahead) == 1 else 'hold'} up to height "
            f"{top - 1}, head {head}; {held}",
        )
    return passed(
        name,
        f"{len(sids)} chains agree at every height they share, all up to height {top - 1}, "
        f"head {head}; {held}",
    )


def _hash_of(block: Any) -> Any:
    return block.get("hash") if isinstance(block, dict) else None
