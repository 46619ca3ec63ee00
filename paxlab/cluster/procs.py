"""Local server processes: start one detached, find it by its pid file, stop it.

`paxlab cluster up` starts servers that outlive it (a new session, stdin from /dev/null,
output to a file), so the command returns and a later `paxlab cluster down`, from any
shell, finds them again by the pid file each server writes itself
(`ClusterFile.server_dir(id)/server.pid`). A pid file can outlive its process and the
pid be reused, so a pid counts as our server only if /proc/PID/cmdline runs this
cluster file's server with this id; nothing else is ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paxlab.cluster.clusterfile import ClusterFile

__all__ = [
    "OUT_FILE",
    "PID_FILE",
    "ServerProc",
    "is_alive",
    "is_our_server",
    "kill_server",
    "read_pid",
    "running_server",
    "server_command",
    "start_server",
    "stop_server",
    "wait_gone",
]

_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding paxlab/
PID_FILE = "server.pid"
OUT_FILE = "server.out"
"""A detached server's stdout and stderr (a traceback that happens before its log is
open lands here); the server's own log lines go to server.log beside it."""


@dataclass(frozen=True, slots=True)
class ServerProc:
    """A running local server: its id and pid."""

    id: int
    pid: int


def server_command(cluster: ClusterFile, server_id: int) -> list[str]:
    """The argv that runs one server without a console, as `cluster up` starts it."""
    return [sys.executable, "-m", "paxlab.cluster.server", str(cluster.path), str(server_id)]


def start_server(cluster: ClusterFile, server_id: int) -> subprocess.Popen[bytes]:
    """Start server `server_id` detached: its own session (a Ctrl-C in this terminal does
    not reach it), stdin /dev/null, stdout and stderr appended to server.out."""
    folder = cluster.server_dir(server_id)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / OUT_FILE, "ab") as out:
        return subprocess.Popen(
            server_command(cluster, server_id), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            cwd=cluster.path.parent)


def read_pid(cluster: ClusterFile, server_id: int) -> int | None:
    """The pid in the server's pid file; None if there is none or it is not a number."""
    try:
        text = (cluster.server_dir(server_id) / PID_FILE).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def is_alive(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie of ours is reaped here)."""
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    if stat.rpartition(")")[2].split()[:1] != ["Z"]:
        return True
    # It exited between the waitpid above and the read: reap it now if it is ours, or
    # `down` would leave a zombie child behind (seen under load).
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    return False


def is_our_server(pid: int, cluster: ClusterFile, server_id: int) -> bool:
    """Does process `pid` run server `server_id` of this cluster file? Its command line
    must be `python -m paxlab.cluster.server FILE ID` or `paxlab server ID [--cluster FILE]`
    with FILE, read from the process's own working folder, being this cluster file."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return _argv_matches(argv, cwd, cluster.path, server_id)


def _argv_matches(argv: list[str], cwd: Path, path: Path, server_id: int) -> bool:
    def same(file: str) -> bool:
        with contextlib.suppress(OSError):
            return (cwd / file).resolve() == path
        return False

    if "paxlab.cluster.server" in argv:
        rest = argv[argv.index("paxlab.cluster.server") + 1:]
        return len(rest) >= 2 and same(rest[0]) and rest[1] == str(server_id)
    for i, word in enumerate(argv[:-1]):
        if word == "server" and any(part.endswith("paxlab") or "paxlab" in part
                                    for part in argv[:i]):
            rest = argv[i + 1:]
            file = "cluster.yaml"
            for j, option in enumerate(rest):
                if option == "--cluster" and j + 1 < len(rest):
                    file = rest[j + 1]
                elif option.startswith("--cluster="):
                    file = option.partition("=")[2]
            ids = [part for part in rest if part.isdigit()]
            return bool(ids) and ids[0] == str(server_id) and same(file)
    return False


def running_server(cluster: ClusterFile, server_id: int) -> ServerProc | None:
    """The live local process of server `server_id`, from its pid file; a stale pid file
    (its process gone, or the pid reused by another program) is removed."""
    pid = read_pid(cluster, server_id)
    if pid is None:
        return None
    if is_alive(pid) and is_our_server(pid, cluster, server_id):
        return ServerProc(server_id, pid)
    with contextlib.suppress(OSError):
        (cluster.server_dir(server_id) / PID_FILE).unlink()
    return None


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait until `pid` has exited (polling /proc: it is not our child once `up` has
    returned); True if it did within the deadline."""
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def kill_server(proc: ServerProc, sig: int = signal.SIGKILL) -> None:
    """Signal a server found by `running_server`; a process already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def stop_server(proc: ServerProc, ask: Callable[[], bool], timeout_s: float = 3.0) -> str:
    """Stop a server gracefully, then by force: `ask` sends the admin `stop` (False if it
    could not), then SIGTERM, then SIGKILL, each given part of `timeout_s`. Returns how
    it ended: "stopped", "terminated" or "killed"."""
    if ask() and wait_gone(proc.pid, timeout_s / 2):
        return "stopped"
    kill_server(proc, signal.SIGTERM)
    if wait_gone(proc.pid, timeout_s / 2):
        return "terminated"
    kill_server(proc, signal.SIGKILL)
    wait_gone(proc.pid, 2.0)
    return "killed"
