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

Snapshots (`compact`): with `cluster.snapshot_every` on, the folder also holds the
latest snapshot (`snapshot`, see `snapshot_file`) and, unless `cluster.chain_archive` is
off, the blocks compacted away (`chain-archive.jsonl`, see `chain_archive`); the record
file then holds only what the snapshot does not: the promise, the open votes and the
last `retain_blocks` blocks, and whatever was appended since.

Use: `storage = DurableStorage(folder, fsync=True)`, then `state, notes =
storage.recover(difficulty)` once, then `Replica(..., recovered=state)` and
`NodeHost(replica, send, storage=storage)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from paxlab.core.chain import Block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.output import Compaction, DecidedRecord, Record
from paxlab.core.recovery import RecoveredState, recover_state
from paxlab.storage.chain_archive import ARCHIVE_NAME, ChainArchive
from paxlab.storage.framing import encode_frame
from paxlab.storage.record_file import (
    RecordFile,
    StorageCorruption,
    fsync_directory,
    load_records,
)
from paxlab.storage.records import encode_record
from paxlab.storage.snapshot_file import (
    SNAPSHOT_NAME,
    read_snapshot,
    remove_stale,
    replace_file,
    write_snapshot,
)

__all__ = ["FILE_NAME", "DurableStorage", "needs_sync"]

FILE_NAME = "replica.log"


def needs_sync(records: Sequence[Record]) -> bool:
    """Whether a batch must be on disk before the step's messages leave: yes unless every
    record in it is a DecidedRecord (any other kind, today's or a future one, is synced)."""
    return any(type(record) is not DecidedRecord for record in records)


class DurableStorage:
    """The host Storage of one server, backed by `data_dir / "replica.log"` (and, once
    it compacts, `snapshot` and `chain-archive.jsonl` beside it).

    `recover` must run once before the first `persist`: it is what cuts a torn tail, and
    appending after one would bury it mid-file, where it reads as corruption.
    """

    def __init__(self, data_dir: Path, fsync: bool, buffered: bool = False,
                 keep_archive: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.fsync = fsync
        self.buffered = buffered  # unsynced bytes stay in the process (record_file.py)
        self.keep_archive = keep_archive  # cluster.chain_archive
        self.path = self.data_dir / FILE_NAME
        self.snapshot_path = self.data_dir / SNAPSHOT_NAME
        self.archive = ChainArchive(self.data_dir / ARCHIVE_NAME, fsync)
        self._file: RecordFile | None = None
        self._recovered = False
        # Called after each step of `compact` with the step's name ("archived",
        # "snapshot", "records"): tests raise from it to crash the server right there.
        self.on_compact_step: Callable[[str], None] | None = None

    def recover(self, difficulty: int) -> tuple[RecoveredState | None, list[str]]:
        """Read the folder back: the state to restart from (None when there is nothing
        yet) and notes for the log, such as "cut a torn tail at byte 1234".

        Reads the snapshot, if any, and the record file, never the chain archive (only
        its last line), so restart time follows the records kept, not the operations
        ever run. Deletes the `.tmp` files an interrupted compaction left behind.

        Raises StorageCorruption (a RemoteError) naming the file: for a damaged record
        or snapshot with its byte offset, or for a chain that fails re-validation with
        its height.
        """
        if self._recovered:
            raise UsageError(f"{self.path}: recover() runs once, before the first persist()")
        if not self.data_dir.exists():
            self._recovered = True
            return None, []
        notes = remove_stale(self.data_dir)
        snapshot = read_snapshot(self.snapshot_path)
        if self.keep_archive:
            self.archive.open()
            if self.archive.note is not None:
                notes.append(self.archive.note)
        if snapshot is None and not self.path.exists():
            self._recovered = True
            return None, notes
        records: list[Record] = []
        if self.path.exists():
            loaded = load_records(self.path)
            records = loaded.records
            if loaded.note is not None:
                notes.append(loaded.note)
        try:
            state = recover_state(records, difficulty, snapshot)
        except RemoteError as error:
            raise StorageCorruption(f"{self.path}: {error}") from error
        if snapshot is not None:
            notes.append(f"{self.snapshot_path}: {snapshot.describe()}, "
                         f"{len(state.chain)} blocks held from the record file")
        self._recovered = True
        return state, notes

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

    def compact(self, compaction: Compaction) -> None:
        """Archive the retired blocks, replace the snapshot, then replace the record file
        with the live records: each step crash-safe, in the order that keeps every
        prefix of them recoverable (docs/storage.md, "Snapshots and compaction").

        - after "archived" only: the old snapshot and records still stand (the archive
          skips the blocks it already holds when the compaction runs again);
        - after "snapshot": the new snapshot with the old records, which start at or
          below it and are synced first, so the blocks up to it are all there;
        - after "records": the new state.
        """
        if not self._recovered:
            raise UsageError(f"{self.path}: call recover() before compact()")
        self._make_data_dir()
        if self.keep_archive:
            self.archive.append(compaction.retired)
        self._step("archived")
        if self._file is not None:
            self._file.sync()  # the old records must reach up to the new snapshot
        write_snapshot(self.snapshot_path, compaction.snapshot, self.fsync)
        self._step("snapshot")
        self.close()
        replace_file(self.path, b"".join(encode_frame(encode_record(record))
                                         for record in compaction.live), self.fsync)
        self._step("records")

    def full_chain(self, held: Sequence[Block], base: int) -> list[Block]:
        """The archived blocks below `base`, then `held` (the replica's chain, which
        starts at height `base`), when the archive reaches `base`: the chain from
        genesis, for the chain file. Otherwise `held` alone: no archive, or the server
        installed a peer's snapshot above where its archive ends."""
        if not self.keep_archive or base == 0:
            return list(held)
        archived = self.archive.blocks()
        if len(archived) < base:
            return list(held)
        return archived[:base] + list(held)

    def _step(self, name: str) -> None:
        if self.on_compact_step is not None:
            self.on_compact_step(name)

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
