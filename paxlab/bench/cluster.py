"""`paxlab bench cluster`: the TCP cluster against PySyncObj, same machine, same run.

A local 3-server cluster and a 3-node PySyncObj are driven in turn by the same number of
closed-loop writers (one op outstanding each); every row is a fresh cluster measured over
one window after a warm-up. The variants answer the issue's questions:

- as shipped: fsync on, the default difficulty; then kill -9 of the leader (default timeouts);
- like for like: fsync off and difficulty 0, as PySyncObj neither syncs nor mines;
- one op at a time, fsync on: the latency of a lone client (p50);
- failover with tuned timeouts: kill -9 of the leader under load, until the next ok.

PySyncObj runs with its default batched appends and with `appendEntriesUseBatch=False`,
and the ratio is taken against the better of the two (machines are shared: read ratios).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from tabulate import tabulate

from paxlab.bench import pso
from paxlab.bench.cluster_paxlab import TUNED_TIMEOUTS, Variant, default_server_argv, run_paxlab
from paxlab.bench.cluster_procs import Children, python_argv, terminate_on_sigterm
from paxlab.bench.cluster_profile import summarize
from paxlab.bench.cluster_stats import Measured, ratio_text

__all__ = ["VARIANTS", "BenchOptions", "run_cluster_bench"]

VARIANTS = ("shipped", "like", "single", "failover")
"""The variant names `--only` takes, in the order they run."""

_LIKE = {"fsync": "never", "difficulty": 0}
_PSO_TUNED = "0.1,0.15,0.02"  # raftMin/MaxTimeout, appendEntriesPeriod: ~ TUNED_TIMEOUTS


@dataclass(frozen=True, slots=True)
class BenchOptions:
    seconds: float = 5.0  # the measured window of each row
    clients: int = 64  # concurrent closed-loop writers (sessions)
    warmup_s: float = 1.0
    loads: int = 1  # paxlab load processes sharing the sessions
    variants: tuple[str, ...] = VARIANTS
    pso: bool = True  # also run PySyncObj (when installed)
    horizon_s: float = 3.0  # after a kill, how long the load may take to recover
    keep: Path | None = None  # keep every folder (cluster files, logs) here
    profile: str | None = None  # "cpu", "cprofile" or "sample": profile the servers


def _paxlab_variants(options: BenchOptions) -> dict[str, Variant]:
    c = options.clients
    return {
        "shipped": Variant("as shipped", c, kill_leader=True),
        "like": Variant("like for like", c, cluster=dict(_LIKE)),
        "single": Variant("one op at a time", 1),
        "failover": Variant("failover, tuned timeouts", c, cluster=dict(TUNED_TIMEOUTS["cluster"]),
                            client_timeouts=dict(TUNED_TIMEOUTS["clients"]), kill_leader=True),
    }


def _cell(value: float | None, digits: int = 2) -> str:
    if value is None:
        return ""
    if not math.isfinite(value):
        return "none" if value > 0 else "-"
    return f"{value:,.{digits}f}"


def _table(rows: Sequence[tuple[str, Measured]], best_pso: Measured | None,
           pso_rows: dict[str, Measured]) -> str:
    """One line per row; paxlab's throughput rows against PySyncObj's better throughput,
    its lone client against PySyncObj's lone writer."""
    body = []
    for key, m in rows:
        base = best_pso if key in ("shipped", "like") else pso_rows.get(key)
        vs = ratio_text(m.ops_s, base.ops_s) if base and m.system == "paxlab" and \
            key != "failover" else ""
        variant = f"{m.variant} ({m.note})" if m.system == "paxlab" else m.variant
        body.append([m.system, variant, m.clients, _cell(m.ops_s, 0), _cell(m.p50_ms),
                     _cell(m.p99_ms), _cell(m.failover_ms, 0),
                     _cell(m.cpu_us_per_op, 0) if math.isfinite(m.cpu_us_per_op) else "",
                     m.errors, vs])
    headers = ["system", "variant", "clients", "ops/s", "p50 ms", "p99 ms", "failover ms",
               "CPU µs/op", "errors", "vs PySyncObj"]
    if not pso_rows:
        headers.pop()
        body = [row[:-1] for row in body]
    return tabulate(body, headers=headers, tablefmt="simple_outline", disable_numparse=True,
                    colalign=("left", "left") + ("right",) * (len(headers) - 2))


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _summary(found: dict[str, Measured], best: Measured | None,
             pso_rows: dict[str, Measured], out: TextIO) -> None:
    like, shipped = found.get("like"), found.get("shipped")
    if like is not None and best is not None:
        ratio = like.ops_s / best.ops_s if best.ops_s else math.nan
        out.write(f"like for like: paxlab {like.ops_s:,.0f} ops/s vs PySyncObj "
                  f"{best.ops_s:,.0f} ops/s ({best.variant}) = {ratio:.2f}x "
                  f"(target at least 1x, aim 2x: {_verdict(ratio >= 1)})\n")
    if shipped is not None and best is not None:
        out.write(f"as shipped (fsync on, mining): {ratio_text(shipped.ops_s, best.ops_s)} "
                  "of PySyncObj's writes/s\n")
    single = found.get("single")
    if single is not None:
        line = (f"one op at a time, fsync on: p50 {single.p50_ms:.2f} ms "
                f"(target under 2 ms: {_verdict(single.p50_ms < 2)})")
        if "single" in pso_rows:
            line += f"; PySyncObj one writer: p50 {pso_rows['single'].p50_ms:.2f} ms (no fsync)"
        out.write(line + "\n")
    for key, label in (("failover", "failover, tuned timeouts"),
                       ("shipped", "failover, default timeouts")):
        m = found.get(key)
        if m is None or m.failover_ms is None:
            continue
        took = m.failover_ms
        line = (f"{label}: {_cell(took, 0)} ms from kill -9 of the leader to the next ok")
        if key == "failover":
            line += f" (target under 500 ms: {_verdict(took < 500)})"
            theirs = pso_rows.get("failover")
            if theirs is not None and theirs.failover_ms is not None:
                line += f"; PySyncObj (timeouts {_PSO_TUNED}): {_cell(theirs.failover_ms, 0)} ms"
        out.write(line + "\n")


def run_cluster_bench(options: BenchOptions, out: TextIO) -> list[Measured]:
    """Run every variant (paxlab and PySyncObj alternating), print the table and the
    ratio lines, return the rows. Every process started is ended, also on Ctrl-C."""
    paxlab_variants = _paxlab_variants(options)
    with_pso = options.pso and pso.pso_available()
    out.write(f"paxlab bench cluster: 3 servers on 127.0.0.1, {options.clients} closed-loop "
              f"clients in {options.loads} load process(es), {options.seconds:g} s windows "
              f"after {options.warmup_s:g} s warm-up, {os.cpu_count()} CPUs\n")
    if options.pso and not with_pso:
        out.write(f"PySyncObj is not installed, so no ratios: {pso.INSTALL_HINT}\n")
    out.flush()
    rows: list[tuple[str, Measured]] = []
    found: dict[str, Measured] = {}
    pso_rows: dict[str, Measured] = {}

    def note(line: str) -> None:
        out.write(f"  {line}\n")
        out.flush()

    def show(key: str, m: Measured) -> None:
        rows.append((key, m))
        extra = f", failover {_cell(m.failover_ms, 0)} ms" if m.failover_ms is not None else ""
        note(f"{m.system} {m.variant}: {m.ops_s:,.0f} ops/s, p50 {m.p50_ms:.2f} ms, "
             f"p99 {m.p99_ms:.2f} ms{extra}")

    c, w, s = options.clients, options.warmup_s, options.seconds
    pso_steps: dict[str, Callable[[Children, Path], Measured]] = {
        "shipped": lambda ch, d: pso.run_pso_load(ch, d, c, s, w, batch=True),
        "like": lambda ch, d: pso.run_pso_load(ch, d, c, s, w, batch=False),
        "single": lambda ch, d: replace(pso.run_pso_load(ch, d, 1, s, w, batch=False),
                                        variant="one writer, appendEntriesUseBatch=False"),
        "failover": lambda ch, d: pso.run_pso_failover(ch, d, c, w, _PSO_TUNED,
                                                       options.horizon_s, note),
    }
    profiles: list[str] = []
    server_argv = default_server_argv
    if options.profile is not None:
        mode = options.profile

        def server_argv(path: Path, server_id: int) -> list[str]:
            return python_argv("paxlab.bench.cluster_profile", mode,
                               str(path.parent / "profile"), str(path), str(server_id))

    with tempfile.TemporaryDirectory(prefix="paxlab-bench-cluster-") as scratch, \
            terminate_on_sigterm(), Children() as children:
        root = options.keep if options.keep is not None else Path(scratch)
        for key in options.variants:
            if with_pso:
                measured = pso_steps[key](children, root / f"pso-{key}")
                pso_rows[key] = measured
                show(key, measured)
            measured = run_paxlab(children, root / f"paxlab-{key}", paxlab_variants[key],
                                  s, w, loads=options.loads, horizon_s=options.horizon_s,
                                  server_argv=server_argv, log=note)
            found[key] = measured
            show(key, measured)
            if options.profile is not None:
                profiles.append(f"--- profile of paxlab {measured.variant} "
                                f"({options.profile}) ---\n"
                                + summarize(root / f"paxlab-{key}" / "profile",
                                            ops=round(measured.ops_s * (s + w))))
    throughput = [m for k, m in pso_rows.items() if k in ("shipped", "like")]
    best = max(throughput, key=lambda m: m.ops_s, default=None)
    out.write("\n" + _table(rows, best, pso_rows) + "\n")
    if pso_rows:
        out.write("PySyncObj has no client protocol: its writers run inside its nodes (in the "
                  "leader; in the followers when the leader is killed), where paxlab's clients "
                  "are another process, over TCP. Failover: kill -9 of the leader under load "
                  "until oks flow again.\n")
    _summary(found, best, pso_rows, out)
    cpu = [f"  {m.system} {m.variant}: {m.cpu}" for _, m in rows if m.cpu]
    if cpu:
        out.write("CPU during each window (100% = one core):\n" + "\n".join(cpu) + "\n")
    for text in profiles:
        out.write("\n" + text + "\n")
    if options.keep is not None:
        out.write(f"folders kept in {options.keep}\n")
    out.flush()
    return [m for _, m in rows]
