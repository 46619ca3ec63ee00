"""Persisted records to and from JSON payload bytes: the format inside each frame.

One compact JSON object per record, ASCII only (non-ASCII text is \\u-escaped), so the
files are readable with `jq` once the 8-byte frame headers are skipped:

    {"type":"promised","ballot":[3,1]}
    {"type":"accepted","slot":7,"ballot":[3,1],"block":{...}}
    {"type":"decided","block":{...}}

Ballots are `[round, replica]`; blocks are the documented dict form (README, "Block
format"). Decoding trusts nothing: any deviation is a RemoteError naming it, which the
record file turns into a StorageCorruption with the path and byte offset.
"""

from __future__ import annotations

import json
from typing import Any

from paxlab.core.chain import Block
from paxlab.core.codec import block_json
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record

__all__ = ["decode_record", "encode_record", "record_from_dict", "record_to_dict"]

_FIELDS = {
    "promised": {"type", "ballot"},
    "accepted": {"type", "slot", "ballot", "block"},
    "decided": {"type", "block"},
}


def record_to_dict(record: Record) -> dict[str, Any]:
    """The JSON-ready form of one record (module docstring)."""
    if isinstance(record, PromisedRecord):
        return {"type": "promised", "ballot": _ballot_to_list(record.ballot)}
    if isinstance(record, AcceptedRecord):
        return {
            "type": "accepted",
            "slot": record.slot,
            "ballot": _ballot_to_list(record.ballot),
            "block": record.block.to_dict(),
        }
    if isinstance(record, DecidedRecord):
        return {"type": "decided", "block": record.block.to_dict()}
    raise UsageError(f"not a record: {record!r}")


def record_from_dict(data: Any) -> Record:
    """Validate and build a record; RemoteError names what is wrong."""
    if not isinstance(data, dict):
        raise RemoteError(f"record must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise RemoteError(f"unknown record type {kind!r}")
    if set(data) != fields:
        raise RemoteError(
            f"{kind} record: unexpected {sorted(set(data) - fields)}, "
            f"missing {sorted(fields - set(data))}"
        )
    if kind == "promised":
        return PromisedRecord(ballot=_ballot_from(data["ballot"]))
    block = Block.from_dict(data["block"])
    if kind == "decided":
        return DecidedRecord(block=block)
    slot = data["slot"]
    if not _is_int(slot) or slot < 0:
        raise RemoteError(f"accepted record: slot must be an int >= 0, got {slot!r}")
    if block.height != slot:
        raise RemoteError(f"accepted record: slot {slot} holds block {block.height}")
    return AcceptedRecord(slot=slot, ballot=_ballot_from(data["ballot"]), block=block)


def encode_record(record: Record) -> bytes:
    """Compact ASCII JSON bytes of one record: `json.dumps(record_to_dict(record),
    separators=(",", ":"))`, written out directly for the usual field types (every
    server writes each block twice, as a vote and as decided; docs/performance.md)."""
    text: str | None = None
    if isinstance(record, DecidedRecord):
        text = f'{{"type":"decided","block":{block_json(record.block)}}}'
    elif isinstance(record, AcceptedRecord):
        ballot = _ballot_text(record.ballot)
        if ballot is not None and type(record.slot) is int:
            text = (f'{{"type":"accepted","slot":{record.slot},"ballot":{ballot},'
                    f'"block":{block_json(record.block)}}}')
    elif isinstance(record, PromisedRecord):
        ballot = _ballot_text(record.ballot)
        if ballot is not None:
            text = f'{{"type":"promised","ballot":{ballot}}}'
    if text is None:
        text = json.dumps(record_to_dict(record), separators=(",", ":"))
    return text.encode("ascii")


def _ballot_text(ballot: Any) -> str | None:
    if type(ballot) is not Ballot or type(ballot.round) is not int \
            or type(ballot.replica) is not int:
        return None
    return f"[{ballot.round},{ballot.replica}]"


def decode_record(payload: bytes) -> Record:
    """Parse one frame's payload; RemoteError on anything but a well-formed record."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, huge ints, nesting
        raise RemoteError(f"record is not JSON: {error}") from error
    return record_from_dict(data)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ballot_to_list(ballot: Ballot) -> list[int]:
    return [ballot.round, ballot.replica]


def _ballot_from(value: Any) -> Ballot:
    if not (isinstance(value, list) and len(value) == 2 and all(map(_is_int, value))):
        raise RemoteError(f"ballot must be [round, replica], got {value!r}")
    return Ballot(value[0], value[1])
