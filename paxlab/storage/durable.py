"""DurableStorage: one server's record file, as the host's Storage, plus its recovery.

The server keeps everything under its own data folder, in `replica.log`: its promises,
its accepted blocks and its decided chain, one framed record each. `NodeHost` calls
`persist` before it sends anything an Output carries, so with fsync on a Promise or an
Accepted never leaves before the state it vouches for is on disk. fsync off (config
`cluster.fsync: never`) is for benchmarks only: a machine crash can then lose promises.

The durability rule (docs/storage.md): a batch holding a promise or a vote (a
PromisedRecord or an AcceptedRecord) is fsynced before `persist` returns; a batch of
decided records only is written and left to the next sync. A decision needs no sync of
its own: it is already durable as the synced votes of a majority of acceptors, which is
what lets the leader answer its client at once. The file is append-only, so the next
fsync covers them; with `cluster.storage: page_cache` a crash of the process alone loses
nothing written, with `process_buffer` (the default) it loses them as a power cut would,
and the synced votes still hold the decisions.

Use: `storage = DurableStorage(folder, fsync=True)`, then `state, notes =
storage.recover(difficulty)` once, then `Replica(..., recovered=state)` and
`NodeHost(replica, send, storage=storage)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.output import DecidedRecord, Record
from paxlab.core.recovery import RecoveredState, recover_state
from paxlab.storage.record_file import (
    RecordFile,
    StorageCorruption,
    fsync_directory,
    load_records,
)

__all__ = ["FILE_NAME", "DurableStorage", "needs_sync"]

FILE_NAME = "replica.log"


def needs_sync(records: Sequence[Record]) -> bool:
    """Whether a batch must be on disk before the step's messages leave: yes unless every
    record in it is a DecidedRecord (any other kind, today's or a future one, is synced)."""
    return any(type(record) is not DecidedRecord for record in records)


class DurableStorage:
    """The host Storage of one server, backed by `data_dir / "replica.log"`.

    `recover` must run once before the first `persist`: it is what cuts a torn tail, and
    appending after one would bury it mid-file, where it reads as corruption.
    """

    def __init__(self, data_dir: Path, fsync: bool, buffered: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.fsync = fsync
        self.buffered = buffered  # unsynced bytes stay in the process (record_file.py)
        self.path = self.data_dir / FILE_NAME
        self._file: RecordFile | None = None
        self._recovered = False

    def recover(self, difficulty: int) -> tuple[RecoveredState | None, list[str]]:
        """Read the file back: the state to restart from (None when there is no file yet)
        and notes for the log, such as "cut a torn tail at byte 1234".

        Raises StorageCorruption (a RemoteError) naming the file: for a damaged record
        with its byte offset, or for a chain that fails re-validation with its height.
        """
        if self._recovered:
            raise UsageError(f"{self.path}: recover() runs once, before the first persist()")
        if not self.path.exists():
            self._recovered = True
            return None, []
        loaded = load_records(self.path)
        try:
            state = recover_state(loaded.records, difficulty)
        except RemoteError as error:
            raise StorageCorruption(f"{self.path}: {error}") from error
        self._recovered = True
        return state, [loaded.note] if loaded.note is not None else []

    def persist(self, records: Sequence[Record]) -> None:
        """Append `records`; with fsync on, return only when they are on disk, unless they
        are all decided records (module docstring): those wait for the next sync."""
        if not self._recovered:
            raise UsageError(f"{self.path}: call recover() before persist()")
        if not records:
            return
        if self._file is None:
            self._make_data_dir()
            self._file = RecordFile(self.path, fsync=self.fsync, buffered=self.buffered)
        self._file.append(records, sync=needs_sync(records))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> DurableStorage:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _make_data_dir(self) -> None:
        """Create the data folder; with fsync on, make each new folder's entry durable."""
        missing: list[Path] = []
        folder = self.data_dir
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.fsync:
            for created in reversed(missing):
                fsync_directory(created.parent)
