"""Durability over TCP: kill -9 of every server at once, in the middle of a client's
writes, loses no acknowledged write (each server syncs its Promise and Accepted records
before it answers, and recovers from its record file). The verdict is `cluster check`'s:
every acknowledged put is in the chain exactly once, and the history is linearizable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cluster.harness import LocalCluster, write_cluster

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _paxlab(*args: str, **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "paxlab", *args], text=True, env=ENV,
                            **options)  # type: ignore[call-overload]


def test_kill_9_of_every_server_mid_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = write_cluster(tmp_path, 3)
    with path.open("a") as out:
        out.write("clients: {request_timeout_ms: 300, op_timeout_ms: 2000}\n")
    puts = "".join(f"put 'k{i % 5}' {i}\n" for i in range(400))
    with LocalCluster(path) as cluster:
        cluster.wait_ready()
        client = _paxlab("client", "3", "--cluster", str(path), "--json",
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert client.stdin is not None and client.stdout is not None
            client.stdin.write(puts)
            client.stdin.close()
            acked = 0
            while acked < 20:  # some writes are acknowledged, more are in flight
                event = json.loads(client.stdout.readline())
                acked += event["type"] == "ok"
            for server_id in sorted(cluster.cluster.servers):
                cluster.kill(server_id)  # all at once: nothing is left running
            for server_id in sorted(cluster.cluster.servers):
                cluster.start(server_id)
            out = client.stdout.read()  # ends when the client does: every op answered
            client.wait(60)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait(10)
        events = [json.loads(line) for line in out.splitlines()]
        assert sum(e["type"] == "ok" for e in events) + acked > 20
        cluster.wait_leader(20)  # not wait_until(cluster.leader): s0 leads as 0, falsy
        check = subprocess.run([sys.executable, "-m", "paxlab", "cluster", "check",
                                "--cluster", str(path)], capture_output=True, text=True,
                               env=ENV, timeout=60, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "ALL CHECKS PASS" in check.stdout
        assert "no_lost_writes" in check.stdout
