"""One PySyncObj node for the benchmark: a replicated dict plus closed-loop writers.

`python -m paxlab.bench.pso_node PORT PEER_PORT... [--timeouts MIN,MAX,PERIOD]` runs a
SyncObj with a `ReplDict` on 127.0.0.1:PORT and answers JSON-line commands on stdin:

- {"cmd": "status"} -> {"leader": "127.0.0.1:P" | null, "is_leader": bool}
- {"cmd": "load", "writers": N, "name": "n0"} -> {"ok": true}: N writers, each with one
  `set` outstanding; each issues its next one from the commit callback (closed loop).
- {"cmd": "stop"} -> the report of `cluster_stats.encode_report` once the writers'
  last operations are answered (or 2 s passed).

PySyncObj has no client protocol: its writers live inside the node, and a `set` called on
a follower is forwarded to the leader, which is how its users write. The benchmark puts
its writers on the leader (its best case) except when it kills the leader. The node
exits when stdin closes. Nothing syncs to disk: PySyncObj keeps its journal in memory
unless given a journal file, and even then never fsyncs.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf
from pysyncobj.batteries import ReplDict

from paxlab.bench.cluster_stats import encode_report

__all__ = ["main"]

_HOST = "127.0.0.1"


class _Writers:
    """Closed-loop writers: each has one `set` in flight and issues the next from the
    callback, which runs in SyncObj's tick thread."""

    def __init__(self, kv: ReplDict, count: int, name: str) -> None:
        self.kv = kv
        self.count = count
        self.name = name
        self.running = False
        self.outstanding = 0
        self.pairs: list[tuple[int, int]] = []
        self.errors = 0
        self.lock = threading.Lock()
        self._sequence = [0] * count

    def start(self) -> None:
        self.running = True
        for writer in range(self.count):
            self._issue(writer)

    def _issue(self, writer: int) -> None:
        with self.lock:
            if not self.running:
                return
            self.outstanding += 1
            self._sequence[writer] += 1
            seq = self._sequence[writer]
        key = f"{self.name}-w{writer}-{seq % 16}"
        invoked = time.monotonic_ns()

        def done(result: object, failure: int) -> None:
            finished = time.monotonic_ns()
            with self.lock:
                self.outstanding -= 1
                if failure == FAIL_REASON.SUCCESS:
                    self.pairs.append((invoked, finished))
                else:
                    self.errors += 1
            self._issue(writer)

        self.kv.set(key, f"v{seq:012d}", callback=done)

    def stop(self, timeout_s: float = 2.0) -> dict:
        with self.lock:
            self.running = False
        deadline = time.monotonic() + timeout_s
        while self.outstanding > 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        with self.lock:
            pairs = list(self.pairs)
            errors = self.errors + self.outstanding
        base = min((p[0] for p in pairs), default=time.monotonic_ns())
        return encode_report(base, pairs, errors)


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paxlab.bench.pso_node")
    parser.add_argument("port", type=int)
    parser.add_argument("peers", type=int, nargs="+")
    parser.add_argument("--timeouts", default="",
                        help="raftMinTimeout,raftMaxTimeout,appendEntriesPeriod in seconds")
    parser.add_argument("--no-batch", action="store_true",
                        help="appendEntriesUseBatch=False: send each command at once")
    args = parser.parse_args(argv)
    settings: dict[str, float | bool] = {"appendEntriesUseBatch": not args.no_batch}
    if args.timeouts:
        low, high, period = (float(x) for x in args.timeouts.split(","))
        settings |= {"raftMinTimeout": low, "raftMaxTimeout": high,
                    "appendEntriesPeriod": period, "connectionTimeout": max(high, 3.5),
                    "connectionRetryTime": min(period, 5.0)}
    kv = ReplDict()
    node = SyncObj(f"{_HOST}:{args.port}", [f"{_HOST}:{p}" for p in args.peers],
                   conf=SyncObjConf(**settings), consumers=[kv])
    writers: _Writers | None = None
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        name = command.get("cmd")
        if name == "status":
            leader = node._getLeader()
            _reply({"leader": None if leader is None else str(leader),
                    "is_leader": bool(node._isLeader())})
        elif name == "load":
            writers = _Writers(kv, int(command["writers"]), str(command["name"]))
            writers.start()
            _reply({"ok": True})
        elif name == "stop":
            _reply(writers.stop() if writers is not None else encode_report(0, [], 0))
            writers = None
        else:
            _reply({"error": f"unknown command {name!r}"})
    node.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
