"""wire.py without sockets: keys, the handshake, sealed frames, the frame reader, payloads."""

from __future__ import annotations

import json
import struct

import pytest

from paxlab.cluster import payload
from paxlab.cluster.payload import (
    EnvelopeEncoder,
    admin_payload,
    decode_payload,
    envelope_payload,
    reply_payload,
)
from paxlab.cluster.wire import (
    FRAME_BYTES_MAX,
    NONCE_BYTES,
    TAG_BYTES,
    Acceptor,
    AcceptorRefused,
    Connector,
    FrameReader,
    Session,
    WireError,
    derive_keys,
    frame,
    role_of,
)
from paxlab.core.chain import GENESIS_PREV, Block, Txn
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot
from paxlab.core.messages import Accept, ClientRequest, Envelope, Heartbeat

KEYS = derive_keys(b"secret" * 6)


def body(data: bytes) -> bytes:
    """The body of one frame (strip the length)."""
    (length,) = struct.unpack(">I", data[:4])
    assert length == len(data) - 4
    return data[4:]


def handshake(connector: Connector, acceptor: Acceptor) -> tuple[Session, Session]:
    challenge = acceptor.on_hello(body(connector.hello()))
    confirm, client_side = connector.on_challenge(body(challenge))
    return client_side, acceptor.on_confirm(body(confirm))


def test_keys_differ_by_role_and_secret_and_are_stable() -> None:
    keys = derive_keys(b"one")
    assert len({keys.server, keys.client, keys.admin}) == 3
    assert derive_keys(b"one") == keys
    assert derive_keys(b"two").server != keys.server
    assert derive_keys(None) == derive_keys(b"paxlab-no-secret")
    assert repr(keys.server) not in repr(keys)  # keys never end up in a log line


def test_roles_of_node_ids() -> None:
    assert [role_of(n) for n in ("s0", "c7", "admin")] == ["server", "client", "admin"]
    for bad in ("x1", "s01", "", "administrator"):
        with pytest.raises(RemoteError):
            role_of(bad)


def test_handshake_gives_matching_sessions_both_ways() -> None:
    client, server = handshake(Connector(KEYS, "c3", "s0"), Acceptor(KEYS, "s0", 3))
    assert (client.peer, server.peer, server.role) == ("s0", "c3", "client")
    for a, b in ((client, server), (server, client)):
        for i in range(3):
            payload = f"hello {i}".encode()
            assert b.open(body(a.seal(payload))) == payload


def test_sessions_are_fresh_each_handshake() -> None:
    one, _ = handshake(Connector(KEYS, "s1", "s0"), Acceptor(KEYS, "s0", 3))
    _, two = handshake(Connector(KEYS, "s1", "s0"), Acceptor(KEYS, "s0", 3))
    with pytest.raises(WireError, match="bad tag"):
        two.open(body(one.seal(b"x")))  # a frame from an old session does not replay


def test_replayed_or_reordered_or_tampered_frame_fails() -> None:
    client, server = handshake(Connector(KEYS, "c3", "s0"), Acceptor(KEYS, "s0", 3))
    first, second = body(client.seal(b"one")), body(client.seal(b"two"))
    with pytest.raises(WireError, match="bad tag"):
        server.open(second)  # reordered
    client, server = handshake(Connector(KEYS, "c3", "s0"), Acceptor(KEYS, "s0", 3))
    first = body(client.seal(b"one"))
    assert server.open(first) == b"one"
    with pytest.raises(WireError, match="bad tag"):
        server.open(first)  # replayed
    tampered = bytearray(body(client.seal(b"two")))
    tampered[0] ^= 1
    with pytest.raises(WireError, match="bad tag"):
        server.open(bytes(tampered))
    with pytest.raises(WireError, match="no payload"):
        server.open(b"x" * TAG_BYTES)


def test_directions_have_different_keys() -> None:
    client, _ = handshake(Connector(KEYS, "c3", "s0"), Acceptor(KEYS, "s0", 3))
    with pytest.raises(WireError):
        client.open(body(client.seal(b"reflected")))  # our own frame sent back to us


@pytest.mark.parametrize("claimed", ["c3", "s1", "admin"])
def test_wrong_key_fails_both_sides(claimed: str) -> None:
    """A connector with the wrong secret learns the acceptor did not prove its key; the
    acceptor refuses its confirm."""
    connector, acceptor = Connector(derive_keys(b"wrong"), claimed, "s0"), Acceptor(KEYS, "s0", 3)
    challenge = acceptor.on_hello(body(connector.hello()))
    with pytest.raises(AcceptorRefused, match="did not prove") as caught:
        connector.on_challenge(body(challenge))
    confirm = caught.value.confirm
    with pytest.raises(WireError, match="did not prove"):
        acceptor.on_confirm(body(confirm))
    assert acceptor.claimed == claimed


def test_client_key_claiming_to_be_a_server_fails() -> None:
    client_only = derive_keys(b"secret" * 6)
    forged = type(client_only)(server=client_only.client, client=client_only.client,
                               admin=client_only.client)
    connector, acceptor = Connector(forged, "s1", "s0"), Acceptor(KEYS, "s0", 3)
    challenge = acceptor.on_hello(body(connector.hello()))
    with pytest.raises(WireError):
        connector.on_challenge(body(challenge))


@pytest.mark.parametrize("hello, reason", [
    ({"v": 1, "node": "s3", "to": "s0"}, "unknown sender"),  # out of range for 3 servers
    ({"v": 1, "node": "x1", "to": "s0"}, "unknown sender"),
    ({"v": 1, "node": "s0", "to": "s0"}, "claims to be me"),
    ({"v": 1, "node": "c1", "to": "s1"}, "addressed to"),
    ({"v": 2, "node": "c1", "to": "s0"}, "version"),
    ({"v": 1, "node": 5, "to": "s0"}, "string"),
    ({"v": 1, "node": "c1", "to": "s0", "nonce": "zz"}, "nonce"),
])
def test_acceptor_refuses_bad_hellos(hello: dict, reason: str) -> None:
    hello.setdefault("nonce", "00" * NONCE_BYTES)
    with pytest.raises(WireError, match=reason):
        Acceptor(KEYS, "s0", 3).on_hello(json.dumps(hello).encode())


@pytest.mark.parametrize("junk", [b"\xff\xfe", b"[1, 2]", b"null", b"{" * 10000])
def test_acceptor_refuses_junk(junk: bytes) -> None:
    with pytest.raises(WireError):
        Acceptor(KEYS, "s0", 3).on_hello(junk)


def test_confirm_before_hello_and_connector_talking_to_the_wrong_server() -> None:
    with pytest.raises(WireError, match="before hello"):
        Acceptor(KEYS, "s0", 3).on_confirm(b"{}")
    connector = Connector(KEYS, "c1", "s1")
    wrong = Acceptor(KEYS, "s0", 3)
    hello = json.loads(body(connector.hello()))
    hello["to"] = "s0"  # the address of s1 is really s0's
    challenge = wrong.on_hello(json.dumps(hello).encode())
    with pytest.raises(WireError, match="answered as 's0'"):
        connector.on_challenge(body(challenge))


def test_frame_reader_splits_and_joins_chunks() -> None:
    stream = frame(b"a") + frame(b"bc" * 100) + frame(b"d")
    for size in (1, 3, 7, len(stream)):
        reader = FrameReader()
        out: list[bytes] = []
        for i in range(0, len(stream), size):
            out += reader.feed(stream[i : i + size])
        assert out == [b"a", b"bc" * 100, b"d"]
        assert reader.pending == 0
    reader = FrameReader()
    assert reader.feed(frame(b"abc")[:5]) == [] and reader.pending == 5


def test_frame_reader_refuses_zero_and_oversized_lengths_at_once() -> None:
    with pytest.raises(WireError, match="length 0"):
        FrameReader().feed(b"\0\0\0\0")
    with pytest.raises(WireError, match=str(FRAME_BYTES_MAX + 1)):
        FrameReader().feed(struct.pack(">I", FRAME_BYTES_MAX + 1))  # no body needed
    with pytest.raises(WireError):
        FrameReader(limit=10).feed(frame(b"x" * 11))


def test_frame_reader_returns_good_frames_before_a_bad_length() -> None:
    reader = FrameReader()
    assert reader.feed(frame(b"ok") + b"\0\0\0\0") == [b"ok"]
    assert reader.broken is not None
    with pytest.raises(WireError):
        reader.feed(b"")


def test_frame_reader_pop_one_at_a_time() -> None:
    reader = FrameReader()
    reader.push(frame(b"one") + frame(b"two")[:3])
    assert reader.pop() == b"one"
    assert reader.pop() is None
    reader.push(frame(b"two")[3:])
    assert reader.pop() == b"two"


def test_payloads_round_trip_and_refuse_unknown_tags() -> None:
    envelope = Envelope(source="c1", target="s0", message=ClientRequest(
        client=1, seq=2, op="put", key="'k'", value="[1, 2]"))
    assert decode_payload(envelope_payload(envelope)) == (b"E", envelope)
    assert decode_payload(admin_payload({"cmd": "status"})) == (b"A", {"cmd": "status"})
    assert decode_payload(reply_payload({"ok": True})) == (b"R", {"ok": True})
    for bad in (b"X{}", b"", b"A[1]", b"E{}", b"Rnot json"):
        with pytest.raises(RemoteError):
            decode_payload(bad)


def test_the_encoder_gives_envelope_payload_bytes_and_encodes_a_broadcast_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    block = Block(height=0, prev=GENESIS_PREV, txns=(
        Txn(client=1, seq=1, op="put", key="'k\u00e9'", value='{"a": [1, 2]}'),),
        nonce="0", hash="ab" * 32)
    messages = [
        ClientRequest(client=1, seq=2, op="get", key="('x', \"y\")", value=None),
        Accept(ballot=Ballot(3, 1), slot=0, block=block, commit_index=0),
        Heartbeat(ballot=Ballot(1, 0), commit_index=5),
    ]
    encoder = EnvelopeEncoder()
    for message in messages:
        for target in ("s0", "s2", "c17"):
            envelope = Envelope(source="s1", target=target, message=message)
            assert encoder.payload(envelope) == envelope_payload(envelope)
    calls: list[object] = []
    real = payload.encode_message
    monkeypatch.setattr(payload, "encode_message", lambda m: calls.append(m) or real(m))
    for target in ("s0", "s2", "s3", "s4"):
        encoder.payload(Envelope(source="s1", target=target, message=messages[1]))
    assert calls == [messages[1]]
