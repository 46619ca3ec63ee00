"""The lab runs scripted workloads exactly and applies every fault action."""

from __future__ import annotations

import io
import json
from pathlib import Path

from paxlab.bench.lab import baseline_of, run_bench
from paxlab.config import parse_config
from paxlab.lab import run_lab


def _history(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]


def test_scripted_ops_run_in_order_and_reads_see_writes(tmp_path: Path) -> None:
    config = parse_config({
        "name": "scripted",
        "clients": {"count": 2},
        "workload": {"type": "scripted", "ops": [
            {"at_ms": 0, "client": 0, "f": "get", "key": "'x'"},
            {"at_ms": 0, "client": 0, "f": "put", "key": "'x'", "value": "(1, 'a')"},
            {"at_ms": 0, "client": 0, "f": "get", "key": "'x'"},
            {"at_ms": 400, "client": 1, "f": "put", "key": "'x'", "value": "2"},
            {"at_ms": 700, "client": 1, "f": "get", "key": "'x'"},
        ]},
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, outcome.checks
    done = [e for e in _history(outcome.run_dir) if e["type"] != "invoke"]
    by_client = {c: [(e["f"], e["value"]) for e in done if e["process"] == c] for c in (0, 1)}
    # The first get finds nothing: a clear not-found (null), not an error.
    assert by_client[0] == [("get", None), ("put", "(1, 'a')"), ("get", "(1, 'a')")]
    assert by_client[1] == [("put", "2"), ("get", "2")]
    invoke_1 = next(e for e in _history(outcome.run_dir)
                    if e["process"] == 1 and e["type"] == "invoke")
    assert invoke_1["time"] >= 400 * 1_000_000, "scripted ops wait for their at_ms"
    kv = json.loads((outcome.run_dir / "kv" / "server-0.json").read_text())
    assert kv == {"'x'": "2"}


def test_every_fault_action_is_applied_and_logged(tmp_path: Path) -> None:
    config = parse_config({
        "name": "all_faults",
        "cluster": {"servers": 5},
        "workload": {"type": "generated", "duration_ms": 2200},
        "faults": [
            {"at_ms": 100, "action": "set_network", "drop_probability": 0.05,
             "delay_ms_mean": 2},
            {"at_ms": 300, "action": "fail_link", "between": [0, 1]},
            {"at_ms": 500, "action": "fix_link", "between": [0, 1]},
            {"at_ms": 700, "action": "partition", "groups": [[0, 1, 2], [3, 4]]},
            {"at_ms": 1100, "action": "heal"},
            {"at_ms": 1300, "action": "isolate", "target": "leader"},
            {"at_ms": 1700, "action": "isolate", "target": 4},
            {"at_ms": 1900, "action": "heal"},
        ],
    }, "test")
    outcome = run_lab(config, tmp_path, io.StringIO(), live=False)
    assert outcome.passed, outcome.checks
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    actions = [f["action"] for f in summary["faults"]]
    assert actions == ["set_network", "fail_link", "fix_link", "partition", "heal",
                       "isolate", "isolate", "heal"]
    assert summary["faults"][5]["detail"].startswith("isolate leader (s")
    router_log = (outcome.run_dir / "logs" / "router.log").read_text()
    assert "fault: cut partition" in router_log and "cut s" in router_log
    assert "drop " in router_log


def test_bench_reports_a_ratio_against_the_baseline(tmp_path: Path) -> None:
    config = parse_config({"name": "tiny", "clients": {"count": 4},
                           "workload": {"ops_per_client": 10}}, "test")
    assert baseline_of(config).cluster.batch_size_max == 1
    assert baseline_of(config).cluster.pipeline_window == 1
    out = io.StringIO()
    base, mine = run_bench(config, 1, out, tmp_path)
    assert base.passed and mine.passed
    assert base.throughput_ops_s > 0 and mine.throughput_ops_s > 0
    assert "vs baseline" in out.getvalue() and "1.00x" in out.getvalue()
