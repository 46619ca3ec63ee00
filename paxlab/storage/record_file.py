"""An append-only file of framed records: durable appends, and a loader that cuts a torn
tail but refuses mid-file damage.

Appends write every frame of one batch with a single `os.write` on an O_APPEND file
descriptor, then `os.fsync` (when fsync is on), so `append` returning means the batch is
on disk; `append(..., sync=False)` leaves the batch to the next sync, which covers every
byte written before it (docs/storage.md's durability rule says which batches may wait).
A crash mid-append leaves a torn tail, which `load_records` cuts off and reports; damage
anywhere else raises StorageCorruption naming the file and byte offset, and is never
repaired (see `paxlab.storage.framing` for how the two are told apart).

`buffered=True` (config `cluster.storage: process_buffer`) keeps the bytes of batches not
yet synced in the process instead of the OS page cache: a SIGKILL then loses exactly what
a power cut would, so the lab can show a missing fsync (docs/storage.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.output import Record
from paxlab.storage.framing import encode_frame, scan_frames
from paxlab.storage.records import decode_record, encode_record

__all__ = ["WRITE_BACK_S", "LoadResult", "RecordFile", "StorageCorruption", "fsync_directory",
           "load_records", "write_all"]

WRITE_BACK_S = 1.0
"""Process-buffer mode with fsync off: how long written bytes wait in the process before
they go to the file (the OS's own write-back, shortened), the window a SIGKILL loses."""


class StorageCorruption(RemoteError):
    """A record file is damaged somewhere a crash cannot explain, or holds records that do
    not add up (a chain that does not link). The server must stop: repairing it silently
    could forget a promise or a vote, and Paxos safety rests on both."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The records of a file, and whether a torn tail was cut off at `truncated_at`."""

    records: list[Record]
    truncated_at: int | None  # the new file size, when a torn tail was cut
    note: str | None  # what was cut and why, for the server log


def fsync_directory(directory: Path) -> None:
    """Make a directory's entries (a newly created file or folder) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RecordFile:
    """Appends batches of records to `path`, creating it if needed; one writer at a time.

    After a failed write or fsync the file is unusable: the batch may be partly on disk
    and, after a failed fsync, the kernel may have dropped the dirty pages, so retrying
    could report durability that is not there. The server must restart and recover.
    """

    def __init__(self, path: Path, fsync: bool, *, buffered: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.fsync = fsync
        # buffered (cluster.storage: process_buffer): bytes not yet synced stay here, in the
        # process, until the sync hands them to the file, so a SIGKILL loses them as a power
        # cut would. With fsync off they go to the file WRITE_BACK_S after they came.
        self.buffered = buffered
        self._clock = clock
        self._pending = bytearray()
        self._pending_since = 0.0
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
        try:
            self._fd: int | None = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o644)
            created = True
        except FileExistsError:
            self._fd = os.open(self.path, flags)
            created = False
        self._failed: BaseException | None = None
        self.unsynced = False  # written since the last fsync (only ever True with fsync on)
        if created and fsync:
            try:
                fsync_directory(self.path.parent)  # else a crash could lose the file itself
            except BaseException:
                self.close()
                raise

    def append(self, records: Sequence[Record], *, sync: bool = True) -> None:
        """Write all `records` and, with fsync on, return only once they are durable.

        `sync=False`: write them (a crash of this process alone loses nothing written)
        and leave them, and anything else unsynced, to the next `append` or `sync`."""
        fd = self._usable_fd()
        if not records:
            return
        data = b"".join(encode_frame(encode_record(record)) for record in records)
        if self.buffered:
            self._buffer(fd, data, sync)
            return
        try:
            write_all(fd, data)
            if not self.fsync:
                return
            if sync:
                os.fsync(fd)
                self.unsynced = False
            else:
                self.unsynced = True
        except BaseException as error:
            self._failed = error
            raise

    def sync(self) -> None:
        """With fsync on, make everything written so far durable (no-op if it is)."""
        fd = self._usable_fd()
        if not self.unsynced:
            return
        try:
            if self._pending:
                write_all(fd, bytes(self._pending))
                self._pending.clear()
            os.fsync(fd)
        except BaseException as error:
            self._failed = error
            raise
        self.unsynced = False

    def _buffer(self, fd: int, data: bytes, sync: bool) -> None:
        """Process-buffer mode: keep `data` until a sync (fsync on) or until the write-back
        time has passed (fsync off), then write the whole buffer at once."""
        if not self._pending:
            self._pending_since = self._clock()
        self._pending += data
        try:
            if self.fsync:
                self.unsynced = True
                if sync:
                    self.sync()
            elif self._clock() - self._pending_since >= WRITE_BACK_S:
                write_all(fd, bytes(self._pending))
                self._pending.clear()
        except BaseException as error:
            self._failed = error
            raise

    def _usable_fd(self) -> int:
        if self._fd is None:
            raise UsageError(f"{self.path}: append after close")
        if self._failed is not None:
            raise UsageError(
                f"{self.path}: an earlier write failed ({self._failed}); restart to recover"
            )
        return self._fd

    def close(self) -> None:
        """Sync what is still unsynced (a clean stop leaves nothing at risk), then close."""
        if self._fd is None:
            return
        try:
            if self._pending and not self.fsync and self._failed is None:
                write_all(self._fd, bytes(self._pending))  # a clean stop keeps them
                self._pending.clear()
            if self.unsynced and self._failed is None:
                self.sync()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RecordFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written."""
    written = os.write(fd, data)
    while written < len(data):  # a short write (signal, disk nearly full): go on
        written += os.write(fd, data[written:])


def load_records(path: Path) -> LoadResult:
    """Read every record of `path` (which must exist), cutting a torn tail off the file.

    Raises StorageCorruption, f"{path}: corrupt record at byte offset {offset}: {reason}",
    for a damaged frame that is not a torn tail, or for an intact frame whose payload is
    not a well-formed record. The cut is fsynced before returning, so later appends
    follow whole records only.
    """
    path = Path(path)
    data = path.read_bytes()
    scan = scan_frames(data)
    records: list[Record] = []
    for frame in scan.frames:
        try:
            records.append(decode_record(frame.payload))
        except RemoteError as error:
            raise _corrupt(path, frame.offset, str(error)) from error
    damage = scan.damage
    if damage is None:
        return LoadResult(records=records, truncated_at=None, note=None)
    if not damage.torn:
        raise _corrupt(path, damage.offset, damage.reason)
    os.truncate(path, damage.offset)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dropped = len(data) - damage.offset
    note = (
        f"{path}: cut a torn tail at byte {damage.offset} ({damage.reason}; "
        f"{dropped} bytes dropped, {len(records)} records kept)"
    )
    return LoadResult(records=records, truncated_at=damage.offset, note=note)


def _corrupt(path: Path, offset: int, reason: str) -> StorageCorruption:
    return StorageCorruption(f"{path}: corrupt record at byte offset {offset}: {reason}")
