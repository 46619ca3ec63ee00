"""From a config to the core's parameters: the one place that maps YAML keys to the
protocol knobs, so every driver builds replicas and clients the same way."""

from __future__ import annotations

from paxlab.config import Config
from paxlab.core import ClientParams, ReplicaParams

__all__ = ["client_params", "replica_params"]


def replica_params(config: Config) -> ReplicaParams:
    cluster = config.cluster
    return ReplicaParams(
        replica_count=cluster.servers,
        heartbeat_interval_ms=cluster.heartbeat_interval_ms,
        election_timeout_ms_min=cluster.election_timeout_ms_min,
        election_timeout_ms_max=cluster.election_timeout_ms_max,
        batch_size_max=cluster.batch_size_max,
        pipeline_window=cluster.pipeline_window,
        difficulty=cluster.difficulty,
        accept_retry_ms=cluster.accept_retry_ms,
    )


def client_params(config: Config) -> ClientParams:
    return ClientParams(
        server_count=config.cluster.servers,
        request_timeout_ms=config.clients.request_timeout_ms,
        op_timeout_ms=config.clients.op_timeout_ms,
    )
