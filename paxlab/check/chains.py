"""Checks that every chain is a valid hash chain and that all servers hold the same one.

Hashes are recomputed here from the documented block format rather than by paxlab.core,
so a bug in the core's hashing cannot hide from the checker, and an outside tool following
the README gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
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
    body = {"height": height, "prev": prev, "txns": txns, "nonce": nonce}
    return hashlib.sha256(_CANONICAL.encode(body).encode()).hexdigest()


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
    if height != position or not _is_int(height):
        problems.append(f"heights not contiguous (height field {height!r}, expected {position})")
    if prev != prev_hash:
        problems.append(f"bad prev link (prev {short(prev)}, previous hash {short(prev_hash)})")
    fields_ok = _is_int(height) and isinstance(prev, str) and isinstance(nonce, str)
    if not (fields_ok and isinstance(txns, list)):
        problems.append("height, prev, txns or nonce missing or of the wrong type")
    elif not isinstance(stored, str) or not _HEX64.fullmatch(stored):
        problems.append(f"hash {stored!r} is not 64 lowercase hex digits")
    else:
        recomputed = block_hash(height, prev, txns, nonce)
        if recomputed != stored:
            problems.append(
                f"hash mismatch (stored {short(stored)}, recomputed {short(recomputed)})"
            )
        elif leading_zero_bits(stored) < difficulty:
            zeros = leading_zero_bits(stored)
            problems.append(f"proof of work too weak ({zeros} leading zero bits < {difficulty})")
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


def check_chains_valid(chains: Mapping[int, Sequence[dict]], difficulty: int) -> CheckResult:
    """chains_valid: contiguous heights, prev links, recomputed hashes, proof of work and
    well-formed txns, on every server's chain.

    Servers mostly hold the same blocks, so a block equal to one already judged at the
    same height after the same previous hash reuses that judgement (`_same_text`) instead
    of hashing it again."""
    name = "chains_valid"
    if not _is_int(difficulty) or not 0 <= difficulty <= 256:
        return fail(name, [f"difficulty {difficulty!r}: expected an integer 0..256"])
    if not chains:
        return fail(name, ["no chains"])
    problems, blocks, empty, txns = [], 0, 0, 0
    judged: dict[tuple[int, Any, str], list[str]] = {}
    # id(block) -> _same_text(block): chains built in memory share one dict per block
    # across servers, so each is rendered once. Every block stays alive meanwhile.
    texts: dict[int, str] = {}
    for sid in sorted(chains):
        prev_hash: Any = GENESIS_PREV
        for position, block in enumerate(chains[sid]):
            text = texts.get(id(block))
            if text is None:
                text = texts[id(block)] = _same_text(block)
            # A str hash stands for itself (a tuple never equals a str): no repr per block.
            prev_key = prev_hash if type(prev_hash) is str else ("text", _same_text(prev_hash))
            key = (position, prev_key, text)
            found = judged.get(key)
            if found is None:
                found = judged[key] = _block_problems(block, position, prev_hash, difficulty)
            for why in found:
                problems.append(f"server {sid} height {position}: {why}")
            prev_hash = block.get("hash") if isinstance(block, dict) else None
            count = len(block.get("txns") or []) if isinstance(block, dict) else 0
            blocks, txns, empty = blocks + 1, txns + count, empty + (count == 0)
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
    for height in range(max(lengths.values())):
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
