"""The paxlab side of `paxlab bench cluster`: a fresh 3-server TCP cluster per variant, loaded.

Each variant gets its own folder: a cluster file on free 127.0.0.1 ports with a secret
(as `paxlab cluster init` writes), three `python -m paxlab.cluster.server FILE ID`
processes, and load processes (`cluster_load`) whose ClientSessions find the leader the
real way. The bench asks the servers who leads through admin requests (`status`), kills
the leader with SIGKILL by its pid for failover, and ends every process it started.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from paxlab.bench.cluster_procs import Child, ChildError, Children, CpuMeter, python_argv
from paxlab.bench.cluster_stats import (
    Measured,
    Samples,
    failover_ms,
    measure_window,
    per_op_us,
)
from paxlab.bench.pso import free_ports
from paxlab.config.schema import CLUSTER_KEYS

__all__ = ["TUNED_TIMEOUTS", "Variant", "default_server_argv", "run_paxlab",
           "write_bench_cluster"]

SYSTEM = "paxlab"
_NS_PER_S = 1_000_000_000

TUNED_TIMEOUTS: dict[str, dict[str, int]] = {
    "cluster": {"heartbeat_interval_ms": 20, "election_timeout_ms_min": 100,
                "election_timeout_ms_max": 150, "accept_retry_ms": 50},
    "clients": {"request_timeout_ms": 100},
}
"""Failover with tuned timeouts: a leader heard every 20 ms, suspected after 100-150 ms,
clients moving on after 100 ms (the defaults are 50, 300-600 and 400)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of running paxlab: cluster-file overrides, load, and whether to kill."""

    name: str
    clients: int
    cluster: dict[str, Any] = field(default_factory=dict)  # the file's `cluster:` keys
    client_timeouts: dict[str, Any] = field(default_factory=dict)  # its `clients:` keys
    kill_leader: bool = False  # after the window: kill -9 the leader, time until next ok

    def describe(self) -> str:
        """`fsync on, difficulty 8`: the two settings PySyncObj has no counterpart for."""
        c = {k: spec.default for k, spec in CLUSTER_KEYS.items()} | self.cluster
        return f"fsync {'on' if c['fsync'] == 'always' else 'off'}, difficulty {c['difficulty']}"


def write_bench_cluster(folder: Path, variant: Variant) -> Path:
    """A cluster file for 3 local servers on free ports, with a fresh 0600 secret."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "secret"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    ports = free_ports(3)
    document = {
        "name": "bench-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", variant.name).strip("-"),
        "servers": {i: f"127.0.0.1:{port}" for i, port in enumerate(ports)},
        "cluster": dict(variant.cluster),
        "clients": dict(variant.client_timeouts),
        "data_dir": "data",
        "secret": "secret",
    }
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _status(cluster: Any, server_id: int) -> dict[str, Any] | None:
    from paxlab.cluster.admin import AdminError, admin_request

    try:
        reply = admin_request(cluster, server_id, {"cmd": "status"}, timeout_s=1.0)
    except AdminError:
        return None
    return reply if reply.get("ok") else None


def _wait_leader(cluster: Any, servers: list[Child], timeout_s: float = 20.0,
                 exclude: int | None = None) -> tuple[int, int]:
    """(leader id, its pid) once every live server names the same leader."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in servers:
            if not child.alive() and child.name != f"s{exclude}":
                raise ChildError(f"server {child.name} exited; see {child.log_path}")
        ids = [i for i in range(len(servers)) if i != exclude]
        statuses = [_status(cluster, i) for i in ids]
        leaders = {s.get("leader") for s in statuses if s is not None}
        if None not in statuses and len(leaders) == 1 and None not in leaders:
            leader = _server_id(leaders.pop())
            for i, s in zip(ids, statuses, strict=True):
                if i == leader and s is not None and s.get("role") == "leader":
                    return leader, int(s["pid"])
        time.sleep(0.05)
    raise ChildError(f"paxlab: no leader within {timeout_s:g} s")


def _server_id(leader: object) -> int:
    """A status reply's leader, "s1" or 1, as a number."""
    text = str(leader)
    return int(text[1:] if text.startswith("s") else text)


def _start(children: Children, folder: Path, variant: Variant, loads: int,
           server_argv: Callable[[Path, int], list[str]]) -> tuple[Any, list[Child], list[Child]]:
    from paxlab.cluster.clusterfile import load_cluster_file

    path = write_bench_cluster(folder, variant)
    cluster = load_cluster_file(path)
    servers = [children.start(f"s{i}", server_argv(path, i), folder / f"s{i}.out")
               for i in range(len(cluster.servers))]
    shares = [variant.clients // loads + (1 if k < variant.clients % loads else 0)
              for k in range(loads)]
    load_children: list[Child] = []
    first = 0
    for k, share in enumerate(shares):
        if share == 0:
            continue
        argv = python_argv("paxlab.bench.cluster_load", str(path), "--first-client",
                           str(first), "--sessions", str(share), "--log",
                           str(folder / f"load{k}.log"))
        load_children.append(children.start(f"load{k}", argv, folder / f"load{k}.err",
                                            talks=True))
        first += share
    return cluster, servers, load_children


def default_server_argv(path: Path, server_id: int) -> list[str]:
    """`python -m paxlab.cluster.server FILE ID` (the profiler wraps it instead)."""
    return python_argv("paxlab.cluster.server", str(path), str(server_id))


def run_paxlab(children: Children, folder: Path, variant: Variant, seconds: float,
               warmup_s: float, *, loads: int = 1, horizon_s: float = 3.0,
               server_argv: Callable[[Path, int], list[str]] = default_server_argv,
               log: Callable[[str], None] = lambda line: None) -> Measured:
    """Load the cluster for warm-up + `seconds`; measure the window; then, if the variant
    says so, kill -9 the leader and give the load `horizon_s` to recover."""
    cluster, servers, load_children = _start(children, folder, variant, loads, server_argv)
    try:
        leader, pid = _wait_leader(cluster, servers)
        started = time.monotonic_ns()
        for child in load_children:
            child.request({"cmd": "start"})
        meter = CpuMeter(servers + load_children)
        time.sleep(warmup_s)
        meter.start()
        time.sleep(seconds)
        meter.stop()
        kill_ns = None
        if variant.kill_leader:
            leader, pid = _wait_leader(cluster, servers, timeout_s=5.0)
            kill_ns = time.monotonic_ns()
            servers[leader].kill()
            log(f"paxlab {variant.name}: killed the leader s{leader} (pid {pid}), "
                f"waiting {horizon_s:g} s")
            time.sleep(horizon_s)
        samples = Samples()
        for child in load_children:
            samples.add_report(child.request({"cmd": "stop"}, timeout_s=15.0))
    finally:
        for child in load_children:
            child.end()
        for child in servers:
            child.end(grace_s=3.0)  # SIGTERM: a graceful stop writes any profile
    start = started + int(warmup_s * _NS_PER_S)
    measured = measure_window(SYSTEM, variant.name, variant.clients, samples, start,
                              start + int(seconds * _NS_PER_S), note=variant.describe())
    split = _split_text(meter, seconds, measured.ops)
    measured = replace(measured, cpu=f"{meter.text()}{split}",
                   cpu_us_per_op=per_op_us(meter.total_seconds(seconds), measured.ops))
    if kill_ns is None:
        return measured
    took = failover_ms(samples.done_ns, kill_ns)
    return replace(measured, failover_ms=took if took is not None else float("inf"))


def _split_text(meter: CpuMeter, seconds: float, ops: int) -> str:
    """` (servers 130 µs/op, load 58 µs/op)`: how much of the CPU per op is the clients'."""
    if not ops:
        return ""
    servers = sum(v for k, v in meter.shares.items() if k.startswith("s")) * seconds
    load = sum(v for k, v in meter.shares.items() if k.startswith("load")) * seconds
    return (f" (servers {per_op_us(servers, ops):.0f} µs/op, "
            f"load {per_op_us(load, ops):.0f} µs/op)")
