"""A cluster server process: one Replica behind a NodeHost, run by `run_node` over TCP.

`paxlab server ID --cluster FILE` (or `python -m paxlab.cluster.server FILE ID`) is
the lab's server process (lab/server_proc.py) with the router replaced by the TCP
transport: the same record file and recovery, the same host loop, the same Output
discipline. What a person needs around it sits in ServerLoop (pause, trace, slow mode,
commands) and here: the pid file, the log (server.log and the terminal), signals, and
the console when stdin is a terminal. Without one, stdin is never read, so a closed
stdin cannot stop a server; SIGTERM, the `stop` command or the console's quit stops
it cleanly.

Exit codes: 0 stopped, 2 bad input (cluster file, server id, a busy port: named with
its holder), 3 the record file cannot be recovered (path and offset in the message),
130 interrupted (SIGINT without a console).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from paxlab.cluster.clock import ScaledClock
from paxlab.cluster.clusterfile import ClusterFile, ClusterFileError, load_cluster_file
from paxlab.cluster.commands import ServerState
from paxlab.cluster.console import console_terminal, run_console
from paxlab.cluster.links import LinkFilter
from paxlab.cluster.msgrecord import MessageRecorder
from paxlab.cluster.server_loop import ServerLog, ServerLoop
from paxlab.cluster.terminal import Terminal
from paxlab.core import Replica
from paxlab.core.errors import RemoteError
from paxlab.core.ids import server_node
from paxlab.core.messages import Boot, Envelope
from paxlab.host import NodeHost, run_node
from paxlab.storage import DurableStorage, StorageCorruption

__all__ = ["CRASH_GRACE_S", "LOG_FILE", "PID_FILE", "main", "serve", "server_main"]

PID_FILE = "server.pid"
LOG_FILE = "server.log"
CRASH_GRACE_S = 0.1  # a crash or stop reply's time to reach the transport before we go

EXIT_OK, EXIT_BAD_INPUT, EXIT_CORRUPT, EXIT_INTERRUPTED = 0, 2, 3, 130


def main(argv: list[str] | None = None) -> int:
    """`python -m paxlab.cluster.server FILE ID`."""
    parser = argparse.ArgumentParser(prog="python -m paxlab.cluster.server",
                                     description="Run one server of a paxlab cluster.")
    parser.add_argument("cluster", type=Path, help="the cluster file (cluster.yaml)")
    parser.add_argument("id", type=int, help="this server's id (0, 1, ...)")
    args = parser.parse_args(argv)
    return server_main(args.cluster, args.id)


def server_main(cluster_path: Path, server_id: int, *, console: bool | None = None) -> int:
    """Load the cluster file and serve as server `server_id` until stopped; the exit code."""
    try:
        cluster = load_cluster_file(cluster_path)
    except ClusterFileError as error:
        print(f"paxlab server: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if server_id not in cluster.servers:
        print(f"paxlab server: {cluster.path}: no server {server_id}; its servers are "
              f"0..{len(cluster.servers) - 1}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if console is None:
        console = sys.stdin.isatty()
    return serve(cluster, server_id, console=console)


def serve(cluster: ClusterFile, server_id: int, *, console: bool = False) -> int:
    """Run server `server_id` of `cluster` in this thread until it stops; the exit code.
    With `console`, commands are read from the terminal and log lines print above its
    prompt; without, log lines go to stderr and stdin is never read."""
    folder = cluster.server_dir(server_id)
    folder.mkdir(parents=True, exist_ok=True)
    term = console_terminal(server_id) if console else None
    with open(folder / LOG_FILE, "a", encoding="utf-8", buffering=1) as log_file:
        printer = term.print_above if term is not None else _stderr_printer(sys.stderr)
        log = ServerLog(log_file, printer)
        try:
            return _serve(cluster, server_id, folder, log, term)
        except Exception:
            for line in traceback.format_exc().rstrip().splitlines():
                log(line)
            return 1
        finally:
            if term is not None:
                term.close()  # a console still reading gives the tty its mode back


def _stderr_printer(stream: TextIO) -> Callable[[str], None]:
    def write(line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed terminal stops nothing
            stream.write(line + "\n")
            stream.flush()
    return write


def _serve(cluster: ClusterFile, server_id: int, folder: Path, log: ServerLog,
           term: Terminal | None) -> int:
    # Imported here: the transport is the only part that needs the wire's crypto.
    from paxlab.cluster.transport import TcpTransport, TransportError
    from paxlab.cluster.wire import derive_keys

    me = server_node(server_id)
    params = cluster.replica_params()
    log(f"{me} starting: pid {os.getpid()}, cluster {cluster.path}, data {folder}")
    storage = DurableStorage(folder, fsync=cluster.cluster.fsync == "always",
                             buffered=cluster.cluster.storage == "process_buffer",
                             keep_archive=cluster.cluster.chain_archive)
    try:
        recovered, notes = storage.recover(params.difficulty)
    except (StorageCorruption, RemoteError) as error:
        # Never repaired silently: the message names the file and the byte offset.
        log(f"cannot recover: {error}")
        return EXIT_CORRUPT
    for note in notes:
        log(f"recovery: {note}")
    if recovered is not None:
        snapshot = (f", snapshot at height {recovered.snapshot.height}"
                    if recovered.snapshot is not None else "")
        log(f"recovered {len(recovered.chain)} blocks{snapshot}, {len(recovered.accepted)} "
            f"accepted entries, promised {recovered.promised}")
    # Each start draws its own timeouts: a restart must not replay the same ones.
    seed = int.from_bytes(os.urandom(8), "big")
    replica = Replica(server_id, params, random.Random(seed), recovered=recovered)
    links = LinkFilter(me, len(cluster.servers))
    clock = ScaledClock()
    messages = (MessageRecorder.open(folder, me, deferred=True)
                if cluster.record_messages else None)
    loop: ServerLoop | None = None

    def on_admin(request: dict[str, Any]) -> dict[str, Any]:
        assert loop is not None  # admin requests are run by receive, inside run_node
        return loop.run_command(request, from_console=False)

    try:
        transport = TcpTransport(me, cluster, derive_keys(cluster.secret), log,
                                 on_admin=on_admin, links=links, recorder=messages)
    except TransportError as error:
        log(f"cannot start: {error}")
        storage.close()
        if messages is not None:
            messages.close()
        return EXIT_BAD_INPUT

    def send(envelope: Envelope) -> None:
        assert loop is not None
        loop.send(envelope)

    host = NodeHost(replica, send, storage=storage, log=log, on_output=log.commits)
    state = ServerState(replica=replica, host=host, links=links, clock=clock,
                        stats=transport.stats, send_now=transport.send, log=log,
                        pid=os.getpid(), messages=messages,
                        full_chain=lambda: storage.full_chain(replica.learner.chain,
                                                              replica.learner.base))

    def crash() -> None:
        def kill() -> None:
            time.sleep(CRASH_GRACE_S)  # the reply is on its way to the transport
            transport.flush(1.0)
            if messages is not None:  # what the kill would lose from the buffer
                messages.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Thread(target=kill, name="crash", daemon=True).start()

    def spread(request: dict[str, Any]) -> None:
        threading.Thread(target=_spread, args=(cluster, server_id, request, log),
                         name="spread", daemon=True).start()

    loop = ServerLoop(state, transport, log, inner_deadline=_monotonic_deadline,
                      crash=crash, spread=spread)
    pid_path = folder / PID_FILE
    _write_pid(pid_path)
    interrupted = _install_signals(loop, console=term is not None)
    console = None if term is None else _start_console(loop, term, server_id,
                                                       len(cluster.servers))
    log(f"{me} listening on {cluster.servers[server_id].listen}, rng seed {seed}")
    try:
        host.local(clock.now_ms(), Boot())
        run_node(host, loop, clock)
    finally:
        if loop.stopped_by_command:
            time.sleep(CRASH_GRACE_S)  # the stop reply reaches the transport first
        transport.flush(1.0)
        transport.close()
        storage.close()
        with contextlib.suppress(OSError):
            if pid_path.read_text().strip() == str(os.getpid()):
                pid_path.unlink()
        log(f"{me} stopped: commit {replica.commit_index}, role {replica.role.value}")
        if console is not None and term is not None:
            term.close()
            console.join(1.0)
    return EXIT_INTERRUPTED if interrupted.is_set() else EXIT_OK


def _monotonic_deadline(wait_s: float | None) -> float | None:
    """The TCP transport's default clock reads CLOCK_MONOTONIC in milliseconds."""
    return None if wait_s is None else time.monotonic_ns() / 1e6 + wait_s * 1000


def _write_pid(path: Path) -> None:
    """Write the pid file whole (rename), so a reader never sees half a number."""
    partial = path.with_suffix(".pid.tmp")
    partial.write_text(f"{os.getpid()}\n")
    os.replace(partial, path)


def _install_signals(loop: ServerLoop, console: bool) -> threading.Event:
    """SIGTERM and SIGHUP stop the server cleanly. SIGINT does too without a console;
    with one, Ctrl-C belongs to the console (it clears the line) and never kills the
    server. The event says whether a SIGINT stopped it (exit 130)."""
    interrupted = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT:
            interrupted.set()
        loop.stop()  # sets a flag and puts a no-op in the transport's SimpleQueue

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN if console else stop)
    return interrupted


def _spread(cluster: ClusterFile, server_id: int, request: dict[str, Any],
            log: Callable[[str], None]) -> None:
    """Send a console's command to every other server, as admin (slow on/off)."""
    from paxlab.cluster.admin import AdminError, admin_request

    for other in sorted(cluster.servers):
        if other == server_id:
            continue
        try:
            reply = admin_request(cluster, other, request)
        except AdminError as error:
            log(f"{request.get('cmd')}: could not tell s{other}: {error}")
            continue
        if not reply.get("ok"):
            log(f"{request.get('cmd')}: s{other} refused: {reply.get('error')}")


def _start_console(loop: ServerLoop, term: Terminal, server_id: int,
                   server_count: int) -> threading.Thread:
    """The server console on the terminal, in its own thread (the node loop keeps the
    main one). quit or Ctrl-D ends it, and then the server stops gracefully."""

    def run() -> None:
        try:
            run_console(server_id, server_count, loop.submit, terminal=term)
        finally:
            loop.stop()

    thread = threading.Thread(target=run, name="console", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    sys.exit(main())
