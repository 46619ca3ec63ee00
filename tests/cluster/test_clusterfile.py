"""The cluster file: a valid one loads, every mistake is named with its file, key and what is
allowed, and what `write_cluster_file` writes loads back equal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from paxlab.cluster.address import Endpoint, is_loopback_host, parse_endpoint
from paxlab.cluster.clusterfile import (
    CLIENT_ID_LIMIT,
    ClusterFile,
    ClusterFileError,
    cluster_file_text,
    load_cluster_file,
    write_cluster_file,
)
from paxlab.config import ConfigError

SECRET = b"0123456789abcdef0123456789abcdef"
LOCAL = {0: "127.0.0.1:7000", 1: "127.0.0.1:7001", 2: "127.0.0.1:7002"}


def write(folder: Path, data: Any, *, secret: bytes | None = SECRET, mode: int = 0o600) -> Path:
    """A cluster file (and its secret file, when `secret` is not None) in `folder`."""
    if secret is not None:
        (folder / "secret").write_bytes(secret)
        os.chmod(folder / "secret", mode)
    path = folder / "cluster.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def problems(folder: Path, data: Any, **kwargs: Any) -> tuple[str, ...]:
    path = write(folder, data, **kwargs)
    with pytest.raises(ClusterFileError) as info:
        load_cluster_file(path)
    assert isinstance(info.value, ConfigError)  # the CLI's exit code 2 path
    return tuple(line.removeprefix(f"{path}: ") for line in info.value.problems)


def test_a_minimal_file_loads_with_the_lab_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, {"servers": LOCAL, "secret": "secret"})
    cf = load_cluster_file(path)
    assert cf.path == path.resolve() and cf.name == tmp_path.name
    assert cf.servers[2].address == Endpoint("127.0.0.1", 7002) == cf.servers[2].listen
    assert cf.cluster.servers == 3 and cf.cluster.difficulty == 8
    assert cf.clients.count == CLIENT_ID_LIMIT and cf.clients.request_timeout_ms == 400
    assert cf.data_dir == tmp_path.resolve() / "data"
    assert cf.secret == SECRET and cf.secret_path == (tmp_path / "secret").resolve()
    assert cf.server_dir(1) == cf.data_dir / "servers" / "s1"
    assert cf.replica_params().replica_count == 3


def test_without_a_secret_loopback_servers_load(tmp_path: Path) -> None:
    cf = load_cluster_file(write(tmp_path, {"servers": LOCAL}, secret=None))
    assert cf.secret is None and cf.secret_path is None


def test_a_multi_host_file_with_listen_addresses(tmp_path: Path) -> None:
    data = {"servers": {0: {"address": "10.0.0.1:7000", "listen": "0.0.0.0:7000"},
                        1: "node-b.example:7000", 2: "[fd00::3]:7000"},
            "secret": "secret", "cluster": {"difficulty": 0}, "data_dir": "/var/tmp/px"}
    cf = load_cluster_file(write(tmp_path, data))
    assert cf.servers[0].listen == Endpoint("0.0.0.0", 7000)
    assert str(cf.servers[2].address) == "[fd00::3]:7000"
    assert cf.cluster.difficulty == 0 and cf.data_dir == Path("/var/tmp/px")


def test_written_file_loads_back_equal_and_is_not_overwritten(tmp_path: Path) -> None:
    data = {"name": "demo", "servers": {**LOCAL, 1: {"address": "127.0.0.1:7001",
                                                    "listen": "127.0.0.2:7001"}},
            "secret": "secret", "clients": {"op_timeout_ms": 9000}, "cluster": {"fsync": "never"}}
    cf = load_cluster_file(write(tmp_path, data))
    copy = tmp_path / "copy"
    copy.mkdir()
    moved = ClusterFile(**{**{f: getattr(cf, f) for f in cf.__slots__},  # type: ignore[attr-defined]
                           "path": copy / "cluster.yaml"})
    write_cluster_file(moved)
    assert load_cluster_file(copy / "cluster.yaml") == moved
    assert cluster_file_text(moved).startswith("# paxlab cluster file")
    with pytest.raises(FileExistsError):
        write_cluster_file(moved)
    write_cluster_file(moved, overwrite=True)


def test_unknown_keys_everywhere_list_what_is_allowed(tmp_path: Path) -> None:
    data = {"servers": {0: {"address": "127.0.0.1:7000", "port": 1}}, "secrte": "x",
            "cluster": {"servers": 3, "heartbeat_ms": 5}, "clients": {"count": 4}}
    lines = problems(tmp_path, data, secret=None)
    assert ("secrte: unknown key; allowed: name, servers, cluster, clients, data_dir, secret, "
            "record_messages") \
        in lines
    assert "servers.0.port: unknown key; allowed: address, listen" in lines
    assert any(line.startswith("cluster.servers: unknown key; allowed: heartbeat_interval_ms,")
               for line in lines)
    assert any(line.startswith("cluster.heartbeat_ms: unknown key") for line in lines)
    assert "clients.count: unknown key; allowed: request_timeout_ms, op_timeout_ms" in lines


def test_lab_section_rules_apply(tmp_path: Path) -> None:
    lines = problems(tmp_path, {"servers": LOCAL, "cluster": {"election_timeout_ms_min": 10,
                                                              "heartbeat_interval_ms": 50}},
                     secret=None)
    assert lines == ("cluster.election_timeout_ms_min = 10: expected an integer > "
                     "cluster.heartbeat_interval_ms (50), or followers would time out while "
                     "the leader is alive",)
    lines = problems(tmp_path, {"servers": LOCAL, "clients": {"op_timeout_ms": 1}}, secret=None)
    assert lines == ("clients.op_timeout_ms = 1: expected an integer >= "
                     "clients.request_timeout_ms (400)",)


@pytest.mark.parametrize(("servers", "expected"), [
    (None, "servers = null: expected a mapping of server id to 'host:port'"),
    ([], "servers = []: expected a mapping"),
    ({0: "127.0.0.1:7000", 2: "127.0.0.1:7002"}, "servers.2: bad server id; allowed: the ids "
     "0 to 1, each once"),
    ({"a": "127.0.0.1:7000"}, "servers.a: bad server id"),
    ({0: "127.0.0.1"}, "servers.0 = '127.0.0.1': expected 'host:port' in a string"),
    ({0: 7000}, "servers.0 = 7000: expected 'host:port' in a string"),
    ({0: "127.0.0.1:0"}, "servers.0 = '127.0.0.1:0': expected a port from 1 to 65535"),
    ({0: "127.0.0.1:70000"}, "servers.0 = '127.0.0.1:70000': expected a port from 1 to 65535"),
    ({0: "bad host:7000"}, "servers.0 = 'bad host:7000': expected a host name or IP address"),
    ({0: "::1:7000"}, "servers.0 = '::1:7000': expected 'host:port' in a string, e.g. "
     "'10.0.0.2:7000' (port 1 to 65535); an IPv6 host goes in [...]"),
    ({0: {"listen": "127.0.0.1:7000"}}, "servers.0.address: missing; expected 'host:port'"),
    ({0: "0.0.0.0:7000"}, "servers.0 = '0.0.0.0:7000': an advertised address is what others "
     "dial, and no one can dial 0.0.0.0; allowed: this host's own address (put 0.0.0.0 under "
     "listen: to bind every interface)"),
    ({0: {"address": "[::]:7000"}}, "servers.0.address = '[::]:7000': an advertised address"),
    ({0: "127.0.0.1:7000", 1: "127.0.0.1:7000"}, "servers.1 = '127.0.0.1:7000': also the "
     "address of server 0; allowed: an address no other server has"),
    ({0: "127.0.0.1:7000", 1: {"address": "127.0.0.1:7001", "listen": "127.0.0.1:7000"}},
     "servers.1.listen = '127.0.0.1:7000': server 0 on the same host (127.0.0.1) listens on "
     "port 7000 too"),
    ({0: {"address": "10.0.0.1:7000", "listen": "127.0.0.1:7000"}},
     "servers.0.listen = '127.0.0.1:7000': a loopback address, but others dial 10.0.0.1:7000"),
])
def test_bad_servers(tmp_path: Path, servers: Any, expected: str) -> None:
    lines = problems(tmp_path, {"servers": servers, "secret": "secret"})
    assert any(line.startswith(expected) for line in lines), lines


def test_missing_servers_key(tmp_path: Path) -> None:
    assert problems(tmp_path, {"secret": "secret"}) == (
        "servers: missing; expected a mapping of server id (0, 1, ...) to 'host:port' in a "
        "string, e.g. '10.0.0.2:7000' (port 1 to 65535), or to {address: ..., listen: ...}",)


def test_loopback_mixed_with_other_hosts_names_each_loopback_server(tmp_path: Path) -> None:
    data = {"servers": {0: "127.0.0.1:7000", 1: "10.0.0.2:7000", 2: "localhost:7002"},
            "secret": "secret"}
    assert problems(tmp_path, data) == tuple(
        f"servers.{sid} = '{addr}': a loopback address in a multi-host file (other servers "
        "are on 10.0.0.2): they would dial themselves; allowed: this server's host name or "
        "network address" for sid, addr in [(0, "127.0.0.1:7000"), (2, "localhost:7002")])


def test_secret_problems(tmp_path: Path) -> None:
    secret = (tmp_path / "secret").resolve()
    data = {"servers": LOCAL, "secret": "secret"}
    assert problems(tmp_path, data, mode=0o644) == (
        f"secret = 'secret': {secret} has mode 0644, so others can read it; allowed: mode "
        f"0600, owner only (chmod 600 {secret})",)
    assert problems(tmp_path, data, mode=0o640)[0].startswith("secret = 'secret': ")
    assert "holds 3 bytes; allowed: at least 16" in problems(tmp_path, data, secret=b"abc\n")[0]
    (tmp_path / "secret").unlink()
    assert problems(tmp_path, data, secret=None)[0].startswith(
        f"secret = 'secret': no such file ({secret}); copy it from the host where "
        "`paxlab cluster init` wrote it")
    assert problems(tmp_path, {**data, "secret": 5}, secret=None) == (
        "secret = 5: expected a file path in a string, or null",)


def test_no_secret_means_loopback_listeners_only(tmp_path: Path) -> None:
    data = {"servers": {0: {"address": "127.0.0.1:7000", "listen": "0.0.0.0:7000"}}}
    assert problems(tmp_path, data, secret=None) == (
        "secret: missing; servers 0 (0.0.0.0:7000) listen beyond loopback, which needs a "
        "secret; allowed: a path to a file made by `paxlab cluster init` (or listen on "
        "127.0.0.1 only)",)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = {"servers": {0: "0.0.0.0:1"}, "cluster": {"difficulty": 99}, "data_dir": 3,
            "secret": "nope"}
    lines = problems(tmp_path, data, secret=None)
    assert [line.split(" ")[0] for line in lines] == [
        "servers.0", "cluster.difficulty", "data_dir", "secret"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "expected a mapping (key: value lines) at the top level"),
    ("servers: {0: a:1, 0: b:2}\n", "invalid YAML: duplicate key 0"),
    ("servers: [\n", "invalid YAML"),
])
def test_file_level_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems(tmp_path, text, secret=None)[0]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ClusterFileError, match=r"no such cluster file .*paxlab cluster init"):
        load_cluster_file(tmp_path / "nope.yaml")
    with pytest.raises(ClusterFileError, match="is a directory"):
        load_cluster_file(tmp_path)


def test_endpoints_and_loopback_words() -> None:
    assert parse_endpoint(" h-1.example:80 ") == Endpoint("h-1.example", 80)
    assert str(parse_endpoint("[::1]:9")) == "[::1]:9"
    for bad in ("[1.2.3.4]:9", "h:", ":9", "h:-1", "h:x"):
        with pytest.raises(ValueError):
            parse_endpoint(bad)
    assert [is_loopback_host(h) for h in ("127.0.0.5", "::1", "LOCALHOST", "10.0.0.1",
                                          "example.com", "0.0.0.0")] == [
        True, True, True, False, False, False]


def test_docs_name_every_key_and_every_cluster_command() -> None:
    import argparse

    from paxlab.cli.cluster import add_parsers
    from paxlab.cluster.clusterfile import TOP_KEYS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "cluster.md").read_text()
    assert [key for key in TOP_KEYS if f"| `{key}` |" not in doc] == []
    commands = argparse.ArgumentParser().add_subparsers()
    add_parsers(commands)
    group = commands.choices["cluster"]
    names = next(a for a in group._actions
                 if isinstance(a, argparse._SubParsersAction)).choices
    rows = [line for line in doc.splitlines() if line.startswith("| `cluster ")]
    assert [name for name in names if not any(name in row.split(" | ")[0] for row in rows)] \
        == []
