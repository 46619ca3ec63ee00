"""One block against the README's block format: the hash recipe, proof of work, and
well-formed txns.

The recipe is recomputed here from the documented format rather than by paxlab.core, so a
bug in the core's hashing cannot hide from the checker, and an outside tool following
the README gets the same answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any

__all__ = [
    "block_hash",
    "block_problems",
    "is_int",
    "leading_zero_bits",
    "short",
    "txn_problem",
]

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


@functools.cache
def _pow_bound(difficulty: int) -> str:
    """The text a 64-digit lowercase hex hash must sort below to have at least `difficulty`
    leading zero bits: 2**(256 - difficulty) in 64 hex digits ("g", above every digit, at
    difficulty 0). "" (nothing sorts below it) outside 0..256: the careful rules judge."""
    if not 0 <= difficulty <= 256:
        return ""
    return format(1 << (256 - difficulty), "064x") if difficulty else "g"


def leading_zero_bits(hash_hex: str) -> int:
    """Leading zero bits of a 256-bit hash; proof of work at difficulty D needs >= D."""
    return 256 - int(hash_hex, 16).bit_length()


def short(hash_hex: Any) -> str:
    """A hash cut to 8 characters, enough to tell hashes apart in a message."""
    return f"{hash_hex[:8]}.." if isinstance(hash_hex, str) else repr(hash_hex)


def is_int(value: Any) -> bool:
    """An integer but not a bool: True == 1 in Python, yet JSON tells them apart."""
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
        if not is_int(txn.get(name)):
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


def block_problems(block: Any, position: int, prev_hash: Any, difficulty: int) -> list[str]:
    """Every rule the block at `position` breaks, given the previous block's hash."""
    if not isinstance(block, dict):
        return ["not a JSON object"]
    height, prev, txns = block.get("height"), block.get("prev"), block.get("txns")
    nonce, stored = block.get("nonce"), block.get("hash")
    # Nearly every block is sound and of plain types: accept it with exact-type tests, one
    # hash and one string comparison (no regex, no int parse), without calls to the rules
    # below. A hash equal to a hexdigest is 64 lowercase hex digits, and for those, text
    # order is number order (_pow_bound). Anything else takes the rules, which name it.
    if (type(height) is int and height == position and type(prev) is str
            and prev == prev_hash and type(nonce) is str and type(txns) is list
            and type(stored) is str and type(difficulty) is int):  # fmt: skip
        txns_json = _plain_txns_json(txns)
        if txns_json is not None:
            text = (f'{{"height":{height},"nonce":{_json_str(nonce)},"prev":{_json_str(prev)},'
                    f'"txns":{txns_json}}}')  # fmt: skip
            if (hashlib.sha256(text.encode()).hexdigest() == stored
                    and stored < _pow_bound(difficulty)):  # fmt: skip
                return []
    problems = []
    # Not None only when every txn is well formed, so it spares the txn rules below too.
    txns_json = _plain_txns_json(txns) if type(txns) is list else None
    height_ok = is_int(height)
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
