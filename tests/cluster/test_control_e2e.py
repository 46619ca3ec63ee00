"""One whole session by the `paxlab cluster` commands on real servers (127.0.0.1, free
ports): init, up, status --json, client ops, crash the leader, restart, fail and fix a
link, check passes, down twice; no server process and no port is left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paxlab.cli.main import main
from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from paxlab.cluster.control import busy_port
from paxlab.cluster.procs import read_pid, running_server


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ClusterFile]:
    """A fresh 3-server cluster file; every server killed at the end, whatever happened."""
    assert main(["cluster", "init", str(tmp_path / "demo"), "--servers", "3"]) == 0
    path = tmp_path / "demo" / "cluster.yaml"
    text = path.read_text().replace("difficulty: 8", "difficulty: 4")
    path.write_text(text)
    cluster = load_cluster_file(path)
    yield cluster
    for sid in cluster.servers:
        proc = running_server(cluster, sid)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


def cluster_cmd(capsys: pytest.CaptureFixture[str], cluster: ClusterFile,
                *argv: str) -> tuple[int, str]:
    code = main(["cluster", *argv, "--cluster", str(cluster.path)])
    out, err = capsys.readouterr()
    return code, out + err


def client(capsys: pytest.CaptureFixture[str], cluster: ClusterFile, cid: int,
           commands: str) -> tuple[int, str]:
    code = main(["client", str(cid), "--cluster", str(cluster.path), "-c", commands])
    out, err = capsys.readouterr()
    return code, out + err


def status(capsys: pytest.CaptureFixture[str], cluster: ClusterFile) -> dict:
    code, out = cluster_cmd(capsys, cluster, "status", "--json")
    data = json.loads(out)
    assert code == (0 if data["ok"] else 1)
    return data


def test_a_session_by_hand(session: ClusterFile, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = session
    code, out = cluster_cmd(capsys, cluster, "up")
    assert code == 0, out
    assert "leader: s" in out and "paxlab client 7 --cluster" in out
    data = status(capsys, cluster)
    assert data["ok"] and [row["up"] for row in data["servers"]] == [True, True, True]
    leader = next(row["id"] for row in data["servers"] if row["role"] == "leader")

    code, out = client(capsys, cluster, 7, "put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}"
                       "; get ('alice', 1)")
    assert code == 0, out
    assert "-> {'phone': '858-1', 'tags': [1, 2]}" in out

    code, out = cluster_cmd(capsys, cluster, "crash", "leader")
    assert code == 0 and f"crash leader ({leader})" in out
    wait_until(lambda: status(capsys, cluster)["ok"])
    code, out = client(capsys, cluster, 7, "put 'b' 2")
    assert code == 0, out

    code, out = cluster_cmd(capsys, cluster, "restart", "all")
    assert code == 0 and f"restart all ({leader})" in out
    code, out = cluster_cmd(capsys, cluster, "fail-link", "0", "1")
    assert code == 0, out
    links = {row["id"]: row.get("links", {}) for row in status(capsys, cluster)["servers"]}
    assert links["s0"]["s1"] == "cut" and links["s1"]["s0"] == "cut"
    code, out = client(capsys, cluster, 8, "put 'c' 3; get 'b'")
    assert code == 0 and "-> 2" in out, out
    code, out = cluster_cmd(capsys, cluster, "fix-link", "0", "1")
    assert code == 0, out

    code, out = cluster_cmd(capsys, cluster, "check")
    assert code == 0, out
    assert "ALL CHECKS PASS" in out

    pids = [read_pid(cluster, sid) for sid in cluster.servers]
    code, out = cluster_cmd(capsys, cluster, "down")
    assert code == 0 and out.count(" stopped (pid") == 3, out
    code, out = cluster_cmd(capsys, cluster, "down", "--json")
    assert code == 0 and set(json.loads(out)["servers"].values()) == {"not running"}
    assert all(running_server(cluster, sid) is None for sid in cluster.servers)
    assert all(pid is None or not Path(f"/proc/{pid}").exists() for pid in pids)
    assert [busy_port(entry.listen) for entry in cluster.servers.values()] == [None] * 3
