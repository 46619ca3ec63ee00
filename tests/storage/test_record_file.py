"""The record file: every record type round-trips, a torn tail is cut and reported,
damage anywhere else stops the load with the path and byte offset, and fsync happens."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.core.chain import GENESIS_PREV, Txn, seal_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record
from paxlab.storage import (
    LoadResult,
    RecordFile,
    StorageCorruption,
    decode_record,
    encode_record,
    load_records,
)
from paxlab.storage.framing import HEADER_BYTES, encode_frame

DIFFICULTY = 4
B0 = seal_block(0, GENESIS_PREV, (Txn(client=1, seq=1, op="put", key="'k'", value="'é'"),),
                DIFFICULTY)
B1 = seal_block(1, B0.hash, (Txn(client=2, seq=1, op="get", key="'k'", value=None),),
                DIFFICULTY)
B2 = seal_block(2, B1.hash, (), DIFFICULTY)
RECORDS: list[Record] = [
    PromisedRecord(ballot=Ballot(1, 0)),
    AcceptedRecord(slot=0, ballot=Ballot(1, 0), block=B0),
    DecidedRecord(block=B0),
    PromisedRecord(ballot=Ballot(2, 2)),
    AcceptedRecord(slot=1, ballot=Ballot(2, 2), block=B1),
    AcceptedRecord(slot=2, ballot=Ballot(2, 2), block=B2),
    DecidedRecord(block=B1),
]


def write(path: Path, records: list[Record], fsync: bool = False) -> list[int]:
    """Append each record on its own; return the byte offset of each."""
    offsets = []
    with RecordFile(path, fsync=fsync) as file:
        for record in records:
            offsets.append(path.stat().st_size)
            file.append([record])
    return offsets


# --- the payload format ---------------------------------------------------------------


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_type_round_trips(record: Record) -> None:
    payload = encode_record(record)
    assert payload.isascii()
    assert decode_record(payload) == record


def test_payload_is_the_documented_json() -> None:
    assert json.loads(encode_record(RECORDS[0])) == {"type": "promised", "ballot": [1, 0]}
    assert json.loads(encode_record(RECORDS[4])) == {
        "type": "accepted", "slot": 1, "ballot": [2, 2], "block": B1.to_dict(),
    }
    assert json.loads(encode_record(RECORDS[2])) == {"type": "decided", "block": B0.to_dict()}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "record is not JSON"),
        (b"\xff\xfe", "record is not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"type": "voted", "ballot": [1, 0]}', "unknown record type 'voted'"),
        (b'{"type": ["x"]}', "unknown record type"),
        (b'{"type": "promised", "ballot": [1, 0], "x": 1}', "unexpected ['x']"),
        (b'{"type": "promised"}', "missing ['ballot']"),
        (b'{"type": "promised", "ballot": [1, true]}', "ballot must be [round, replica]"),
        (b'{"type": "promised", "ballot": [-1, 0]}', "ballot parts must be >= 0"),
        (b'{"type": "decided", "block": {"height": 0}}', "malformed block"),
    ],
)
def test_malformed_payloads_are_remote_errors(payload: bytes, message: str) -> None:
    with pytest.raises(RemoteError) as caught:
        decode_record(payload)
    assert message in str(caught.value)


@pytest.mark.parametrize(("slot", "message"), [(True, "slot must be an int"),
                                               (-1, "slot must be an int"),
                                               (5, "slot 5 holds block 1")])
def test_accepted_record_slot_is_checked(slot: Any, message: str) -> None:
    data = {"type": "accepted", "slot": slot, "ballot": [1, 0], "block": B1.to_dict()}
    with pytest.raises(RemoteError, match=message):
        decode_record(json.dumps(data).encode())


# --- appends and loads ----------------------------------------------------------------


def test_records_round_trip_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=False) as file:
        file.append(RECORDS[:3])
        file.append([])
        file.append(RECORDS[3:])
    assert load_records(path) == LoadResult(records=RECORDS, truncated_at=None, note=None)


def test_an_empty_file_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    path.write_bytes(b"")
    assert load_records(path) == LoadResult(records=[], truncated_at=None, note=None)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_records(tmp_path / "nope.log")


def test_reopening_appends_after_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    write(path, RECORDS[:2])
    write(path, RECORDS[2:])
    assert load_records(path).records == RECORDS


def test_one_write_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(len(data)) or
                        real_write(fd, data))
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=False) as file:
        file.append(RECORDS)
    assert writes == [path.stat().st_size]


def test_a_short_write_is_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short_write(fd: int, data: bytes) -> int:
        return real_write(fd, data[: max(1, len(data) // 3)])

    monkeypatch.setattr(os, "write", short_write)
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=False) as file:
        file.append(RECORDS)
    assert load_records(path).records == RECORDS


# --- fsync ----------------------------------------------------------------------------


def count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_fsync_on_syncs_every_append_and_the_new_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_fsyncs(monkeypatch)
    path = tmp_path / "replica.log"
    file = RecordFile(path, fsync=True)
    assert len(calls) == 1  # the folder, so the new file's entry survives a crash
    file.append(RECORDS[:2])
    file.append([])  # nothing to write, nothing to sync
    file.append(RECORDS[2:])
    assert len(calls) == 3
    file.close()
    RecordFile(path, fsync=True).close()  # the file exists now: no folder sync
    assert len(calls) == 3


def test_fsync_off_never_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_fsyncs(monkeypatch)
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=False) as file:
        file.append(RECORDS)
    assert load_records(path).records == RECORDS
    assert calls == []


def test_a_failed_fsync_makes_the_file_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed fsync the kernel may have dropped the pages: retrying could report
    durability that is not there, so every later append refuses."""
    path = tmp_path / "replica.log"
    file = RecordFile(path, fsync=True)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="Input/output error"):
        file.append(RECORDS[:1])
    monkeypatch.undo()
    with pytest.raises(UsageError, match="an earlier write failed"):
        file.append(RECORDS[1:2])
    file.close()
    with pytest.raises(UsageError, match="append after close"):
        file.append(RECORDS[:1])


# --- torn tails -----------------------------------------------------------------------


def torn_variants(path: Path, offsets: list[int]) -> dict[str, bytes]:
    data = path.read_bytes()
    last = offsets[-1]
    return {
        "header cut short": data[: last + 3],
        "payload cut short": data[: last + HEADER_BYTES + 5],
        "final CRC bad at EOF": data[:-1] + bytes([data[-1] ^ 0x20]),
    }


@pytest.mark.parametrize("variant", ["header cut short", "payload cut short",
                                     "final CRC bad at EOF"])
def test_a_torn_tail_is_cut_and_reported(tmp_path: Path, variant: str) -> None:
    path = tmp_path / "replica.log"
    offsets = write(path, RECORDS)
    path.write_bytes(torn_variants(path, offsets)[variant])
    result = load_records(path)
    assert result.records == RECORDS[:-1]
    assert result.truncated_at == offsets[-1]
    assert path.stat().st_size == offsets[-1]  # the file itself is cut
    assert result.note is not None
    assert result.note.startswith(f"{path}: cut a torn tail at byte {offsets[-1]} (")
    # Appends after the cut follow whole records, and the next load is clean.
    write(path, RECORDS[-1:])
    assert load_records(path) == LoadResult(records=RECORDS, truncated_at=None, note=None)


def test_a_torn_batch_keeps_its_whole_frames(tmp_path: Path) -> None:
    """One append is one write of several frames; a crash may land some of them."""
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=False) as file:
        file.append(RECORDS[:3])
        before = path.stat().st_size
        file.append(RECORDS[3:])
    second_frame_end = before + len(encode_record(RECORDS[3])) + HEADER_BYTES
    data = path.read_bytes()
    path.write_bytes(data[: second_frame_end + 4])
    result = load_records(path)
    assert result.records == RECORDS[:4]
    assert result.truncated_at == second_frame_end


def test_the_cut_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "replica.log"
    write(path, RECORDS)
    path.write_bytes(path.read_bytes()[:-2])
    calls = count_fsyncs(monkeypatch)
    load_records(path)
    assert len(calls) == 1


# --- corruption -----------------------------------------------------------------------


def flip_byte(path: Path, index: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[index] ^= mask
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("where", "mask", "reason"),
    [
        ("payload", 0x01, "CRC mismatch (stored"),
        ("length low byte", 0x01, "CRC mismatch (stored"),
        ("length high byte", 0x40, "impossible payload length"),
        ("length to past EOF", 0x04, "payload cut short"),
        ("crc", 0x80, "CRC mismatch (stored"),
    ],
)
def test_mid_file_damage_names_the_path_and_offset(
    tmp_path: Path, where: str, mask: int, reason: str
) -> None:
    path = tmp_path / "replica.log"
    offsets = write(path, RECORDS)
    target = offsets[1]
    index = {
        "payload": target + HEADER_BYTES + 10,
        "length low byte": target + 3,
        "length high byte": target,
        "length to past EOF": target + 1,  # + 256 KiB: the file is far shorter
        "crc": target + 5,
    }[where]
    flip_byte(path, index, mask)
    damaged = path.read_bytes()
    with pytest.raises(StorageCorruption) as caught:
        load_records(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: corrupt record at byte offset {target}: {reason}")
    assert isinstance(caught.value, RemoteError)
    assert path.read_bytes() == damaged  # never repaired


def test_an_intact_frame_with_a_bad_record_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    offsets = write(path, RECORDS[:2])
    with path.open("ab") as handle:
        handle.write(encode_frame(b'{"type":"voted"}'))
    with pytest.raises(StorageCorruption) as caught:
        load_records(path)
    end = offsets[-1] + HEADER_BYTES + len(encode_record(RECORDS[1]))
    assert str(caught.value) == (
        f"{path}: corrupt record at byte offset {end}: unknown record type 'voted'"
    )


# --- properties -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(count=st.integers(0, len(RECORDS)), data=st.data())
def test_any_prefix_of_a_file_recovers_a_prefix_or_reports_a_torn_tail(
    count: int, data: Any
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "replica.log"
        offsets = write(path, RECORDS[:count])
        full = path.read_bytes()
        cut = data.draw(st.integers(0, len(full)), label="cut")
        path.write_bytes(full[:cut])
        result = load_records(path)  # never raises: a cut is never corruption
        kept = len(result.records)
        assert result.records == RECORDS[:kept]
        boundary = [*offsets, len(full)]
        if cut in boundary:
            assert (kept, result.truncated_at, result.note) == (boundary.index(cut), None, None)
        else:
            assert result.truncated_at == offsets[kept] == path.stat().st_size
            assert result.note is not None and "cut a torn tail at byte" in result.note


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, 10_000), mask=st.integers(1, 255))
def test_any_flipped_byte_is_reported_or_cut_never_anything_else(index: int, mask: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "replica.log"
        offsets = write(path, RECORDS)
        index %= path.stat().st_size
        flip_byte(path, index, mask)
        frame = max(o for o in offsets if o <= index)
        try:
            result = load_records(path)
        except StorageCorruption as error:
            assert str(error).startswith(f"{path}: corrupt record at byte offset {frame}: ")
            return
        # Only damage in the last record may pass as a torn tail.
        assert index >= offsets[-1]
        assert result.records == RECORDS[:-1] and result.truncated_at == offsets[-1]
