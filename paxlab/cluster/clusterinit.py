"""`paxlab cluster init DIR`: a new cluster file and its secret, ready for `cluster up`.

The secret is written first, owner-only from the first byte (os.open with mode 0600,
never chmod after), and neither file is ever overwritten: a second `init` on the same
folder must not strand servers that already run with the old secret and ports.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from paxlab.cluster.address import Endpoint, is_wildcard_host, parse_endpoint
from paxlab.cluster.clusterfile import (
    CLIENT_ID_LIMIT,
    ClusterFile,
    ClusterFileError,
    ServerEntry,
    default_name,
    load_cluster_file,
    write_cluster_file,
)
from paxlab.config.problems import Problems
from paxlab.config.schema import CLUSTER_KEYS
from paxlab.config.validate import read_clients_section, read_cluster_section

__all__ = ["CLUSTER_FILE", "SECRET_FILE", "InitError", "free_ports", "init_cluster"]

CLUSTER_FILE = "cluster.yaml"
SECRET_FILE = "secret"
SECRET_RANDOM_BYTES = 32


class InitError(ClusterFileError):
    """`cluster init` cannot write the folder (files exist, bad arguments): exit 2."""


def free_ports(host: str, count: int) -> list[int]:
    """`count` distinct ports free on `host` right now, asked of the kernel (port 0), all
    held open together so none is handed out twice."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(family, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _ports(host: str, count: int, base_port: int | None) -> list[int]:
    if base_port is not None:
        if not 1 <= base_port <= 65536 - count:
            raise InitError(f"--base-port {base_port}: expected a port from 1 to "
                            f"{65536 - count}, so {count} ports fit below 65536")
        return list(range(base_port, base_port + count))
    try:
        return free_ports(host, count)
    except OSError as exc:
        raise InitError(f"--host {host}: cannot find free ports there ({exc.strerror}); "
                        "for a host other than this one give --base-port") from None


def init_cluster(folder: Path, servers: int, host: str = "127.0.0.1",
                 base_port: int | None = None) -> ClusterFile:
    """Write folder/cluster.yaml (servers on `host`, free ports or base_port, base_port+1,
    ...) and folder/secret (32 random bytes as hex, mode 0600); return the loaded file."""
    high = int(CLUSTER_KEYS["servers"].high or 15)
    if not 1 <= servers <= high:
        raise InitError(f"--servers {servers}: expected an integer from 1 to {high}")
    try:
        probe = parse_endpoint(f"[{host}]:1" if ":" in host else f"{host}:1")
    except ValueError as exc:
        raise InitError(f"--host {host!r}: {exc}".replace("before ':'", "")) from None
    if is_wildcard_host(probe.host):
        raise InitError(f"--host {host}: others cannot dial {host}; give this host's own "
                        "address (edit the file to add listen: 0.0.0.0:PORT if you want it)")
    folder = Path(folder)
    path, secret_path = folder / CLUSTER_FILE, folder / SECRET_FILE
    existing = [str(p) for p in (path, secret_path) if p.exists()]
    if existing:
        raise InitError(f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}"
                        "; not overwriting (servers may be using them): pick another folder "
                        "or remove them first")
    ports = _ports(probe.host, servers, base_port)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(os.urandom(SECRET_RANDOM_BYTES).hex() + "\n")
    problems = Problems(str(path))
    cluster = read_cluster_section({}, problems, fixed={"servers": servers})
    clients = read_clients_section({}, problems, fixed={"count": CLIENT_ID_LIMIT})
    assert cluster is not None and clients is not None, problems.lines
    entries = {sid: ServerEntry(sid, Endpoint(probe.host, port), Endpoint(probe.host, port))
               for sid, port in enumerate(ports)}
    draft = ClusterFile(path=path.resolve(), name=default_name(folder.resolve()), servers=entries,
                        cluster=cluster, clients=clients, data_dir=(folder / "data").resolve(),
                        secret_path=secret_path.resolve(), secret=None)
    write_cluster_file(draft)
    return load_cluster_file(path)
