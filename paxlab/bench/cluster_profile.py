"""Profile a cluster server under the bench's load, every thread, without touching its code.

`python -m paxlab.bench.cluster_profile MODE OUT_DIR FILE ID` runs `paxlab.cluster.server
FILE ID` in this process under one of two profilers and writes OUT_DIR/s{ID}.* when the
server stops (the bench stops it with SIGTERM):

- `cprofile`: a cProfile per thread (the node thread and the transport's asyncio thread),
  each dumped when its thread ends; exact call counts, but its overhead inflates
  Python-heavy code against C calls such as fsync.
- `cpu`: the same, timed by each thread's CPU clock: waits (for input, the disk, the
  GIL) drop out, so the shares are of CPU, the resource a busy server runs out of.
- `sample`: a sampler thread that reads every thread's Python stack each millisecond
  (`sys._current_frames`), as py-spy would from outside. A thread inside a C call (fsync,
  a socket send, select) shows at the Python line that called it, so the shares are of
  wall time, idle waits included; `summarize` sets the waits apart.
"""

from __future__ import annotations

import atexit
import collections
import cProfile
import json
import linecache
import os
import pstats
import runpy
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["CATEGORIES", "main", "summarize"]

_IDLE = ("selectors.py", "queue.py:get", "threading.py:wait", "base_events.py:_run_once",
         "cluster_profile.py", "_inbox.get(", "_selector.select(", "_bootstrap")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "fsync": ("os.fsync", "fsync(", "fdatasync"),
    "disk writes": (".write(", "flush("),
    "socket writes": ("transport.write", "sendall", ".send(", "write_queue", "_write_"),
    "JSON": ("json", "encode_envelope", "decode_envelope", "to_dict", "from_dict"),
    "HMAC": ("hmac", "seal(", ".open(", "compare_digest"),
    "mining / block hash": ("seal_block", "block_hash", "sha256", "_recipe_text", "verify"),
    "logging": ("log(", "ServerLog", "commits("),
}
"""How `summarize` groups sampled lines: a line counts for the first category whose words
appear in its source text or function name (a rough but explainable split)."""


def _key(frame: Any) -> str:
    code = frame.f_code
    return f"{os.path.basename(code.co_filename)}:{frame.f_lineno}:{code.co_name}"


class _Sampler:
    """Counts, per thread, the leaf line and each function on the stack, every interval."""

    def __init__(self, interval_s: float = 0.001) -> None:
        self.interval_s = interval_s
        self.leaf: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        self.inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        self.samples: collections.Counter[str] = collections.Counter()
        self.sources: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                name = names.get(ident, str(ident))
                self.samples[name] += 1
                leaf = _key(frame)
                self.leaf[name][leaf] += 1
                if leaf not in self.sources:
                    self.sources[leaf] = linecache.getline(
                        frame.f_code.co_filename, frame.f_lineno).strip()[:100]
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    func = f"{os.path.basename(code.co_filename)}:{code.co_name}"
                    if func not in seen:
                        seen.add(func)
                        self.inclusive[name][func] += 1
                    frame = frame.f_back

    def dump(self, path: Path) -> None:
        self._stop.set()
        self._thread.join(1)
        data = {name: {"samples": self.samples[name],
                       "leaf": dict(self.leaf[name].most_common(400)),
                       "inclusive": dict(self.inclusive[name].most_common(400))}
                for name in self.samples}
        path.write_text(json.dumps({"threads": data, "sources": self.sources}))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    mode, out_dir, cluster_file, server_id = args[0], Path(args[1]), args[2], args[3]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"s{server_id}"
    if mode == "sample":
        sampler = _Sampler()
        sampler.start()
        atexit.register(sampler.dump, stem.with_suffix(".samples.json"))
    elif mode in ("cprofile", "cpu"):
        original_run = threading.Thread.run
        timer = time.thread_time if mode == "cpu" else time.perf_counter

        def profiled_run(thread: threading.Thread) -> None:
            profile = cProfile.Profile(timer)
            profile.enable()
            try:
                original_run(thread)
            finally:
                profile.disable()
                profile.dump_stats(f"{stem}.{thread.name}.prof")

        threading.Thread.run = profiled_run  # type: ignore[method-assign]
        main_profile = cProfile.Profile(timer)
        main_profile.enable()

        def dump_main() -> None:
            main_profile.disable()
            main_profile.dump_stats(f"{stem}.main.prof")

        atexit.register(dump_main)
    else:
        raise SystemExit(f"unknown mode {mode!r}: sample, cprofile or cpu")
    sys.argv = ["paxlab.cluster.server", cluster_file, server_id]
    started = time.monotonic()
    try:
        runpy.run_module("paxlab.cluster.server", run_name="__main__", alter_sys=True)
    finally:
        (out_dir / f"s{server_id}.seconds").write_text(f"{time.monotonic() - started:.3f}\n")
    return 0


def _category(text: str) -> str:
    for name, words in CATEGORIES.items():
        if any(word in text for word in words):
            return name
    return "other (core step, host, transport logic)"


def summarize(out_dir: Path, top: int = 15, ops: int = 0) -> str:
    """A text report: per server, per thread, busy vs idle samples, the busy share of each
    category, and the top lines; for cProfile dumps, own time by category (per op when
    `ops` is given) and the top functions by own time."""
    lines: list[str] = []
    for path in sorted(out_dir.glob("s*.samples.json")):
        data = json.loads(path.read_text())
        sources = data["sources"]
        lines.append(f"== {path.name}")
        for thread, counts in data["threads"].items():
            total = counts["samples"]
            busy = {k: n for k, n in counts["leaf"].items()
                    if not any(i in k or i in sources.get(k, "") for i in _IDLE)}
            busy_total = sum(busy.values())
            if not total:
                continue
            lines.append(f"  thread {thread}: {total} samples, busy {busy_total} "
                         f"({100 * busy_total / total:.0f}%)")
            shares: collections.Counter[str] = collections.Counter()
            for key, n in busy.items():
                shares[_category(f"{key} {sources.get(key, '')}")] += n
            for name, n in shares.most_common():
                lines.append(f"    {name:<42} {100 * n / max(1, busy_total):5.1f}% of busy")
            for key, n in sorted(busy.items(), key=lambda kv: -kv[1])[:top]:
                lines.append(f"      {n:6d}  {key:<48} {sources.get(key, '')[:60]}")
    lines.extend(_summarize_cprofile(out_dir, ops, top))
    return "\n".join(lines)


_PROFILE_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("idle: waiting for input", ("'get' of '_queue.SimpleQueue'", "'poll' of 'select.epoll'",
                                 "'select' of", "'acquire' of '_thread.lock'")),
    ("startup: imports, compiling", ("builtins.compile", "marshal.loads", "<frozen importlib",
                                     "_imp.", "builtins.__build_class__", "sre_", "_compiler.py",
                                     "_parser.py", "dataclasses.py", "enum.py", ":<module>")),
    ("fsync", ("posix.fsync", "posix.fdatasync")),
    ("record files (encode + os.write)", ("posix.write", "paxlab/storage/")),
    ("socket send (incl. waking the loop)", ("'send' of '_socket.socket'", "_write_to_self")),
    ("socket recv", ("'recv' of '_socket.socket'",)),
    ("HMAC + frames", ("hmac", "wire.py")),
    ("mining + block hashes", ("seal_block", "block_hash", "_recipe_text", "_hashlib.HASH",
                               "openssl_sha256", "verify")),
    ("JSON + codec", ("json", "encoder.py", "decoder.py", "codec.py", "_codec_fast.py", "to_dict",
                      "from_dict")),
    ("logging (server.log)", ("'write' of '_io.TextIOWrapper'", "strftime", "server_loop.py:4",
                              "server_loop.py:5", "server_loop.py:6", "_clock_time", "isoformat",
                              "datetime")),
    ("core step", ("paxlab/core/",)),
    ("host, server loop, transport, asyncio", ("paxlab/host.py", "paxlab/cluster/", "asyncio",
                                                "paxlab/network/", "_contextvars",
                                                "'put' of '_queue.SimpleQueue'", "queue.py",
                                                "threading.py", "selectors.py")),
)


def _profile_category(file: str, line: int, func: str) -> str:
    text = f"{file}:{line}:{func}"
    for name, words in _PROFILE_CATEGORIES:
        if any(word in text for word in words):
            return name
    return "other"


def _summarize_cprofile(out_dir: Path, ops: int, top: int) -> list[str]:
    """Own time by category for each server and thread, then over all servers."""
    lines: list[str] = []
    overall: collections.Counter[str] = collections.Counter()
    for path in sorted(out_dir.glob("s*.prof")):
        if path.stat().st_size == 0:
            continue
        stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        shares: collections.Counter[str] = collections.Counter()
        for (file, line, func), (_cc, _calls, tottime, _cum, callers) in stats.items():
            category = _profile_category(file, line, func)
            if category == "other" and file == "~" and callers:
                # a builtin (len, isinstance, dict.get): its time goes to its callers
                for caller, (_c, _n, caller_tt, _ct) in callers.items():
                    shares[_profile_category(*caller)] += caller_tt
                continue
            shares[category] += tottime
        overall.update(shares)
        busy = sum(t for k, t in shares.items() if not k.startswith(("idle", "startup")))
        lines.append(f"== {path.name}: busy {busy:.2f} s (idle and startup left out)")
        for name, seconds in shares.most_common():
            if name.startswith(("idle", "startup")) or seconds < 0.005:
                continue
            lines.append(f"    {name:<40} {seconds:7.3f} s  {100 * seconds / busy:5.1f}%")
        rows = sorted(stats.items(), key=lambda kv: -kv[1][2])
        shown = 0
        for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in rows:
            if _profile_category(file, line, func).startswith(("idle", "startup")):
                continue
            lines.append(f"      {tottime:7.3f} s own {cumtime:7.3f} s cum {calls:8d} calls  "
                         f"{os.path.basename(file)}:{line}:{func}")
            shown += 1
            if shown >= top:
                break
    busy = sum(t for k, t in overall.items() if not k.startswith(("idle", "startup")))
    if busy:
        per = f", {1e6 * busy / ops:.0f} µs per op" if ops else ""
        lines.append(f"== all servers, all threads: busy {busy:.2f} s{per}")
        for name, seconds in overall.most_common():
            if name.startswith(("idle", "startup")) or seconds < 0.005:
                continue
            each = f"  {1e6 * seconds / ops:6.1f} µs/op" if ops else ""
            lines.append(f"    {name:<40} {seconds:7.3f} s  {100 * seconds / busy:5.1f}%{each}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
