"""The cluster's wire format, sans I/O: keys, the 3-frame handshake, sealed frames, payloads.

Everything here (and in payload.py, what a sealed frame carries) turns bytes into bytes or
values and raises WireError on bad input, so it is tested without sockets and the
transport only moves bytes. Nothing received is ever unpickled or evaluated: handshake
frames and payloads are JSON, checked field by field.

Frames are a 4-byte big-endian length (1 .. FRAME_BYTES_MAX) and a body. Handshake bodies
are JSON objects. After the handshake every body is `payload + tag`, where the tag is
HMAC-SHA256 under the direction's session key over (the direction's frame counter,
payload): a frame that is forged, replayed, reordered or cut short fails its tag.

Handshake (the connector dials, the acceptor listens; k = the connector's role key):
1. connector -> acceptor  {"v", "node", "to", "nonce": Nc}
2. acceptor -> connector  {"v", "node", "nonce": Na, "proof": HMAC(k, "accept" | T)}
3. connector -> acceptor  {"proof": HMAC(k, "connect" | T)}
where T binds both fresh nonces and both node ids. Each side proves it holds k, under
its own label so no proof can be reflected; session keys per direction come from k and T.
The acceptor checks the claimed node against the role's rules before anything else and,
on any failure, closes without saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

from paxlab.core.errors import RemoteError
from paxlab.core.ids import node_parts

__all__ = [
    "FRAME_BYTES_MAX",
    "HANDSHAKE_BYTES_MAX",
    "LINK_CHARS",
    "NONCE_BYTES",
    "TAG_BYTES",
    "Acceptor",
    "AcceptorRefused",
    "Connector",
    "FrameReader",
    "Keys",
    "Opener",
    "Role",
    "Sealer",
    "Session",
    "WireError",
    "derive_keys",
    "frame",
    "json_object",
    "role_of",
]

FRAME_BYTES_MAX = 4 * 1024 * 1024  # a frame body; 128 catch-up blocks fit many times over
HANDSHAKE_BYTES_MAX = 1024  # handshake frames are tiny; junk is refused early
NONCE_BYTES = 32
LINK_CHARS = 12  # hex digits of a session's link name: 48 bits, unique enough per pair
TAG_BYTES = 32
VERSION = 1
NO_SECRET = b"paxlab-no-secret"

Role = Literal["server", "client", "admin"]
_LENGTH = struct.Struct(">I")
_COUNTER = struct.Struct(">Q")


class WireError(RemoteError):
    """A peer sent bytes that break the wire rules (bad length, bad tag, bad handshake).

    The connection is closed; the peer is not told why."""


class AcceptorRefused(WireError):
    """The acceptor is not who we dialed, or did not prove our role's key (a wrong
    secret on one side). `confirm` is our confirm frame all the same: sent before
    closing, it makes the failed attempt show in the acceptor's log."""

    def __init__(self, message: str, confirm: bytes) -> None:
        super().__init__(message)
        self.confirm = confirm


@dataclass(frozen=True, slots=True)
class Keys:
    """One key per role, all from one secret: holding the client key gives neither the
    server key (forging protocol messages) nor the admin key (running admin commands)."""

    server: bytes = field(repr=False)
    client: bytes = field(repr=False)
    admin: bytes = field(repr=False)

    def for_role(self, role: Role) -> bytes:
        return {"server": self.server, "client": self.client, "admin": self.admin}[role]


def derive_keys(secret: bytes | None) -> Keys:
    """The three role keys, HMAC-SHA256(secret, "paxlab/<role>"). Without a secret the
    keys are public (servers then listen on loopback only)."""
    base = secret if secret is not None else NO_SECRET

    def key(role: str) -> bytes:
        return hmac.digest(base, f"paxlab/{role}".encode(), "sha256")

    return Keys(server=key("server"), client=key("client"), admin=key("admin"))


def role_of(node: str) -> Role:
    """Which role a node id speaks for: "sN" server, "cN" client, "admin" admin."""
    if node == "admin":
        return "admin"
    return node_parts(node)[0]  # RemoteError if it is neither


def frame(body: bytes) -> bytes:
    """A length-prefixed frame."""
    return _LENGTH.pack(len(body)) + body


class FrameReader:
    """Splits a byte stream into frame bodies. A zero or oversized length is a WireError
    as soon as its 4 bytes arrive: nothing is buffered for a frame that will be refused.
    `limit` may change between frames (the handshake's is small)."""

    def __init__(self, limit: int = FRAME_BYTES_MAX) -> None:
        self.limit = limit
        self.broken: WireError | None = None  # a bad length seen after good frames
        self._buffer = bytearray()

    def push(self, data: bytes) -> None:
        self._buffer += data

    def pop(self) -> bytes | None:
        """The next whole frame body, or None until more bytes come."""
        buffer = self._buffer
        if len(buffer) < 4:
            return None
        (length,) = _LENGTH.unpack_from(buffer, 0)
        if length == 0 or length > self.limit:
            raise WireError(f"frame length {length} outside 1..{self.limit}")
        if len(buffer) - 4 < length:
            return None
        body = bytes(buffer[4 : 4 + length])
        del buffer[: 4 + length]
        return body

    def feed(self, data: bytes) -> list[bytes]:
        """Push `data` and pop every whole frame, in one pass over the buffer. Frames
        before a bad length are returned; the bad length is raised by the next call, or
        at once when no frame came before it."""
        if self.broken is not None:
            raise self.broken
        buffer = self._buffer
        if not buffer and len(data) > 4:  # the usual case: exactly one whole frame
            (length,) = _LENGTH.unpack_from(data, 0)
            if len(data) == 4 + length and length <= self.limit:
                return [data[4:]]
        buffer += data
        bodies: list[bytes] = []
        start = 0
        end = len(buffer)
        limit = self.limit
        while end - start >= 4:
            (length,) = _LENGTH.unpack_from(buffer, start)
            if length == 0 or length > limit:
                self.broken = WireError(f"frame length {length} outside 1..{limit}")
                break
            if end - start - 4 < length:
                break
            bodies.append(bytes(buffer[start + 4 : start + 4 + length]))
            start += 4 + length
        if start:
            del buffer[:start]
        if self.broken is not None and not bodies:
            raise self.broken
        return bodies

    def clear(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame (a peer that closes mid-frame leaves some)."""
        return len(self._buffer)


class Sealer:
    """Tags outgoing payloads for one direction; its counter makes each tag single-use."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.counter = 0

    def seal(self, payload: bytes) -> bytes:
        """One frame: length, payload, tag over (counter, payload)."""
        tag = hmac.digest(self._key, _COUNTER.pack(self.counter) + payload, "sha256")
        self.counter += 1
        return _LENGTH.pack(len(payload) + TAG_BYTES) + payload + tag


class Opener:
    """Checks incoming frame bodies for one direction, in order."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.counter = 0

    def open(self, body: bytes) -> bytes:
        if len(body) <= TAG_BYTES:
            raise WireError(f"sealed frame of {len(body)} bytes has no payload")
        payload, tag = body[:-TAG_BYTES], body[-TAG_BYTES:]
        expected = hmac.digest(self._key, _COUNTER.pack(self.counter) + payload, "sha256")
        if not hmac.compare_digest(tag, expected):
            raise WireError(f"bad tag on frame {self.counter} (forged, replayed or reordered)")
        self.counter += 1
        return payload


@dataclass(slots=True)
class Session:
    """An authenticated connection's state: who the peer is, and one key per direction."""

    peer: str  # the authenticated node id of the other side
    role: Role  # the connector's role (the key both sides used)
    sealer: Sealer
    opener: Opener
    # Names this connection at both ends (a hash of the handshake transcript): with a
    # direction's frame counter it names one frame, so the two ends' message records
    # can be joined without putting anything more on the wire (cluster/msgrecord.py).
    link: str = ""

    def seal(self, payload: bytes) -> bytes:
        return self.sealer.seal(payload)

    def open(self, body: bytes) -> bytes:
        return self.opener.open(body)


def _transcript(nonce_c: bytes, nonce_a: bytes, node_c: str, node_a: str) -> bytes:
    return b"paxlab-wire-1\0" + nonce_c + nonce_a + f"{node_c}\0{node_a}".encode()


def _mac(key: bytes, label: bytes, transcript: bytes) -> bytes:
    return hmac.digest(key, label + b"\0" + transcript, "sha256")


def _session(key: bytes, transcript: bytes, peer: str, role: Role, *, connector: bool) -> Session:
    c2a, a2c = _mac(key, b"c2a", transcript), _mac(key, b"a2c", transcript)
    send, receive = (c2a, a2c) if connector else (a2c, c2a)
    link = hashlib.sha256(transcript).hexdigest()[:LINK_CHARS]
    return Session(peer=peer, role=role, sealer=Sealer(send), opener=Opener(receive),
                   link=link)


def json_object(body: bytes, what: str) -> dict[str, Any]:
    """`body` as a JSON object, or WireError naming `what` (never anything but JSON)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise WireError(f"{what} is not JSON") from error
    if not isinstance(value, dict):
        raise WireError(f"{what} is not a JSON object")
    return value


def _hex_field(data: dict[str, Any], name: str, size: int, what: str) -> bytes:
    value = data.get(name)
    if not isinstance(value, str) or len(value) != 2 * size:
        raise WireError(f"{what}: {name} must be {size} bytes of hex")
    try:
        return bytes.fromhex(value)
    except ValueError as error:
        raise WireError(f"{what}: {name} is not hex") from error


class Connector:
    """The dialing side of a handshake: `hello()`, then `on_challenge(body)` returns the
    confirm frame and the session. AcceptorRefused if the acceptor is not `target` or
    did not prove the key; WireError if its challenge is malformed."""

    def __init__(self, keys: Keys, me: str, target: str, nonce: bytes | None = None) -> None:
        self.role = role_of(me)
        self.key = keys.for_role(self.role)
        self.me = me
        self.target = target
        self.nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)

    def hello(self) -> bytes:
        body = {"v": VERSION, "node": self.me, "to": self.target, "nonce": self.nonce.hex()}
        return frame(json.dumps(body).encode())

    def on_challenge(self, body: bytes) -> tuple[bytes, Session]:
        data = json_object(body, "challenge")
        nonce_a = _hex_field(data, "nonce", NONCE_BYTES, "challenge")
        proof = _hex_field(data, "proof", TAG_BYTES, "challenge")
        transcript = _transcript(self.nonce, nonce_a, self.me, self.target)
        confirm = frame(json.dumps({"proof": _mac(self.key, b"connect", transcript).hex()})
                        .encode())
        if data.get("v") != VERSION or data.get("node") != self.target:
            raise AcceptorRefused(f"{self.target} answered as {data.get('node')!r}", confirm)
        if not hmac.compare_digest(proof, _mac(self.key, b"accept", transcript)):
            raise AcceptorRefused(
                f"{self.target} did not prove the {self.role} key (wrong secret?)", confirm)
        return confirm, _session(self.key, transcript, self.target, self.role, connector=True)


class Acceptor:
    """The listening side of a handshake for node `me` of a cluster of `server_count`.

    `on_hello(body)` checks the claimed node (role rules, server id in range, addressed to
    me) and returns the challenge frame; `on_confirm(body)` returns the session. Either
    raises WireError; `claimed` says who the peer said it was, for the log line."""

    def __init__(self, keys: Keys, me: str, server_count: int,
                 nonce: bytes | None = None) -> None:
        self.keys = keys
        self.me = me
        self.server_count = server_count
        self.nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
        self.claimed: str | None = None
        self._pending: tuple[bytes, bytes, Role] | None = None  # (key, transcript, role)

    @property
    def answered(self) -> bool:
        """The hello was accepted and challenged; the next frame must be the confirm."""
        return self._pending is not None

    def on_hello(self, body: bytes) -> bytes:
        data = json_object(body, "hello")
        node = data.get("node")
        if isinstance(node, str):
            self.claimed = node[:40]
        if data.get("v") != VERSION:
            raise WireError(f"hello: unsupported version {data.get('v')!r}")
        if not isinstance(node, str):
            raise WireError("hello: node must be a string")
        try:
            role = role_of(node)
        except RemoteError as error:
            raise WireError(f"hello: unknown sender {node[:40]!r}") from error
        if role == "server" and not node_parts(node)[1] < self.server_count:
            raise WireError(f"hello: unknown sender {node!r} (servers are s0..s"
                            f"{self.server_count - 1})")
        if node == self.me:
            raise WireError(f"hello: {node} claims to be me")
        if data.get("to") != self.me:
            raise WireError(f"hello: addressed to {str(data.get('to'))[:40]!r}, I am {self.me}")
        nonce_c = _hex_field(data, "nonce", NONCE_BYTES, "hello")
        key = self.keys.for_role(role)
        transcript = _transcript(nonce_c, self.nonce, node, self.me)
        self._pending = (key, transcript, role)
        challenge = {"v": VERSION, "node": self.me, "nonce": self.nonce.hex(),
                     "proof": _mac(key, b"accept", transcript).hex()}
        return frame(json.dumps(challenge).encode())

    def on_confirm(self, body: bytes) -> Session:
        if self._pending is None or self.claimed is None:
            raise WireError("confirm before hello")
        key, transcript, role = self._pending
        proof = _hex_field(json_object(body, "confirm"), "proof", TAG_BYTES, "confirm")
        if not hmac.compare_digest(proof, _mac(key, b"connect", transcript)):
            raise WireError(f"confirm: {self.claimed} did not prove the {role} key")
        return _session(key, transcript, self.claimed, role, connector=False)
