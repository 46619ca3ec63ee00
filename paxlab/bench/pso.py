"""The PySyncObj side of `paxlab bench cluster`: 3 node processes, the same load, one window.

PySyncObj (bakwc/PySyncObj, Raft) is the baseline because it is what a Python user
would reach for: a replicated dict across processes over TCP. It neither syncs to disk
nor mines, which is why paxlab is also measured "like for like" (fsync off, difficulty
0). Its writers run inside the nodes (it has no client protocol); see `pso_node`.
"""

from __future__ import annotations

import importlib.util
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from paxlab.bench.cluster_procs import Child, ChildError, Children, CpuMeter, python_argv
from paxlab.bench.cluster_stats import (
    Measured,
    Samples,
    failover_ms,
    measure_window,
    per_op_us,
)

__all__ = ["INSTALL_HINT", "free_ports", "pso_available", "run_pso_failover", "run_pso_load"]

INSTALL_HINT = "pip install -e '.[bench]'  (or: pip install 'pysyncobj>=0.3')"
SYSTEM = "PySyncObj"
_NS_PER_S = 1_000_000_000


def pso_available() -> bool:
    """Is the optional extra installed?"""
    return importlib.util.find_spec("pysyncobj") is not None


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free on 127.0.0.1 now (each socket closed again, so a
    rare race with another program is possible; the nodes then fail to bind and say so)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _start_nodes(children: Children, workdir: Path, timeouts: str,
                 batch: bool = True) -> list[Child]:
    ports = free_ports(3)
    nodes = []
    for index, port in enumerate(ports):
        peers = [str(p) for p in ports if p != port]
        argv = python_argv("paxlab.bench.pso_node", str(port), *peers)
        if timeouts:
            argv += ["--timeouts", timeouts]
        if not batch:
            argv.append("--no-batch")
        nodes.append(children.start(f"pso-n{index}", argv, workdir / f"pso-n{index}.log",
                                    talks=True))
    return nodes


def _wait_leader(nodes: list[Child], timeout_s: float = 15.0) -> int:
    """The index of the node every live node agrees leads, once they do."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        statuses = [node.request({"cmd": "status"}) for node in nodes]
        leaders = {s["leader"] for s in statuses}
        chiefs = [i for i, s in enumerate(statuses) if s["is_leader"]]
        if len(leaders) == 1 and None not in leaders and len(chiefs) == 1:
            return chiefs[0]
        time.sleep(0.05)
    raise ChildError(f"PySyncObj: no leader within {timeout_s:g} s")


def _stop_all(nodes: list[Child], loaded: list[int]) -> Samples:
    samples = Samples()
    for index in loaded:
        samples.add_report(nodes[index].request({"cmd": "stop"}, timeout_s=10.0))
    return samples


def run_pso_load(children: Children, workdir: Path, clients: int, seconds: float,
                 warmup_s: float, batch: bool = True) -> Measured:
    """Committed writes/s of `clients` closed-loop writers on the leader, over one window.

    `batch`: PySyncObj's appendEntriesUseBatch (its default, True) waits for the next
    appendEntriesPeriod (0.1 s) and sends what gathered; False sends each command at once."""
    nodes = _start_nodes(children, workdir, "", batch)
    variant = "batched appends (its default)" if batch else "appendEntriesUseBatch=False"
    try:
        leader = _wait_leader(nodes)
        started = time.monotonic_ns()
        nodes[leader].request({"cmd": "load", "writers": clients, "name": "n"})
        meter = CpuMeter(nodes)
        time.sleep(warmup_s)
        meter.start()
        time.sleep(seconds)
        meter.stop()
        samples = _stop_all(nodes, [leader])
    finally:
        for node in nodes:
            node.end()
    start = started + int(warmup_s * _NS_PER_S)
    measured = measure_window(SYSTEM, variant, clients, samples, start,
                              start + int(seconds * _NS_PER_S), note="writers in the leader")
    return replace(measured, cpu=meter.text(),
                   cpu_us_per_op=per_op_us(meter.total_seconds(seconds), measured.ops))


def run_pso_failover(children: Children, workdir: Path, clients: int, warmup_s: float,
                     timeouts: str, horizon_s: float,
                     log: Callable[[str], None] = lambda line: None) -> Measured:
    """kill -9 of the leader under load, writers on the two followers; `timeouts` is
    PySyncObj's raftMinTimeout,raftMaxTimeout,appendEntriesPeriod."""
    nodes = _start_nodes(children, workdir, timeouts)
    try:
        leader = _wait_leader(nodes)
        followers = [i for i in range(len(nodes)) if i != leader]
        shares = [clients // 2 + (1 if k < clients % 2 else 0) for k in range(2)]
        started = time.monotonic_ns()
        for index, share in zip(followers, shares, strict=True):
            nodes[index].request({"cmd": "load", "writers": share, "name": f"n{index}"})
        time.sleep(warmup_s)
        kill_ns = time.monotonic_ns()
        nodes[leader].kill()
        log(f"PySyncObj: killed the leader n{leader}, waiting {horizon_s:g} s")
        time.sleep(horizon_s)
        samples = _stop_all(nodes, followers)
    finally:
        for node in nodes:
            node.end()
    measured = measure_window(SYSTEM, "failover, timeouts " + timeouts.replace(",", "/") + " s",
                              clients, samples, started + int(warmup_s / 2 * _NS_PER_S),
                              kill_ns, note="writers in the followers")
    return replace(measured, failover_ms=failover_ms(samples.done_ns, kill_ns))

