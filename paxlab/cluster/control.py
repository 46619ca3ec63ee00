"""`paxlab cluster up` and `down`, and the admin plumbing every `cluster` command shares.

Each command returns a `Report`: the lines a person reads, the dict `--json` prints,
and whether it went well (exit 0 or 1); bad input raises ControlError (exit 2). Servers
are reached only through admin frames (`admin.admin_request`, role admin, the admin key),
so the same command works for a server in this terminal, in another, or on another host;
only starting and force-killing need the process to be local.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxlab.cluster.address import Endpoint, is_loopback_host
from paxlab.cluster.clusterfile import ClusterFile
from paxlab.cluster.ports import port_holder
from paxlab.cluster.procs import (
    OUT_FILE,
    read_pid,
    running_server,
    start_server,
    stop_server,
)

__all__ = [
    "AdminCall",
    "Control",
    "ControlError",
    "Report",
    "Unreachable",
    "busy_port",
    "down",
    "is_local_host",
    "remote_command",
    "up",
    "wire_admin",
]


class ControlError(Exception):
    """Bad input to a `cluster` command (a bad target, a busy port): exit code 2."""


class Unreachable(Exception):
    """A server did not answer an admin request (down, paused hard, wrong secret)."""


AdminCall = Callable[[ClusterFile, int, dict[str, Any], float], dict[str, Any]]
"""admin_request's shape; raises Unreachable. Tests pass a fake cluster here."""


def wire_admin(cluster: ClusterFile, server_id: int, request: dict[str, Any],
               timeout_s: float) -> dict[str, Any]:
    """One admin request over the wire (WIRE's admin.admin_request), its AdminError
    turned into Unreachable so the commands need not know the wire."""
    from paxlab.cluster import admin  # the wire (asyncio, hmac) only when a command needs it

    try:
        return admin.admin_request(cluster, server_id, request, timeout_s)
    except admin.AdminError as exc:
        raise Unreachable(str(exc)) from None


@dataclass
class Report:
    """What a command did: `lines` for people, `data` for --json, `ok` for the exit code."""

    ok: bool = True
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)


@dataclass
class Control:
    """A cluster file and how to reach its servers; `admin` is swapped for a fake in tests."""

    cluster: ClusterFile
    admin: AdminCall | None = None  # None: wire_admin, looked up when used
    timeout_s: float = 1.0
    starter: Callable[[ClusterFile, int], subprocess.Popen[bytes]] | None = None

    @property
    def ids(self) -> list[int]:
        return sorted(self.cluster.servers)

    def ask(self, server_id: int, request: dict[str, Any],
            timeout_s: float | None = None) -> dict[str, Any]:
        """One admin request; Unreachable if no answer (an `ok: false` reply is returned)."""
        admin = self.admin or wire_admin
        return admin(self.cluster, server_id, request, timeout_s or self.timeout_s)

    def start(self, cluster: ClusterFile, server_id: int) -> subprocess.Popen[bytes]:
        """Start a local server process (procs.start_server unless a test swaps it)."""
        return (self.starter or start_server)(cluster, server_id)

    def ask_all(self, request: dict[str, Any], ids: list[int] | None = None,
                timeout_s: float | None = None) -> dict[int, dict[str, Any] | str]:
        """The same request to many servers at once: id -> reply, or the reason it failed."""
        ids = self.ids if ids is None else ids

        def one(sid: int) -> dict[str, Any] | str:
            try:
                return self.ask(sid, request, timeout_s)
            except Unreachable as exc:
                return str(exc) or "no answer"

        if not ids:
            return {}
        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            return dict(zip(ids, pool.map(one, ids), strict=True))

    def local_ids(self) -> list[int]:
        return [sid for sid in self.ids if is_local_host(self.cluster.servers[sid].address.host)]


def is_local_host(host: str) -> bool:
    """Is `host` this machine? Loopback is; otherwise it is if a socket can bind to one
    of its addresses (the kernel refuses addresses of other machines)."""
    if is_loopback_host(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except OSError:
        return False
    for family, _, _, _, address in infos:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((address[0], 0))
            return True
    return False


def busy_port(endpoint: Endpoint) -> str | None:
    """None if `endpoint` can be listened on now; else why not, naming the holder of the
    port when /proc tells (WIRE's ports.port_holder)."""
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind((endpoint.host, endpoint.port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return f"cannot listen on {endpoint}: {exc.strerror}"
            holder = port_holder(endpoint.port)
            return f"port {endpoint.port} ({endpoint}) is in use" + (
                f" by {holder}" if holder else " (holder unknown)")
    return None


def remote_command(cluster: ClusterFile, server_id: int) -> str:
    """What to run on a server's own host (the same cluster file and secret copied there)."""
    return f"paxlab server {server_id} --cluster {cluster.path.name}"


def _leader(replies: dict[int, dict[str, Any] | str], n: int) -> str | None:
    """A leader that a majority of all servers answer with (itself included)."""
    votes: dict[str, int] = {}
    for reply in replies.values():
        if isinstance(reply, dict) and reply.get("ok") and reply.get("leader"):
            votes[reply["leader"]] = votes.get(reply["leader"], 0) + 1
    for leader, count in sorted(votes.items()):
        if count >= n // 2 + 1:
            return leader
    return None


def _tail(path: Path, lines: int = 5) -> list[str]:
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return []


def up(ctl: Control, wait_s: float = 10.0) -> Report:
    """Start every local server not yet running, after checking all their ports; wait
    for a leader; say how to connect and what to run on the other hosts."""
    cluster, report = ctl.cluster, Report()
    n, local = len(ctl.ids), ctl.local_ids()
    running = {sid: proc for sid in local if (proc := running_server(cluster, sid))}
    to_start = [sid for sid in local if sid not in running]
    busy = [f"s{sid}: {why}" for sid in to_start
            if (why := busy_port(cluster.servers[sid].listen))]
    if busy:
        raise ControlError("cannot start, nothing was started:\n  " + "\n  ".join(busy))
    started: dict[int, subprocess.Popen[bytes]] = {sid: ctl.start(cluster, sid)
                                                   for sid in to_start}
    servers: dict[str, Any] = {}
    for sid, proc in sorted(running.items()):
        report.say(f"s{sid} already running (pid {proc.pid})")
        servers[f"s{sid}"] = {"state": "running", "pid": proc.pid}
    deadline = time.monotonic() + wait_s
    failed = _wait_started(ctl, started, deadline, report, servers)
    remote = [sid for sid in ctl.ids if sid not in local]
    for sid in remote:
        entry = cluster.servers[sid]
        report.say(f"s{sid} is on {entry.address.host}: copy {cluster.path.name} and its "
                   f"secret there, then run: {remote_command(cluster, sid)}")
        servers[f"s{sid}"] = {"state": "remote", "command": remote_command(cluster, sid)}
    leader = None
    if not failed:
        leader = _wait_leader(ctl, deadline)
    report.data = {"servers": servers, "leader": leader, "failed": failed,
                   "connect": f"paxlab client 7 --cluster {cluster.path}"}
    if leader is not None:
        report.say(f"leader: {leader}")
    elif not failed:
        report.ok = bool(remote)  # remote servers may still be on their way: not an error
        report.say(f"NO LEADER after {wait_s:g} s: a majority ({n // 2 + 1} of {n}) must be "
                   "up and connected" + (" (start the servers on the other hosts)" if remote
                                         else f"; see `paxlab cluster status --cluster "
                                         f"{cluster.path}`"))
    report.ok = report.ok and not failed
    report.say(f"connect a client: {report.data['connect']}")
    return report


def _wait_started(ctl: Control, started: dict[int, subprocess.Popen[bytes]], deadline: float,
                  report: Report, servers: dict[str, Any]) -> list[str]:
    """Wait until each started server has written its pid file (it is then findable by
    `down`); a server that exits first is reported with the end of its output."""
    cluster, failed, waiting = ctl.cluster, [], dict(started)
    while waiting:
        for sid, proc in list(waiting.items()):
            if proc.poll() is not None:
                failed.append(f"s{sid}")
                report.say(f"s{sid} exited at start (code {proc.returncode}); the end of "
                           f"{cluster.server_dir(sid) / OUT_FILE}:")
                report.lines.extend("  " + line for line in
                                    _tail(cluster.server_dir(sid) / OUT_FILE))
                servers[f"s{sid}"] = {"state": "failed", "code": proc.returncode}
                del waiting[sid]
            elif read_pid(cluster, sid) == proc.pid:
                report.say(f"s{sid} started (pid {proc.pid}), listening on "
                           f"{cluster.servers[sid].listen}")
                servers[f"s{sid}"] = {"state": "started", "pid": proc.pid}
                del waiting[sid]
        if waiting and time.monotonic() >= deadline:
            for sid, proc in waiting.items():
                failed.append(f"s{sid}")
                report.say(f"s{sid} (pid {proc.pid}) wrote no pid file in time; see "
                           f"{cluster.server_dir(sid)}")
                servers[f"s{sid}"] = {"state": "slow", "pid": proc.pid}
            break
        if waiting:
            time.sleep(0.02)
    return failed


def _wait_leader(ctl: Control, deadline: float) -> str | None:
    while True:
        leader = _leader(ctl.ask_all({"cmd": "status"}, timeout_s=0.5), len(ctl.ids))
        if leader is not None or time.monotonic() >= deadline:
            return leader
        time.sleep(0.05)


def down(ctl: Control, timeout_s: float = 3.0) -> Report:
    """Stop every server: local ones by admin `stop`, then SIGTERM, then SIGKILL (found by
    their pid files); remote ones by admin `stop`. Stopping a stopped cluster is fine."""
    cluster, report, servers = ctl.cluster, Report(), {}
    local = ctl.local_ids()

    def ask_stop(sid: int) -> bool:
        try:
            return bool(ctl.ask(sid, {"cmd": "stop"}).get("ok"))
        except Unreachable:
            return False

    def stop_one(sid: int) -> tuple[str, str]:
        if sid in local:
            proc = running_server(cluster, sid)
            if proc is None:
                return "not running", f"s{sid} not running"
            how = stop_server(proc, lambda: ask_stop(sid), timeout_s)
            return how, f"s{sid} {how} (pid {proc.pid})"
        if ask_stop(sid):
            return "stopped", f"s{sid} on {cluster.servers[sid].address.host} stopped"
        return "unreachable", f"s{sid} on {cluster.servers[sid].address.host} not reachable " \
            "(already down?)"

    with ThreadPoolExecutor(max_workers=len(ctl.ids)) as pool:
        outcomes = dict(zip(ctl.ids, pool.map(stop_one, ctl.ids), strict=True))
    for sid, (state, line) in sorted(outcomes.items()):
        servers[f"s{sid}"] = state
        report.say(line)
    report.data = {"servers": servers}
    return report
