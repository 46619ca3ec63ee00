"""Blocks of the replicated log: the documented format, its hash recipe, sealing and checks.

The format and recipe are a contract with outside tools (README, "Block format"):
hash = sha256 of json.dumps({"height", "prev", "txns", "nonce"}, sort_keys=True,
separators=(",", ":")), and proof of work means the hash, read as a 256-bit integer,
has at least `difficulty` leading zero bits. Never change either.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any, Literal

from paxlab.core._fast_init import fast_init
from paxlab.core.errors import RemoteError

__all__ = [
    "GENESIS_PREV",
    "Block",
    "Txn",
    "block_hash",
    "meets_difficulty",
    "seal_block",
    "verify_block",
]

GENESIS_PREV = "0" * 64
_NONCE_MARK = '"nonce":"'
_json_string = json.encoder.encode_basestring_ascii  # what json.dumps escapes strs with


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Txn:
    """One client operation inside a block; (client, seq) identifies it for exactly-once."""

    client: int
    seq: int
    op: Literal["put", "get"]
    key: str  # repr of a Python literal
    value: str | None  # repr of a Python literal for put; None for get

    def __post_init__(self) -> None:
        if not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (self.client, self.seq)
        ):
            raise RemoteError(f"txn client and seq must be ints (not bools): {self!r}")
        if self.op not in ("put", "get"):
            raise RemoteError(f"txn op must be put or get, got {self.op!r}")
        if not isinstance(self.key, str):
            raise RemoteError(f"txn key must be a repr string, got {self.key!r}")
        if self.op == "put" and not isinstance(self.value, str):
            raise RemoteError(f"put txn needs a repr string value, got {self.value!r}")
        if self.op == "get" and self.value is not None:
            raise RemoteError(f"get txn must have value null, got {self.value!r}")

    @property
    def request_id(self) -> tuple[int, int]:
        """The (client, seq) pair that makes retries idempotent."""
        return (self.client, self.seq)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "seq": self.seq,
            "op": self.op,
            "key": self.key,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Txn:
        if not isinstance(data, dict) or set(data) != {"client", "seq", "op", "key", "value"}:
            raise RemoteError(f"malformed txn: {data!r}")
        return cls(**data)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A sealed block. `hash` is as received: call `verify_block` before trusting it."""

    height: int
    prev: str
    txns: tuple[Txn, ...]
    nonce: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "prev": self.prev,
            "txns": [txn.to_dict() for txn in self.txns],
            "nonce": self.nonce,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Block:
        if not isinstance(data, dict) or set(data) != {"height", "prev", "txns", "nonce", "hash"}:
            raise RemoteError(f"malformed block: {data!r}")
        height, prev, txns, nonce, digest = (
            data["height"], data["prev"], data["txns"], data["nonce"], data["hash"],
        )
        if not isinstance(height, int) or isinstance(height, bool) or height < 0:
            raise RemoteError(f"block height must be an int >= 0, got {height!r}")
        for name, text in (("prev", prev), ("hash", digest)):
            if not isinstance(text, str) or len(text) != 64:
                raise RemoteError(f"block {name} must be 64 hex digits, got {text!r}")
        if not isinstance(nonce, str) or not isinstance(txns, list):
            raise RemoteError(f"block nonce must be a str and txns a list: {data!r}")
        return cls(
            height=height,
            prev=prev,
            txns=tuple(Txn.from_dict(t) for t in txns),
            nonce=nonce,
            hash=digest,
        )

    def describe(self) -> str:
        return f"#{self.height} {self.hash[:6]} txns={len(self.txns)}"


def _recipe_text_json(height: int, prev: str, txns: tuple[Txn, ...], nonce: str) -> str:
    """The recipe's JSON as README words it: json.dumps, keys sorted, no spaces."""
    return json.dumps(
        {"height": height, "prev": prev, "txns": [t.to_dict() for t in txns], "nonce": nonce},
        sort_keys=True,
        separators=(",", ":"),
    )


def _recipe_text(height: int, prev: str, txns: tuple[Txn, ...], nonce: str) -> str:
    """The same text as `_recipe_text_json`, built without json.dumps (performance.md).

    Written out in sorted key order with json's own string escaper; ints are formatted
    as json formats them. Anything but exact ints and strs takes the json.dumps path, so
    the output is byte-identical for any input (a test compares the two).
    """
    if type(height) is not int or type(prev) is not str or type(nonce) is not str:
        return _recipe_text_json(height, prev, txns, nonce)
    parts = []
    for t in txns:
        if type(t.client) is not int or type(t.seq) is not int:
            return _recipe_text_json(height, prev, txns, nonce)
        value = "null" if t.value is None else _json_string(t.value)
        parts.append(f'{{"client":{t.client},"key":{_json_string(t.key)},'
                     f'"op":{_json_string(t.op)},"seq":{t.seq},"value":{value}}}')
    return (f'{{"height":{height},"nonce":{_json_string(nonce)},"prev":{_json_string(prev)},'
            f'"txns":[{",".join(parts)}]}}')


def _hash_input_parts(height: int, prev: str, txns: tuple[Txn, ...]) -> tuple[bytes, bytes]:
    """The recipe's JSON split around the nonce, so sealing hashes the prefix once."""
    text = _recipe_text(height, prev, txns, "")
    cut = text.index(_NONCE_MARK) + len(_NONCE_MARK)
    return text[:cut].encode(), text[cut:].encode()


def block_hash(height: int, prev: str, txns: tuple[Txn, ...], nonce: str) -> str:
    """The documented hash recipe, computed from scratch."""
    return hashlib.sha256(_recipe_text(height, prev, txns, nonce).encode()).hexdigest()


def meets_difficulty(digest: str, difficulty: int) -> bool:
    """Proof of work: at least `difficulty` leading zero bits in the 256-bit hash."""
    return difficulty <= 0 or int(digest, 16) >> (256 - difficulty) == 0


def seal_block(height: int, prev: str, txns: tuple[Txn, ...], difficulty: int) -> Block:
    """Find the first nonce (0, 1, 2, ...) whose hash meets the difficulty.

    Deterministic on purpose: the same inputs seal the same block, which keeps
    simulated runs reproducible. The JSON prefix before the nonce is hashed once and
    copied per attempt, and the nonce's digits and the fixed suffix go in as two updates
    (nonces are decimal digits, which JSON never escapes). Sorted keys put the nonce
    second, so the prefix is short and the suffix (prev, txns) is hashed per nonce: the
    recipe fixes that. The digest is compared as bytes with the big-endian bound, which
    orders exactly like the 256-bit integers, without building an int per attempt.
    """
    prefix, suffix = _hash_input_parts(height, prev, txns)
    base = hashlib.sha256(prefix)
    if difficulty <= 0:
        base.update(b"0" + suffix)
        return Block(height=height, prev=prev, txns=txns, nonce="0", hash=base.hexdigest())
    limit = (1 << (256 - difficulty)).to_bytes(32, "big")
    for nonce in itertools.count():
        candidate = base.copy()
        candidate.update(b"%d" % nonce)
        candidate.update(suffix)
        if candidate.digest() < limit:
            return Block(
                height=height, prev=prev, txns=txns, nonce=str(nonce), hash=candidate.hexdigest()
            )
    raise AssertionError("unreachable: itertools.count() never ends")


def verify_block(block: Block, difficulty: int) -> None:
    """Raise RemoteError unless the block's hash matches the recipe and meets the difficulty."""
    expected = block_hash(block.height, block.prev, block.txns, block.nonce)
    if expected != block.hash:
        raise RemoteError(
            f"block {block.height}: hash {block.hash[:12]} does not match contents "
            f"(recomputed {expected[:12]})"
        )
    if not meets_difficulty(block.hash, difficulty):
        raise RemoteError(
            f"block {block.height}: hash {block.hash[:12]} lacks {difficulty} leading zero bits"
        )
