"""One seeded simulation of a config: its records, checks and results folder.

`simulate(config, seed)` is a pure function of its arguments: the same config and seed
give the same `trace_bytes()` in any process (tests run it under another PYTHONHASHSEED).
Recording the messages (`messages_to`, for a results folder) does not change the run:
the digest is the same with and without.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.check import CheckResult, check_records, checks_passed
from paxlab.config import config_to_dict
from paxlab.config.types import Config
from paxlab.network.monitor import MonitorReport, invariants_check
from paxlab.network.recorder import MessageRecorder
from paxlab.results.messages import messages_path
from paxlab.sim.cluster import SimCluster
from paxlab.sim.disk import disk_counts
from paxlab.sim.liveness import liveness_check
from paxlab.sim.mutants import get_mutant

__all__ = ["SimRun", "run_checks", "simulate", "write_results"]


@dataclass(frozen=True)
class SimRun:
    config: Config  # with `seed` set to the seed that ran
    seed: int
    records: results.RunRecords
    faults: list[dict[str, Any]]  # applied: time_ms, action, detail, nodes
    counts: dict[str, int]  # events processed, messages routed, delivered, dropped...
    quiescent: bool
    workload_ms: float
    duration_ms: float
    leader_changes: int
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    healed_ms: float | None = None  # when the run last became fault free (sim/liveness.py)
    monitor: MonitorReport | None = None  # the online invariant monitor's findings
    messages: Path | None = None  # the recorded messages.jsonl (simulate's messages_to)
    mutant: str | None = None  # the planted bug that ran, if any (summary.json names it)

    @property
    def partial(self) -> bool:
        """Like the lab: the cluster did not settle within checks.quiesce_timeout_ms."""
        return not self.quiescent

    def trace_bytes(self) -> bytes:
        """The whole run as bytes: history, chain hashes, KV stores, faults and counts."""
        r = self.records
        doc = {
            "seed": self.seed,
            "history": r.history,
            "chains": {str(sid): [b["hash"] for b in blocks] for sid, blocks in r.chains.items()},
            "kvs": {str(sid): kv for sid, kv in r.kvs.items()},
            "faults": self.trace_faults(),
            "counts": self.counts,
            "end_ms": self.duration_ms,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    def trace_faults(self) -> list[dict[str, Any]]:
        """The applied faults as the trace has them: without `nodes`, which came after
        the golden digests were recorded (it is derived from the rest, so it adds nothing
        the digest would miss)."""
        return [{k: v for k, v in f.items() if k != "nodes"} for f in self.faults]

    def trace_digest(self) -> str:
        return hashlib.sha256(self.trace_bytes()).hexdigest()


def simulate(config: Config, seed: int, mutant: str | None = None,
             messages_to: Path | None = None) -> SimRun:
    """`mutant`: a name from sim/mutants.py to run a planted bug; KeyError if unknown.
    `messages_to`: record every message there (messages.jsonl), for write_results; a
    sweep records nothing and pays nothing for it."""
    config = replace(config, seed=seed)
    planted = get_mutant(mutant)
    recorder = None if messages_to is None else MessageRecorder.open(messages_to, "sim")
    cluster = SimCluster(config, seed, planted, recorder)
    try:
        cluster.run()
    finally:
        if recorder is not None:
            recorder.close()
    monitor = cluster.network.monitor
    servers = [cluster.server_nodes[name] for name in cluster.servers]
    shown = _shown_servers(servers, cluster.notes)
    chains = _chain_records(shown)
    kvs = {s.id: dict(sorted(s.replica.learner.kv.data.items())) for s in shown}
    history = sorted(cluster.history, key=lambda e: (e["time"], e["process"]))
    records = results.RunRecords(history=history, chains=chains,
                                 difficulty=config.cluster.difficulty, kvs=kvs)
    counts = {"events": cluster.heap.processed, **cluster.network.counts,
              **disk_counts(s.disk for s in servers)}
    return SimRun(
        config=config, seed=seed, records=records, faults=cluster.applied_faults,
        counts=counts, quiescent=cluster.quiescent, workload_ms=cluster.workload_ms,
        duration_ms=cluster.heap.now_ms, leader_changes=cluster.network.leader_changes,
        errors=cluster.errors, notes=cluster.notes, healed_ms=cluster.healed_ms,
        monitor=monitor.report(), messages=messages_to, mutant=mutant,
    )


def _shown_servers(servers: list[Any], notes: list[str]) -> list[Any]:
    """The servers whose chain and KV a run reports. A server that installed a peer's
    snapshot at its commit index holds no block at all until the next one is decided:
    an empty chain file would read as a chain from 0 that learned nothing (the results
    contract has no form for "no block, at height b"), so it is left out of chains/ and
    kv/ and the run's notes say why."""
    shown = []
    for server in servers:
        learner = server.replica.learner
        if learner.base > 0 and not server.full_chain():
            notes.append(f"s{server.id} left out of chains/ and kv/: it installed a "
                         f"snapshot at height {learner.base} and holds no block above it")
            continue
        shown.append(server)
    return shown


def _chain_records(servers: list[Any]) -> dict[int, list[dict[str, Any]]]:
    """Each server's chain as block dicts (its full chain: the archive below the held
    blocks, SimServer.full_chain), one dict per Block object: servers mostly hold
    the very same Block objects (the sim passes messages by reference), so the checks
    find equal blocks by identity and judge each once instead of once per server."""
    made: dict[int, dict[str, Any]] = {}  # id(block) -> its dict; blocks live meanwhile
    chains: dict[int, list[dict[str, Any]]] = {}
    for server in servers:
        blocks = []
        for block in server.full_chain():
            record = made.get(id(block))
            if record is None:
                record = made[id(block)] = block.to_dict()
            blocks.append(record)
        chains[server.id] = blocks
    return chains


def run_checks(sim_run: SimRun) -> list[CheckResult]:
    """The safety checks: the results folder's seven, then the invariant monitor's."""
    return [*check_records(sim_run.records), invariants_check(sim_run.monitor)]


def verdicts(sim_run: SimRun) -> list[CheckResult]:
    """The safety checks, then the liveness verdict (sim/liveness.py), always last."""
    checks = run_checks(sim_run)
    limits = sim_run.config.checks
    checks.append(liveness_check(
        sim_run.records.history, sim_run.healed_ms, limits.liveness_timeout_ms,
        sim_run.quiescent, limits.quiesce_timeout_ms, sim_run.errors))
    return checks


def passed(checks: list[CheckResult]) -> bool:
    return checks_passed(checks)


def _move_in(source: Path, target: Path) -> None:
    """Move the recorded messages into the folder (a rename when on one file system)."""
    try:
        os.replace(source, target)
    except OSError:
        shutil.copyfile(source, target)
        with contextlib.suppress(OSError):
            os.unlink(source)


def write_results(sim_run: SimRun, config: Config, out_root: Path,
                  checks: list[CheckResult] | None = None) -> Path:
    """A results folder like the lab's, so `paxlab report` and `paxlab check` read it.
    messages.jsonl is there when the run was simulated with `messages_to` (moved in)."""
    from paxlab.results.summary import build_summary  # the same summary shape as the lab's

    config = replace(config, seed=sim_run.seed)
    now = datetime.datetime.now()
    run_dir = results.new_run_dir(out_root, config.name, now)
    results.write_config(run_dir, config_to_dict(config))
    results.write_chain_meta(run_dir, sim_run.records.difficulty)
    results.write_history(run_dir, sim_run.records.history)
    for sid, blocks in sim_run.records.chains.items():
        results.write_chain(run_dir, sid, blocks)
    for sid, kv in sim_run.records.kvs.items():
        results.write_kv(run_dir, sid, kv)
    if sim_run.messages is not None:
        _move_in(sim_run.messages, messages_path(run_dir))
    log = "\n".join(sim_run.notes) + "\n"
    results.log_path(run_dir, "sim").write_text(log, encoding="utf-8")
    summary = build_summary(
        config, sim_run.records.history,
        started_at=now.astimezone().isoformat(timespec="seconds"),
        duration_s=sim_run.duration_ms / 1000, workload_s=sim_run.workload_ms / 1000,
        partial=sim_run.partial, faults=sim_run.faults,
        leader_changes=sim_run.leader_changes,
        checks=checks if checks is not None else run_checks(sim_run),
        errors=sim_run.errors,
    )
    if sim_run.mutant is not None:  # a planted bug's run says so, for its report
        summary["mutant"] = sim_run.mutant
    results.write_summary(run_dir, summary)
    results.update_latest(out_root, run_dir)
    return run_dir
