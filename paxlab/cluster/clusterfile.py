"""The cluster file: who the servers are, where they listen, the protocol settings, the secret.

These frozen dataclasses are the one description of a cluster every part reads: the
server process, the client, `paxlab cluster ...` and the benchmark. Only
`load_cluster_file` builds them from user input, after checking everything, so a
half-valid cluster file never starts a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paxlab.config import ClientsConfig, ClusterConfig, ConfigError
from paxlab.core import ClientParams, ReplicaParams

__all__ = ["ClusterFile", "ClusterFileError", "Endpoint", "ServerEntry"]


class ClusterFileError(ConfigError):
    """The cluster file is missing or invalid: bad input, exit code 2. Each line names the
    file, the key and what is allowed."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A TCP address: `host:port`."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ServerEntry:
    """One server: the address others dial (advertised) and the one it binds (listen)."""

    id: int
    address: Endpoint
    listen: Endpoint  # defaults to `address` when the file gives none


@dataclass(frozen=True, slots=True)
class ClusterFile:
    """A loaded, validated cluster file. Paths are absolute (relative ones in the file are
    read relative to the file's folder)."""

    path: Path
    name: str
    servers: dict[int, ServerEntry]  # ids 0..n-1, every one present
    cluster: ClusterConfig  # the lab's `cluster:` section; `servers` == len(self.servers)
    clients: ClientsConfig  # the lab's `clients:` section (its `count` is unused here)
    data_dir: Path
    secret_path: Path | None
    secret: bytes | None  # None: no secret file, servers listen on loopback only

    def replica_params(self) -> ReplicaParams:
        c = self.cluster
        return ReplicaParams(
            replica_count=c.servers,
            heartbeat_interval_ms=c.heartbeat_interval_ms,
            election_timeout_ms_min=c.election_timeout_ms_min,
            election_timeout_ms_max=c.election_timeout_ms_max,
            batch_size_max=c.batch_size_max,
            pipeline_window=c.pipeline_window,
            difficulty=c.difficulty,
            accept_retry_ms=c.accept_retry_ms,
        )

    def client_params(self) -> ClientParams:
        return ClientParams(
            server_count=self.cluster.servers,
            request_timeout_ms=self.clients.request_timeout_ms,
            op_timeout_ms=self.clients.op_timeout_ms,
        )

    def server_dir(self, server_id: int) -> Path:
        """A server's own folder: its record file, log and pid file."""
        return self.data_dir / "servers" / f"s{server_id}"

    def client_dir(self, client_id: int) -> Path:
        """A client's own folder: its history, last seq, lock and log."""
        return self.data_dir / "clients" / f"c{client_id}"
