"""Holds a report model to contract section 4: every field there, each column as long as
its table, each index inside the table it points into, every time an int. The page
trusts all of this, so every model the tests build passes through here."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["assert_model_shape", "model_bytes"]

_TOP = ("format", "run", "unread", "verdict", "nodes", "faults", "down", "leaders", "commits",
        "series", "recovery", "keys", "ops", "messages", "quorums", "chains", "kv_diff",
        "failure")  # fmt: skip
_RUN = ("name", "driver", "config", "seed", "mutant", "servers", "clients", "difficulty",
        "partial", "start_us", "end_us", "config_text")  # fmt: skip
_VERDICT = ("overall", "passed", "checks", "errors", "ops", "throughput_ops_s", "latency_ms",
            "first_problem")  # fmt: skip
_OPS = ("client", "seq", "f", "key", "value", "invoke_us", "end_us", "type", "server", "height")
_MESSAGES = ("id", "src", "dst", "kind", "ballot", "slot", "op", "sent_us", "arrive_us", "fate",
             "copy")  # fmt: skip
_SERIES = ("t_us", "ok", "fail", "info", "p50_ms", "p95_ms", "p99_ms")


def model_bytes(model: dict[str, Any]) -> bytes:
    """The model as the page embeds it; strict JSON (no NaN) or this raises."""
    return json.dumps(model, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _columns(table: dict[str, Any], names: tuple[str, ...], where: str) -> int:
    lengths = {name: len(table[name]) for name in names}
    assert len(set(lengths.values())) <= 1, f"{where}: columns differ in length: {lengths}"
    return next(iter(lengths.values()), 0)


def _indexes(column: list[Any], size: int, where: str, missing_ok: bool = False) -> None:
    low = -1 if missing_ok else 0
    bad = [v for v in column if not _is_int(v) or not low <= v < size]
    assert not bad, f"{where}: indexes outside 0..{size - 1}: {bad[:5]}"


def assert_model_shape(model: dict[str, Any]) -> None:
    assert set(model) == set(_TOP), set(model) ^ set(_TOP)
    assert model["format"] == 1
    run = model["run"]
    assert set(run) == set(_RUN)
    assert run["driver"] in ("lab", "sim", "cluster")
    assert run["start_us"] == 0 and _is_int(run["end_us"]) and run["end_us"] >= 0
    assert all(isinstance(u, str) for u in model["unread"])
    verdict = model["verdict"]
    assert set(verdict) == set(_VERDICT)
    assert isinstance(verdict["passed"], bool)
    assert set(verdict["ops"]) == {"put", "get"}
    problem = verdict["first_problem"]
    if problem is not None:
        assert set(problem) == {"t_us", "text", "panel"} and _is_int(problem["t_us"])
        assert problem["panel"] in ("failure", "chains", "ops", "messages")
    nodes = model["nodes"]
    assert len(set(nodes)) == len(nodes)
    n = len(nodes)
    for fault in model["faults"]:
        assert set(fault) == {"start_us", "end_us", "action", "label", "nodes"}
        assert fault["end_us"] is None or fault["end_us"] >= fault["start_us"]
        _indexes(fault["nodes"], n, "faults.nodes")
    for down in model["down"]:
        assert down["kind"] in ("crash", "pause") and down["end_us"] >= down["start_us"]
        _indexes([down["node"]], n, "down.node")
    for reign in model["leaders"]:
        assert reign["end_us"] >= reign["start_us"] and isinstance(reign["ballot"], str)
        _indexes([reign["node"]], n, "leaders.node")
    assert _columns(model["commits"], ("t_us", "height"), "commits") >= 0
    series = model["series"]
    assert _is_int(series["bucket_us"]) and series["bucket_us"] > 0
    _columns(series, _SERIES, "series")
    assert len(model["recovery"]) == len(model["faults"])
    keys = model["keys"]
    ops = model["ops"]
    rows = _columns(ops, _OPS, "ops")
    _indexes(ops["key"], len(keys), "ops.key")
    _indexes(ops["server"], n, "ops.server", missing_ok=True)
    assert all(t in ("ok", "fail", "info") for t in ops["type"])
    assert all(i <= e for i, e in zip(ops["invoke_us"], ops["end_us"], strict=True))
    messages = model["messages"]
    count = _columns(messages, _MESSAGES, "messages")
    assert messages["count"] == count
    _indexes(messages["src"] + messages["dst"], n, "messages.src/dst")
    _indexes(messages["kind"], len(messages["kinds"]), "messages.kind")
    _indexes(messages["ballot"], len(messages["ballots"]), "messages.ballot", missing_ok=True)
    _indexes(messages["fate"], len(messages["fates"]), "messages.fate")
    _indexes(messages["op"], rows, "messages.op", missing_ok=True)
    assert set(messages["copy"]) <= {0, 1}
    quorums = model["quorums"]
    _columns(quorums, ("t_us", "node", "height", "ballot"), "quorums")
    _indexes(quorums["ballot"], len(messages["ballots"]), "quorums.ballot")
    chains = model["chains"]
    servers = _columns(chains, ("servers", "length", "cells"), "chains")
    assert [len(row) for row in chains["cells"]] == chains["length"]
    starts = chains["start"]  # the height of each row's first cell (above 0: a snapshot)
    assert len(starts) == len(chains["cells"]) and all(_is_int(s) and s >= 0 for s in starts)
    for row in chains["cells"]:
        _indexes(row, len(chains["hashes"]), "chains.cells", missing_ok=True)
    assert servers == 0 or chains["diverge_at"] is None or _is_int(chains["diverge_at"])
    for row in model["kv_diff"]:
        assert set(row) == {"key", "values"}
    failure = model["failure"]
    if failure is not None:
        assert _is_int(failure["window_us"][0]) and _is_int(failure["window_us"][1])
        assert all("invoke_us" in op and "end_us" in op for op in failure["ops"])
    model_bytes(model)
