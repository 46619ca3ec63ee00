"""`paxlab bench-snapshots` on a small scale: with snapshots the record file and the blocks
held stay under the stated bound while the baseline's grow with every op."""

from __future__ import annotations

import io

from paxlab.bench.snapshots import run_snapshot_bench
from paxlab.cli import main


def test_the_record_file_and_memory_stay_bounded_while_the_baseline_grows() -> None:
    out = io.StringIO()
    result = run_snapshot_bench(8_000, 4_000, out, clients=8, snapshot_every=16,
                                retain_blocks=4, batch_size_max=8)
    assert result.within_bound, out.getvalue()
    base, snaps = result.baseline.checkpoints, result.snapshots.checkpoints
    assert base[-1].record_bytes > 5 * base[0].record_bytes  # grows with the ops
    assert base[-1].held_blocks > 5 * base[0].held_blocks
    assert max(c.record_bytes for c in snaps) * 5 < base[-1].record_bytes
    assert max(c.held_blocks for c in snaps) <= 16 + 4
    assert max(c.table_ranges for c in snaps) <= 8  # one range per client
    assert base[-1].state_mb > 3 * base[0].state_mb  # the baseline's state grows
    assert max(c.state_mb for c in snaps) * 1e6 <= result.state_bound_bytes
    assert snaps[-1].archive_bytes > 0  # compacted blocks kept for outside checkers
    text = out.getvalue()
    assert "within the stated bound" in text and "ratio, snapshots on / off" in text


def test_an_impossible_bound_is_reported_and_fails(monkeypatch) -> None:
    import paxlab.bench.snapshots as bench

    monkeypatch.setattr(bench, "_stated_bound", lambda run, params, clients: 10)
    out = io.StringIO()
    result = run_snapshot_bench(2_000, 1_000, out, clients=4, snapshot_every=16,
                                retain_blocks=4, batch_size_max=8)
    assert not result.within_bound and "OVER the stated bound" in out.getvalue()


def test_bad_arguments_exit_2(capsys) -> None:
    assert main(["bench-snapshots", "--ops", "0"]) == 2
    assert "--ops" in capsys.readouterr().err
