"""Blocks: the documented hash recipe, sealing (proof of work) and verification."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core.chain import (
    GENESIS_PREV,
    Block,
    Txn,
    block_hash,
    meets_difficulty,
    seal_block,
    verify_block,
)
from paxlab.core.errors import RemoteError

T1 = Txn(client=1, seq=1, op="put", key="'x'", value="1")
T2 = Txn(client=2, seq=7, op="get", key="'y'", value=None)


def by_hand(height: int, prev: str, txns: list[dict], nonce: str) -> str:
    """README, "Block format": sha256 of the sorted, compact JSON of the four fields."""
    text = json.dumps(
        {"height": height, "prev": prev, "txns": txns, "nonce": nonce},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def leading_zero_bits(digest: str) -> int:
    return 256 - int(digest, 16).bit_length()


# --- the recipe -----------------------------------------------------------------------


def test_hash_is_the_documented_recipe_byte_for_byte() -> None:
    block = seal_block(3, "a" * 64, (T1, T2), difficulty=6)
    text = (
        '{"height":3,"nonce":"' + block.nonce + '","prev":"' + "a" * 64 + '","txns":['
        '{"client":1,"key":"\'x\'","op":"put","seq":1,"value":"1"},'
        '{"client":2,"key":"\'y\'","op":"get","seq":7,"value":null}]}'
    )
    assert block.hash == hashlib.sha256(text.encode()).hexdigest()
    assert block.hash == by_hand(3, "a" * 64, [T1.to_dict(), T2.to_dict()], block.nonce)
    assert block.hash == block_hash(3, "a" * 64, (T1, T2), block.nonce)


def test_empty_block_and_genesis_prev() -> None:
    block = seal_block(0, GENESIS_PREV, (), difficulty=0)
    assert GENESIS_PREV == "0" * 64
    assert block.nonce == "0"  # difficulty 0: the first nonce always does
    assert block.hash == by_hand(0, GENESIS_PREV, [], "0")
    verify_block(block, 0)


def test_txn_order_is_part_of_the_hash() -> None:
    assert block_hash(0, GENESIS_PREV, (T1, T2), "0") != block_hash(0, GENESIS_PREV, (T2, T1), "0")


# --- sealing --------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", [0, 1, 4, 8, 10])
def test_seal_then_verify_round_trip(difficulty: int) -> None:
    block = seal_block(5, "b" * 64, (T1,), difficulty)
    verify_block(block, difficulty)
    assert leading_zero_bits(block.hash) >= difficulty
    assert (block.height, block.prev, block.txns) == (5, "b" * 64, (T1,))
    assert Block.from_dict(json.loads(json.dumps(block.to_dict()))) == block


def test_sealing_is_deterministic_and_finds_the_first_nonce() -> None:
    first = seal_block(2, "c" * 64, (T1, T2), 8)
    assert seal_block(2, "c" * 64, (T1, T2), 8) == first
    nonce = int(first.nonce)
    assert first.nonce == str(nonce)
    for smaller in range(nonce):
        digest = block_hash(2, "c" * 64, (T1, T2), str(smaller))
        assert not meets_difficulty(digest, 8), f"nonce {smaller} would have done"


def test_meets_difficulty_counts_leading_zero_bits() -> None:
    digest = "0f" + "f" * 62  # exactly 4 leading zero bits
    assert meets_difficulty(digest, 0)
    assert meets_difficulty(digest, 4)
    assert not meets_difficulty(digest, 5)
    assert meets_difficulty("0" * 64, 256)


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(0, 10_000),
    prev=st.text("0123456789abcdef", min_size=64, max_size=64),
    items=st.lists(
        st.tuples(st.integers(0, 99), st.integers(1, 99), st.text(max_size=8),
                  st.one_of(st.none(), st.text(max_size=8))),
        max_size=4,
    ),
    difficulty=st.integers(0, 6),
)
def test_any_sealed_block_verifies(
    height: int, prev: str, items: list, difficulty: int
) -> None:
    txns = tuple(
        Txn(client=c, seq=s, op="get" if v is None else "put", key=repr(k),
            value=None if v is None else repr(v))
        for c, s, k, v in items
    )
    block = seal_block(height, prev, txns, difficulty)
    verify_block(block, difficulty)
    assert block.hash == by_hand(height, prev, [t.to_dict() for t in txns], block.nonce)


# --- tampering ------------------------------------------------------------------------

SEALED = seal_block(4, "d" * 64, (T1, T2), 8)


@pytest.mark.parametrize(
    "change",
    [
        {"txns": (T1,)},
        {"txns": (dataclasses.replace(T1, value="2"), T2)},
        {"txns": (T2, T1)},
        {"hash": "f" + SEALED.hash[1:]},
        {"nonce": str(int(SEALED.nonce) + 1)},
        {"prev": "e" * 64},
        {"height": 5},
    ],
    ids=["txn-removed", "txn-value", "txn-order", "hash", "nonce", "prev", "height"],
)
def test_tampered_block_raises_remote_error(change: dict) -> None:
    verify_block(SEALED, 8)
    tampered = dataclasses.replace(SEALED, **change)
    with pytest.raises(RemoteError, match="does not match"):
        verify_block(tampered, 8)


def test_weak_proof_of_work_raises_remote_error() -> None:
    weak = seal_block(0, GENESIS_PREV, (T1,), difficulty=0)
    assert leading_zero_bits(weak.hash) < 8  # nonce 0 happens to be a weak hash
    verify_block(weak, 0)
    with pytest.raises(RemoteError, match="leading zero bits"):
        verify_block(weak, 8)


# --- dict form and txn validation -----------------------------------------------------


def test_block_dict_round_trip() -> None:
    assert Block.from_dict(SEALED.to_dict()) == SEALED
    assert SEALED.to_dict()["txns"][1] == {
        "client": 2, "seq": 7, "op": "get", "key": "'y'", "value": None,
    }


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("nonce"),
        lambda d: d.update(extra=1),
        lambda d: d.update(height=True),
        lambda d: d.update(height=-1),
        lambda d: d.update(height="4"),
        lambda d: d.update(hash="abc"),
        lambda d: d.update(prev=None),
        lambda d: d.update(nonce=5),
        lambda d: d.update(txns={}),
        lambda d: d.update(txns=[{"client": 1}]),
        lambda d: d.update(txns=["x"]),
        lambda d: d["txns"][0].update(client=True),
        lambda d: d["txns"][0].update(seq=False),
        lambda d: d["txns"][0].update(client="1"),
        lambda d: d["txns"][0].update(op="del"),
        lambda d: d["txns"][0].update(value=None),
        lambda d: d["txns"][1].update(value="3"),
        lambda d: d["txns"][0].update(key=1),
    ],
)
def test_malformed_block_dicts_raise_remote_error(mutate) -> None:
    data = json.loads(json.dumps(SEALED.to_dict()))
    mutate(data)
    with pytest.raises(RemoteError):
        Block.from_dict(data)


def test_txn_rejects_bools_as_ints() -> None:
    # JSON true is a Python bool, which is an int: a txn from {"client": true} would be
    # deduplicated against client 1 by the KV table (True == 1) while hashing differently.
    with pytest.raises(RemoteError):
        Txn(client=True, seq=1, op="get", key="'a'", value=None)
    with pytest.raises(RemoteError):
        Txn(client=1, seq=True, op="get", key="'a'", value=None)


def test_request_id_and_describe() -> None:
    assert T2.request_id == (2, 7)
    assert SEALED.describe() == f"#4 {SEALED.hash[:6]} txns=2"
