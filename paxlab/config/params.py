"""From a config to the core's parameters: the one place that maps YAML keys to the
protocol knobs, so every driver builds replicas and clients the same way."""

from __future__ import annotations

from paxlab.config import ClientsConfig, ClusterConfig, Config
from paxlab.core import ClientParams, ReplicaParams

__all__ = ["client_params", "client_params_of", "replica_params", "replica_params_of"]


def replica_params(config: Config) -> ReplicaParams:
    return replica_params_of(config.cluster)


def client_params(config: Config) -> ClientParams:
    return client_params_of(config.cluster, config.clients)


def replica_params_of(cluster: ClusterConfig) -> ReplicaParams:
    """The replica's knobs from a `cluster:` section (a lab config's or a cluster file's)."""
    return ReplicaParams(
        replica_count=cluster.servers,
        heartbeat_interval_ms=cluster.heartbeat_interval_ms,
        election_timeout_ms_min=cluster.election_timeout_ms_min,
        election_timeout_ms_max=cluster.election_timeout_ms_max,
        batch_size_max=cluster.batch_size_max,
        pipeline_window=cluster.pipeline_window,
        difficulty=cluster.difficulty,
        accept_retry_ms=cluster.accept_retry_ms,
        prevote=cluster.prevote,
        snapshot_every=cluster.snapshot_every,
        retain_blocks=cluster.retain_blocks,
    )


def client_params_of(cluster: ClusterConfig, clients: ClientsConfig) -> ClientParams:
    """A client session's knobs from the `cluster:` and `clients:` sections."""
    return ClientParams(
        server_count=cluster.servers,
        request_timeout_ms=clients.request_timeout_ms,
        op_timeout_ms=clients.op_timeout_ms,
    )
