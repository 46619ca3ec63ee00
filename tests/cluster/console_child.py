"""A server console without a server, for tests/cluster/test_console_pty.py: run_console
for s0 of 3 with a fake submit, and a log thread that prints above the prompt on cue.

SIGUSR1: the log thread prints one line `log: tick N`. SIGUSR2: it prints a burst of 200
lines as fast as it can (typing during the burst must come through intact). The fake
`elect` waits until SIGUSR1 or Ctrl-C, so a test can press Ctrl-C while a command runs.
When the console returns (quit, Ctrl-D) the child prints `console ended` and exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from paxlab.cluster.console import console_terminal, run_console
from paxlab.cluster.terminal import foreground_tty

CHAIN = [{"height": 0, "prev": "0" * 64, "nonce": "17", "hash": "ab12cd34" + "0" * 56,
          "txns": [{"client": 7, "seq": 1, "op": "put", "key": "'alice'", "value": "1"}]}]
STATUS = {"ok": True, "id": 0, "role": "follower", "leader": 1, "ballot": "3.1", "commit": 1,
          "head": CHAIN[0]["hash"], "pid": 1, "links": {"s1": "up", "s2": "cut"},
          "reconnects": 0, "auth_failures": 0, "paused": False, "trace": False,
          "slow": False, "queue": 0}


def main() -> int:
    term = console_terminal(0)
    released = threading.Event()
    cue_r, cue_w = os.pipe()  # signal handlers only write a byte: nothing to deadlock on

    def log_lines() -> None:
        ticks = 0
        while True:
            cue = os.read(cue_r, 1)
            if cue == b"2":
                for i in range(200):
                    term.print_above(f"log: burst {i}")
                term.print_above("log: burst done")
            else:
                ticks += 1
                term.print_above(f"log: tick {ticks}")
                released.set()

    def submit(request: dict[str, Any]) -> dict[str, Any]:
        if request["cmd"] == "status":
            return STATUS
        if request["cmd"] == "dump":
            return {"ok": True, "chain": CHAIN, "kv": {"'alice'": "1"}, "difficulty": 0}
        if request["cmd"] == "elect":
            released.clear()
            term.print_above("elect: waiting")
            if not released.wait(timeout=60):
                return {"ok": False, "error": "never released"}
        return {"ok": True}

    signal.signal(signal.SIGUSR1, lambda signum, frame: os.write(cue_w, b"1"))
    signal.signal(signal.SIGUSR2, lambda signum, frame: os.write(cue_w, b"2"))
    threading.Thread(target=log_lines, daemon=True).start()
    where = "foreground" if foreground_tty() else "background"
    term.print_above(f"console ready ({where})")
    run_console(0, 3, submit, terminal=term)
    print("console ended", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
