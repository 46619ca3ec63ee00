"""Envelopes to and from JSON bytes: the one wire format of every driver.

Nothing received is unpickled or evaluated: bytes are parsed as JSON and every field is
checked against the message's schema, so a malformed frame becomes a RemoteError.

The hot messages take a shortcut (`_codec_fast`: the same bytes and the same checks,
written out by hand); the schema below stays the one definition of the format, and
whatever the shortcut is not sure of goes the generic way.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from paxlab.core import _codec_fast
from paxlab.core import messages as m
from paxlab.core.chain import Block
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot, NodeId, node_kind
from paxlab.core.snapshot import Snapshot

__all__ = [
    "block_json",
    "decode_envelope",
    "encode_envelope",
    "encode_message",
    "message_from_dict",
    "message_to_dict",
]

# Field kinds. Each message field is one of these; the schema below is the whole protocol.
INT, STR, OPT_STR, OPT_INT, BOOL, BALLOT, BLOCK, BLOCKS, ENTRIES, OP, SNAPSHOT = (
    "int", "str", "str?", "int?", "bool", "ballot", "block", "blocks", "entries", "op",
    "snapshot",
)

SCHEMA: dict[type[m.Message], dict[str, str]] = {
    m.PreVote: {"ballot": BALLOT, "commit_index": INT},
    m.PreVoteReply: {"ballot": BALLOT, "granted": BOOL, "max_round": INT},
    m.Prepare: {"ballot": BALLOT, "from_slot": INT},
    m.Promise: {"ballot": BALLOT, "from_slot": INT, "commit_index": INT,
                "accepted": ENTRIES, "decided": BLOCKS},
    m.Accept: {"ballot": BALLOT, "slot": INT, "block": BLOCK, "commit_index": INT},
    m.Accepted: {"ballot": BALLOT, "slot": INT, "block_hash": STR},
    m.Reject: {"ballot": BALLOT},
    m.Heartbeat: {"ballot": BALLOT, "commit_index": INT},
    m.HeartbeatAck: {"ballot": BALLOT, "commit_index": INT},
    m.CatchUp: {"blocks": BLOCKS},
    m.InstallSnapshot: {"snapshot": SNAPSHOT},
    m.ClientRequest: {"client": INT, "seq": INT, "op": OP, "key": STR, "value": OPT_STR,
                      "nominate": BOOL},
    m.ClientReply: {"client": INT, "seq": INT, "outcome": STR, "value": OPT_STR,
                    "error": OPT_STR},
    m.Redirect: {"client": INT, "seq": INT, "leader_hint": OPT_INT},
}
_BY_NAME = {cls.__name__: cls for cls in SCHEMA}


def _encode_field(kind: str, value: Any) -> Any:
    if kind == BALLOT:
        return [value.round, value.replica]
    if kind == BLOCK:
        return value.to_dict()
    if kind == BLOCKS:
        return [b.to_dict() for b in value]
    if kind == SNAPSHOT:
        return value.to_dict()
    if kind == ENTRIES:
        return [[e.slot, [e.ballot.round, e.ballot.replica], e.block.to_dict()] for e in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decode_ballot(value: Any) -> Ballot:
    if not (isinstance(value, list) and len(value) == 2 and all(map(_is_int, value))):
        raise RemoteError(f"bad ballot {value!r}")
    return Ballot(value[0], value[1])


def _decode_field(kind: str, value: Any) -> Any:
    if kind == INT and _is_int(value):
        return value
    if kind == OPT_INT and (value is None or _is_int(value)):
        return value
    if kind == STR and isinstance(value, str):
        return value
    if kind == OPT_STR and (value is None or isinstance(value, str)):
        return value
    if kind == BOOL and isinstance(value, bool):
        return value
    if kind == OP and value in ("put", "get"):
        return value
    if kind == BALLOT:
        return _decode_ballot(value)
    if kind == BLOCK:
        return Block.from_dict(value)
    if kind == SNAPSHOT:
        return Snapshot.from_dict(value)
    if kind == BLOCKS and isinstance(value, list):
        return tuple(Block.from_dict(b) for b in value)
    if kind == ENTRIES and isinstance(value, list):
        entries = []
        for item in value:
            if not (isinstance(item, list) and len(item) == 3 and _is_int(item[0])):
                raise RemoteError(f"bad accepted entry {item!r}")
            entries.append(
                m.AcceptedEntry(
                    slot=item[0], ballot=_decode_ballot(item[1]), block=Block.from_dict(item[2])
                )
            )
        return tuple(entries)
    raise RemoteError(f"expected {kind}, got {value!r}")


def message_to_dict(message: m.Message) -> dict[str, Any]:
    schema = SCHEMA.get(type(message))
    if schema is None:
        raise RemoteError(f"{type(message).__name__} is local and never goes on the wire")
    out: dict[str, Any] = {"type": type(message).__name__}
    for name, kind in schema.items():
        out[name] = _encode_field(kind, getattr(message, name))
    return out


def message_from_dict(data: Any) -> m.Message:
    if not isinstance(data, dict):
        raise RemoteError(f"message must be an object, got {type(data).__name__}")
    name = data.get("type")
    cls = _BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        raise RemoteError(f"unknown message type {data.get('type')!r}")
    schema = SCHEMA[cls]
    extra = set(data) - set(schema) - {"type"}
    missing = set(schema) - set(data)
    if extra or missing:
        raise RemoteError(f"{cls.__name__}: unexpected {sorted(extra)}, missing {sorted(missing)}")
    try:
        return cls(**{name: _decode_field(kind, data[name]) for name, kind in schema.items()})
    except (TypeError, ValueError) as error:
        raise RemoteError(f"{cls.__name__}: {error}") from error


def block_json(block: Block) -> str:
    """The compact JSON text of `block.to_dict()`, ASCII only, as json.dumps writes it:
    the block inside an Accept, and inside the record file's records."""
    try:
        text = _codec_fast.block_text(block)
    except ValueError:  # an int too long for str(): json.dumps says so in its own words
        text = None
    if text is None:
        text = json.dumps(block.to_dict(), separators=(",", ":"))
    return text


def encode_message(message: m.Message) -> bytes:
    """The compact JSON of one message: the "msg" part of a frame (the wire encodes a
    broadcast message once for every follower)."""
    try:
        text = _codec_fast.encode_message(message)
    except ValueError:  # an int too long for str(): json.dumps says so in its own words
        text = None
    if text is None:
        text = json.dumps(message_to_dict(message), separators=(",", ":"))
    return text.encode()


def encode_envelope(envelope: m.Envelope) -> bytes:
    """One frame's JSON: `{"src":..,"dst":..,"msg":{..}}`, compact, ASCII only."""
    source, target = envelope.source, envelope.target
    if type(source) is not str or type(target) is not str:
        return _encode_envelope_json(envelope)
    return b"".join((b'{"src":', _quote(source).encode(), b',"dst":', _quote(target).encode(),
                     b',"msg":', encode_message(envelope.message), b"}"))


def decode_envelope(data: bytes) -> m.Envelope:
    """Parse and validate one frame; any problem is a RemoteError naming it."""
    raw = _loads(data)
    if type(raw) is dict and raw.keys() == _FRAME_KEYS:
        source, target = raw["src"], raw["dst"]
        if type(source) is str and type(target) is str:
            node_kind(source)
            node_kind(target)
            message = _codec_fast.decode_message(raw["msg"])
            if message is not None:
                return m.Envelope(source=source, target=target, message=message)  # type: ignore[arg-type]
    return _envelope_from_json(raw)


_FRAME_KEYS = frozenset({"src", "dst", "msg"})
_scan = json.JSONDecoder().scan_once  # what json.loads runs, with json.loads's defaults


def _loads(data: bytes) -> Any:
    """`json.loads(data)`, with a RemoteError for what it refuses. A frame as we write it
    (`{"` first: UTF-8 by json's own detection rule, no leading whitespace) is scanned
    directly; anything else, or anything the scan does not take whole, goes through
    json.loads itself, which accepts or words the error exactly as before."""
    if data[:2] == b'{"':
        try:
            text = data.decode("utf-8", "surrogatepass")
            value, end = _scan(text, 0)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if end == len(text):
                return value
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, huge ints, deep nesting
        raise RemoteError(f"frame is not JSON: {error}") from error
_quote = json.encoder.encode_basestring_ascii  # what json.dumps escapes strs with


def _encode_envelope_json(envelope: m.Envelope) -> bytes:
    """`encode_envelope` the generic way: json.dumps of the dict form (tests compare)."""
    return json.dumps(
        {"src": envelope.source, "dst": envelope.target,
         "msg": message_to_dict(envelope.message)},
        separators=(",", ":"),
    ).encode()


def _decode_envelope_json(data: bytes) -> m.Envelope:
    """`decode_envelope` the generic way, field by field from the schema (tests compare)."""
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise RemoteError(f"frame is not JSON: {error}") from error
    return _envelope_from_json(raw)


def _envelope_from_json(raw: Any) -> m.Envelope:
    if not isinstance(raw, dict) or set(raw) != {"src", "dst", "msg"}:
        raise RemoteError("frame must be an object with src, dst and msg")
    source, target = raw["src"], raw["dst"]
    if not isinstance(source, str) or not isinstance(target, str):
        raise RemoteError("frame src and dst must be strings")
    node_kind(source)
    node_kind(target)
    return m.Envelope(
        source=NodeId(source), target=NodeId(target), message=message_from_dict(raw["msg"])
    )


def _check_schema_covers_fields() -> None:
    for cls, schema in SCHEMA.items():
        names = {f.name for f in dataclasses.fields(cls)}
        assert names == set(schema), f"codec schema out of date for {cls.__name__}"


_check_schema_covers_fields()
