"""The wire format: every message round-trips, and bad bytes only ever raise RemoteError."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core import messages as m
from paxlab.core.codec import SCHEMA, decode_envelope, encode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot, NodeId, node_kind, node_number
from paxlab.core.snapshot import Snapshot
from tests.core.scripted import blocks, txn

B = Ballot(3, 1)
CHAIN = blocks((txn(1, 1),), (), (txn(2, 1, value=None), txn(1, 2, "'z'", "[1, 2]")))

SAMPLES: list[m.Message] = [
    m.Prepare(ballot=B, from_slot=2),
    m.Promise(
        ballot=B, from_slot=1, commit_index=3,
        accepted=(m.AcceptedEntry(slot=2, ballot=Ballot(2, 0), block=CHAIN[2]),),
        decided=(CHAIN[1], CHAIN[2]),
    ),
    m.Promise(ballot=B, from_slot=0, commit_index=0, accepted=(), decided=()),
    m.Accept(ballot=B, slot=2, block=CHAIN[2], commit_index=1),
    m.Accepted(ballot=B, slot=2, block_hash=CHAIN[2].hash),
    m.Reject(ballot=Ballot(9, 2)),
    m.Heartbeat(ballot=B, commit_index=0),
    m.HeartbeatAck(ballot=B, commit_index=4),
    m.CatchUp(blocks=tuple(CHAIN)),
    m.ClientRequest(client=4, seq=1, op="put", key="'k'", value="'v'", nominate=True),
    m.ClientRequest(client=4, seq=2, op="get", key="'k'", value=None),
    m.ClientReply(client=4, seq=2, outcome="ok", value=None),
    m.ClientReply(client=4, seq=3, outcome="fail", value="'v'", error="nope"),
    m.Redirect(client=4, seq=2, leader_hint=None),
    m.Redirect(client=4, seq=2, leader_hint=0),
    m.PreVote(ballot=B, commit_index=2),
    m.PreVoteReply(ballot=B, granted=True, max_round=3),
    m.PreVoteReply(ballot=B, granted=False, max_round=0),
    m.InstallSnapshot(snapshot=Snapshot(
        height=2, tip=CHAIN[1].hash, kv=(("'a'", "1"), ("'b'", "'x'")),
        clients=((1, ((1, 4), (6, 9)), 9, None), (2, ((1, 1),), 1, "'x'")))),
]


def frame(message: m.Message, src: str = "s1", dst: str = "s0") -> bytes:
    return encode_envelope(m.Envelope(source=NodeId(src), target=NodeId(dst), message=message))


def test_samples_cover_every_wire_message() -> None:
    assert {type(s) for s in SAMPLES} == set(SCHEMA)
    assert not set(SCHEMA) & m.LOCAL


@pytest.mark.parametrize("message", SAMPLES, ids=lambda s: type(s).__name__)
def test_every_wire_message_round_trips(message: m.Message) -> None:
    envelope = m.Envelope(source=NodeId("c12"), target=NodeId("s0"), message=message)
    data = encode_envelope(envelope)
    assert decode_envelope(data) == envelope
    assert encode_envelope(decode_envelope(data)) == data  # one byte form per value


@pytest.mark.parametrize("local", sorted(m.LOCAL, key=lambda c: c.__name__))
def test_local_messages_refuse_to_encode(local: type[m.Message]) -> None:
    fields = {
        m.Submit: {"op": "get", "key": "'k'", "value": None},
        m.RequestTimeout: {"seq": 1, "attempt": 1},
    }.get(local, {})
    with pytest.raises(RemoteError, match="local"):
        encode_envelope(m.Envelope(source=NodeId("s0"), target=NodeId("s0"),
                                   message=local(**fields)))


# --- malformed frames -----------------------------------------------------------------


def as_json(message: m.Message) -> dict[str, Any]:
    return json.loads(frame(message))


def edit(message: m.Message, **changes: Any) -> bytes:
    data = as_json(message)
    for key, value in changes.items():
        if value is ...:
            del data["msg"][key]
        else:
            data["msg"][key] = value
    return json.dumps(data).encode()


def top(**changes: Any) -> bytes:
    data = as_json(SAMPLES[0])
    data.update(changes)
    return json.dumps(data).encode()


PREPARE, PROMISE, ACCEPT = SAMPLES[0], SAMPLES[1], SAMPLES[3]
CATCHUP, REQUEST, REPLY = SAMPLES[8], SAMPLES[9], SAMPLES[11]
GOOD_BLOCK = CHAIN[0].to_dict()

MALFORMED: dict[str, bytes] = {
    "not-json": b"{nope",
    "not-utf8": b"\xff\xfe{}",
    "empty": b"",
    "json-list": b"[1, 2]",
    "json-number": b"7",
    "huge-int": b'{"src":"s1","dst":"s0","msg":{"type":"Prepare","ballot":[1,0],"from_slot":'
                + b"1" * 5000 + b"}}",
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "missing-msg": json.dumps({"src": "s1", "dst": "s0"}).encode(),
    "extra-top-key": top(hmac="x"),
    "msg-not-object": top(msg=[1]),
    "src-int": top(src=1),
    "dst-null": top(dst=None),
    "bad-address-letter": top(src="x1"),
    "bad-address-bare": top(dst="s"),
    "bad-address-negative": top(src="s-1"),
    "bad-address-space": top(src="s 1"),
    "bad-address-superscript": top(src="s\u00b2"),
    "bad-address-arabic-digit": top(dst="s\u0661"),
    "bad-address-leading-zero": top(dst="s01"),
    "bad-address-huge": top(src="s" + "1" * 5000),
    "unknown-type": edit(PREPARE, type="Propose"),
    "local-type": edit(PREPARE, type="ElectionTimeout"),
    "missing-type": edit(PREPARE, type=...),
    "type-list": edit(PREPARE, type=["Prepare"]),
    "type-object": edit(PREPARE, type={"a": 1}),
    "type-int": edit(PREPARE, type=1),
    "missing-field": edit(PREPARE, from_slot=...),
    "extra-field": edit(PREPARE, to_slot=4),
    "int-as-string": edit(PREPARE, from_slot="2"),
    "int-as-float": edit(PREPARE, from_slot=2.0),
    "bool-as-int": edit(PREPARE, from_slot=True),
    "int-as-bool": edit(REQUEST, nominate=1),
    "negative-from-slot": edit(PREPARE, from_slot=-1),
    "ballot-short": edit(PREPARE, ballot=[1]),
    "ballot-object": edit(PREPARE, ballot={"round": 1, "replica": 0}),
    "ballot-bool": edit(PREPARE, ballot=[True, 0]),
    "ballot-negative": edit(PREPARE, ballot=[1, -2]),
    "ballot-string": edit(PREPARE, ballot="3.1"),
    "block-short-hash": edit(ACCEPT, block={**CHAIN[2].to_dict(), "hash": "ab"}),
    "block-missing-nonce": edit(ACCEPT, block={k: v for k, v in GOOD_BLOCK.items()
                                               if k != "nonce"}),
    "block-height-bool": edit(ACCEPT, slot=0, block={**GOOD_BLOCK, "height": False}),
    "block-not-object": edit(ACCEPT, block="block"),
    "txn-client-bool": edit(ACCEPT, slot=0, block={
        **GOOD_BLOCK, "txns": [{**GOOD_BLOCK["txns"][0], "client": True}]}),
    "txn-bad-op": edit(ACCEPT, slot=0, block={
        **GOOD_BLOCK, "txns": [{**GOOD_BLOCK["txns"][0], "op": "cas"}]}),
    "accept-height-vs-slot": edit(ACCEPT, slot=1),
    "entries-not-list": edit(PROMISE, accepted={}),
    "entry-short": edit(PROMISE, accepted=[[2, [2, 0]]]),
    "entry-slot-vs-height": edit(PROMISE, accepted=[[1, [2, 0], CHAIN[2].to_dict()]]),
    "entry-slot-bool": edit(PROMISE, accepted=[[True, [2, 0], CHAIN[1].to_dict()]]),
    "promise-decided-gap": edit(PROMISE, decided=[CHAIN[1].to_dict(), CHAIN[0].to_dict()]),
    "catchup-not-contiguous": edit(CATCHUP, blocks=[CHAIN[0].to_dict(), CHAIN[2].to_dict()]),
    "catchup-empty": edit(CATCHUP, blocks=[]),
    "catchup-not-list": edit(CATCHUP, blocks=CHAIN[0].to_dict()),
    "request-bad-op": edit(REQUEST, op="delete"),
    "request-get-with-value": edit(SAMPLES[10], value="1"),
    "request-put-without-value": edit(REQUEST, value=None),
    "request-seq-zero": edit(REQUEST, seq=0),
    "request-key-int": edit(REQUEST, key=5),
    "reply-bad-outcome": edit(REPLY, outcome="maybe"),
    "reply-error-int": edit(REPLY, error=3),
    "redirect-hint-string": edit(SAMPLES[13], leader_hint="s0"),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frames_raise_remote_error(data: bytes) -> None:
    with pytest.raises(RemoteError):
        decode_envelope(data)


def test_node_addresses() -> None:
    assert [node_kind("s0"), node_kind("c17")] == ["server", "client"]
    assert node_number("s12") == 12
    bad_addresses = ["", "s", "c", "x0", "s-1", "s1.0", "s\u00b2", "s\u0661", "s01", "S1",
                     "c" + "9" * 5000]
    for bad in bad_addresses:
        with pytest.raises(RemoteError):
            node_kind(bad)
        with pytest.raises(RemoteError):
            node_number(bad)


# --- fuzzing --------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=6,
)


def replace_one_value(data: Any, path_pick: int, replacement: Any) -> None:
    """Replace the value at one place (picked by `path_pick`) in a JSON tree, in place."""
    slots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        keys = node.keys() if isinstance(node, dict) else range(len(node))
        for key in list(keys):
            slots.append((node, key))
            if isinstance(node[key], dict | list):
                walk(node[key])

    walk(data)
    parent, key = slots[path_pick % len(slots)]
    parent[key] = replacement


@settings(max_examples=300, deadline=None)
@given(
    message=st.sampled_from(SAMPLES),
    path_pick=st.integers(0, 10_000),
    replacement=JSON,
)
def test_any_single_field_replacement_decodes_or_raises_remote_error(
    message: m.Message, path_pick: int, replacement: Any
) -> None:
    """Replace one value anywhere in a valid frame's JSON tree with random JSON."""
    data = as_json(message)
    replace_one_value(data, path_pick, replacement)
    try:
        decoded = decode_envelope(json.dumps(data).encode())
    except RemoteError:
        return
    assert decode_envelope(encode_envelope(decoded)) == decoded


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_raise_remote_error_only(data: bytes) -> None:
    with contextlib.suppress(RemoteError):
        decode_envelope(data)
