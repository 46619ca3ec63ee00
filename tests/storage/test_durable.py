"""DurableStorage: the host's Storage on a real file, recovery through it, and a cluster
whose servers persist to disk, crash, restart from their files and catch up."""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import pytest

from paxlab.core import Replica, recover_state
from paxlab.core.chain import seal_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot, node_kind
from paxlab.core.messages import Accepted, Boot, Envelope, Promise
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record
from paxlab.host import NodeHost
from paxlab.storage import (
    FILE_NAME,
    DurableStorage,
    MemoryStorage,
    RecordFile,
    StorageCorruption,
    load_records,
)
from paxlab.storage.framing import HEADER_BYTES
from paxlab.storage.records import encode_record
from tests.core.harness import Net

DIFFICULTY = 4
PARAMS = {"difficulty": DIFFICULTY, "batch_size_max": 2, "pipeline_window": 3}


def fresh(folder: Path, fsync: bool = True) -> DurableStorage:
    storage = DurableStorage(folder, fsync=fsync)
    assert storage.recover(DIFFICULTY) == (None, [])
    return storage


def submit_round(net: Net, tag: str) -> None:
    for client in range(len(net.sessions)):
        net.run_until(lambda c=client: not net.sessions[c].busy)
        net.submit(client, "put", f"'k{client}'", f"'{tag}{client}'")


def recorded_run(seed: int = 2) -> tuple[list[list[Record]], list[list[list[Record]]]]:
    """Each server's persisted records (flat, and batch by batch) from a short in-memory
    run with a leader change."""
    net = Net(servers=3, clients=2, seed=seed, params=PARAMS)
    batches: list[list[list[Record]]] = [[] for _ in net.replicas]

    class Recording(MemoryStorage):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

        def persist(self, records: list[Record]) -> None:  # type: ignore[override]
            batches[self.index].append(list(records))

    for replica in net.replicas:
        net.hosts[replica.node].storage = Recording(replica.id)
    net.run_until(lambda: len(net.leaders()) == 1)
    submit_round(net, "a")
    old = net.leaders()[0]
    net.isolate(old)
    net.run_until(lambda: any(leader != old for leader in net.leaders()))
    net.heal()
    submit_round(net, "b")
    net.run_for(50)
    return [[r for batch in server for r in batch] for server in batches], batches


# --- the storage on its own -----------------------------------------------------------


def test_persist_then_recover_round_trip(tmp_path: Path) -> None:
    flat, batches = recorded_run()
    for server, server_batches in enumerate(batches):
        folder = tmp_path / f"server-{server}"
        with fresh(folder) as storage:
            for batch in server_batches:
                storage.persist(batch)
        assert (folder / FILE_NAME).is_file()
        assert load_records(folder / FILE_NAME).records == flat[server]
        state, notes = DurableStorage(folder, fsync=True).recover(DIFFICULTY)
        assert notes == []
        assert state == recover_state(flat[server], DIFFICULTY)
        assert state is not None and len(state.chain) >= 2 and state.promised is not None


def test_recover_must_come_first_and_once(tmp_path: Path) -> None:
    storage = DurableStorage(tmp_path / "s0", fsync=False)
    with pytest.raises(UsageError, match="call recover"):
        storage.persist([PromisedRecord(ballot=Ballot(1, 0))])
    assert storage.recover(DIFFICULTY) == (None, [])
    with pytest.raises(UsageError, match="runs once"):
        storage.recover(DIFFICULTY)


def test_nothing_to_persist_creates_nothing(tmp_path: Path) -> None:
    storage = fresh(tmp_path / "s0")
    storage.persist([])
    assert not (tmp_path / "s0").exists()


def test_the_file_lives_in_the_data_folder_created_on_first_persist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "run" / "data" / "server-0"
    storage = fresh(folder)
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    storage.persist([PromisedRecord(ballot=Ballot(1, 0))])
    assert storage.path == folder / "replica.log" and storage.path.is_file()
    # Three new folders and one new file: four folder entries to sync, then the data.
    assert len(synced) == 5
    storage.persist([PromisedRecord(ballot=Ballot(2, 0))])
    assert len(synced) == 6
    storage.close()


def test_fsync_never_does_not_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    flat, _ = recorded_run()
    with fresh(tmp_path / "s0", fsync=False) as storage:
        storage.persist(flat[0])
    assert synced == []
    state, _ = DurableStorage(tmp_path / "s0", fsync=False).recover(DIFFICULTY)
    assert state == recover_state(flat[0], DIFFICULTY)


def test_a_torn_tail_is_cut_and_noted(tmp_path: Path) -> None:
    flat, _ = recorded_run()
    with fresh(tmp_path) as storage:
        storage.persist(flat[0])
    path = tmp_path / FILE_NAME
    size = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(b"\x00\x00\x01\x00\xde\xad")  # a crash cut the next header short
    state, notes = DurableStorage(tmp_path, fsync=True).recover(DIFFICULTY)
    assert state == recover_state(flat[0], DIFFICULTY)
    assert notes == [
        f"{path}: cut a torn tail at byte {size} (header cut short: 6 of 8 bytes; "
        f"6 bytes dropped, {len(flat[0])} records kept)"
    ]
    assert path.stat().st_size == size


def test_mid_file_damage_stops_recovery_naming_file_and_offset(tmp_path: Path) -> None:
    flat, _ = recorded_run()
    with fresh(tmp_path) as storage:
        storage.persist(flat[0])
    path = tmp_path / FILE_NAME
    data = bytearray(path.read_bytes())
    second = HEADER_BYTES + len(encode_record(flat[0][0]))
    data[second + HEADER_BYTES + 3] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorruption, match=f"corrupt record at byte offset {second}: CRC"):
        DurableStorage(tmp_path, fsync=True).recover(DIFFICULTY)
    assert path.read_bytes() == bytes(data)


def chain_records(n: int) -> list[Record]:
    flat, _ = recorded_run()
    decided = [r for r in flat[0] if isinstance(r, DecidedRecord)]
    assert len(decided) >= n
    return decided[:n]


@pytest.mark.parametrize("damage", ["bad hash", "wrong link"])
def test_a_bad_chain_in_the_file_is_refused_at_recovery(tmp_path: Path, damage: str) -> None:
    first, second = (r.block for r in chain_records(2))  # type: ignore[union-attr]
    if damage == "bad hash":
        forged = dataclasses.replace(second, nonce=second.nonce + "0")  # hash now stale
        expected = "height 1 is invalid: block 1: hash .* does not match"
    else:
        forged = seal_block(1, "e" * 64, second.txns, DIFFICULTY)  # valid, links elsewhere
        expected = "height 1 links to eeeeeeeeeeee"
    with RecordFile(tmp_path / FILE_NAME, fsync=False) as file:
        file.append([DecidedRecord(block=first), DecidedRecord(block=forged)])
    with pytest.raises(StorageCorruption, match=expected) as caught:
        DurableStorage(tmp_path, fsync=True).recover(DIFFICULTY)
    assert isinstance(caught.value, RemoteError)
    assert str(caught.value).startswith(f"{tmp_path / FILE_NAME}: decided block at height 1")


# --- a cluster on disk ----------------------------------------------------------------


class DiskNet(Net):
    """The harness Net, but every server persists to its own DurableStorage, and every
    Promise and Accepted is checked against the file as it leaves: durable first."""

    def attach(self, folder: Path) -> None:
        self.folder = folder
        self.checked = 0
        for replica in self.replicas:
            self.hosts[replica.node].storage = fresh(self.data_dir(replica.id))

    def data_dir(self, replica: int) -> Path:
        return self.folder / "data" / f"server-{replica}"

    def _send(self, envelope: Envelope) -> None:
        message = envelope.message
        if isinstance(message, Promise | Accepted) and node_kind(envelope.source) == "server":
            path = self.data_dir(int(envelope.source[1:])) / FILE_NAME
            records = load_records(path).records if path.exists() else []
            promised = [r.ballot for r in records if isinstance(r, PromisedRecord)]
            assert promised and max(promised) >= message.ballot, "promise sent before fsync"
            if isinstance(message, Accepted):
                assert any(
                    isinstance(r, AcceptedRecord | DecidedRecord) and
                    getattr(r, "block").hash == message.block_hash  # noqa: B009
                    for r in records
                ), "Accepted sent before its vote was on disk"
            self.checked += 1
        super()._send(envelope)


def test_a_server_restarts_from_its_file_and_catches_up(tmp_path: Path) -> None:
    net = DiskNet(servers=3, clients=2, seed=2, params=PARAMS)
    net.attach(tmp_path)
    net.run_until(lambda: len(net.leaders()) == 1)
    for i in range(3):
        submit_round(net, f"a{i}")
    leader = net.leaders()[0]
    net.run_until(lambda: any(r.acceptor.accepted for r in net.replicas if r.id != leader))
    before = next(r for r in net.replicas if r.acceptor.accepted and r.id != leader)
    net.down.add(before.node)  # crash
    net.hosts[before.node].storage.close()  # type: ignore[attr-defined]
    for i in range(3):
        submit_round(net, f"b{i}")
    net.run_for(100)

    storage = DurableStorage(net.data_dir(before.id), fsync=True)
    state, notes = storage.recover(DIFFICULTY)
    assert notes == [] and state is not None
    restarted = Replica(before.id, before.params, random.Random(7), recovered=state)
    assert restarted.acceptor.promised == before.acceptor.promised
    assert [b.hash for b in restarted.learner.chain] == [b.hash for b in before.learner.chain]
    assert restarted.learner.kv.data == before.learner.kv.data
    assert restarted.acceptor.accepted == before.acceptor.accepted and state.accepted

    net.replicas[before.id] = restarted
    host = NodeHost(restarted, net._send, storage=storage, log=net._logger(restarted.node))
    net.hosts[restarted.node] = host
    net.down.discard(restarted.node)
    host.local(net.now_ms, Boot())
    submit_round(net, "c")
    net.run_until(
        lambda: not any(s.busy for s in net.sessions)
        and all(c == net.chains()[0] for c in net.chains())
    )
    assert len(restarted.learner.chain) > len(state.chain)
    assert net.checked > 20  # the durable-first check ran on real traffic

    # Every server's file recovers to exactly what it holds in memory now.
    for replica in net.replicas:
        net.hosts[replica.node].storage.close()  # type: ignore[attr-defined]
        state, notes = DurableStorage(net.data_dir(replica.id), fsync=True).recover(DIFFICULTY)
        assert state is not None and notes == []
        assert [b.hash for b in state.chain] == [b.hash for b in replica.learner.chain]
        assert state.promised == replica.acceptor.promised
        assert {e.slot: e for e in state.accepted} == replica.acceptor.accepted
        again = Replica(replica.id, replica.params, random.Random(1), recovered=state)
        assert again.learner.kv.data == replica.learner.kv.data
