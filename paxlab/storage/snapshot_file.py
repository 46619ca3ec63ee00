"""The snapshot file: one server's latest `Snapshot`, written whole or not at all.

The file holds a single frame (the record file's framing: 4-byte length, 4-byte CRC-32,
payload) whose payload is the snapshot's dict form as compact ASCII JSON
(`paxlab.core.snapshot` documents the fields). It is never appended to or edited in
place: `write_snapshot` writes `snapshot.tmp`, fsyncs it, renames it over `snapshot` and
fsyncs the folder, so after a crash at any point the folder holds either the old file or
the new one, never a mix. A torn or half-written file can therefore only be the `.tmp`,
which recovery deletes unread (`remove_stale`); damage in `snapshot` itself is
corruption and is reported with the path and byte offset, never repaired.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from paxlab.core.errors import RemoteError
from paxlab.core.snapshot import Snapshot
from paxlab.storage.framing import encode_frame, scan_frames
from paxlab.storage.record_file import StorageCorruption, fsync_directory, write_all

__all__ = ["SNAPSHOT_NAME", "read_snapshot", "remove_stale", "replace_file", "write_snapshot"]

SNAPSHOT_NAME = "snapshot"
TMP_SUFFIX = ".tmp"


def write_snapshot(path: Path, snapshot: Snapshot, fsync: bool) -> None:
    """Replace the file at `path` with `snapshot`, crash-safely (module docstring)."""
    payload = json.dumps(snapshot.to_dict(), separators=(",", ":")).encode("ascii")
    replace_file(path, encode_frame(payload), fsync)


def replace_file(path: Path, data: bytes, fsync: bool) -> None:
    """Write `data` to `path.tmp`, fsync it, rename it over `path`, fsync the folder:
    a crash leaves the old file or the new one (the rename is atomic), and with fsync on
    the new one is durable when this returns. With fsync off only the syncs are skipped."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        write_all(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if fsync:
        fsync_directory(path.parent)


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at `path`, or None when there is none. StorageCorruption names the
    path and offset of any damage: the file is renamed into place whole, so a short or
    failing frame here is not a torn write but a damaged disk or a hand edit."""
    if not path.exists():
        return None
    data = path.read_bytes()
    scan = scan_frames(data)
    if scan.damage is not None:
        raise StorageCorruption(f"{path}: corrupt snapshot at byte offset "
                                f"{scan.damage.offset}: {scan.damage.reason}")
    if len(scan.frames) != 1:
        offset = scan.frames[1].offset if scan.frames else 0
        raise StorageCorruption(f"{path}: corrupt snapshot at byte offset {offset}: "
                                f"expected one frame, found {len(scan.frames)}")
    frame = scan.frames[0]
    try:
        return Snapshot.from_dict(json.loads(frame.payload))
    except (ValueError, RemoteError) as error:
        raise StorageCorruption(f"{path}: corrupt snapshot at byte offset {frame.offset}: "
                                f"{error}") from error


def remove_stale(folder: Path) -> list[str]:
    """Delete the `.tmp` files a crash left behind mid-replace; notes for the log."""
    notes = []
    for tmp in sorted(folder.glob(f"*{TMP_SUFFIX}")):
        size = tmp.stat().st_size
        tmp.unlink()
        notes.append(f"{tmp}: removed a half-finished replacement ({size} bytes), "
                     f"the file it was to replace stands")
    return notes
