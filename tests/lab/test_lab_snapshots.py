"""Snapshots in the real lab: servers compact their record files while the leader is
crashed and restarted, the restarted server recovers from its snapshot, and the chain
files still start at genesis (the archive holds the compacted blocks) unless a server
installed a peer's snapshot; every check passes (issue 14)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

from paxlab.config import load_config
from paxlab.core.output import DecidedRecord
from paxlab.lab import run_lab
from paxlab.storage import load_records
from paxlab.storage.framing import HEADER_BYTES

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "leader_crash.yaml"


def test_a_leader_restarts_from_its_snapshot_and_every_check_passes(tmp_path: Path) -> None:
    config = load_config(CONFIG)
    config = dataclasses.replace(
        config, name="leader_crash_snapshots",
        cluster=dataclasses.replace(config.cluster, snapshot_every=8, retain_blocks=32),
        workload=dataclasses.replace(config.workload, duration_ms=3000))
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert [c.name for c in outcome.checks if c.verdict != "pass"] == []

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
        chain_file = (run_dir / "chains" / f"server-{server}.jsonl").read_text().splitlines()
        starts.append(json.loads(chain_file[0])["height"])
        lengths.append(len(chain_file))
    assert 0 in starts  # a chain from genesis: every block the checks need
    assert max(lengths) > 3 * (32 + 8 + 8)
