"""The durability rule (docs/storage.md): promises and votes are fsynced before the step's
messages leave; a batch of decided records only is written and left to the next sync.

Safe because a decision is already durable as the synced votes of a majority, and the
record file is append-only, so the next fsync covers what was written before it. These
tests watch every fsync of the record files: (a) a decided-only batch is not synced,
(b) a batch with a promise or a vote still is, before any Promise or Accepted leaves,
and (c) a server whose unsynced decided tail a crash tore (or lost whole) recovers
through the torn-tail path, relearns the lost decisions, and no acknowledged write is lost.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from paxlab.core import Replica
from paxlab.core.errors import UsageError
from paxlab.core.ids import node_kind
from paxlab.core.messages import Accepted, Boot, ClientReply, Envelope, Promise
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record
from paxlab.host import NodeHost
from paxlab.storage import FILE_NAME, DurableStorage, RecordFile, load_records
from paxlab.storage.durable import needs_sync
from paxlab.storage.framing import HEADER_BYTES, scan_frames
from paxlab.storage.records import decode_record
from tests.core.harness import Net
from tests.storage.test_durable import DIFFICULTY, PARAMS, fresh, recorded_run, submit_round

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="maps fsync'd descriptors to files through /proc")


class SyncWatch:
    """Counts fsyncs and remembers, per record file, how many bytes the last one made
    durable: what a machine crash could not take away."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.durable: dict[Path, int] = {}
        real = os.fsync

        def fsync(fd: int) -> None:
            real(fd)
            self.calls += 1
            target = Path(os.readlink(f"/proc/self/fd/{fd}"))
            if target.name == FILE_NAME:
                self.durable[target] = os.fstat(fd).st_size

        monkeypatch.setattr(os, "fsync", fsync)

    def durable_size(self, path: Path) -> int:
        return self.durable.get(path.resolve(), 0)

    def durable_records(self, path: Path) -> list[Record]:
        if not path.exists():
            return []
        data = path.read_bytes()[: self.durable_size(path)]
        return [decode_record(frame.payload) for frame in scan_frames(data).frames]

    def unsynced_records(self, path: Path) -> list[Record]:
        data = path.read_bytes()[self.durable_size(path):]
        scan = scan_frames(data)
        assert scan.damage is None, "the unsynced tail starts at a record boundary"
        return [decode_record(frame.payload) for frame in scan.frames]


def kinds() -> tuple[list[PromisedRecord], list[AcceptedRecord], list[DecidedRecord]]:
    flat, _ = recorded_run()
    records = [r for server in flat for r in server]
    return ([r for r in records if isinstance(r, PromisedRecord)],
            [r for r in records if isinstance(r, AcceptedRecord)],
            [r for r in records if isinstance(r, DecidedRecord)])


def test_needs_sync_unless_every_record_is_decided() -> None:
    promised, accepted, decided = kinds()
    assert not needs_sync(decided[:1]) and not needs_sync(decided[:3])
    assert needs_sync(promised[:1]) and needs_sync(accepted[:1])
    assert needs_sync([decided[0], accepted[0]]) and needs_sync([promised[0], decided[0]])


def test_decided_batches_wait_for_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    promised, accepted, decided = kinds()
    storage = fresh(tmp_path)
    watch = SyncWatch(monkeypatch)
    storage.persist(promised[:1])  # creates the file (its folder synced too)
    path = storage.path
    calls = watch.calls

    def synced() -> bool:
        return watch.durable_size(path) == path.stat().st_size

    assert synced()
    storage.persist(decided[:2])  # (a) written, not synced
    assert watch.calls == calls and not synced()
    assert load_records(path).records[-2:] == decided[:2]
    storage.persist(decided[2:3])
    assert watch.calls == calls and watch.unsynced_records(path) == decided[:3]
    storage.persist(accepted[:1])  # (b) one fsync covers the vote and what came before
    assert watch.calls == calls + 1 and synced()
    storage.persist(decided[3:4])
    storage.persist(promised[1:2])  # (b) a promise too
    assert watch.calls == calls + 2 and synced()
    storage.persist([decided[4], accepted[1]])  # a mixed batch is synced
    assert watch.calls == calls + 3 and synced()
    storage.persist(decided[5:6])
    assert not synced()
    storage.close()  # a clean stop syncs what is left
    assert watch.calls == calls + 4 and synced()


def test_with_fsync_off_nothing_is_ever_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    promised, _, decided = kinds()
    watch = SyncWatch(monkeypatch)
    with fresh(tmp_path, fsync=False) as storage:
        storage.persist(promised[:1])
        storage.persist(decided[:2])
    assert watch.calls == 0
    assert load_records(tmp_path / FILE_NAME).records == [*promised[:1], *decided[:2]]


def test_a_failed_sync_makes_the_file_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, decided = kinds()
    file = RecordFile(tmp_path / FILE_NAME, fsync=True)
    file.append(decided[:1], sync=False)
    assert file.unsynced

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="Input/output"):
        file.sync()
    with pytest.raises(UsageError, match="earlier write failed"):
        file.append(decided[1:2])
    file.close()  # no second attempt at the sync that failed


# --- a cluster on disk ----------------------------------------------------------------


class SyncedNet(Net):
    """The harness Net with every server on its own DurableStorage, checking each send
    against what the last fsync made durable (not merely written)."""

    def attach(self, folder: Path, watch: SyncWatch) -> None:
        self.folder = folder
        self.watch = watch
        self.checked = 0
        self.early_replies = 0  # ok replies sent while their decided record was unsynced
        for replica in self.replicas:
            self.hosts[replica.node].storage = fresh(self.data_dir(replica.id))

    def data_dir(self, replica: int) -> Path:
        return self.folder / "data" / f"server-{replica}"

    def log_path(self, replica: int) -> Path:
        return self.data_dir(replica) / FILE_NAME

    def _send(self, envelope: Envelope) -> None:
        message = envelope.message
        if node_kind(envelope.source) == "server":
            durable = self.watch.durable_records(self.log_path(int(envelope.source[1:])))
            if isinstance(message, Promise | Accepted):
                promised = [r.ballot for r in durable if isinstance(r, PromisedRecord)]
                assert promised and max(promised) >= message.ballot, "promise left unsynced"
                if isinstance(message, Accepted):
                    assert any(isinstance(r, AcceptedRecord) and r.block.hash ==
                               message.block_hash for r in durable), "vote left unsynced"
                self.checked += 1
            elif isinstance(message, ClientReply) and message.outcome == "ok" and not any(
                    isinstance(r, DecidedRecord) and any(
                        (t.client, t.seq) == (message.client, message.seq)
                        for t in r.block.txns) for r in durable):
                self.early_replies += 1
        super()._send(envelope)


@pytest.mark.parametrize("cut", ["header", "payload", "whole tail"])
def test_a_torn_unsynced_decided_tail_recovers_and_loses_no_acknowledged_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    watch = SyncWatch(monkeypatch)
    net = SyncedNet(servers=3, clients=3, seed=5, params=PARAMS)
    net.attach(tmp_path, watch)
    net.run_until(lambda: len(net.leaders()) == 1)
    for i in range(4):
        submit_round(net, f"a{i}")
    net.run_until(lambda: not any(s.busy for s in net.sessions))
    leader = net.replicas[net.leaders()[0]]
    path = net.log_path(leader.id)
    tail = watch.unsynced_records(path)
    # The rule, seen from the disk: only decided records are ever left unsynced.
    assert tail and all(isinstance(r, DecidedRecord) for r in tail)
    assert net.checked > 20 and net.early_replies > 0

    # A machine crash: the leader's unsynced tail is torn (or lost whole).
    durable = watch.durable_size(path)
    net.down.add(leader.node)
    net.hosts[leader.node].storage.close()  # type: ignore[attr-defined]  (its sync is moot)
    keep = {"header": durable + 3, "payload": durable + HEADER_BYTES + 3,
            "whole tail": durable}[cut]
    os.truncate(path, keep)
    before = [b.hash for b in leader.learner.chain]

    storage = DurableStorage(net.data_dir(leader.id), fsync=True)
    state, notes = storage.recover(DIFFICULTY)
    assert state is not None
    if cut == "whole tail":
        assert notes == []
    else:
        assert len(notes) == 1 and f"cut a torn tail at byte {durable}" in notes[0]
    assert [b.hash for b in state.chain] == before[: len(state.chain)]
    assert len(state.chain) <= len(before) - len(tail)  # decisions really were lost
    assert state.promised == leader.acceptor.promised  # promises were all synced

    restarted = Replica(leader.id, leader.params, random.Random(9), recovered=state)
    net.replicas[leader.id] = restarted
    host = NodeHost(restarted, net._send, storage=storage, log=net._logger(restarted.node))
    net.hosts[restarted.node] = host
    net.down.discard(restarted.node)
    host.local(net.now_ms, Boot())
    for i in range(2):
        submit_round(net, f"b{i}")
    net.run_until(lambda: not any(s.busy for s in net.sessions)
                  and all(c == net.chains()[0] for c in net.chains()))
    final = net.chains()[0]
    assert final[: len(before)] == before  # every decision relearned, none changed
    in_chain = {(t.client, t.seq) for r in net.replicas for b in r.learner.chain
                for t in b.txns}
    acked = [(c.client, c.seq) for c in net.completions if c.outcome == "ok"]
    assert acked and set(acked) <= in_chain
