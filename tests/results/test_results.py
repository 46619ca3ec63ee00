"""The results folder contract: names, round trips, merging parts, and errors that say where."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest
import yaml

from paxlab import results
from paxlab.results import ResultsError

NOW = datetime.datetime(2025, 3, 4, 5, 6, 7)


def event(process: int, kind: str, seq: int, time: int, f: str = "put") -> dict:
    value = None if f == "get" and kind == "invoke" else "1"
    return {"process": process, "type": kind, "f": f, "key": "'k'", "value": value,
            "seq": seq, "time": time}  # fmt: skip


def block(height: int) -> dict:
    txns = [{"client": 1, "seq": height, "op": "put", "key": "'k'", "value": str(height)}]
    return {"height": height, "prev": "0" * 64, "txns": txns, "nonce": "7", "hash": "ab" * 32}


def test_new_run_dir_names_and_subfolders(tmp_path: Path) -> None:
    first = results.new_run_dir(tmp_path / "results", "partition", NOW)
    second = results.new_run_dir(tmp_path / "results", "partition", NOW)
    third = results.new_run_dir(tmp_path / "results", "partition", NOW)
    assert [p.name for p in (first, second, third)] == [
        "20250304-050607-partition",
        "20250304-050607-partition-2",
        "20250304-050607-partition-3",
    ]
    assert sorted(p.name for p in first.iterdir()) == ["chains", "kv", "logs"]


def test_new_run_dir_refuses_a_path_as_config_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="config name"):
        results.new_run_dir(tmp_path, "../escape", NOW)


def test_update_latest_is_relative_and_replaced(tmp_path: Path) -> None:
    root = tmp_path / "results"
    first = results.new_run_dir(root, "a", NOW)
    results.update_latest(root, first)
    assert os.readlink(root / "latest") == first.name
    second = results.new_run_dir(root, "b", NOW)
    results.write_summary(second, {"config": "b"})
    results.update_latest(root, second)
    assert os.readlink(root / "latest") == second.name
    assert results.resolve_run_dir(root / "latest") == second.resolve()
    assert results.resolve_run_dir(root) == second.resolve()  # the root means its latest
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_resolve_run_dir_rejects_non_run_folders(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not a run folder"):
        results.resolve_run_dir(tmp_path)
    with pytest.raises(ResultsError, match="no such run folder"):
        results.resolve_run_dir(tmp_path / "nope")


def test_round_trip(tmp_path: Path) -> None:
    run_dir = results.new_run_dir(tmp_path, "demo", NOW)
    config = {"name": "demo", "servers": 3, "network": {"drop_probability": 0.1}, "a": [1, 2]}
    history = [event(1, "invoke", 1, 10), event(1, "ok", 1, 20)]
    summary = {"config": "demo", "duration_s": 1.5, "checks": []}
    results.write_config(run_dir, config)
    results.write_history(run_dir, history)
    results.write_chain(run_dir, 0, [block(0), block(1)])
    results.write_chain(run_dir, 2, [block(0)])
    results.write_chain_meta(run_dir, 5)
    results.write_kv(run_dir, 0, {"'k'": "1"})
    results.write_kv(run_dir, 2, {})
    results.write_summary(run_dir, summary)
    assert results.read_config(run_dir) == config
    assert list(results.read_config(run_dir)) == list(config)  # key order kept
    assert results.read_history(run_dir) == history
    assert results.read_chains(run_dir) == {0: [block(0), block(1)], 2: [block(0)]}
    assert results.read_chain_meta(run_dir) == {"difficulty": 5}
    assert results.read_kvs(run_dir) == {0: {"'k'": "1"}, 2: {}}
    assert results.read_summary(run_dir) == summary
    records = results.read_records(run_dir)
    assert (records.history, records.difficulty) == (history, 5)
    assert records.chains[2] == [block(0)] and records.kvs[0] == {"'k'": "1"}
    assert results.log_path(run_dir, "server-1") == run_dir / "logs" / "server-1.log"
    assert yaml.safe_load((run_dir / "config.yaml").read_text()) == config


def test_write_history_sorts_by_time_then_process_stably(tmp_path: Path) -> None:
    events = [event(2, "invoke", 1, 5), event(1, "invoke", 2, 5), event(1, "ok", 2, 5)]
    events.insert(0, event(3, "ok", 9, 7))
    results.write_history(tmp_path, events)
    got = [(e["process"], e["type"], e["time"]) for e in results.read_history(tmp_path)]
    assert got == [(1, "invoke", 5), (1, "ok", 5), (2, "invoke", 5), (3, "ok", 7)]
    first_line = (tmp_path / "history.jsonl").read_text().splitlines()[0]
    assert list(json.loads(first_line)) == ["process", "type", "f", "key", "value", "seq", "time"]


def test_write_history_refuses_a_malformed_event(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="history event 1: missing field 'type'"):
        results.write_history(tmp_path, [event(1, "invoke", 1, 1), {"process": 1}])


def test_merge_history_parts_skips_a_torn_last_line(tmp_path: Path) -> None:
    results.write_history_part(tmp_path, 2, event(2, "invoke", 1, 30))
    results.append_history_part(results.history_part_path(tmp_path, 1), event(1, "invoke", 1, 10))
    results.append_history_part(results.history_part_path(tmp_path, 1), event(1, "ok", 1, 40))
    with open(results.history_part_path(tmp_path, 1), "a") as f:
        f.write('{"process": 1, "type": "inv')  # the client died mid-write
    merged = results.merge_history_parts(tmp_path)
    assert [(e["process"], e["time"]) for e in merged] == [(1, 10), (2, 30), (1, 40)]
    assert results.read_history(tmp_path) == merged
    assert not results.history_parts_dir(tmp_path).exists()
    assert results.merge_history_parts(tmp_path) == merged  # idempotent


def test_merge_history_parts_rejects_a_bad_middle_line(tmp_path: Path) -> None:
    path = results.history_part_path(tmp_path, 4)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(event(4, "invoke", 1, 1)) + "\nnot json\n")
    with pytest.raises(ResultsError, match=r"client-4\.jsonl: line 2: malformed JSON"):
        results.merge_history_parts(tmp_path)


def test_merge_without_parts_writes_an_empty_history(tmp_path: Path) -> None:
    assert results.merge_history_parts(tmp_path) == []
    assert results.read_history(tmp_path) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: malformed JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"process": 1}', "line 2: missing field 'type'"),
    ],
)
def test_read_history_errors_name_path_and_line(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "history.jsonl").write_text(json.dumps(event(1, "invoke", 1, 1)) + f"\n{line}\n")
    with pytest.raises(ResultsError) as info:
        results.read_history(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'history.jsonl'}: {message}")


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("process", "1", "field 'process' = '1': expected an integer"),
        ("time", 1.5, "field 'time' = 1.5: expected an integer"),
        ("type", "done", "field 'type' = 'done': expected one of invoke, ok, fail, info"),
        ("f", "cas", "field 'f' = 'cas': expected one of put, get"),
        ("value", 3, "field 'value' = 3: expected a string or null"),
    ],
)
def test_read_history_validates_field_types(
    tmp_path: Path, field: str, bad: object, message: str
) -> None:
    (tmp_path / "history.jsonl").write_text(json.dumps({**event(1, "ok", 1, 1), field: bad}))
    with pytest.raises(ResultsError, match=f"history.jsonl: line 1: {message}"):
        results.read_history(tmp_path)


def test_read_chains_validates_blocks(tmp_path: Path) -> None:
    bad = {k: v for k, v in block(1).items() if k != "nonce"}
    results.write_chain(tmp_path, 3, [block(0), bad])
    results.write_chain(tmp_path, 4, [{**block(0), "height": "0"}])
    with pytest.raises(ResultsError, match=r"server-3\.jsonl: line 2: missing field 'nonce'"):
        results.read_chains(tmp_path)
    (tmp_path / "chains" / "server-3.jsonl").unlink()
    with pytest.raises(ResultsError, match=r"server-4\.jsonl: line 1: field 'height'"):
        results.read_chains(tmp_path)


def test_missing_and_malformed_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"history\.jsonl: missing"):
        results.read_history(tmp_path)
    results.write_history(tmp_path, [])
    with pytest.raises(ResultsError, match=r"meta\.json: missing"):
        results.read_records(tmp_path)
    results.write_chain_meta(tmp_path, 300)
    with pytest.raises(ResultsError, match=r"meta\.json: 'difficulty' = 300"):
        results.read_chain_meta(tmp_path)
    results.write_kv(tmp_path, 1, {"'k'": 1})  # type: ignore[dict-item]
    with pytest.raises(ResultsError, match=r"server-1\.json: key \"'k'\" = 1"):
        results.read_kvs(tmp_path)
    (tmp_path / "config.yaml").write_text("- a list\n")
    with pytest.raises(ResultsError, match=r"config\.yaml: expected a mapping"):
        results.read_config(tmp_path)
    (tmp_path / "summary.json").write_text('{"a": ')
    with pytest.raises(ResultsError, match=r"summary\.json: line 1: malformed JSON"):
        results.read_summary(tmp_path)


def test_empty_folders_read_as_no_chains_and_no_kvs(tmp_path: Path) -> None:
    assert results.read_chains(tmp_path) == {} and results.read_kvs(tmp_path) == {}


def test_write_summary_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        results.write_summary(tmp_path, {"throughput_ops_s": float("nan")})
    assert not (tmp_path / "summary.json").exists()
