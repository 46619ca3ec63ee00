"""Checks that every chain is a valid hash chain and that all servers hold the same one.

Hashes are recomputed here from the documented block format rather than by paxlab.core,
so a bug in the core's hashing cannot hide from the checker, and an outside tool following
the README gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, count
from json.encoder import encode_basestring_ascii as _json_str
from operator import attrgetter
from typing import Any

from paxlab.check.verdict import CheckResult, fail, passed

__all__ = [
    "GENESIS_PREV",
    "block_hash",
    "check_chains_identical",
    "check_chains_valid",
    "leading_zero_bits",
    "reference_server",
    "servers_phrase",
    "short",
    "txn_problem",
]

GENESIS_PREV = "0" * 64
"""The prev of the block at height 0: there is no previous block to point at."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_OPS = ("put", "get")
# json.dumps(body, sort_keys=True, separators=(",", ":")) builds this encoder on every
# call; the simulator checks hundreds of blocks per seed, so build it once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def block_hash(height: int, prev: str, txns: list, nonce: str) -> str:
    """The block hash recipe from the README: sha256 of the canonical JSON of the other
    four fields (keys sorted, no spaces)."""
    return hashlib.sha256(_recipe_json(height, prev, txns, nonce).encode()).hexdigest()


def _recipe_json(
    height: Any, prev: Any, txns: Any, nonce: Any, txns_json: str | None = None
) -> str:
    """The README recipe's JSON text, byte for byte. A block of plain JSON types (and
    txns_json, or txns that _plain_txns_json can write) is written out directly: the
    json module's encoder sorts every dict's keys, tracks cycles and runs Python glue on
    each call, and that was most of chains_valid's cost. Anything else goes through
    json itself, so odd types (bools, floats, subclasses, extra fields) hash as before.
    A test compares the two on tricky inputs."""
    if txns_json is None and type(txns) is list:
        txns_json = _plain_txns_json(txns)
    if txns_json is not None and type(height) is int and type(prev) is str and (
        type(nonce) is str
    ):
        # Keys in sorted order; an int prints as json prints it (int.__repr__), and
        # encode_basestring_ascii is the escaping json.dumps itself uses for strings.
        return (f'{{"height":{height},"nonce":{_json_str(nonce)},"prev":{_json_str(prev)},'
                f'"txns":{txns_json}}}')  # fmt: skip
    return _CANONICAL.encode({"height": height, "prev": prev, "txns": txns, "nonce": nonce})


def _plain_txns_json(txns: list) -> str | None:
    """The recipe's JSON text of a txns list, when every txn is a well-formed put or get
    (txn_problem finds nothing) with exactly the five fields, each of its plain type
    (dict, int, str, None); else None, and the caller takes the careful way."""
    parts = []
    for txn in txns:
        if type(txn) is not dict or len(txn) != 5:
            return None
        try:  # five fields, all of them present: exactly the five (cheaper than a set test)
            client, seq, op, key, value = (
                txn["client"], txn["seq"], txn["op"], txn["key"], txn["value"]
            )  # fmt: skip
        except KeyError:
            return None
        if not (type(client) is int and type(seq) is int and type(key) is str
                and type(op) is str):  # fmt: skip
            return None
        if op == "put" and type(value) is str:
            shown = _json_str(value)
        elif op == "get" and value is None:
            shown = "null"
        else:
            return None
        parts.append(f'{{"client":{client},"key":{_json_str(key)},"op":"{op}",'
                     f'"seq":{seq},"value":{shown}}}')  # fmt: skip
    return f"[{','.join(parts)}]"


def leading_zero_bits(hash_hex: str) -> int:
    """Leading zero bits of a 256-bit hash; proof of work at difficulty D needs >= D."""
    return 256 - int(hash_hex, 16).bit_length()


def short(hash_hex: Any) -> str:
    """A hash cut to 8 characters, enough to tell hashes apart in a message."""
    return f"{hash_hex[:8]}.." if isinstance(hash_hex, str) else repr(hash_hex)


def servers_phrase(server_ids: Sequence[int]) -> str:
    """Say "server 1" or "servers 0, 2", so messages read naturally for one or many."""
    ids = ", ".join(str(s) for s in server_ids)
    return f"server {ids}" if len(server_ids) == 1 else f"servers {ids}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def txn_problem(txn: Any) -> str | None:
    """Why a txn is malformed, or None. A get reads, so it carries no value."""
    if not isinstance(txn, dict):
        return "not a JSON object"
    # Nearly every txn is a well-formed one of plain types: accept it with these few
    # exact tests, and leave anything else to the rules below, which name the problem.
    op, key = txn.get("op"), txn.get("key")
    if type(txn.get("client")) is int and type(txn.get("seq")) is int and (
        type(key) is str and type(op) is str
    ):
        if op == "put" and type(txn.get("value")) is str:
            return None
        if op == "get" and "value" in txn and txn["value"] is None:
            return None
    for name in ("client", "seq"):
        if not _is_int(txn.get(name)):
            return f"{name} = {txn.get(name)!r}: expected an integer"
    op = txn.get("op")
    if op not in _OPS:
        return f"op = {op!r}: expected put or get"
    if not isinstance(txn.get("key"), str):
        return f"key = {txn.get('key')!r}: expected a string"
    if "value" not in txn:
        return "missing field 'value'"
    value = txn["value"]
    if op == "get" and value is not None:
        return f"get with value {value!r}: expected null"
    if op == "put" and not isinstance(value, str):
        return f"put with value {value!r}: expected a string"
    return None


def _block_problems(block: Any, position: int, prev_hash: Any, difficulty: int) -> list[str]:
    """Every rule the block at `position` breaks, given the previous block's hash."""
    if not isinstance(block, dict):
        return ["not a JSON object"]
    problems = []
    height, prev, txns = block.get("height"), block.get("prev"), block.get("txns")
    nonce, stored = block.get("nonce"), block.get("hash")
    # Not None only when every txn is well formed, so it spares the txn rules below too.
    txns_json = _plain_txns_json(txns) if type(txns) is list else None
    height_ok = _is_int(height)
    if height != position or not height_ok:
        problems.append(f"heights not contiguous (height field {height!r}, expected {position})")
    if prev != prev_hash:
        problems.append(f"bad prev link (prev {short(prev)}, previous hash {short(prev_hash)})")
    fields_ok = height_ok and isinstance(prev, str) and isinstance(nonce, str)
    if not (fields_ok and isinstance(txns, list)):
        problems.append("height, prev, txns or nonce missing or of the wrong type")
    elif not isinstance(stored, str) or not _HEX64.fullmatch(stored):
        problems.append(f"hash {stored!r} is not 64 lowercase hex digits")
    else:
        text = _recipe_json(height, prev, txns, nonce, txns_json)
        recomputed = hashlib.sha256(text.encode()).hexdigest()
        if recomputed != stored:
            problems.append(
                f"hash mismatch (stored {short(stored)}, recomputed {short(recomputed)})"
            )
        elif leading_zero_bits(stored) < difficulty:
            zeros = leading_zero_bits(stored)
            problems.append(f"proof of work too weak ({zeros} leading zero bits < {difficulty})")
    if txns_json is None:
        for i, txn in enumerate(txns if isinstance(txns, list) else []):
            why = txn_problem(txn)
            if why:
                problems.append(f"txn {i} malformed: {why}")
    return problems


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
        problems = _block_problems(block, position, prev_hash, difficulty)
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
    if not _is_int(difficulty) or not 0 <= difficulty <= 256:
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


def check_chains_identical(chains: Mapping[int, Sequence[dict]]) -> CheckResult:
    """chains_identical: all chains equal block for block. A chain that is a strict prefix
    of another fails too: every server should have learned every committed block."""
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
        if len(present) == len(sids) and _all_same(list(present.values())):
            continue
        groups: dict[str, list[int]] = {}
        for sid, block in present.items():
            groups.setdefault(_block_key(block), []).append(sid)
        if len(groups) == 1 and len(present) == len(sids):
            continue
        problems = []
        if len(present) < len(sids):
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
    head = chains[sids[0]][-1].get("hash") if lengths[sids[0]] else None
    return passed(
        name,
        f"{len(sids)} chains identical: {lengths[sids[0]]} blocks each, head {short(head)}",
    )


def reference_server(chains: Mapping[int, Sequence[dict]]) -> int | None:
    """The chain that write checks read: the longest, the lowest server id on a tie (so
    equal chains always give server min id). None when there are no chains."""
    if not chains:
        return None
    return min(chains, key=lambda sid: (-len(chains[sid]), sid))
