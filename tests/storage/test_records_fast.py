"""`encode_record` writes its records directly: the bytes must be json.dumps's, always.

The record file's format is documented (docs/storage.md) and read by outside tools, so
the direct path is held equal to `json.dumps(record_to_dict(record))` over generated
records with hostile strings and huge ints, and over Python values a type hint does not
stop (which must take the json.dumps path and come out exactly as before).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core.chain import Block, Txn
from paxlab.core.codec import block_json
from paxlab.core.ids import Ballot
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record
from paxlab.storage.records import decode_record, encode_record, record_to_dict
from tests.core.test_codec_fast import BALLOTS, Flag, Text, blocks


def generic(record: Record) -> bytes:
    return json.dumps(record_to_dict(record), separators=(",", ":")).encode("ascii")


@st.composite
def records(draw: Any) -> Record:
    block = draw(blocks())
    kind = draw(st.sampled_from(["promised", "accepted", "decided"]))
    if kind == "promised":
        return PromisedRecord(ballot=draw(BALLOTS))
    if kind == "accepted":
        return AcceptedRecord(slot=block.height, ballot=draw(BALLOTS), block=block)
    return DecidedRecord(block=block)


@settings(max_examples=200, deadline=None)
@given(record=records())
def test_records_encode_as_json_dumps_does(record: Record) -> None:
    data = encode_record(record)
    assert data == generic(record)
    assert encode_record(decode_record(data)) == data


@settings(max_examples=100, deadline=None)
@given(block=blocks())
def test_block_json_is_json_dumps_of_the_dict_form(block: Block) -> None:
    assert block_json(block) == json.dumps(block.to_dict(), separators=(",", ":"))


TXN = Txn(client=1, seq=2, op="put", key="'k'", value="'v'")
BLOCK = Block(height=3, prev="0" * 64, txns=(TXN,), nonce="7", hash="f" * 64)
ODD: dict[str, Record] = {
    "bool-slot": AcceptedRecord(slot=True, ballot=Ballot(1, 0), block=BLOCK),
    "intenum-ballot": PromisedRecord(ballot=Ballot(Flag.ONE, 0)),
    "bool-ballot": AcceptedRecord(slot=3, ballot=Ballot(1, False), block=BLOCK),
    "str-subclass-nonce": DecidedRecord(block=Block(height=3, prev="0" * 64, txns=(TXN,),
                                                    nonce=Text("7"), hash="f" * 64)),
    "list-txns": DecidedRecord(block=Block(height=3, prev="0" * 64, txns=[TXN],  # type: ignore[arg-type]
                                           nonce="7", hash="f" * 64)),
    "intenum-txn-client": DecidedRecord(block=Block(height=3, prev="0" * 64, nonce="7",
                                                    hash="f" * 64, txns=(Txn(
                                                        client=Flag.ONE, seq=2, op="get",
                                                        key="k", value=None),))),
}


@pytest.mark.parametrize("record", ODD.values(), ids=ODD.keys())
def test_odd_values_encode_as_before(record: Record) -> None:
    assert encode_record(record) == generic(record)


def test_huge_ints_are_refused_as_before() -> None:
    record = PromisedRecord(ballot=Ballot(10**5000, 0))
    with pytest.raises(ValueError) as generic_error:
        generic(record)
    with pytest.raises(ValueError) as direct_error:
        encode_record(record)
    assert str(direct_error.value) == str(generic_error.value)
