"""`paxlab cluster check`: a session played by hand becomes a results folder, then a verdict.

Every server's chain and KV store comes over admin `dump`, every client's history from
data_dir/clients/c*/history.jsonl, and they are written through paxlab.results into a
normal results folder, so `paxlab check` and `paxlab report` read it like a lab run. The
servers may still be working: the dumps are retried until every reachable server holds
the same number of blocks (or a deadline passes), and a client's op still open when the
session is collected gets an `info` completion, its outcome unknown, as at a lab run's
end. A server that does not answer makes the folder partial, and the exit code 1.
The messages every server and client on this host noted are joined into the folder's
messages.jsonl (cluster/msgmerge.py); the dumps flush the servers' notes first.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import time
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.check import check_run, checks_passed
from paxlab.cluster.clusterfile import cluster_file_dict
from paxlab.cluster.control import Control, Report
from paxlab.cluster.control_faults import FAULTS_FILE
from paxlab.cluster.msgmerge import node_files, read_node_records, write_messages
from paxlab.results import format as fmt
from paxlab.results.report import partial_banner, render_checks
from paxlab.results.stats import summarize_history
from paxlab.scenario.client_driver import info_for_outstanding

__all__ = ["collect", "read_client_histories", "read_faults"]

_SERVER_LOG = "server.log"
_CLIENT_LOG = "client.log"


def read_client_histories(ctl: Control, now_ns: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Every client's events on this host, each still-open op closed by an `info` at
    `now_ns`; and notes on what was cut (a torn last line: its client died mid-write)."""
    events: list[dict[str, Any]] = []
    notes: list[str] = []
    folder = ctl.cluster.data_dir / "clients"
    paths = sorted(folder.glob("c*/history.jsonl"), key=lambda p: (len(p.parent.name), p))
    for path in paths:
        own = fmt.read_jsonl(path, fmt.event_problem, torn_tail_ok=True)
        closing = info_for_outstanding(own, max([now_ns, *(e["time"] for e in own)]))
        if closing:
            notes.append(f"{path.parent.name}: {len(closing)} op still open, recorded as "
                         "info (outcome unknown)")
        events.extend(own + closing)
    return events, notes


def read_faults(ctl: Control) -> list[dict[str, Any]]:
    """The faults typed by hand (data_dir/faults.jsonl), oldest first; a torn line is skipped."""
    path = ctl.cluster.data_dir / FAULTS_FILE
    faults = []
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                entry = json.loads(line)
                if isinstance(entry, dict) and isinstance(entry.get("time_ns"), int):
                    faults.append(entry)
    return sorted(faults, key=lambda f: f["time_ns"])


def _dumps(ctl: Control, quiesce_s: float) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    """Dump every server, again until every answering one has the same tip."""
    deadline = time.monotonic() + quiesce_s
    while True:
        replies = ctl.ask_all({"cmd": "dump"}, timeout_s=max(ctl.timeout_s, 5.0))
        dumps = {sid: r for sid, r in replies.items() if isinstance(r, dict) and r.get("ok")}
        missing = {sid: (r if isinstance(r, str) else str(r.get("error", "refused")))
                   for sid, r in replies.items() if sid not in dumps}
        if len({_tip(d) for d in dumps.values()}) <= 1 \
                or time.monotonic() >= deadline:
            return dumps, missing
        time.sleep(0.1)


def _tip(dump: dict[str, Any]) -> int:
    """How many blocks a server has decided: its commit index (a chain that starts at a
    snapshot is shorter than its tip; an older server's dump has no commit, only the
    chain from 0)."""
    commit = dump.get("commit")
    return commit if isinstance(commit, int) else len(dump.get("chain", []))


def _shown(dumps: dict[int, dict[str, Any]], notes: list[str]) -> dict[int, dict[str, Any]]:
    """The dumps whose chain and KV go into the results. A server that installed a
    peer's snapshot at its tip holds no block yet: an empty chain file would read as a
    chain from 0 that learned nothing (the results contract has no form for "no block,
    at height b"), so it is left out of chains/ and kv/ and a note says why."""
    shown = {}
    for sid, dump in sorted(dumps.items()):
        if not dump.get("chain") and _tip(dump) > 0:
            notes.append(f"s{sid} left out of chains/ and kv/: it installed a snapshot at "
                         f"height {_tip(dump)} and holds no block above it")
            continue
        shown[sid] = dump
    return shown


def _copy_logs(ctl: Control, run_dir: Path) -> None:
    cluster = ctl.cluster
    for sid in ctl.ids:
        with contextlib.suppress(OSError):
            shutil.copyfile(cluster.server_dir(sid) / _SERVER_LOG,
                            results.log_path(run_dir, f"server-{sid}"))
    for folder in sorted((cluster.data_dir / "clients").glob("c*")):
        if folder.name[1:].isdigit():
            with contextlib.suppress(OSError):
                shutil.copyfile(folder / _CLIENT_LOG,
                                results.log_path(run_dir, f"client-{folder.name[1:]}"))


def collect(ctl: Control, results_root: Path | None = None, quiesce_s: float = 5.0) -> Report:
    """Pull the session into a new results folder, run every check, write the summary.
    The report's lines are what `paxlab check` prints; ok only if all pass, not partial."""
    cluster, report = ctl.cluster, Report()
    started = time.monotonic()
    dumps, missing = _dumps(ctl, quiesce_s)
    now_ns = time.time_ns()
    history, notes = read_client_histories(ctl, now_ns)
    faults = read_faults(ctl)
    files = node_files(cluster.data_dir)
    records = read_node_records(files)
    first_us = records.first_us()
    t0 = min([e["time"] for e in history] + [f["time_ns"] for f in faults] + [now_ns]
             + ([first_us * 1000] if first_us is not None else []))
    history = [{**e, "time": e["time"] - t0} for e in history]
    tips = {_tip(d) for d in dumps.values()}
    errors = [f"s{sid} did not answer: {why}" for sid, why in sorted(missing.items())]
    partial = bool(missing) or len(tips) > 1
    if len(tips) > 1:
        notes.append(f"not quiescent after {quiesce_s:g} s: commit indexes "
                     + ", ".join(f"s{sid} {_tip(d)}" for sid, d in sorted(dumps.items())))
    root = results_root if results_root is not None else cluster.data_dir / "results"
    run_dir = results.new_run_dir(root, cluster.name, datetime.datetime.now())
    config = {"driver": "cluster", "cluster_file": str(cluster.path),
              **cluster_file_dict(cluster)}
    results.write_config(run_dir, config)
    results.write_history(run_dir, history)
    difficulty = next((int(d["difficulty"]) for d in dumps.values()
                       if isinstance(d.get("difficulty"), int)), cluster.cluster.difficulty)
    results.write_chain_meta(run_dir, difficulty)
    for sid, dump in _shown(dumps, notes).items():
        results.write_chain(run_dir, sid, dump.get("chain", []))
        results.write_kv(run_dir, sid, dump.get("kv", {}))
    _copy_logs(ctl, run_dir)
    merged = None
    if files or cluster.record_messages:
        merged = write_messages(run_dir, records, t0 // 1000)
        notes.extend(records.notes)
    checks = check_run(run_dir, partial=partial)
    clients = sorted({e["process"] for e in history})
    summary = {
        "config": cluster.name, "driver": "cluster", "partial": partial,
        "started_at": datetime.datetime.fromtimestamp(t0 / 1e9).astimezone().isoformat(
            timespec="seconds"),
        "duration_s": round((now_ns - t0) / 1e9, 3),
        "workload_s": round((now_ns - t0) / 1e9, 3),
        "servers": len(ctl.ids), "clients": len(clients),
        "difficulty": difficulty, "batch_size_max": cluster.cluster.batch_size_max,
        "pipeline_window": cluster.cluster.pipeline_window, "fsync": cluster.cluster.fsync,
        **summarize_history(history),
        "faults": [{"time_ms": (f["time_ns"] - t0) // 1_000_000, "action": f.get("action"),
                    "detail": f.get("detail"),
                    **({"nodes": f["nodes"]} if isinstance(f.get("nodes"), list) else {})}
                   for f in faults],
        "errors": errors,
        "checks": [{"name": c.name, "verdict": c.verdict, "details": c.details}
                   for c in checks],
    }
    results.write_summary(run_dir, summary)
    results.update_latest(root, run_dir)
    passed = checks_passed(checks) and not partial
    banner = partial_banner(run_dir)
    report.say(f"results: {run_dir} ({len(dumps)} of {len(ctl.ids)} servers, "
               f"{len(clients)} clients, {len(history)} events, "
               f"{time.monotonic() - started:.1f} s)")
    if merged is not None:
        report.say(f"messages: {merged.sends} sent, {merged.arrivals} arrivals, from "
                   f"{records.files} server and client files on this host")
    report.lines.extend(f"note: {line}" for line in notes + errors)
    report.say("")
    report.say(render_checks(checks) if banner is None else f"{banner}\n\n{render_checks(checks)}")
    report.ok = passed
    report.data = {"run_dir": str(run_dir), "partial": partial, "passed": passed,
                   "servers": sorted(f"s{sid}" for sid in dumps), "missing": {
                       f"s{sid}": why for sid, why in sorted(missing.items())},
                   "clients": clients, "events": len(history), "notes": notes,
                   "messages": None if merged is None else {
                       "sends": merged.sends, "arrivals": merged.arrivals,
                       "unmatched": merged.unmatched, "files": records.files},
                   "checks": summary["checks"]}
    return report
