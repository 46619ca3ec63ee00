"""Real results folders for the report's browser tests, made by paxlab's own commands side
by side in about 10 s, and what their raw files say, read without the report's model.

The four runs of issue 13's "Tested in a real browser": a clean lab run
(configs/basic.yaml), a lab run with a crash, a restart and a partition, a simulated
stale-read mutant that fails linearizability (leader_churn, seed 1), and a lab run
cut short by Ctrl-C. Each writes its report.html as a user's run does. The truth the
tests hold the page to (who answered an op, which block holds it, which messages a slot
has) comes from history.jsonl, chains/ and messages.jsonl, not from the model, so a model
bug cannot hide behind a page that draws the model faithfully.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from paxlab.cli.exit_codes import ExitCode
from paxlab.results.messages import read_messages
from tests.lab.interrupted import interrupt_long_run

__all__ = ["FAULT_RUN", "RUN_NAMES", "Copy", "RawRun", "RunFailed", "make_real_runs",
           "read_raw"]

ROOT = Path(__file__).resolve().parents[2]
RUN_NAMES = ("clean", "fault", "mutant", "partial")
DEADLINE_S = 90  # one run on a loaded 2-core machine; they take 2-6 s alone
FAULT_RUN = """\
name: fault
seed: 1
cluster: {servers: 3, heartbeat_interval_ms: 50, election_timeout_ms_min: 200,
          election_timeout_ms_max: 400}
clients: {count: 2, request_timeout_ms: 300}
workload: {type: generated, duration_ms: 2500, put_fraction: 0.5, keys: 4}
faults:
  - {at_ms: 400, action: crash, target: leader}
  - {at_ms: 1000, action: restart, target: all}
  - {at_ms: 1400, action: partition, groups: [[0], [1, 2]]}
  - {at_ms: 2000, action: heal}
checks: {quiesce_timeout_ms: 10000, run_timeout_s: 60}  # roomy: a loaded machine
"""
# the stale-read mutant fails linearizable on configs/leader_churn.yaml seed 1, a shipped
# config made for it (two leaders overlap), as README's failure screenshot shows
MUTANT_ARGS = ("sim", str(ROOT / "configs" / "leader_churn.yaml"), "--mutant", "stale-read",
               "--seed", "1")
EXPECTED = {"clean": ExitCode.OK, "fault": ExitCode.OK, "mutant": ExitCode.CHECK_FAILED}
SLOT_BLIND = frozenset({"Heartbeat", "HeartbeatAck", "Prepare", "Promise"})  # slot: not a slot
HEARTBEATS = frozenset({"Heartbeat", "HeartbeatAck"})


class RunFailed(AssertionError):
    """A run meant to make a folder ended otherwise; the message holds its output's tail."""


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:  # a file, not a pipe: a chatty run must not block on it
        return subprocess.Popen([sys.executable, "-m", "paxlab", *args], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _latest(results: Path, name: str, code: int, expected: int, output: str) -> Path:
    if code != expected:
        raise RunFailed(f"{name} run exited {code}, expected {expected}:\n{output[-3000:]}")
    folder = (results / "latest").resolve()
    if not (folder / "report.html").is_file():
        raise RunFailed(f"{name} run wrote no report.html in {folder}:\n{output[-3000:]}")
    return folder


def make_real_runs(root: Path) -> dict[str, Path]:
    """Each run of RUN_NAMES's results folder under `root`: the three that run to their end
    go in the background while this thread presses Ctrl-C on the fourth."""
    (root / "partial").mkdir(parents=True, exist_ok=True)
    (root / "fault.yaml").write_text(FAULT_RUN)
    commands = {
        "clean": ["run", "configs/basic.yaml", "--results", str(root / "clean"), "--quiet"],
        "fault": ["run", str(root / "fault.yaml"), "--results", str(root / "fault"), "--quiet"],
        "mutant": [*MUTANT_ARGS, "--out", str(root / "mutant")],
    }
    started = {name: _start(args, root / f"{name}.log") for name, args in commands.items()}
    folders: dict[str, Path] = {}
    try:
        code, output = interrupt_long_run(root / "partial")
        folders["partial"] = _latest(root / "partial" / "r", "partial", code,
                                     ExitCode.INTERRUPTED, output)
        deadline = time.monotonic() + DEADLINE_S
        for name, process in started.items():
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                code = -1
            output = (root / f"{name}.log").read_text(errors="replace")
            folders[name] = _latest(root / name, name, code, EXPECTED[name], output)
    finally:
        for process in started.values():
            _stop(process)
    return {name: folders[name] for name in RUN_NAMES}


@dataclass(frozen=True, slots=True)
class Copy:
    """One copy of a message as the page draws it: a duplicate is two copies."""

    id: int
    type: str
    src: str
    dst: str
    slot: int | None
    op: tuple[int, int] | None  # the first op it serves
    sent_us: int
    end_us: int | None  # its last arrival at the door, None when it never arrived


@dataclass
class RawRun:
    """A results folder's raw record: ops from history.jsonl, heights from the final chain
    (the longest, lowest server id on a tie), message copies from messages.jsonl."""

    summary: dict
    ops: dict[tuple[int, int], dict] = field(default_factory=dict)  # invoke + "outcome", "end"
    height: dict[tuple[int, int], int] = field(default_factory=dict)
    copies: list[Copy] = field(default_factory=list)
    answered_by: dict[tuple[int, int], set[str]] = field(default_factory=dict)

    _by_slot: dict[int, list[Copy]] | None = None

    def followers_of(self, slot: int) -> list[Copy]:
        """The copies following `slot` lights up: its own messages, and those of its ops."""
        if self._by_slot is None:  # indexed once: a simulated run has ~30,000 copies
            self._by_slot = {}
            for c in self.copies:
                mine = c.slot if c.slot is not None and c.type not in SLOT_BLIND else None
                theirs = self.height.get(c.op) if c.op is not None else None
                for s in {mine, theirs} - {None}:
                    self._by_slot.setdefault(s, []).append(c)
        return self._by_slot.get(slot, [])


def _history(run_dir: Path) -> dict[tuple[int, int], dict]:
    ops: dict[tuple[int, int], dict] = {}
    with open(run_dir / "history.jsonl", encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            op = (event["process"], event["seq"])
            if event["type"] == "invoke":
                ops[op] = dict(event, outcome=None, end=None)
            elif op in ops:
                ops[op].update(outcome=event["type"], end=event["time"],
                               result=event.get("value"))
    return ops


def _final_chain(run_dir: Path) -> list[dict]:
    chains = []
    for path in sorted((run_dir / "chains").glob("server-*.jsonl")):
        sid = int(path.stem.split("-")[1])
        blocks = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        chains.append((-len(blocks), sid, blocks))
    return min(chains)[2] if chains else []


def read_raw(run_dir: Path) -> RawRun:
    """What the run itself recorded, for the tests to hold the page to."""
    raw = RawRun(summary=json.loads((run_dir / "summary.json").read_text()))
    raw.ops = _history(run_dir)
    for block in _final_chain(run_dir):
        for txn in block["txns"]:
            raw.height.setdefault((txn["client"], txn["seq"]), block["height"])
    records = read_messages(run_dir)
    assert records.problems == [], records.problems
    arrived: dict[int, list[tuple[int, str]]] = {}
    for a in records.arrivals:
        arrived.setdefault(a.id, []).append((a.t_us, a.outcome))
    for s in records.sends:
        ends = arrived.get(s.id, [])
        op = (s.ops[0][0], s.ops[0][1]) if s.ops else None
        for _ in range(2 if s.fate == "duplicate" else 1):
            raw.copies.append(Copy(s.id, s.type, s.src, s.dst, s.slot, op, s.t_us,
                                   max(t for t, _ in ends) if ends else None))
        if s.type == "ClientReply" and op and any(o in ("delivered", "released")
                                                  for _, o in ends):
            raw.answered_by.setdefault(op, set()).add(s.src)
    return raw


def pick_op(raw: RawRun, after_us: int) -> tuple[int, int]:
    """The first op invoked at or after `after_us` that the tests can check in full: an ok
    put held by a block and answered by one server, whose slot's messages span < 100 ms
    (a short window the page draws arrow by arrow)."""
    candidates = sorted((event["time"] // 1000 < after_us, event["time"], op)
                        for op, event in raw.ops.items()
                        if event["outcome"] == "ok" and event["f"] == "put"
                        and op in raw.height and len(raw.answered_by.get(op, ())) == 1)
    for _, _, op in candidates:
        followers = raw.followers_of(raw.height[op])
        span = (max(c.end_us or c.sent_us for c in followers)
                - min(c.sent_us for c in followers))
        if span < 100_000:
            return op
    raise AssertionError("no op with one reply, a block and a short slot")
