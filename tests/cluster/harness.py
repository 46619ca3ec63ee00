"""What the cluster's end-to-end tests share: a cluster file on free ports, real server
processes that are always killed, waiting with deadlines, and the leader by admin status.

    path = write_cluster(tmp_path, 3)
    with LocalCluster(path) as cluster:        # starts s0..s2; kills them all at the end
        leader = cluster.wait_leader()
        reply = cluster.admin(leader, {"cmd": "status"})

Servers run as `python -m paxlab.cluster.server FILE ID` with stdin from /dev/null (no
console) and stderr to `sN.stderr` beside the cluster file, so a failing test can show
what each said. The timing is tuned down (20 ms heartbeats, 100-200 ms elections), so a
3-server cluster elects in well under a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import yaml

from paxlab.cluster.admin import AdminError, admin_request
from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from paxlab.cluster.ports import free_port
from paxlab.cluster.transport import TcpTransport
from paxlab.cluster.wire import derive_keys
from paxlab.core.messages import ClientReply, ClientRequest, Envelope, Redirect

__all__ = ["FAST", "LocalCluster", "MiniClient", "wait_until", "write_cluster"]

ROOT = Path(__file__).resolve().parents[2]  # the tree whose paxlab the servers run
FAST: dict[str, Any] = {
    "heartbeat_interval_ms": 20, "election_timeout_ms_min": 100,
    "election_timeout_ms_max": 200, "accept_retry_ms": 40, "difficulty": 0,
}

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout_s: float = 10.0,
               what: str = "the condition") -> T:
    """Poll `predicate` until it returns something true; that value. AssertionError
    naming `what` once `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.01)


def write_cluster(folder: Path, n: int = 3, *, secret: bool = True,
                  **cluster: Any) -> Path:
    """A cluster file for `n` servers on distinct free 127.0.0.1 ports, with a secret
    file (mode 0600) and the FAST timing unless `cluster` says otherwise."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    data: dict[str, Any] = {
        "servers": {i: f"127.0.0.1:{port}" for i, port in enumerate(ports)},
        "cluster": {**FAST, **cluster},
        "data_dir": "data",
        "secret": None,
    }
    if secret:
        secret_path = folder / "secret"
        fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(os.urandom(32).hex() + "\n")
        data["secret"] = "secret"
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class LocalCluster:
    """Server processes for every id in the cluster file (or `start` only some); on exit,
    failure or not, every one still running is killed and reaped."""

    def __init__(self, path: Path, *, start: bool = True) -> None:
        self.path = path
        self.cluster: ClusterFile = load_cluster_file(path)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self._autostart = start

    def __enter__(self) -> LocalCluster:
        try:
            if self._autostart:
                for server_id in sorted(self.cluster.servers):
                    self.start(server_id)
        except BaseException:
            self.kill_all()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill_all()
        if error is not None and not isinstance(error, KeyboardInterrupt):
            sys.stderr.write(self.stderr_text())

    # --- processes ---------------------------------------------------------------------

    def start(self, server_id: int) -> subprocess.Popen[bytes]:
        old = self.procs.get(server_id)
        assert old is None or old.poll() is not None, f"s{server_id} is still running"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        with open(self.stderr_path(server_id), "ab") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "paxlab.cluster.server", str(self.path),
                 str(server_id)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr, env=env)
        self.procs[server_id] = proc
        return proc

    def stderr_path(self, server_id: int) -> Path:
        return self.path.parent / f"s{server_id}.stderr"

    def stderr_text(self) -> str:
        texts = []
        for server_id in sorted(self.procs):
            path = self.stderr_path(server_id)
            if path.exists():
                texts.append(f"--- s{server_id} stderr ---\n{path.read_text(errors='replace')}")
        return "\n".join(texts)

    def signal(self, server_id: int, signum: int) -> None:
        self.procs[server_id].send_signal(signum)

    def kill(self, server_id: int) -> None:
        """kill -9, and reap it."""
        proc = self.procs[server_id]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def wait_exit(self, server_id: int, timeout_s: float = 10.0) -> int:
        return self.procs[server_id].wait(timeout_s)

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            proc.wait(10)

    def running(self, server_id: int) -> bool:
        proc = self.procs.get(server_id)
        return proc is not None and proc.poll() is None

    # --- admin -------------------------------------------------------------------------

    def admin(self, server_id: int, request: dict[str, Any],
              timeout_s: float = 2.0) -> dict[str, Any]:
        return admin_request(self.cluster, server_id, request, timeout_s)

    def status(self, server_id: int) -> dict[str, Any] | None:
        """The server's status reply; None while it is down or not answering. (A server
        this cluster did not start, as one on a pty, is asked all the same.)"""
        if server_id in self.procs and not self.running(server_id):
            return None
        try:
            return self.admin(server_id, {"cmd": "status"}, timeout_s=1.0)
        except AdminError:
            return None

    def statuses(self) -> dict[int, dict[str, Any]]:
        found = {}
        for server_id in sorted(self.cluster.servers):
            status = self.status(server_id)
            if status is not None:
                found[server_id] = status
        return found

    def leader(self) -> int | None:
        """The running server that says it leads and whose ballot a majority of the
        cluster holds; None while there is none. (A paused or cut-off old leader may
        still say it leads: the majority has moved on to a higher ballot.)"""
        statuses = self.statuses()
        majority = len(self.cluster.servers) // 2 + 1
        for status in statuses.values():
            if status["role"] != "leader":
                continue
            agree = sum(1 for s in statuses.values() if s["ballot"] == status["ballot"])
            if agree >= majority:
                return int(status["id"])
        return None

    def wait_leader(self, timeout_s: float = 10.0, *, not_: int | None = None) -> int:
        """The leader's id, once there is one (other than `not_`). A 1-tuple inside, as
        server 0 is a leader too."""
        def found() -> tuple[int] | None:
            leader = self.leader()
            return (leader,) if leader is not None and leader != not_ else None
        return wait_until(found, timeout_s, "a leader")[0]

    def wait_ready(self, timeout_s: float = 10.0) -> int:
        """Wait until every server answers with every link up, then for a leader; its id.
        (A server that starts late runs for leader before its links are up, and its
        higher ballot may unseat the first leader when they come up: after this, the
        start-up elections are over.)"""
        n = len(self.cluster.servers)

        def all_up() -> bool:
            statuses = self.statuses()
            return len(statuses) == n and all(
                set(s["links"].values()) == {"up"} for s in statuses.values())

        wait_until(all_up, timeout_s, "every server up with every link up")
        return self.wait_leader(timeout_s)

    def wait_converged(self, ids: list[int], timeout_s: float = 10.0) -> int:
        """Wait until the servers `ids` hold the same chain (height and head); the height."""
        def same() -> tuple[int] | None:
            statuses = [self.status(i) for i in ids]
            if any(s is None for s in statuses):
                return None
            tips = {(s["commit"], s["head"]) for s in statuses if s is not None}
            return (next(iter(tips))[0],) if len(tips) == 1 else None
        return wait_until(same, timeout_s, f"s{ids} agreeing on one chain")[0]


class MiniClient:
    """The least client that works: client `number` over the real transport, one request
    at a time, following redirects (the CLIENT helper's client does the rest)."""

    def __init__(self, cluster: ClusterFile, number: int) -> None:
        self.number = number
        self.me = f"c{number}"
        self.log: list[str] = []
        self.transport = TcpTransport(self.me, cluster, derive_keys(cluster.secret),
                                      self.log.append)
        self.seq = 0

    def request(self, server: int, op: str, key: str, value: str | None,
                timeout_s: float = 5.0) -> ClientReply:
        """Send one put or get to `server` (following redirects, retrying the same seq)
        until a ClientReply comes; AssertionError at the deadline."""
        self.seq += 1
        deadline = time.monotonic() + timeout_s
        target = server
        while time.monotonic() < deadline:
            message = ClientRequest(client=self.number, seq=self.seq, op=op, key=key,  # type: ignore[arg-type]
                                    value=value)
            self.transport.send(Envelope(source=self.me, target=f"s{target}",
                                         message=message))
            answer_by = time.monotonic() + 0.3
            while time.monotonic() < answer_by:
                for envelope in self.transport.receive(time.monotonic() * 1000 + 50) or []:
                    reply = envelope.message
                    if getattr(reply, "seq", None) != self.seq:
                        continue
                    if isinstance(reply, ClientReply):
                        return reply
                    if isinstance(reply, Redirect) and reply.leader_hint is not None:
                        target = reply.leader_hint
                        answer_by = 0.0
        raise AssertionError(f"{self.me}: no reply to seq {self.seq} within {timeout_s} s")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> MiniClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
