"""Record frames: length + CRC32 + payload, and the scan that tells a torn tail from damage.

A frame is an 8-byte header, then the payload:

    offset 0  4 bytes  payload length, unsigned big-endian (1 .. PAYLOAD_BYTES_MAX)
    offset 4  4 bytes  CRC-32/ISO-HDLC of the payload (zlib.crc32), unsigned big-endian
    offset 8  length bytes of payload

Pure byte work, no I/O: `paxlab.storage.record_file` reads and writes the file.

Why the scan can tell the two apart. A crash in the middle of an append leaves a prefix
of the bytes it meant to write, so the damage is at the end: a header or payload cut
short, or a final frame whose bytes did not all land (its CRC fails and it ends exactly
at EOF). Damage anywhere else is corruption. One more guard keeps a corrupted *length*
from passing for a cut: a frame cut short or failing its CRC at EOF is only a torn tail
if no intact frame starts after it, because a crash never writes a whole frame after a
partial one. Payloads are ASCII JSON (every byte >= 0x20) and PAYLOAD_BYTES_MAX is below
0x20000000, so payload bytes never read as a plausible header and the search has no
false hits in practice.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from paxlab.core.errors import UsageError

__all__ = [
    "HEADER_BYTES",
    "PAYLOAD_BYTES_MAX",
    "Damage",
    "Frame",
    "Scan",
    "crc32",
    "encode_frame",
    "scan_frames",
]

_HEADER = struct.Struct(">II")
HEADER_BYTES = _HEADER.size  # 8
# A sanity bound, far above any real record (a block of 10000 txns is a few MB), and far
# below 0x20000000 so that ASCII text never parses as a length (module docstring).
PAYLOAD_BYTES_MAX = 64 * 1024 * 1024


def crc32(payload: bytes) -> int:
    """CRC-32/ISO-HDLC (the zlib, PNG and Ethernet CRC) as an unsigned 32-bit int."""
    return zlib.crc32(payload) & 0xFFFFFFFF


def encode_frame(payload: bytes) -> bytes:
    """One frame for `payload`; an empty or oversized payload is our bug (UsageError)."""
    if not 0 < len(payload) <= PAYLOAD_BYTES_MAX:
        raise UsageError(f"frame payload must be 1..{PAYLOAD_BYTES_MAX} bytes, got {len(payload)}")
    return _HEADER.pack(len(payload), crc32(payload)) + payload


@dataclass(frozen=True, slots=True)
class Frame:
    """An intact frame: its payload and the byte offset of its header."""

    offset: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Damage:
    """The first frame that is not intact, at byte `offset`, and why.

    `torn`: True when it is a crash's cut-off tail (safe to truncate at `offset`);
    False when it is corruption that must stop the server."""

    offset: int
    reason: str
    torn: bool


@dataclass(frozen=True, slots=True)
class Scan:
    """The intact frames from the start of the data, and the damage that ended them.

    Invariant: `end` is the offset just past the last intact frame; `damage` is None
    exactly when `end` is the length of the data."""

    frames: tuple[Frame, ...]
    end: int
    damage: Damage | None


def scan_frames(data: bytes) -> Scan:
    """Split `data` into frames up to the first damaged one (module docstring)."""
    frames: list[Frame] = []
    offset = 0
    while offset < len(data):
        payload, damage = _frame_at(data, offset)
        if damage is not None:
            return Scan(tuple(frames), offset, damage)
        assert payload is not None
        frames.append(Frame(offset=offset, payload=payload))
        offset += HEADER_BYTES + len(payload)
    return Scan(tuple(frames), offset, None)


def _frame_at(data: bytes, offset: int) -> tuple[bytes | None, Damage | None]:
    size = len(data)
    have = size - offset
    if have < HEADER_BYTES:
        return None, Damage(offset, f"header cut short: {have} of {HEADER_BYTES} bytes", True)
    length, stored = _HEADER.unpack_from(data, offset)
    if not 0 < length <= PAYLOAD_BYTES_MAX:
        return None, Damage(
            offset, f"impossible payload length {length} (allowed 1..{PAYLOAD_BYTES_MAX})", False
        )
    start = offset + HEADER_BYTES
    end = start + length
    if end > size:
        reason = f"payload cut short: {size - start} of {length} bytes"
        return None, _torn_unless_followed(data, offset, reason)
    payload = data[start:end]
    computed = crc32(payload)
    if computed == stored:
        return payload, None
    reason = f"CRC mismatch (stored {stored:08x}, computed {computed:08x})"
    if end < size:
        return None, Damage(offset, reason, False)
    return None, _torn_unless_followed(data, offset, f"{reason} in the final record")


def _torn_unless_followed(data: bytes, offset: int, reason: str) -> Damage:
    later = _next_intact_frame(data, offset + 1)
    if later is None:
        return Damage(offset, reason, True)
    return Damage(
        offset, f"{reason}, yet an intact record starts at byte {later}: bad length field", False
    )


def _next_intact_frame(data: bytes, start: int) -> int | None:
    """The offset of the first intact frame at or after `start`, if any."""
    size = len(data)
    first_byte_max = PAYLOAD_BYTES_MAX >> 24
    for offset in range(start, size - HEADER_BYTES):
        if data[offset] > first_byte_max:
            continue  # cheap skip: this can't be a plausible length
        length, stored = _HEADER.unpack_from(data, offset)
        end = offset + HEADER_BYTES + length
        intact = (
            0 < length <= PAYLOAD_BYTES_MAX
            and end <= size
            and crc32(data[offset + HEADER_BYTES : end]) == stored
        )
        if intact:
            return offset
    return None
