"""Blocks of the replicated log: the documented format, its hash recipe, sealing and checks.

The format and recipe are a contract with outside tools (README, "Block format"):
hash = sha256 of json.dumps({"height", "prev", "txns", "nonce"}, sort_keys=True,
separators=(",", ":")), and proof of work means the hash, read as a 256-bit integer,
has at least `difficulty` leading zero bits. Never change either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

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


def _hash_input_parts(height: int, prev: str, txns: tuple[Txn, ...]) -> tuple[bytes, bytes]:
    """The recipe's JSON split around the nonce, so sealing hashes the prefix once."""
    text = json.dumps(
        {"height": height, "prev": prev, "txns": [t.to_dict() for t in txns], "nonce": ""},
        sort_keys=True,
        separators=(",", ":"),
    )
    cut = text.index(_NONCE_MARK) + len(_NONCE_MARK)
    return text[:cut].encode(), text[cut:].encode()


def block_hash(height: int, prev: str, txns: tuple[Txn, ...], nonce: str) -> str:
    """The documented hash recipe, computed from scratch."""
    text = json.dumps(
        {"height": height, "prev": prev, "txns": [t.to_dict() for t in txns], "nonce": nonce},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def meets_difficulty(digest: str, difficulty: int) -> bool:
    """Proof of work: at least `difficulty` leading zero bits in the 256-bit hash."""
    return difficulty <= 0 or int(digest, 16) >> (256 - difficulty) == 0


def seal_block(height: int, prev: str, txns: tuple[Txn, ...], difficulty: int) -> Block:
    """Find the first nonce (0, 1, 2, ...) whose hash meets the difficulty.

    Deterministic on purpose: the same inputs seal the same block, which keeps
    simulated runs reproducible. The JSON prefix before the nonce is hashed once and
    copied per attempt; nonces are decimal digits, which JSON never escapes.
    """
    prefix, suffix = _hash_input_parts(height, prev, txns)
    base = hashlib.sha256(prefix)
    limit = 1 << (256 - difficulty) if difficulty > 0 else None
    nonce = 0
    while True:
        candidate = base.copy()
        candidate.update(str(nonce).encode() + suffix)
        if limit is None or int.from_bytes(candidate.digest(), "big") < limit:
            return Block(
                height=height, prev=prev, txns=txns, nonce=str(nonce), hash=candidate.hexdigest()
            )
        nonce += 1


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
