"""What a sealed frame carries: one tag byte, then JSON (the wire format's payloads).

b"E" a protocol envelope (`paxlab.core.codec`), b"A" an admin request, b"R" its reply.
Split from wire.py, which keeps keys, the handshake and frames; like it, sans I/O.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from paxlab.cluster.wire import WireError, json_object
from paxlab.core.codec import decode_envelope, encode_envelope, encode_message
from paxlab.core.messages import Envelope

__all__ = ["ADMIN", "ENVELOPE", "REPLY", "EnvelopeEncoder", "admin_payload",
           "decode_json_payload", "decode_payload", "envelope_payload", "reply_payload"]


# Payloads: one tag byte, then JSON.
ENVELOPE, ADMIN, REPLY = b"E", b"A", b"R"


def envelope_payload(envelope: Envelope) -> bytes:
    return ENVELOPE + encode_envelope(envelope)


class EnvelopeEncoder:
    """`envelope_payload`, encoding each message once: a leader's broadcast hands the
    same message object to every follower in a row, and the block in an Accept is the
    costly part. The bytes equal `envelope_payload`'s (a test holds them equal)."""

    __slots__ = ("_json", "_message")

    def __init__(self) -> None:
        self._message: object = None
        self._json = b""

    def payload(self, envelope: Envelope) -> bytes:
        message = envelope.message
        if message is not self._message:
            self._json = encode_message(message)
            self._message = message  # held, so its id cannot be reused meanwhile
        return b"".join((b'E{"src":', _quote(envelope.source), b',"dst":',
                         _quote(envelope.target), b',"msg":', self._json, b"}"))


def _quote(node: str) -> bytes:
    return encode_basestring_ascii(node).encode()


def admin_payload(request: dict[str, Any]) -> bytes:
    return ADMIN + json.dumps(request, separators=(",", ":")).encode()


def reply_payload(reply: dict[str, Any]) -> bytes:
    return REPLY + json.dumps(reply, separators=(",", ":")).encode()


def decode_json_payload(payload: bytes) -> dict[str, Any]:
    """The JSON object of an admin request or reply payload (tag byte already checked)."""
    return json_object(payload[1:], f"{payload[:1]!r} payload")


def decode_payload(payload: bytes) -> tuple[bytes, Envelope | dict[str, Any]]:
    """(tag, value): an Envelope for b"E", a dict for b"A"/b"R"; WireError/RemoteError
    on anything else."""
    tag = payload[:1]
    if tag == ENVELOPE:
        return tag, decode_envelope(payload[1:])
    if tag in (ADMIN, REPLY):
        return tag, decode_json_payload(payload)
    raise WireError(f"unknown payload tag {tag!r}")

