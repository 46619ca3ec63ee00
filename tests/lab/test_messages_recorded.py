"""End to end: a short lab run's messages.jsonl agrees with what the router counted."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

from paxlab.config import parse_config
from paxlab.lab import run_lab
from paxlab.results import read_summary
from paxlab.results.messages import read_messages


def test_a_run_records_every_message_the_router_counted(tmp_path: Path) -> None:
    config = parse_config({
        "name": "recorded",
        "cluster": {"servers": 3},
        "clients": {"count": 2},
        "network": {"drop_probability": 0.05, "duplicate_probability": 0.05},
        "workload": {"type": "generated", "duration_ms": 1500},
        "faults": [
            {"at_ms": 200, "action": "pause", "target": 1},
            {"at_ms": 500, "action": "resume", "target": "all"},
            {"at_ms": 600, "action": "crash", "target": 2},
            {"at_ms": 1300, "action": "restart", "target": "all"},
        ],
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, outcome.checks
    faults = read_summary(outcome.run_dir)["faults"]
    assert [(f["action"], f["nodes"]) for f in faults] == [
        ("pause", ["s1"]), ("resume", ["s1"]), ("crash", ["s2"]), ("restart", ["s2"])]
    records = read_messages(outcome.run_dir)
    assert records.problems == []
    assert records.header == {"format": "paxlab-messages", "version": 1, "driver": "lab",
                              "time_unit": "us"}
    log = (outcome.run_dir / "logs" / "router.log").read_text()
    (totals,) = [line for line in log.splitlines() if "router stopped;" in line]
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", totals)}
    fates = Counter(s.fate for s in records.sends)
    assert len(records.sends) == counts["routed"]
    for fate in ("deliver", "drop", "duplicate", "cut"):
        assert fates[fate] == counts[fate], fate
    outcomes = Counter(a.outcome for a in records.arrivals)
    assert outcomes["held"] > 0 and outcomes["released"] + outcomes["lost"] == outcomes["held"]
    assert outcomes["down"] > 0  # messages for s2 while it was crashed (a new leader beats)
    # Each copy reaches the door once (held copies again on release); copies still on
    # their way when the router stopped have no arrival.
    first = outcomes["delivered"] + outcomes["down"] + outcomes["held"]
    copies = fates["deliver"] + 2 * fates["duplicate"]
    assert 0 <= copies - first <= 20
    sent_at = {s.id: s.t_us for s in records.sends}
    assert all(a.id in sent_at and a.t_us >= sent_at[a.id] for a in records.arrivals)
    assert {"ClientRequest", "ClientReply", "Accept", "Accepted", "Heartbeat"} <= {
        s.type for s in records.sends}
    end_us = max(a.t_us for a in records.arrivals)
    assert end_us < 60_000_000  # microseconds since the run start, not since boot
