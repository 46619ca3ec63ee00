"""Builds the report model (contract section 4): one JSON-ready dict that the page draws.

Every panel shares one time axis, integer microseconds since the run started (the
history's zero); nodes, keys, kinds, ballots and hashes are tables that columns index, so
a run of 100,000 messages stays a few MB. The same folder gives the same model, to the
byte once dumped with sorted keys: nothing here reads a clock or depends on set order.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paxlab.report import chains as chains_mod
from paxlab.report.faults import down_intervals, fault_intervals, fault_nodes, node_order
from paxlab.report.msgs import MessageTable, message_table
from paxlab.report.ops import OpsTable, fill_heights, final_chain, ops_table
from paxlab.report.read import RunFiles, read_run
from paxlab.report.timeline import chain_commits, leader_reigns, recovery, series
from paxlab.report.verdict import explain_failure, first_problem, read_checks, verdict_card

__all__ = ["FORMAT", "build_model", "gc_paused"]

FORMAT = 1
"""The model's version: the page refuses a model it does not know."""


_NODES_MAX = 1024  # more servers or clients than this in a file is a corrupt count


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    """A server or client count, or None when it is not a plausible one."""
    number = _int(value)
    return number if number is not None and 0 < number <= _NODES_MAX else None


def _section(config: dict | None, name: str) -> dict[str, Any]:
    section = (config or {}).get(name)
    return section if isinstance(section, dict) else {}


def _end_us(files: RunFiles) -> int:
    """The run's end: the latest of its recorded duration, history and messages."""
    ends = [0]
    duration = (files.summary or {}).get("duration_s")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration > 0:
        ends.append(round(duration * 1_000_000))
    if files.history:
        ends.append(max(e["time"] for e in files.history) // 1000)
    if files.messages is not None:
        ends.append(max((r.t_us for r in files.messages.sends), default=0))
        ends.append(max((r.t_us for r in files.messages.arrivals), default=0))
    return max(ends)


def _driver(files: RunFiles) -> str:
    for source in (files.summary, getattr(files.messages, "header", None), files.config):
        driver = (source or {}).get("driver")
        if driver in ("lab", "sim", "cluster"):
            return driver
    return "sim" if (files.run_dir / "logs" / "sim.log").exists() else "lab"


def _node_names(files: RunFiles, servers: int, clients: int) -> list[str]:
    """Every lifeline: the servers by count and by what they wrote, the clients that
    appear in the history (a cluster session's clients may be c7 and c8, not c0 and c1;
    the count names them only when there is no history) and whoever sent a message."""
    names = {f"s{i}" for i in range(servers)}
    names |= {f"s{sid}" for sid in (*files.chains, *files.kvs)}
    names |= {f"c{e['process']}" for e in files.history}
    if not files.history:
        names |= {f"c{i}" for i in range(clients)}
    if files.messages is not None:
        names |= {r.src for r in files.messages.sends} | {r.dst for r in files.messages.sends}
    return sorted(names, key=node_order)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the model is built. The build makes a few
    hundred thousand small objects and frees none, so every collection walks them all for
    nothing: pausing it took a third off the build of a 10,000-op, 100,000-message run
    (1.95 s -> 1.37 s, same run alternated). Nothing here makes reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_model(run_dir: Path) -> dict[str, Any]:
    """The report model of a results folder (lab, simulator or cluster). Never raises on a
    missing, truncated or corrupt file: what could not be read is listed in "unread"."""
    with gc_paused():
        return _build(Path(run_dir))


def _build(run_dir: Path) -> dict[str, Any]:
    files = read_run(run_dir)
    summary = files.summary or {}
    config = files.config or {}
    servers = (_count(summary.get("servers")) or _count(_section(config, "cluster").get("servers"))
               or min(max(files.chains, default=-1) + 1, _NODES_MAX))  # fmt: skip
    clients = (_count(summary.get("clients")) or _count(_section(config, "clients").get("count"))
               or min(max((e["process"] for e in files.history), default=-1) + 1, _NODES_MAX))
    partial = summary.get("partial") is True or files.summary is None
    end_us = _end_us(files)

    raw_faults = summary.get("faults") if isinstance(summary.get("faults"), list) else []
    server_names = [f"s{i}" for i in range(servers)]
    client_names = [f"c{i}" for i in range(clients)]
    names = _node_names(files, servers, clients)
    names += sorted({n for f in raw_faults if isinstance(f, dict)
                     for n in fault_nodes(f, server_names, client_names)} - set(names),
                    key=node_order)  # fmt: skip
    node_index = {name: i for i, name in enumerate(names)}

    faults = fault_intervals(raw_faults, server_names, client_names,
                             _section(config, "network"))  # fmt: skip
    down = down_intervals(faults, end_us)
    ops = ops_table(files.history, end_us)
    chain = final_chain(files.chains, files.chain_starts)
    fill_heights(ops, chain)
    table = _messages(files, node_index, ops, servers)
    _fill_servers(ops, table)
    commits = table.commits if table is not None and table.commits[0] else None
    if commits is None:
        ok_end = {(c, s): e for c, s, e, k in zip(
            ops.columns["client"], ops.columns["seq"], ops.columns["end_us"],
            ops.columns["type"], strict=True) if k == "ok"}  # fmt: skip
        commits = chain_commits(chain, ok_end)
    away = [(start, stop, node) for node, start, stop, _ in down]
    away += [(f.start_us, f.end_us if f.end_us is not None else end_us, node)
             for f in faults if f.action == "isolate" for node in f.nodes]  # fmt: skip
    reigns = leader_reigns(table.claims if table is not None else [], away, end_us)
    grid = chains_mod.chain_grid(files.chains, node_index, files.chain_starts)

    checks = read_checks(files, partial)
    verdict = verdict_card(checks, summary, files.history, partial)
    failure = explain_failure(checks, files.history, files.unread)
    commit_at = dict(zip(commits[1], commits[0], strict=True))
    verdict["first_problem"] = first_problem(checks, failure, grid["diverge_at"], commit_at,
                                             _first_lost(ops))
    cols = ops.columns
    return {
        "format": FORMAT,
        "run": _run(files, summary, config, servers, clients, partial, end_us),
        "unread": list(files.unread) + (table.problems if table is not None else []),
        "verdict": verdict,
        "nodes": names,
        "faults": [{"start_us": f.start_us, "end_us": f.end_us, "action": f.action,
                    "label": f.label, "nodes": [node_index[n] for n in f.nodes]}
                   for f in faults],
        "down": [{"node": node_index[node], "start_us": start, "end_us": stop, "kind": kind}
                 for node, start, stop, kind in down],
        "leaders": [{"node": node_index[node], "ballot": ballot, "start_us": start,
                     "end_us": stop} for node, ballot, start, stop in reigns],
        "commits": {"t_us": commits[0], "height": commits[1]},
        "series": series(cols["invoke_us"], cols["end_us"], cols["type"], end_us),
        "recovery": recovery([(f.start_us, f.end_us) for f in faults], cols["invoke_us"],
                             cols["end_us"], cols["type"]),
        "keys": ops.keys,
        "ops": cols,
        "messages": table.messages if table is not None else _no_messages(),
        "quorums": table.quorums if table is not None else
        {"t_us": [], "node": [], "height": [], "ballot": []},
        "chains": grid,
        "kv_diff": chains_mod.kv_diff(files.kvs),
        "failure": failure,
    }


def _run(files: RunFiles, summary: dict, config: dict, servers: int, clients: int,
         partial: bool, end_us: int) -> dict[str, Any]:
    name = summary.get("config", config.get("name"))
    seed = _int(summary.get("seed"))
    if seed is None:
        seed = _int(config.get("seed"))
    mutant = summary.get("mutant", config.get("mutant"))
    difficulty = _int(summary.get("difficulty"))
    if difficulty is None:
        difficulty = files.difficulty
    return {"name": files.run_dir.name, "driver": _driver(files),
            "config": name if isinstance(name, str) else None, "seed": seed,
            "mutant": mutant if isinstance(mutant, str) else None, "servers": servers,
            "clients": clients, "difficulty": difficulty, "partial": partial, "start_us": 0,
            "end_us": end_us, "config_text": files.config_text}


def _messages(files: RunFiles, node_index: dict[str, int], ops: OpsTable, servers: int
              ) -> MessageTable | None:  # fmt: skip
    if files.messages is None:
        return None
    return message_table(files.messages, node_index, ops.row_of, servers)


def _fill_servers(ops: OpsTable, table: MessageTable | None) -> None:
    """Each op's server: the source of the last ClientReply delivered to its client by
    the op's completion (the first delivered one if all came later)."""
    if table is None:
        return
    server, end = ops.columns["server"], ops.columns["end_us"]
    for op, replies in table.replies.items():
        row = ops.row_of.get(op)
        if row is None:
            continue
        replies.sort()
        by_end = [src for arrive, src in replies if arrive <= end[row] + 1000]
        server[row] = by_end[-1] if by_end else replies[0][1]


def _first_lost(ops: OpsTable) -> tuple[int, str] | None:
    """The earliest acknowledged put that no block of the final chain holds."""
    c = ops.columns
    lost = [(c["end_us"][i], i) for i in range(len(c["f"]))
            if c["f"][i] == "put" and c["type"][i] == "ok" and c["height"][i] == -1]
    if not lost:
        return None
    t_us, i = min(lost)
    return t_us, (f"put {ops.keys[c['key'][i]]}={c['value'][i]} (client {c['client'][i]}, "
                  f"seq {c['seq'][i]}) was acknowledged at {t_us / 1e6:.3f} s but is not in "
                  "the final chain")


def _no_messages() -> dict[str, Any]:
    from paxlab.report.msgs import FATES, KINDS

    empty: dict[str, Any] = {name: [] for name in (
        "id", "src", "dst", "kind", "ballot", "slot", "op", "sent_us", "arrive_us", "fate",
        "copy")}  # fmt: skip
    return {"count": 0, "kinds": list(KINDS), "fates": list(FATES), "ballots": [], **empty}
