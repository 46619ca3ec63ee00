"""Snapshots in the real lab: servers compact their record files while the leader is
crashed and restarted, the restarted server recovers from its snapshot, and the chain
files still start at genesis (the archive holds the compacted blocks) unless a server
installed a peer's snapshot; every check passes (issue 14)."""

from __future__ import annotations

import dataclasses
import io
import json
import random
from pathlib import Path

from paxlab import results
from paxlab.config import load_config
from paxlab.core import Replica, ReplicaParams
from paxlab.core.kv import KVStore
from paxlab.core.output import DecidedRecord
from paxlab.core.recovery import RecoveredState
from paxlab.core.snapshot import Snapshot
from paxlab.lab import run_lab
from paxlab.lab.server_proc import _dump
from paxlab.storage import DurableStorage, load_records
from paxlab.storage.framing import HEADER_BYTES

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "leader_crash.yaml"


def test_a_leader_restarts_from_its_snapshot_and_every_check_passes(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    config = dataclasses.replace(
        config, name="leader_crash_snapshots",
        cluster=dataclasses.replace(config.cluster, snapshot_every=8, retain_blocks=32),
        workload=dataclasses.replace(config.workload, duration_ms=3000))
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    failed = [(c.name, c.verdict, c.details) for c in outcome.checks if c.verdict != "pass"]
    assert failed == [], outcome.run_dir

    run_dir = outcome.run_dir
    logs = "".join(p.read_text() for p in (run_dir / "logs").glob("server-*.log"))
    assert "snapshot at height" in logs  # the crashed leader came back from its snapshot
    starts, lengths = [], []
    for server in range(3):
        data = run_dir / "data" / f"server-{server}"
        snapshot = json.loads((data / "snapshot").read_bytes()[HEADER_BYTES:])
        assert snapshot["height"] > 8
        decided = [r for r in load_records(data / "replica.log").records
                   if isinstance(r, DecidedRecord)]
        assert len(decided) <= 32 + 8 + 8  # retain + every + a window: compacted behind
        path = run_dir / "chains" / f"server-{server}.jsonl"
        if not path.exists():  # it had just installed a snapshot at its tip: its log says
            assert "left out of chains/ and kv/" in (
                run_dir / "logs" / f"server-{server}.log").read_text()
            continue
        chain_file = path.read_text().splitlines()
        starts.append(json.loads(chain_file[0])["height"])
        lengths.append(len(chain_file))
    assert 0 in starts  # a chain from genesis: every block the checks need
    assert max(lengths) > 3 * (32 + 8 + 8)


def test_a_server_holding_no_block_above_its_installed_snapshot_writes_no_chain_file(
        tmp_path: Path) -> None:
    """An empty chain file would read as a chain from 0 that learned nothing."""
    snapshot = Snapshot.of(5, "ab" * 32, KVStore(data={"'k'": "1"}))
    state = RecoveredState(promised=None, accepted=(), chain=(), snapshot=snapshot)
    replica = Replica(1, ReplicaParams(replica_count=3), random.Random(1), recovered=state)
    storage = DurableStorage(tmp_path / "data", fsync=False)
    note = _dump(replica, storage, tmp_path)
    assert note == ("left out of chains/ and kv/: it installed a snapshot at height 5 and "
                    "holds no block above it")
    assert results.read_chains(tmp_path) == {} and results.read_kvs(tmp_path) == {}
