"""A wrong secret is bad input (exit 2) for the client and for `cluster status`, though the
servers, by design, never tell a peer why they refused it: the dialer learns it from the
handshake, where the server fails to prove the key the dialer holds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.cluster.harness import LocalCluster, write_cluster


def _other_secret(folder: Path, cluster_file: Path) -> Path:
    """The same cluster file beside a secret of its own."""
    folder.mkdir()
    shutil.copy(cluster_file, folder / "cluster.yaml")
    fd = os.open(folder / "secret", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(os.urandom(32).hex())
    return folder / "cluster.yaml"


def _paxlab(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paxlab", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_a_client_and_status_with_another_secret_exit_2_and_the_servers_log_it(
        tmp_path: Path) -> None:
    path = write_cluster(tmp_path, 3)
    with path.open("a") as out:  # a short op timeout: the refused op ends info sooner
        out.write("clients: {request_timeout_ms: 300, op_timeout_ms: 1500}\n")
    wrong = _other_secret(tmp_path / "elsewhere", path)
    with LocalCluster(path) as cluster:
        cluster.wait_leader()
        client = _paxlab("client", "4", "--cluster", str(wrong), "-c", "put 'a' 1")
        assert client.returncode == 2, client.stderr
        assert "refused this client's key" in client.stderr
        status = _paxlab("cluster", "status", "--cluster", str(wrong))
        assert status.returncode == 2, status.stderr
        assert "refused the admin key" in status.stderr
        honest = _paxlab("cluster", "status", "--cluster", str(path))
        assert honest.returncode == 0, honest.stdout + honest.stderr
        logs = "".join((tmp_path / "data" / "servers" / f"s{i}" / "server.log").read_text()
                       for i in range(3))
        assert "auth failure" in logs and "(claimed c4)" in logs
