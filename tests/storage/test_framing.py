"""Frames: the documented byte layout, and the scan that tells a torn tail from damage."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core.errors import UsageError
from paxlab.storage.framing import (
    HEADER_BYTES,
    PAYLOAD_BYTES_MAX,
    Frame,
    crc32,
    encode_frame,
    scan_frames,
)

PAYLOADS = [b'{"type":"promised","ballot":[1,0]}', b'{"a":1}', b'{"b":"' + b"x" * 300 + b'"}']


def stream(payloads: list[bytes]) -> tuple[bytes, list[int]]:
    """The frames of `payloads` back to back, and each frame's offset."""
    data, offsets = b"", []
    for payload in payloads:
        offsets.append(len(data))
        data += encode_frame(payload)
    return data, offsets


def test_crc_is_crc32_iso_hdlc() -> None:
    assert crc32(b"123456789") == 0xCBF43926  # the catalogued check value
    assert crc32(b"\xff" * 4) == zlib.crc32(b"\xff" * 4) & 0xFFFFFFFF


def test_frame_layout_is_length_crc_payload_big_endian() -> None:
    payload = b'{"k":"v"}'
    frame = encode_frame(payload)
    assert HEADER_BYTES == 8
    assert frame[:4] == len(payload).to_bytes(4, "big")
    assert frame[4:8] == zlib.crc32(payload).to_bytes(4, "big")
    assert frame[8:] == payload


@pytest.mark.parametrize("size", [0, PAYLOAD_BYTES_MAX + 1])
def test_encode_refuses_empty_and_oversized_payloads(size: int) -> None:
    with pytest.raises(UsageError, match="payload must be"):
        encode_frame(b"x" * size)


def test_scan_splits_intact_frames() -> None:
    data, offsets = stream(PAYLOADS)
    scan = scan_frames(data)
    assert scan.frames == tuple(Frame(offset=o, payload=p) for o, p in zip(offsets, PAYLOADS,
                                                                            strict=True))
    assert (scan.end, scan.damage) == (len(data), None)


def test_scan_of_nothing() -> None:
    scan = scan_frames(b"")
    assert (scan.frames, scan.end, scan.damage) == ((), 0, None)


# --- torn tails -----------------------------------------------------------------------


@pytest.mark.parametrize("kept", range(1, HEADER_BYTES))
def test_header_cut_short_is_torn(kept: int) -> None:
    data, _ = stream(PAYLOADS)
    scan = scan_frames(data + encode_frame(b'{"z":0}')[:kept])
    assert len(scan.frames) == 3 and scan.end == len(data)
    assert scan.damage is not None and scan.damage.torn
    assert scan.damage.reason == f"header cut short: {kept} of 8 bytes"


def test_payload_cut_short_is_torn() -> None:
    data, offsets = stream(PAYLOADS)
    scan = scan_frames(data[:-5])
    assert len(scan.frames) == 2 and scan.end == offsets[2]
    assert scan.damage is not None and scan.damage.torn
    size = len(PAYLOADS[2])
    assert scan.damage.reason == f"payload cut short: {size - 5} of {size} bytes"


def test_final_crc_mismatch_ending_at_eof_is_torn() -> None:
    data, offsets = stream(PAYLOADS)
    broken = data[:-1] + b"!"
    scan = scan_frames(broken)
    assert len(scan.frames) == 2 and scan.end == offsets[2]
    assert scan.damage is not None and scan.damage.torn
    assert "CRC mismatch" in scan.damage.reason and "final record" in scan.damage.reason


# --- damage that is not a torn tail ---------------------------------------------------


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def test_payload_flip_in_an_early_frame_is_corruption() -> None:
    data, offsets = stream(PAYLOADS)
    scan = scan_frames(flip(data, offsets[1] + HEADER_BYTES + 2))
    assert len(scan.frames) == 1
    assert scan.damage is not None and not scan.damage.torn
    assert scan.damage.offset == offsets[1]
    assert scan.damage.reason.startswith("CRC mismatch (stored")


def test_length_flip_to_an_impossible_length_is_corruption() -> None:
    data, _ = stream(PAYLOADS)
    scan = scan_frames(flip(data, 0, 0x80))  # top bit: a length of over 2 GB
    assert scan.frames == ()
    assert scan.damage is not None and not scan.damage.torn and scan.damage.offset == 0
    assert scan.damage.reason.startswith("impossible payload length 2147483")


def test_length_flip_past_eof_is_corruption_not_a_cut() -> None:
    """The first frame now claims to run on past EOF, which looks like a cut payload; but
    the frames after it are intact, and a crash never writes whole frames after a cut."""
    data, offsets = stream(PAYLOADS)
    scan = scan_frames(flip(data, 2, 0x02))  # + 512 bytes: past the end of this file
    assert len(data) - HEADER_BYTES < len(PAYLOADS[0]) + 512
    assert scan.frames == ()
    assert scan.damage is not None and not scan.damage.torn and scan.damage.offset == 0
    assert scan.damage.reason.endswith(
        f"yet an intact record starts at byte {offsets[1]}: bad length field"
    )


def test_length_that_swallows_the_rest_exactly_is_corruption() -> None:
    data, _ = stream(PAYLOADS)
    broken = struct.pack(">I", len(data) - HEADER_BYTES) + data[4:]
    scan = scan_frames(broken)
    assert scan.damage is not None and not scan.damage.torn
    assert "final record, yet an intact record starts at byte" in scan.damage.reason


def test_zero_length_is_corruption() -> None:
    data, _ = stream(PAYLOADS)
    scan = scan_frames(data + b"\0" * 16)
    assert scan.damage is not None and not scan.damage.torn
    assert scan.damage.reason.startswith("impossible payload length 0")


def test_a_damaged_frame_followed_by_bytes_is_corruption() -> None:
    data, offsets = stream(PAYLOADS)
    scan = scan_frames(flip(data, len(data) - 1) + b"\x00\x00")  # then a torn header
    assert scan.damage is not None and not scan.damage.torn and scan.damage.offset == offsets[2]


# --- properties -----------------------------------------------------------------------

JSONISH = st.binary(min_size=1, max_size=60).map(lambda b: b'{"x":"' + b.hex().encode() + b'"}')


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(JSONISH, min_size=1, max_size=6), data=st.data())
def test_any_cut_keeps_a_prefix_and_is_torn_or_clean(payloads: list[bytes], data: Any) -> None:
    full, offsets = stream(payloads)
    cut = data.draw(st.integers(0, len(full)), label="cut")
    scan = scan_frames(full[:cut])
    kept = sum(1 for o, p in zip(offsets, payloads, strict=True)
               if o + HEADER_BYTES + len(p) <= cut)
    assert [f.payload for f in scan.frames] == payloads[:kept]
    if cut in (*offsets, len(full)):
        assert scan.damage is None
    else:
        assert scan.damage is not None and scan.damage.torn
        assert scan.end == offsets[kept]


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(JSONISH, min_size=2, max_size=6), data=st.data())
def test_any_flip_before_the_last_frame_is_corruption_never_torn(
    payloads: list[bytes], data: Any
) -> None:
    """A crash damages only the end; a changed byte anywhere earlier must be reported
    where it is, or the loader would cut away records that were acknowledged."""
    full, offsets = stream(payloads)
    index = data.draw(st.integers(0, offsets[-1] - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    frame = max(i for i, o in enumerate(offsets) if o <= index)
    scan = scan_frames(flip(full, index, mask))
    assert [f.payload for f in scan.frames] == payloads[:frame]
    assert scan.damage is not None and not scan.damage.torn
    assert scan.damage.offset == offsets[frame]
