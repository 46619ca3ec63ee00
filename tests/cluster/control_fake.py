"""A fake cluster for the `paxlab cluster` command tests: real processes, fake servers.

Each fake server is a real detached process that does what `cluster up` and `down` can
see (it writes its pid file, holds its listen port, exits on SIGTERM), with a command
line that `procs.is_our_server` accepts. Its admin side is answered in this process by
`FakeCluster.admin`, from a small model: the lowest-numbered reachable server leads when
a majority is reachable, faults change the model, `crash` and `stop` signal the process.
So up, down, status, faults and check run their real code, minus the wire and Paxos.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from paxlab.cluster.control import Control, Unreachable
from paxlab.cluster.procs import running_server

__all__ = ["FAKE_SERVER", "FakeCluster", "FakeServer", "make_cluster", "stop_all"]

FAKE_SERVER = """\
import os, pathlib, signal, socket, sys, time
_, _, _file, _id, folder, host, port = sys.argv
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((host, int(port)))
sock.listen()
pid = pathlib.Path(folder) / "server.pid"
def bye(*_):
    pid.unlink(missing_ok=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
pid.write_text(str(os.getpid()))
while True:
    time.sleep(1)
"""


def make_cluster(folder: Path, servers: int = 3, secret: bool = True) -> ClusterFile:
    """A loopback cluster file on free ports (and a secret file) in `folder`."""
    from paxlab.cluster.clusterinit import free_ports

    folder.mkdir(parents=True, exist_ok=True)
    ports = free_ports("127.0.0.1", servers)
    data: dict[str, Any] = {"servers": {i: f"127.0.0.1:{p}" for i, p in enumerate(ports)},
                            "cluster": {"difficulty": 0}}
    if secret:
        fd = os.open(folder / "secret", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"s" * 32)
        os.close(fd)
        data["secret"] = "secret"
    (folder / "cluster.yaml").write_text(yaml.safe_dump(data))
    return load_cluster_file(folder / "cluster.yaml")


def _block(height: int, prev: str, txns: list[dict[str, Any]]) -> dict[str, Any]:
    import json

    body = {"height": height, "prev": prev, "txns": txns, "nonce": "0"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                            .encode()).hexdigest()
    return {**body, "hash": digest}


@dataclass
class FakeServer:
    chain: list[dict[str, Any]] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)
    snapshot_at: int = 0  # the server installed a snapshot here: it holds blocks from it
    paused: bool = False
    cut: set[int] = field(default_factory=set)  # peers this server cannot reach
    reachable: bool = True  # False: the process runs but admin gets no answer


class FakeCluster:
    """The model behind the fake admin; `requests` records every request sent."""

    def __init__(self, cluster: ClusterFile, script_dir: Path) -> None:
        self.cluster = cluster
        self.servers = {sid: FakeServer() for sid in cluster.servers}
        self.requests: list[tuple[int, dict[str, Any]]] = []
        self.script = script_dir / "fake_server.py"
        self.script.write_text(FAKE_SERVER)
        self.started: list[subprocess.Popen[bytes]] = []

    def control(self) -> Control:
        return Control(self.cluster, admin=self.admin, starter=self.start)

    # --- processes ------------------------------------------------------------------------

    def start(self, cluster: ClusterFile, sid: int) -> subprocess.Popen[bytes]:
        folder = cluster.server_dir(sid)
        folder.mkdir(parents=True, exist_ok=True)
        listen = cluster.servers[sid].listen
        proc = subprocess.Popen(
            [sys.executable, str(self.script), "paxlab.cluster.server", str(cluster.path),
             str(sid), str(folder), listen.host, str(listen.port)],
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=cluster.path.parent)
        self.started.append(proc)
        self.servers[sid].paused = False
        self.servers[sid].cut.clear()
        return proc

    def is_up(self, sid: int) -> bool:
        return running_server(self.cluster, sid) is not None and self.servers[sid].reachable

    def leader(self) -> int | None:
        up = [sid for sid in sorted(self.servers) if self.is_up(sid)
              and not self.servers[sid].paused]
        majority = len(self.servers) // 2 + 1
        connected = [sid for sid in up if len(set(up) - self.servers[sid].cut) >= majority]
        return connected[0] if len(up) >= majority and connected else None

    # --- state ----------------------------------------------------------------------------

    def commit(self, *txns: dict[str, Any], on: list[int] | None = None) -> None:
        """Append one block with `txns` to the chains of `on` (default: every server)."""
        for sid in self.servers if on is None else on:
            server = self.servers[sid]
            prev = server.chain[-1]["hash"] if server.chain else "0" * 64
            server.chain.append(_block(len(server.chain), prev, list(txns)))
            for txn in txns:
                if txn["op"] == "put":
                    server.kv[txn["key"]] = txn["value"]

    # --- the admin side -------------------------------------------------------------------

    def admin(self, cluster: ClusterFile, sid: int, request: dict[str, Any],
              timeout_s: float) -> dict[str, Any]:
        self.requests.append((sid, dict(request)))
        if not self.is_up(sid):
            raise Unreachable(f"s{sid}: connection refused")
        server, cmd = self.servers[sid], request["cmd"]
        leader = self.leader()
        if cmd == "status":
            peers = {f"s{p}": ("cut" if p in server.cut else "up" if self.is_up(p) else "down")
                     for p in self.servers if p != sid}
            return {"ok": True, "id": sid, "role": "leader" if sid == leader else "follower",
                    "leader": None if leader is None else f"s{leader}", "ballot": "1.0",
                    "commit": len(server.chain),
                    "head": server.chain[-1]["hash"] if server.chain else None,
                    "pid": os.getpid(), "links": peers, "reconnects": 0, "auth_failures": 0,
                    "paused": server.paused, "trace": False, "slow": False, "queue": 0}
        if cmd == "dump":
            return {"ok": True, "chain": server.chain[server.snapshot_at:],
                    "commit": len(server.chain), "kv": dict(server.kv), "difficulty": 0}
        if cmd in ("crash", "stop"):
            proc = running_server(self.cluster, sid)
            assert proc is not None
            os.kill(proc.pid, signal.SIGKILL if cmd == "crash" else signal.SIGTERM)
            return {"ok": True, "pid": proc.pid}
        if cmd == "pause":
            server.paused = True
            return {"ok": True}
        if cmd == "resume":
            server.paused = False
            return {"ok": True}
        if cmd == "fault":
            return self._fault(sid, request["net"])
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def _fault(self, sid: int, net: dict[str, Any]) -> dict[str, Any]:
        server = self.servers[sid]
        name = net["cmd"]
        if name in ("fail_link", "fix_link"):
            a, b = int(net["a"][1:]), int(net["b"][1:])
            other = b if sid == a else a
            (server.cut.add if name == "fail_link" else server.cut.discard)(other)
        elif name == "fail_link_one_way" and sid == int(net["source"][1:]):
            server.cut.add(int(net["target"][1:]))
        elif name == "isolate":
            target = int(net["server"][1:])
            server.cut |= set(self.servers) - {sid} if sid == target else {target}
        elif name == "partition":
            mine = next((g for g in net["groups"] if f"s{sid}" in g), None)
            grouped = {int(s[1:]) for g in net["groups"] for s in g}
            group = {int(s[1:]) for s in mine} if mine else set(self.servers) - grouped
            server.cut = set(self.servers) - group
        elif name == "heal":
            server.cut.clear()
        return {"ok": True, "applied": name}


def stop_all(fake: FakeCluster) -> None:
    """Kill every fake server process a test started, whatever state the test left."""
    for proc in fake.started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
