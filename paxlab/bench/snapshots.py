"""`paxlab bench-snapshots`: a million operations through one server, and what it keeps.

Issue 14 asks that after 1,000,000 operations a server's memory and record file stay
within a stated bound, and that its restart time does not grow with the number of
operations. This pushes the ops through the real core and, for server 0, the real
`DurableStorage` (fsync off: this measures sizes and CPU, not the disk), and at
checkpoints measures server 0: its record file and snapshot, its chain archive (the
blocks it compacted, kept for outside checkers unless `cluster.chain_archive` is false),
the blocks and exactly-once entries it holds in memory, the bytes of every object its
replica reaches (its state in memory, apart from the process), the process's resident
memory (three replicas, the clients and the bench's own lists), and the time a fresh
process would take to recover from its folder. Both the record file and the state have
a stated bound that does not depend on the number of operations; exit 1 over either.

The same run measures a baseline, snapshots off, for fewer ops (its record file and
memory grow with every op, which is the point), so the ratios compare like with like on
a shared, noisy machine.

The cluster is three replicas and `clients` closed-loop sessions in one process, wired
by a FIFO queue: no clock moves, so no timer fires (no elections, heartbeats or
retries); server 0 is made leader by a `Campaign` at the start. What the numbers show is
the core's and the storage's own cost, which is what compaction changes.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import types
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tabulate import tabulate

from paxlab.core import ClientParams, ClientSession, Replica, ReplicaParams
from paxlab.core.ids import server_node
from paxlab.core.messages import Boot, Campaign, Envelope, Submit
from paxlab.core.output import Compaction, Output, Record
from paxlab.host import NodeHost
from paxlab.results.stats import percentile
from paxlab.storage import DurableStorage

__all__ = ["Checkpoint", "SnapshotBench", "run_snapshot_bench"]

KEYS = 1_000
"""Keys the workload spreads over: the KV store's size is bounded by the key space."""


class _Discard:
    """Storage for servers 1 and 2: they are only there to make majorities."""

    def persist(self, records: Sequence[Record]) -> None:
        pass

    def compact(self, compaction: Compaction) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Server 0 after `ops` operations."""

    ops: int
    record_bytes: int  # replica.log + snapshot: what recovery reads
    archive_bytes: int  # chain-archive.jsonl: compacted blocks, for outside checkers
    held_blocks: int  # blocks in memory
    table_ranges: int  # exactly-once entries (seq ranges) in memory
    state_mb: float  # server 0's replica: every object it reaches (_state_bytes)
    rss_mb: float  # this process: three replicas, the clients and the bench's own lists
    restart_ms: float  # recover from the folder + build the replica, in this process


@dataclass(frozen=True, slots=True)
class RunResult:
    label: str
    checkpoints: tuple[Checkpoint, ...]
    ops_per_s: float
    latency_us: tuple[float, float, float]  # p50, p95, p99, submit to completion (wall)


@dataclass(frozen=True, slots=True)
class SnapshotBench:
    snapshots: RunResult
    baseline: RunResult
    params: ReplicaParams
    bound_bytes: int  # the stated bound on the record file and snapshot
    state_bound_bytes: int  # the stated bound on the server's state in memory

    @property
    def within_bound(self) -> bool:
        """At every checkpoint: the record file and snapshot under the stated bound, and
        the server's state in memory under its stated bound."""
        return all(c.record_bytes <= self.bound_bytes
                   and c.state_mb * 1e6 <= self.state_bound_bytes
                   for c in self.snapshots.checkpoints)

    @property
    def restart_growth(self) -> float:
        """Restart time at the last checkpoint over the first, snapshots on (1 = flat)."""
        first, last = self.snapshots.checkpoints[0], self.snapshots.checkpoints[-1]
        return last.restart_ms / max(first.restart_ms, 1e-6)


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), else the peak from getrusage."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _state_bytes(root: object) -> int:
    """The bytes of every object `root` reaches (sys.getsizeof, each counted once),
    leaving out modules, classes and functions, which every process has anyway: the
    memory a server's state takes, apart from the process around it."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _SHARED_KINDS):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        stack.extend(gc.get_referents(item))
    return total


_SHARED_KINDS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                 types.MethodType)


def _file_bytes(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


class _Cluster:
    """Three replicas and closed-loop clients on a FIFO queue (module docstring)."""

    def __init__(self, folder: Path, params: ReplicaParams, clients: int,
                 keep_archive: bool) -> None:
        self.folder = folder
        self.params = params
        self.queue: deque[Envelope] = deque()
        self.storage = DurableStorage(folder, fsync=False, buffered=False,
                                      keep_archive=keep_archive)
        self.storage.recover(params.difficulty)
        self.hosts: dict[str, NodeHost] = {}
        for i in range(params.replica_count):
            replica = Replica(i, params, random.Random(f"bench:{i}"))
            storage = self.storage if i == 0 else _Discard()
            self.hosts[replica.node] = NodeHost(replica, self.queue.append, storage=storage)
        client_params = ClientParams(server_count=params.replica_count)
        self.sessions = [ClientSession(100 + c, client_params, random.Random(f"bench:c{c}"))
                         for c in range(clients)]
        for session in self.sessions:
            self.hosts[session.node] = NodeHost(session, self.queue.append)
        self.rng = random.Random("bench:ops")
        self.started: dict[int, float] = {}
        self.latencies_us: list[float] = []
        self.done = 0

    @property
    def replica(self) -> Replica:
        return self.hosts[server_node(0)].node  # type: ignore[return-value]

    def start(self) -> None:
        for i in range(self.params.replica_count):
            self.hosts[server_node(i)].local(0, Boot())
        self.hosts[server_node(0)].local(0, Campaign())
        self._pump()
        for session in self.sessions:
            self._submit(session)

    def _submit(self, session: ClientSession) -> None:
        key = repr(f"k{self.rng.randrange(KEYS)}")
        if self.rng.random() < 0.5:
            message = Submit(op="put", key=key, value=repr(self.rng.randrange(1_000_000)))
        else:
            message = Submit(op="get", key=key, value=None)
        self.started[session.id] = time.perf_counter()
        self._collect(session, self.hosts[session.node].local(0, message))

    def _collect(self, session: ClientSession | None, output: Output) -> None:
        if not output.completed or session is None:
            return
        for _ in output.completed:
            self.latencies_us.append((time.perf_counter() - self.started[session.id]) * 1e6)
            self.done += 1
        self._submit(session)

    def _pump(self, until_ops: int | None = None) -> None:
        queue, hosts = self.queue, self.hosts
        sessions = {s.node: s for s in self.sessions}
        while queue and (until_ops is None or self.done < until_ops):
            envelope = queue.popleft()
            output = hosts[envelope.target].deliver(0, envelope)
            self._collect(sessions.get(envelope.target), output)

    def run_to(self, ops: int) -> None:
        self._pump(until_ops=ops)

    def checkpoint(self) -> Checkpoint:
        gc.collect()
        replica = self.replica
        folder = self.folder
        record_bytes = _file_bytes(folder / "replica.log", folder / "snapshot")
        began = time.perf_counter()
        fresh = DurableStorage(folder, fsync=False)
        state, _notes = fresh.recover(self.params.difficulty)
        Replica(0, self.params, random.Random(1), recovered=state)
        restart_ms = (time.perf_counter() - began) * 1e3
        return Checkpoint(
            ops=self.done, record_bytes=record_bytes,
            archive_bytes=_file_bytes(folder / "chain-archive.jsonl"),
            held_blocks=len(replica.learner.chain),
            state_mb=_state_bytes(replica) / 1e6,
            table_ranges=sum(len(s.ranges) for s in replica.learner.kv.clients.values()),
            rss_mb=_rss_mb(), restart_ms=restart_ms)


def _run(label: str, params: ReplicaParams, checkpoints: Sequence[int], clients: int,
         keep_archive: bool, out: TextIO) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="paxlab-bench-") as folder:
        cluster = _Cluster(Path(folder), params, clients, keep_archive)
        cluster.start()
        taken: list[Checkpoint] = []
        busy_s = 0.0
        for ops in checkpoints:
            began = time.perf_counter()
            cluster.run_to(ops)
            busy_s += time.perf_counter() - began
            taken.append(cluster.checkpoint())
            point = taken[-1]
            print(f"  {label}: {point.ops:>9,} ops  record file {point.record_bytes / 1e6:8.2f} MB"
                  f"  held blocks {point.held_blocks:>6}  state {point.state_mb:6.1f} MB"
                  f"  rss {point.rss_mb:7.1f} MB"
                  f"  restart {point.restart_ms:8.1f} ms", file=out, flush=True)
        cluster.storage.close()
        latencies = sorted(cluster.latencies_us)
        return RunResult(
            label=label, checkpoints=tuple(taken), ops_per_s=cluster.done / max(busy_s, 1e-9),
            latency_us=(percentile(latencies, 50), percentile(latencies, 95),
                        percentile(latencies, 99)))


def _checkpoints(total: int) -> list[int]:
    return sorted({max(1, total * k // 10) for k in (1, 2, 5, 10)})


def run_snapshot_bench(ops: int, baseline_ops: int, out: TextIO, *, clients: int = 64,
                       snapshot_every: int = 1000, retain_blocks: int = 256,
                       batch_size_max: int = 64, keep_archive: bool = True) -> SnapshotBench:
    """Run both, print the tables and the verdict, return the numbers."""
    base = dict(replica_count=3, difficulty=0, batch_size_max=batch_size_max,
                pipeline_window=8, retain_blocks=retain_blocks)
    params = ReplicaParams(snapshot_every=snapshot_every, **base)  # type: ignore[arg-type]
    print(f"paxlab bench-snapshots: {ops:,} ops (baseline {baseline_ops:,}), {clients} clients, "
          f"snapshot_every {snapshot_every}, retain_blocks {retain_blocks}, "
          f"batch {batch_size_max}, difficulty 0, fsync off", file=out, flush=True)
    baseline = _run("snapshots off", ReplicaParams(snapshot_every=0, **base),  # type: ignore[arg-type]
                    _checkpoints(baseline_ops), clients, keep_archive, out)
    snapshots = _run("snapshots on ", params, _checkpoints(ops), clients, keep_archive, out)
    # The bound: the snapshot (keys and clients) plus the live records, at most
    # retain_blocks + snapshot_every blocks and a pipeline of votes, at the largest block
    # size seen. Measured, not guessed: the block size comes from the run.
    bound = _stated_bound(snapshots, params, clients)
    result = SnapshotBench(snapshots=snapshots, baseline=baseline, params=params,
                           bound_bytes=bound,
                           state_bound_bytes=_stated_state_bound(baseline, params, clients))
    _print(result, out)
    return result


def _stated_bound(run: RunResult, params: ReplicaParams, clients: int) -> int:
    """Bytes: (retain + every + window) blocks of at most batch_size_max txns of at most
    120 bytes each, plus a snapshot of KEYS keys (60 bytes each) and `clients` table
    entries (60 bytes each). Independent of the number of operations."""
    blocks = params.retain_blocks + params.snapshot_every + params.pipeline_window
    block_bytes = 300 + params.batch_size_max * 120
    return blocks * block_bytes * 2 + KEYS * 60 + clients * 60


def _stated_state_bound(baseline: RunResult, params: ReplicaParams, clients: int) -> int:
    """Bytes of memory: (retain + every + window) blocks at the memory one block takes
    in the baseline (its state over the blocks it holds, so the KV store's share is
    counted in too), plus 1 kB per key and per client. Measured in the same run, and
    independent of the number of operations."""
    last = baseline.checkpoints[-1]
    per_block = last.state_mb * 1e6 / max(last.held_blocks, 1)
    blocks = params.retain_blocks + params.snapshot_every + params.pipeline_window
    return int(blocks * per_block + KEYS * 1000 + clients * 1000)


def _print(result: SnapshotBench, out: TextIO) -> None:
    rows = []
    for run in (result.baseline, result.snapshots):
        for c in run.checkpoints:
            rows.append([run.label.strip(), f"{c.ops:,}", f"{c.record_bytes / 1e6:.2f}",
                         f"{c.archive_bytes / 1e6:.2f}", c.held_blocks, c.table_ranges,
                         f"{c.state_mb:.1f}", f"{c.rss_mb:.1f}", f"{c.restart_ms:.1f}"])
    print(tabulate(rows, headers=["run", "ops", "record file MB", "archive MB", "held blocks",
                                  "table ranges", "state MB", "rss MB", "restart ms"],
                   tablefmt="simple_outline"), file=out)
    speed = []
    for run in (result.baseline, result.snapshots):
        p50, p95, p99 = run.latency_us
        speed.append([run.label.strip(), f"{run.ops_per_s:,.0f}", f"{p50:.0f}", f"{p95:.0f}",
                      f"{p99:.0f}"])
    print(tabulate(speed, headers=["run", "ops/s", "p50 us", "p95 us", "p99 us"],
                   tablefmt="simple_outline"), file=out)
    base_last = result.baseline.checkpoints[-1]
    same = next((c for c in result.snapshots.checkpoints if c.ops >= base_last.ops),
                result.snapshots.checkpoints[-1])
    last = result.snapshots.checkpoints[-1]
    print(f"ratio, snapshots on / off: throughput "
          f"{result.snapshots.ops_per_s / max(result.baseline.ops_per_s, 1e-9):.2f}; at "
          f"{base_last.ops:,} ops the record file is "
          f"{same.record_bytes / max(base_last.record_bytes, 1):.3f} of the baseline's and "
          f"restart takes {same.restart_ms / max(base_last.restart_ms, 1e-9):.2f} of its time",
          file=out)
    print(f"restart at {last.ops:,} ops / at {result.snapshots.checkpoints[0].ops:,} ops: "
          f"{result.restart_growth:.2f} (snapshots on; 1.0 = flat); baseline "
          f"{base_last.restart_ms / max(result.baseline.checkpoints[0].restart_ms, 1e-9):.2f} "
          f"over {base_last.ops / result.baseline.checkpoints[0].ops:.0f}x the ops", file=out)
    biggest = max(c.record_bytes for c in result.snapshots.checkpoints)
    verdict = "within" if biggest <= result.bound_bytes else "OVER"
    print(f"record file + snapshot: max {biggest / 1e6:.2f} MB, "
          f"{verdict} the stated bound of {result.bound_bytes / 1e6:.2f} MB "
          f"((retain_blocks + snapshot_every + window) blocks, the key space and the clients; "
          f"not the number of operations)", file=out)
    base = result.baseline.checkpoints
    state = max(c.state_mb for c in result.snapshots.checkpoints)
    verdict = "within" if state * 1e6 <= result.state_bound_bytes else "OVER"
    print(f"server state in memory: max {state:.1f} MB, {verdict} the stated bound of "
          f"{result.state_bound_bytes / 1e6:.1f} MB ((retain_blocks + snapshot_every + window) "
          f"blocks at the baseline's bytes per block, 1 kB per key and per client); baseline "
          f"{base[0].state_mb:.1f} -> {base[-1].state_mb:.1f} MB", file=out)
    held = max(c.held_blocks for c in result.snapshots.checkpoints)
    print(f"blocks held in memory: max {held} (bound retain_blocks + snapshot_every = "
          f"{result.params.retain_blocks + result.params.snapshot_every}); median rss "
          f"{statistics.median(c.rss_mb for c in result.snapshots.checkpoints):.1f} MB",
          file=out)
