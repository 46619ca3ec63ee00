"""Process-buffer storage (cluster.storage: process_buffer): what is not yet synced stays
in the process, so the file (what a SIGKILL leaves) holds only synced batches."""

from __future__ import annotations

from pathlib import Path

from paxlab.core.ids import Ballot
from paxlab.core.output import DecidedRecord, PromisedRecord
from paxlab.storage.record_file import WRITE_BACK_S, RecordFile, load_records
from tests.storage.test_record_file import B0

PROMISE = PromisedRecord(ballot=Ballot(1, 0))
DECIDED = DecidedRecord(block=B0)


def on_disk(path: Path) -> list[object]:
    return list(load_records(path).records) if path.exists() else []


def test_unsynced_batches_stay_in_the_process_until_the_sync(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    file = RecordFile(path, fsync=True, buffered=True)
    file.append([DECIDED], sync=False)
    assert on_disk(path) == []  # a SIGKILL now loses it, as a power cut would
    file.append([PROMISE])  # a batch that must be synced takes the buffer with it
    assert on_disk(path) == [DECIDED, PROMISE]
    file.close()


def test_page_cache_mode_writes_at_once(tmp_path: Path) -> None:
    """The check can fail: without the buffer the unsynced batch is in the file at once."""
    path = tmp_path / "replica.log"
    with RecordFile(path, fsync=True) as file:
        file.append([DECIDED], sync=False)
        assert on_disk(path) == [DECIDED]


def test_fsync_off_writes_back_after_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "replica.log"
    now = [0.0]
    file = RecordFile(path, fsync=False, buffered=True, clock=lambda: now[0])
    file.append([PROMISE])
    assert on_disk(path) == []  # fsync never: a promise is lost by a SIGKILL now
    now[0] = WRITE_BACK_S
    file.append([DECIDED])
    assert on_disk(path) == [PROMISE, DECIDED]
    file.append([PROMISE])
    file.close()  # a clean stop writes what is held
    assert on_disk(path) == [PROMISE, DECIDED, PROMISE]
