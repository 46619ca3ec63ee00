"""A server process: one Replica behind a NodeHost, fed by its link to the router.

It blocks on its link and control pipe until the next timer is due: no polling, no
sleeping. On "stop" it writes its chain and KV store into the results folder.
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import sys
import threading
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TextIO

from paxlab import results
from paxlab.core import Replica, ReplicaParams, Role
from paxlab.core.codec import decode_envelope, encode_envelope
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Boot, Envelope
from paxlab.host import NodeHost
from paxlab.lab.control import await_start, recv_control, send_control
from paxlab.storage import DurableStorage, StorageCorruption

__all__ = ["server_main"]

DRAIN_MAX = 64  # messages handled per wake-up before timers get their turn


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
    leader = replica.leader
    return {
        "event": "status",
        "commit": replica.commit_index,
        "tip": replica.learner.tip_hash,
        "role": replica.role.value,
        "leader": replica.leader_id,
        "busy": bool(leader is not None and (leader.proposals or replica.queue)),
    }


def _dump(replica: Replica, run_dir: Path) -> None:
    results.write_chain(run_dir, replica.id, [b.to_dict() for b in replica.learner.chain])
    results.write_kv(run_dir, replica.id, dict(sorted(replica.learner.kv.data.items())))


def server_main(
    replica_id: int,
    params: ReplicaParams,
    seed: int,
    link: Connection,
    control: Connection,
    run_dir: str,
    fsync: bool,
    incarnation: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(results.log_path(Path(run_dir), f"server-{replica_id}"), "a", buffering=1) as log:
        try:
            _serve(replica_id, params, seed, link, control, Path(run_dir), log, fsync,
                   incarnation)
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
    fsync: bool,
    incarnation: int,
) -> None:
    storage = DurableStorage(results.server_data_dir(run_dir, replica_id), fsync=fsync)
    recovered, notes = storage.recover(params.difficulty)
    for note in notes:
        log.write(f"recovery: {note}\n")
    if recovered is not None:
        log.write(f"recovered {len(recovered.chain)} blocks, {len(recovered.accepted)} accepted "
                  f"entries, promised {recovered.promised}\n")
    # Each incarnation draws its own timeouts: a restart must not replay the same ones.
    rng = random.Random(f"{seed}:server:{replica_id}:{incarnation}")
    replica = Replica(replica_id, params, rng, recovered=recovered)
    send_control(control, {"event": "ready"})
    clock = await_start(control)
    if clock is None:
        return  # stopped before the run began

    def write_log(line: str) -> None:
        log.write(f"{clock.now_ms():>7} ms  {line}\n")

    outbox = _Outbox(link)

    def send(envelope: Envelope) -> None:
        outbox.put(encode_envelope(envelope))

    host = NodeHost(replica, send, storage=storage, log=write_log)
    host.local(clock.now_ms(), Boot())
    while True:
        timeout = clock.seconds_until(host.timers.next_deadline_ms())
        for conn in wait([link, control], timeout):
            if conn is control:
                command = recv_control(control)["cmd"]
                if command == "status":
                    send_control(control, _status(replica))
                elif command == "stop":
                    _dump(replica, run_dir)
                    write_log(f"stopped: {replica.commit_index} blocks, role {replica.role.value}")
                    send_control(control, {"event": "stopped"})
                    return
                continue
            for _ in range(DRAIN_MAX):
                try:
                    envelope = decode_envelope(link.recv_bytes())
                except RemoteError as error:
                    write_log(f"dropped invalid frame: {error}")
                else:
                    output = host.deliver(clock.now_ms(), envelope)
                    for block in output.committed:
                        write_log(f"commit {block.describe()}")
                if not link.poll():
                    break
        host.fire_due_timers(clock.now_ms())
        if replica.role is Role.LEADER and replica.leader is None:  # pragma: no cover
            raise AssertionError("leader without leader state")
