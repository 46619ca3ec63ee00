"""`paxlab cluster power-cut` on a real 3-server cluster (127.0.0.1): every server dies at
once (storage process_buffer, the default: each loses what it had not synced); with fsync
always nothing acknowledged is lost, and `cluster check` passes after the restart."""

from __future__ import annotations

import pytest

from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.procs import running_server
from tests.cluster.test_control_e2e import client, cluster_cmd, session, status, wait_until

__all__ = ["session"]  # the fixture, imported for pytest


def test_power_cut_with_fsync_always_loses_no_acknowledged_write(
        session: ClusterFile, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = session
    assert cluster.cluster.fsync == "always" and cluster.cluster.storage == "process_buffer"
    code, out = cluster_cmd(capsys, cluster, "up")
    assert code == 0, out
    puts = "; ".join(f"put 'k{i % 3}' {i}" for i in range(12))
    code, out = client(capsys, cluster, 7, puts)
    assert code == 0, out

    code, out = cluster_cmd(capsys, cluster, "power-cut")
    assert code == 0 and "power_cut all (s0, s1, s2)" in out, out
    assert all(running_server(cluster, sid) is None for sid in cluster.servers)

    code, out = cluster_cmd(capsys, cluster, "restart", "all")
    assert code == 0, out
    wait_until(lambda: status(capsys, cluster)["ok"])
    code, out = client(capsys, cluster, 8, "get 'k0'; get 'k1'; get 'k2'")
    assert code == 0 and "-> 9" in out and "-> 10" in out and "-> 11" in out, out
    code, out = cluster_cmd(capsys, cluster, "check")
    assert code == 0 and "ALL CHECKS PASS" in out, out


def test_power_cut_with_nothing_running_fails(
        session: ClusterFile, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cluster_cmd(capsys, session, "power-cut")
    assert code != 0 and "no local server running" in out
