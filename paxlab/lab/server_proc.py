"""A server process: one Replica behind a NodeHost, run by `run_node` over its pipes.

It blocks on its link and control pipe until the next timer is due (lab/transport.py):
no polling, no sleeping. On "stop" it writes its chain and KV store into the results
folder.
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO

from paxlab import results
from paxlab.core import Replica, ReplicaParams
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Boot
from paxlab.core.output import Output
from paxlab.host import NodeHost, run_node
from paxlab.lab.control import await_start, send_control
from paxlab.lab.transport import PipeTransport
from paxlab.scenario.phases import server_status
from paxlab.storage import DurableStorage, StorageCorruption

__all__ = ["server_main"]

class _Outbox:
    """Frames to the router, written by a thread of their own.

    The router is one process writing to every server. If a server blocked on a full
    pipe to the router while the router blocked on a full pipe to that server (a resumed
    server gets every message held during its pause at once), both would wait forever.
    With the writes in a thread, the main loop keeps reading, so the router's write
    always completes. Frames leave in order, and only after NodeHost persisted what they
    vouch for, as before.
    """

    def __init__(self, link: Connection) -> None:
        self._frames: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._link = link
        threading.Thread(target=self._write, name="outbox", daemon=True).start()

    def put(self, frame: bytes) -> None:
        self._frames.put(frame)

    def _write(self) -> None:
        with contextlib.suppress(OSError, EOFError):  # the router went away: nothing to do
            while True:
                self._link.send_bytes(self._frames.get())


def _status(replica: Replica) -> dict[str, Any]:
    """The answer to a quiesce poll (paxlab.scenario.phases), plus role and leader."""
    status = server_status(replica)
    return {"event": "status", "commit": status.commit, "tip": status.tip,
            "role": replica.role.value, "leader": replica.leader_id, "busy": status.busy}


def _dump(replica: Replica, storage: DurableStorage, run_dir: Path) -> str | None:
    """The chain file (from genesis when the archive holds the compacted blocks) and the
    KV store, for the checks. A server that installed a peer's snapshot at its tip holds
    no block yet: an empty chain file would read as a chain from 0 that learned nothing
    (the results contract has no form for "no block, at height b"), so it writes
    neither and returns a note saying why."""
    learner = replica.learner
    chain = storage.full_chain(learner.chain, learner.base)
    if not chain and learner.base > 0:
        return (f"left out of chains/ and kv/: it installed a snapshot at height "
                f"{learner.base} and holds no block above it")
    results.write_chain(run_dir, replica.id, [b.to_dict() for b in chain])
    results.write_kv(run_dir, replica.id, dict(sorted(learner.kv.data.items())))
    return None


def server_main(
    replica_id: int,
    params: ReplicaParams,
    seed: int,
    link: Connection,
    control: Connection,
    run_dir: str,
    fsync: bool,
    incarnation: int,
    buffered: bool = True,
    keep_archive: bool = True,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(results.log_path(Path(run_dir), f"server-{replica_id}"), "a", buffering=1) as log:
        try:
            _serve(replica_id, params, seed, link, control, Path(run_dir), log,
                   (fsync, buffered, keep_archive), incarnation)
        except (EOFError, BrokenPipeError):
            log.write("launcher or router went away; exiting\n")
        except (StorageCorruption, RemoteError) as error:
            # Never repaired silently: the server stops and the run reports where.
            log.write(f"cannot recover: {error}\n")
            with contextlib.suppress(OSError):
                send_control(control, {"event": "error", "message": f"cannot recover: {error}"})
            sys.exit(3)


def _serve(
    replica_id: int,
    params: ReplicaParams,
    seed: int,
    link: Connection,
    control: Connection,
    run_dir: Path,
    log: TextIO,
    disk: tuple[bool, bool, bool],
    incarnation: int,
) -> None:
    # cluster.fsync == always, cluster.storage == process_buffer, cluster.chain_archive
    fsync, buffered, keep_archive = disk
    storage = DurableStorage(results.server_data_dir(run_dir, replica_id), fsync=fsync,
                             buffered=buffered, keep_archive=keep_archive)
    recovered, notes = storage.recover(params.difficulty)
    for note in notes:
        log.write(f"recovery: {note}\n")
    if recovered is not None:
        snapshot = (f", snapshot at height {recovered.snapshot.height}"
                    if recovered.snapshot is not None else "")
        log.write(f"recovered {len(recovered.chain)} blocks{snapshot}, "
                  f"{len(recovered.accepted)} accepted entries, promised {recovered.promised}\n")
    # Each incarnation draws its own timeouts: a restart must not replay the same ones.
    rng = random.Random(f"{seed}:server:{replica_id}:{incarnation}")
    replica = Replica(replica_id, params, rng, recovered=recovered)
    send_control(control, {"event": "ready"})
    clock = await_start(control)
    if clock is None:
        return  # stopped before the run began

    def write_log(line: str) -> None:
        log.write(f"{clock.now_ms():>7} ms  {line}\n")

    def on_command(command: dict[str, Any]) -> bool:
        if command["cmd"] == "status":
            send_control(control, _status(replica))
        elif command["cmd"] == "stop":
            # Sync first: with process_buffer the last decided records are still in this
            # process, and a clean stop must leave the file holding the chain it dumps.
            storage.close()
            note = _dump(replica, storage, run_dir)
            if note is not None:
                write_log(note)
            write_log(f"stopped: {replica.commit_index} blocks, role {replica.role.value}")
            send_control(control, {"event": "stopped"})
            return False
        return True

    def log_commits(output: Output) -> None:
        for block in output.committed:
            write_log(f"commit {block.describe()}")

    transport = PipeTransport(link, control, clock, _Outbox(link).put, on_command, write_log)
    host = NodeHost(replica, transport.send, storage=storage, log=write_log,
                    on_output=log_commits)
    with storage:  # a clean exit of any kind writes what is still buffered
        host.local(clock.now_ms(), Boot())
        run_node(host, transport, clock)
