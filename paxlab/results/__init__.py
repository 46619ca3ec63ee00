"""Writes and reads the results folder; the only module that knows its file names.

The folder is a contract read by outside tools (docs/results-contract.md documents it), so
every file name lives here (what goes inside a file is in `results.format`). Writers
replace whole files atomically, so a reader never sees half a file. Readers validate what
they load, so a malformed file is a ResultsError naming the path (and line), not a
KeyError in a checker.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from paxlab.results import format as fmt
from paxlab.results.format import ResultsError

__all__ = [
    "ResultsError",
    "RunRecords",
    "append_history_part",
    "history_part_path",
    "history_parts_dir",
    "log_path",
    "merge_history_parts",
    "new_run_dir",
    "numbered_files",
    "read_chain_meta",
    "read_chains",
    "read_config",
    "read_history",
    "read_kvs",
    "read_records",
    "read_summary",
    "recover_history_part",
    "resolve_run_dir",
    "server_data_dir",
    "update_latest",
    "write_chain",
    "write_chain_meta",
    "write_config",
    "write_history",
    "write_history_part",
    "write_kv",
    "write_summary",
]

_LATEST = "latest"
_CONFIG = "config.yaml"
_HISTORY = "history.jsonl"
_HISTORY_PARTS = "history-parts"
_CHAINS = "chains"
_CHAIN_META = "meta.json"
_KV = "kv"
_LOGS = "logs"
_SUMMARY = "summary.json"
_DATA = "data"
_CHAIN_FILE = re.compile(r"server-(\d+)\.jsonl")
_KV_FILE = re.compile(r"server-(\d+)\.json")
_PART_FILE = re.compile(r"client-(\d+)\.jsonl")


@dataclass(frozen=True)
class RunRecords:
    """Everything the checkers need from one run, so a simulator can check in memory
    exactly what the lab checks on disk."""

    history: list[dict]
    chains: dict[int, list[dict]]  # server id -> blocks by height
    difficulty: int
    kvs: dict[int, dict[str, str]]  # server id -> key repr -> value repr


def numbered_files(folder: Path, pattern: re.Pattern[str]) -> dict[int, Path]:
    """Files named like server-<id>.jsonl, by id; other files (temp files) are ignored."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


# ---- run folder ----------------------------------------------------------------------


def new_run_dir(results_root: Path, config_name: str, now: datetime.datetime) -> Path:
    """Create results/<YYYYmmdd-HHMMSS>-<config>/ with its subfolders. mkdir fails if the
    name exists, so two runs started in one second get -2, -3 and never share a folder."""
    if not config_name or config_name in (".", "..") or "/" in config_name or os.sep in config_name:
        raise ValueError(f"config name {config_name!r}: expected a plain file-name part")
    results_root = Path(results_root)
    results_root.mkdir(parents=True, exist_ok=True)
    base = f"{now.strftime('%Y%m%d-%H%M%S')}-{config_name}"
    for n in itertools.count(1):
        run_dir = results_root / (base if n == 1 else f"{base}-{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        for sub in (_CHAINS, _KV, _LOGS):
            (run_dir / sub).mkdir()
        return run_dir
    raise AssertionError("unreachable")


def update_latest(results_root: Path, run_dir: Path) -> None:
    """Point results/latest at run_dir with a relative link (the folder stays valid when
    moved), swapped in by rename so a reader never finds it missing."""
    results_root = Path(results_root)
    link = results_root / _LATEST
    target = os.path.relpath(os.path.abspath(run_dir), os.path.abspath(results_root))
    tmp = results_root / f".{_LATEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _is_run_dir(path: Path) -> bool:
    return (path / _HISTORY).is_file() or (path / _SUMMARY).is_file()


def resolve_run_dir(path: Path) -> Path:
    """The run folder that `path` names: a run folder, results/latest, or the results root
    itself (meaning its latest run), so users can type any of the three."""
    resolved = Path(path).resolve()
    if not _is_run_dir(resolved) and (resolved / _LATEST).exists():
        resolved = (resolved / _LATEST).resolve()
    if not resolved.is_dir():
        raise ResultsError(f"{path}: no such run folder")
    if not _is_run_dir(resolved):
        raise ResultsError(f"{path}: not a run folder (no {_HISTORY} and no {_SUMMARY})")
    return resolved


def log_path(run_dir: Path, name: str) -> Path:
    """Where process `name` (server-1, client-0, router, lab) writes its text log."""
    return Path(run_dir) / _LOGS / f"{name}.log"


# ---- writers -------------------------------------------------------------------------


def write_config(run_dir: Path, resolved: dict) -> None:
    """Save the resolved config, in its own key order, so a run can be repeated."""
    fmt.write_atomic(Path(run_dir) / _CONFIG, yaml.safe_dump(resolved, sort_keys=False))


def write_history(run_dir: Path, events: Iterable[dict]) -> None:
    """Write history.jsonl in time order (ties by process; the sort is stable, so one
    process's events keep their order)."""
    checked = [fmt.checked_event(e, f"history event {i}") for i, e in enumerate(events)]
    checked.sort(key=lambda e: (e["time"], e["process"]))
    fmt.write_atomic(Path(run_dir) / _HISTORY, fmt.jsonl(checked))


def history_parts_dir(run_dir: Path) -> Path:
    """Each client process appends to its own file here, so no two processes share a file
    and no lock is needed; merge_history_parts joins them at the end of the run."""
    return Path(run_dir) / _HISTORY_PARTS


def history_part_path(run_dir: Path, client_id: int) -> Path:
    return history_parts_dir(run_dir) / f"client-{client_id}.jsonl"


def append_history_part(path: Path, event: dict) -> None:
    """Append one event as one write, so a crash loses at most a torn last line."""
    line = fmt.jsonl([fmt.checked_event(event, f"{path}: event")])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)


def write_history_part(run_dir: Path, client_id: int, event: dict) -> None:
    """append_history_part for client `client_id`'s own part file."""
    append_history_part(history_part_path(run_dir, client_id), event)


def recover_history_part(run_dir: Path, client_id: int) -> list[dict]:
    """A restarted client's own events so far. A torn last line (the previous process
    was killed mid-write) is cut from the file, so new events follow whole lines only."""
    path = history_part_path(run_dir, client_id)
    if not path.is_file():
        return []
    events = fmt.read_jsonl(path, fmt.event_problem, torn_tail_ok=True)
    fmt.write_atomic(path, fmt.jsonl(events))
    return events


def server_data_dir(run_dir: Path, server_id: int) -> Path:
    """Server `server_id`'s durable state lives here (see paxlab.storage); created."""
    path = Path(run_dir) / _DATA / f"server-{server_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def merge_history_parts(run_dir: Path) -> list[dict]:
    """Join the clients' parts into history.jsonl, drop the parts, return the events.
    Run twice, the second call finds no parts and returns the merged history."""
    parts_dir = history_parts_dir(run_dir)
    if not parts_dir.is_dir():
        if (Path(run_dir) / _HISTORY).is_file():
            return read_history(run_dir)
        write_history(run_dir, [])
        return []
    events: list[dict] = []
    for path in numbered_files(parts_dir, _PART_FILE).values():
        events.extend(fmt.read_jsonl(path, fmt.event_problem, torn_tail_ok=True))
    write_history(run_dir, events)
    shutil.rmtree(parts_dir)
    return read_history(run_dir)


def write_chain(run_dir: Path, server_id: int, blocks: Sequence[dict]) -> None:
    """Save a server's chain as it is; judging it is the checkers' job."""
    fmt.write_atomic(Path(run_dir) / _CHAINS / f"server-{server_id}.jsonl", fmt.jsonl(blocks))


def write_chain_meta(run_dir: Path, difficulty: int) -> None:
    fmt.write_atomic(Path(run_dir) / _CHAINS / _CHAIN_META, json.dumps({"difficulty": difficulty}))


def write_kv(run_dir: Path, server_id: int, kv: Mapping[str, str]) -> None:
    """Keys sorted, so two equal stores give equal files."""
    text = json.dumps(dict(kv), indent=1, sort_keys=True) + "\n"
    fmt.write_atomic(Path(run_dir) / _KV / f"server-{server_id}.json", text)


def write_summary(run_dir: Path, summary: dict) -> None:
    """NaN is refused: outside tools read this file with strict JSON parsers."""
    text = json.dumps(summary, indent=2, allow_nan=False) + "\n"
    fmt.write_atomic(Path(run_dir) / _SUMMARY, text)


# ---- readers -------------------------------------------------------------------------


def read_config(run_dir: Path) -> dict:
    path = Path(run_dir) / _CONFIG
    try:
        data = yaml.safe_load(fmt.read_text(path))
    except yaml.YAMLError as e:
        raise ResultsError(f"{path}: malformed YAML ({e})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a mapping")
    return data


def read_history(run_dir: Path) -> list[dict]:
    return fmt.read_jsonl(Path(run_dir) / _HISTORY, fmt.event_problem)


def read_chains(run_dir: Path) -> dict[int, list[dict]]:
    """Server id -> blocks; no chains folder gives {} (check.chains says "no chains")."""
    files = numbered_files(Path(run_dir) / _CHAINS, _CHAIN_FILE)
    return {sid: fmt.read_jsonl(path, fmt.block_problem) for sid, path in files.items()}


def read_chain_meta(run_dir: Path) -> dict:
    path = Path(run_dir) / _CHAINS / _CHAIN_META
    meta = fmt.read_json_object(path)
    difficulty = meta.get("difficulty")
    if not fmt.is_int(difficulty) or not 0 <= difficulty <= 256:
        raise ResultsError(f"{path}: 'difficulty' = {difficulty!r}: expected an integer 0..256")
    return meta


def read_kvs(run_dir: Path) -> dict[int, dict[str, str]]:
    """Server id -> its KV snapshot; no kv folder gives {}."""
    kvs = {}
    for sid, path in numbered_files(Path(run_dir) / _KV, _KV_FILE).items():
        kv = fmt.read_json_object(path)
        for key, value in kv.items():
            if not isinstance(value, str):
                raise ResultsError(f"{path}: key {key!r} = {value!r}: expected a string")
        kvs[sid] = kv
    return kvs


def read_summary(run_dir: Path) -> dict:
    return fmt.read_json_object(Path(run_dir) / _SUMMARY)


def read_records(run_dir: Path) -> RunRecords:
    """All the checkers' input from one run folder (pass it through resolve_run_dir first
    to accept results/latest)."""
    return RunRecords(
        history=read_history(run_dir),
        chains=read_chains(run_dir),
        difficulty=read_chain_meta(run_dir)["difficulty"],
        kvs=read_kvs(run_dir),
    )
