"""The codec's shortcut for hot messages (`paxlab.core._codec_fast`) against the generic path.

The shortcut must write the very bytes `json.dumps` of the schema's dict form writes, and
must accept and refuse exactly what the generic decoder does, with the same error text
(it hands anything it doubts to the generic decoder). Each test compares the two over
generated messages, odd strings and odd Python values, and broken frames.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core import _codec_fast
from paxlab.core import codec as codec_module
from paxlab.core import messages as m
from paxlab.core.chain import Block, Txn
from paxlab.core.codec import (
    _decode_envelope_json,
    _encode_envelope_json,
    decode_envelope,
    encode_envelope,
    encode_message,
    message_to_dict,
)
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot, NodeId
from tests.core.test_codec import JSON, MALFORMED, SAMPLES, replace_one_value

HOT = (m.Accept, m.Accepted, m.Heartbeat, m.HeartbeatAck, m.Reject, m.Prepare,
       m.ClientRequest, m.ClientReply, m.Redirect)
HOT_SAMPLES = [s for s in SAMPLES if type(s) in HOT]

# Text as hostile as Python allows: any code point, lone surrogates, quotes, controls.
TEXT = st.text(st.characters(codec="utf-8") | st.characters(min_codepoint=0xD800,
                                                            max_codepoint=0xDFFF)
               | st.sampled_from('"\\/\b\f\n\r\t\x00\x7f\u2028\ufeff'), max_size=12)
INTS = st.integers(0, 3) | st.integers(0, 2**70)
ANY_INTS = INTS | st.integers(-(2**70), -1)
BALLOTS = st.builds(Ballot, INTS, INTS)


@st.composite
def txns(draw: Any) -> Txn:
    op = draw(st.sampled_from(["put", "get"]))
    return Txn(client=draw(ANY_INTS), seq=draw(ANY_INTS), op=op, key=draw(TEXT),
               value=draw(TEXT) if op == "put" else None)


@st.composite
def blocks(draw: Any) -> Block:
    digest = st.text("0123456789abcdef", min_size=64, max_size=64) | st.text(
        min_size=64, max_size=64)
    return Block(height=draw(INTS), prev=draw(digest), txns=tuple(draw(st.lists(txns(),
                 max_size=4))), nonce=draw(TEXT), hash=draw(digest))


@st.composite
def requests(draw: Any) -> m.ClientRequest:
    op = draw(st.sampled_from(["put", "get"]))
    return m.ClientRequest(client=draw(ANY_INTS), seq=draw(st.integers(1, 2**70)), op=op,
                           key=draw(TEXT), value=draw(TEXT) if op == "put" else None,
                           nominate=draw(st.booleans()))


@st.composite
def accepts(draw: Any) -> m.Accept:
    block = draw(blocks())
    return m.Accept(ballot=draw(BALLOTS), slot=block.height, block=block,
                    commit_index=draw(ANY_INTS))


OPT_TEXT = st.none() | TEXT
MESSAGES = st.one_of(
    accepts(),
    st.builds(m.Accepted, ballot=BALLOTS, slot=ANY_INTS, block_hash=TEXT),
    st.builds(m.Heartbeat, ballot=BALLOTS, commit_index=ANY_INTS),
    st.builds(m.HeartbeatAck, ballot=BALLOTS, commit_index=ANY_INTS),
    st.builds(m.Reject, ballot=BALLOTS),
    st.builds(m.Prepare, ballot=BALLOTS, from_slot=INTS),
    requests(),
    st.builds(m.ClientReply, client=ANY_INTS, seq=ANY_INTS,
              outcome=st.sampled_from(["ok", "fail"]), value=OPT_TEXT, error=OPT_TEXT),
    st.builds(m.Redirect, client=ANY_INTS, seq=ANY_INTS, leader_hint=st.none() | ANY_INTS),
)
ADDRESSES = st.sampled_from(["s0", "s1", "s12", "c0", "c7", "c123456789"])


def outcome(decode: Any, data: bytes) -> tuple[Any, ...]:
    """What a decoder made of `data`: the envelope, or the error's type and text."""
    try:
        return ("ok", decode(data))
    except RemoteError as error:
        return ("error", type(error).__name__, str(error))


def assert_same_decoding(data: bytes) -> tuple[Any, ...]:
    fast, generic = outcome(decode_envelope, data), outcome(_decode_envelope_json, data)
    assert fast == generic
    return fast


@settings(max_examples=600, deadline=None)
@given(message=MESSAGES, source=ADDRESSES, target=ADDRESSES)
def test_hot_messages_encode_to_the_same_bytes_and_decode_back(
    message: m.Message, source: str, target: str
) -> None:
    envelope = m.Envelope(source=NodeId(source), target=NodeId(target), message=message)
    data = encode_envelope(envelope)
    assert data == _encode_envelope_json(envelope)
    assert encode_message(message) == json.dumps(message_to_dict(message),
                                                 separators=(",", ":")).encode()
    assert data.isascii()
    status, decoded = assert_same_decoding(data)
    assert status == "ok"
    # JSON itself joins a pair of lone surrogates into one character; all else comes back.
    assert decoded == envelope or re.search(r"\\ud[89ab]", data.decode())
    assert encode_envelope(decoded) == _encode_envelope_json(decoded)


@settings(max_examples=100, deadline=None)
@given(message=MESSAGES, source=TEXT, target=TEXT)
def test_any_address_text_encodes_the_same(message: m.Message, source: str, target: str) -> None:
    envelope = m.Envelope(source=NodeId(source), target=NodeId(target), message=message)
    assert encode_envelope(envelope) == _encode_envelope_json(envelope)
    assert_same_decoding(encode_envelope(envelope))


class Flag(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


ODD_VALUES: dict[str, m.Message] = {
    # Values a type hint does not stop: json.dumps writes them its own way (true, 1.5,
    # the IntEnum's int), so the shortcut must leave them to it.
    "bool-commit": m.Heartbeat(ballot=Ballot(1, 0), commit_index=True),
    "float-slot": m.Accepted(ballot=Ballot(1, 0), slot=1.5, block_hash="ab"),  # type: ignore[arg-type]
    "intenum-round": m.Reject(ballot=Ballot(Flag.ONE, 0)),
    "bool-ballot": m.Prepare(ballot=Ballot(True, False), from_slot=0),
    "str-subclass-key": m.ClientRequest(client=1, seq=1, op="get", key=Text("k"), value=None),
    "bool-client": m.ClientReply(client=False, seq=1, outcome="ok", value=None),
    "bool-hint": m.Redirect(client=1, seq=1, leader_hint=True),
    "huge-int": m.Heartbeat(ballot=Ballot(1, 0), commit_index=10**5000),
    "list-txns": m.Accept(ballot=Ballot(1, 0), slot=0, commit_index=0, block=Block(
        height=0, prev="0" * 64, txns=[Txn(client=1, seq=1, op="get", key="k", value=None)],  # type: ignore[arg-type]
        nonce="0", hash="f" * 64)),
    "bool-txn-seq": m.Accept(ballot=Ballot(1, 0), slot=0, commit_index=0, block=Block(
        height=0, prev="0" * 64, txns=(Txn(client=1, seq=2, op="get", key="k", value=None),),
        nonce=Text("0"), hash="f" * 64)),
    "nominate-int": m.ClientRequest(client=1, seq=1, op="get", key="k", value=None,
                                    nominate=1),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("message", ODD_VALUES.values(), ids=ODD_VALUES.keys())
def test_odd_python_values_encode_as_json_dumps_does(message: m.Message) -> None:
    envelope = m.Envelope(source=NodeId("s1"), target=NodeId("s0"), message=message)
    try:
        expected: Any = _encode_envelope_json(envelope)
    except ValueError as error:  # the huge int: both refuse it the same way
        with pytest.raises(ValueError, match=re.escape(str(error))):
            encode_envelope(envelope)
        return
    assert encode_envelope(envelope) == expected
    assert _codec_fast.encode_message(message) is None  # the generic path wrote it


def test_the_shortcut_is_taken_for_every_hot_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, the comparisons above could pass with the shortcut never used."""
    assert {type(s) for s in HOT_SAMPLES} == set(HOT)
    frames = {type(s).__name__: encode_envelope(m.Envelope(source=NodeId("c4"),
                                                           target=NodeId("s0"), message=s))
              for s in HOT_SAMPLES}

    def refuse(*_args: Any) -> Any:
        raise AssertionError("the generic path ran")

    monkeypatch.setattr(codec_module, "message_to_dict", refuse)
    monkeypatch.setattr(codec_module, "message_from_dict", refuse)
    for sample in HOT_SAMPLES:
        envelope = m.Envelope(source=NodeId("c4"), target=NodeId("s0"), message=sample)
        assert decode_envelope(encode_envelope(envelope)) == envelope
    assert len(frames) == len(HOT)


# --- broken and unusual frames --------------------------------------------------------

GOOD = encode_envelope(m.Envelope(source=NodeId("s1"), target=NodeId("s0"),
                                  message=SAMPLES[3]))  # an Accept
REQUEST = encode_envelope(m.Envelope(source=NodeId("c4"), target=NodeId("s0"),
                                     message=SAMPLES[9]))


def block_edit(**changes: Any) -> bytes:
    data = json.loads(GOOD)
    data["msg"]["block"].update(changes)
    return json.dumps(data, separators=(",", ":")).encode()


UNUSUAL: dict[str, bytes] = {
    # Valid JSON that json.loads takes although we never write it: both must take it.
    "trailing-space": GOOD + b" \n",
    "leading-space": b" " + GOOD,
    "utf16": GOOD.decode().encode("utf-16"),
    "utf8-bom": b"\xef\xbb\xbf" + GOOD,
    "raw-utf8-text": REQUEST.replace(b"'k'", "'\u00e9\u4e2d\U0001f600'".encode()),
    "encoded-surrogate": REQUEST.replace(b"'k'", b"'\xed\xa0\x80'"),
    "duplicate-key": REQUEST.replace(b'{"type"', b'{"seq":99,"type"'),
    "spaces-inside": json.dumps(json.loads(GOOD)).encode(),
    # Broken: both must refuse, with the same words.
    "trailing-junk": GOOD + b"x",
    "two-frames": GOOD + GOOD,
    "cut-short": GOOD[:-1],
    "bad-utf8": REQUEST.replace(b"'k'", b"'\xff'"),
    "nan-slot": GOOD.replace(b'"slot":2', b'"slot":NaN'),
    "float-slot": GOOD.replace(b'"slot":2', b'"slot":2.0'),
    "exp-slot": GOOD.replace(b'"slot":2', b'"slot":2e0'),
    "big-slot": GOOD.replace(b'"slot":2', b'"slot":' + b"9" * 5000),
    "control-char": REQUEST.replace(b"'k'", b"'\x01'"),
    "negative-ballot": GOOD.replace(b'"ballot":[3,1]', b'"ballot":[-3,1]'),
    "ballot-three": GOOD.replace(b'"ballot":[3,1]', b'"ballot":[3,1,0]'),
    "msg-extra-key": GOOD.replace(b'{"type"', b'{"extra":1,"type"'),
    "txn-extra-key": GOOD.replace(b'{"client"', b'{"x":0,"client"'),
    "prev-short": block_edit(prev="ab"),
    "prev-int": block_edit(prev=7),
    "hash-long": block_edit(hash="0" * 65),
    "hash-null": block_edit(hash=None),
    "height-negative": block_edit(height=-2),
    "height-and-slot-negative": block_edit(height=-2).replace(b'"slot":2', b'"slot":-2'),
    "height-bool": block_edit(height=True),
    "nonce-int": block_edit(nonce=1),
    "txns-object": block_edit(txns={}),
    "txn-not-object": block_edit(txns=[[1, 2, "get", "k", None]]),
    "op-put-null-value": REQUEST.replace(b'"value":"\'v\'"', b'"value":null'),
    "block-extra-key": GOOD.replace(b'{"height"', b'{"x":0,"height"'),
    "nominate-null": REQUEST.replace(b'"nominate":true', b'"nominate":null'),
    "op-null": REQUEST.replace(b'"op":"put"', b'"op":null'),
    "op-list": REQUEST.replace(b'"op":"put"', b'"op":["put"]'),
    "unhashable-type": GOOD.replace(b'"type":"Accept"', b'"type":["Accept"]'),
    "src-first-bad": GOOD.replace(b'"src":"s1"', b'"src":"x1"'),
    "dst-int": GOOD.replace(b'"dst":"s0"', b'"dst":0'),
}


@pytest.mark.parametrize("data", [*MALFORMED.values(), *UNUSUAL.values()],
                         ids=[*MALFORMED.keys(), *UNUSUAL.keys()])
def test_broken_and_unusual_frames_decode_as_before(data: bytes) -> None:
    assert_same_decoding(data)


def test_broken_frames_are_still_remote_errors() -> None:
    for name in ("trailing-junk", "two-frames", "cut-short", "bad-utf8", "nan-slot",
                 "float-slot", "big-slot", "control-char", "negative-ballot", "msg-extra-key",
                 "nominate-null", "op-list", "unhashable-type", "src-first-bad", "dst-int"):
        with pytest.raises(RemoteError):
            decode_envelope(UNUSUAL[name])
    for name in ("trailing-space", "utf16", "raw-utf8-text", "encoded-surrogate"):
        decode_envelope(UNUSUAL[name])  # json.loads takes these, so the codec does too


@settings(max_examples=400, deadline=None)
@given(message=st.sampled_from(HOT_SAMPLES), path_pick=st.integers(0, 10_000), replacement=JSON)
def test_any_single_field_replacement_decodes_as_before(
    message: m.Message, path_pick: int, replacement: Any
) -> None:
    data = json.loads(encode_envelope(m.Envelope(source=NodeId("c4"), target=NodeId("s0"),
                                                 message=message)))
    replace_one_value(data, path_pick, replacement)
    assert_same_decoding(json.dumps(data, separators=(",", ":")).encode())


@settings(max_examples=400, deadline=None)
@given(message=MESSAGES, cut=st.integers(0, 2000), byte=st.integers(0, 255),
       insert=st.booleans())
def test_any_byte_changed_decodes_as_before(
    message: m.Message, cut: int, byte: int, insert: bool
) -> None:
    data = encode_envelope(m.Envelope(source=NodeId("s2"), target=NodeId("c3"),
                                      message=message))
    at = cut % (len(data) + 1)
    changed = data[:at] + bytes([byte]) + data[at + (0 if insert else 1):]
    assert_same_decoding(changed)
    assert_same_decoding(data[:at])
