"""The cluster file: who the servers are, where they listen, the protocol settings, the secret.

These frozen dataclasses are the one description of a cluster every part reads: the
server process, the client, `paxlab cluster ...` and the benchmark. Only
`load_cluster_file` builds them from user input, after checking everything, so a
half-valid cluster file never starts a server. Every problem is reported the lab's way,
`<file>: <dotted key> = <bad value>: <what is allowed>`, one line each, all at once.
`cluster_file_text` writes one back (with `write_cluster_file`), so `paxlab cluster init`
and a hand-written file read the same.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paxlab.cluster.address import (
    ADDRESS_HINT,
    Endpoint,
    is_loopback_host,
    is_wildcard_host,
    parse_endpoint,
)
from paxlab.config import ClientsConfig, ClusterConfig, ConfigError, read_yaml_file
from paxlab.config.params import client_params_of, replica_params_of
from paxlab.config.problems import Problems, read_keys
from paxlab.config.schema import CLIENTS_KEYS, CLUSTER_KEYS, KeySpec
from paxlab.config.validate import read_clients_section, read_cluster_section
from paxlab.core import ClientParams, ReplicaParams

__all__ = [
    "CLIENT_ID_LIMIT", "SECRET_BYTES_MIN", "TOP_KEYS", "ClusterFile", "ClusterFileError",
    "Endpoint", "ServerEntry", "cluster_file_dict", "cluster_file_text", "default_name",
    "load_cluster_file", "write_cluster_file",
]

CLIENT_ID_LIMIT = int(CLIENTS_KEYS["count"].high or 1000)
"""Client ids are 0 to CLIENT_ID_LIMIT-1; the cluster file has no `clients.count`, since
clients come and go by hand, so `ClusterFile.clients.count` is this limit."""

SECRET_BYTES_MIN = 16
"""A shorter secret is guessable; `paxlab cluster init` writes 32 random bytes as hex."""


class ClusterFileError(ConfigError):
    """The cluster file is missing or invalid: bad input, exit code 2. Each line names the
    file, the key and what is allowed."""


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
    # Each server and client notes the messages it sends and receives in its folder
    # (messages.jsonl), for `cluster check` to join; off: no per-message cost at all.
    record_messages: bool = True

    def replica_params(self) -> ReplicaParams:
        return replica_params_of(self.cluster)

    def client_params(self) -> ClientParams:
        return client_params_of(self.cluster, self.clients)

    def server_dir(self, server_id: int) -> Path:
        """A server's own folder: its record file, log and pid file."""
        return self.data_dir / "servers" / f"s{server_id}"

    def client_dir(self, client_id: int) -> Path:
        """A client's own folder: its history, last seq, lock and log."""
        return self.data_dir / "clients" / f"c{client_id}"


# --- the file's keys ----------------------------------------------------------------------

TOP_KEYS: Mapping[str, KeySpec] = {
    "name": KeySpec(kind="name", default=None, default_text="the file's folder name",
                    doc="The cluster's name, used in results folder names."),
    "servers": KeySpec(kind="custom", required=True,
                       allowed_text="a mapping of server id (0, 1, ...) to " + ADDRESS_HINT
                       + ", or to {address: ..., listen: ...}",
                       doc="Every server: the address the others and the clients dial "
                       "(advertised), and optionally the one it binds (listen)."),
    "cluster": KeySpec(kind="custom", default=None, allowed_text="a mapping",
                       default_text="(section)",
                       doc="The lab's `cluster:` section without `servers`: "
                       + ", ".join(k for k in CLUSTER_KEYS if k != "servers") + "."),
    "clients": KeySpec(kind="custom", default=None, allowed_text="a mapping",
                       default_text="(section)",
                       doc="The lab's `clients:` section without `count`: "
                       + ", ".join(k for k in CLIENTS_KEYS if k != "count") + "."),
    "data_dir": KeySpec(kind="custom", default="data", allowed_text="a folder path",
                        doc="Where servers and clients keep their files on each host; "
                        "relative to the cluster file's folder."),
    "secret": KeySpec(kind="custom", default=None, allowed_text="a file path or null",
                      doc=f"A file of at least {SECRET_BYTES_MIN} bytes, mode 0600, the same "
                      "on every host; every key of the wire is derived from it. null: no "
                      "secret, and every server must listen on loopback."),
    "record_messages": KeySpec(kind="custom", default=True, allowed_text="true or false",
                               doc="Each server and client notes every message it sends "
                               "and receives in messages.jsonl in its folder; `cluster "
                               "check` joins them into the results folder. false: nothing "
                               "is noted."),
}
"""The cluster file's top-level keys, documented in docs/cluster.md."""

_SERVER_KEYS = ("address", "listen")


# --- loading --------------------------------------------------------------------------------


def load_cluster_file(path: str | Path) -> ClusterFile:
    """Read and validate a cluster file and its secret; every problem found is one line of
    the ClusterFileError, naming the file, the key and what is allowed."""
    path = Path(path)
    data = read_yaml_file(path, "cluster file (make one with `paxlab cluster init DIR`)",
                          ClusterFileError)
    if not isinstance(data, Mapping):
        raise ClusterFileError(f"{path}: expected a mapping (key: value lines) at the top "
                               "level; allowed keys: " + ", ".join(TOP_KEYS))
    problems = Problems(str(path))
    top = read_keys(data, "", TOP_KEYS, problems)
    servers = _servers(data.get("servers"), problems) if "servers" in data else None
    cluster = read_cluster_section(data.get("cluster"), problems,
                                   fixed={"servers": len(servers) if servers else 1})
    clients = read_clients_section(data.get("clients"), problems,
                                   fixed={"count": CLIENT_ID_LIMIT})
    folder = path.resolve().parent
    data_dir = _path(top.get("data_dir"), "data_dir", folder, problems)
    secret_path, secret = _secret(top.get("secret"), folder, problems)
    record_messages = top.get("record_messages")
    if not isinstance(record_messages, bool):
        problems.bad("record_messages", record_messages, "expected true or false")
    if servers and secret is None:
        _open_without_secret(servers, secret_path, problems)
    if problems.lines:
        raise ClusterFileError(problems.lines)
    assert servers and cluster and clients and data_dir
    name = top["name"] if top["name"] is not None else default_name(folder)
    return ClusterFile(path=path.resolve(), name=name, servers=servers, cluster=cluster,
                       clients=clients, data_dir=data_dir, secret_path=secret_path,
                       secret=secret, record_messages=bool(record_messages))


def default_name(folder: Path) -> str:
    """The folder's name made safe for results folder names (the default `name`)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", folder.name)[:100]
    return name if name.strip(".") else "cluster"


def _path(value: object, key: str, folder: Path, problems: Problems) -> Path | None:
    if not isinstance(value, str) or not value.strip():
        problems.bad(key, value, "expected a folder path in a string, e.g. data")
        return None
    return (folder / Path(value).expanduser()).resolve()


def _servers(raw: object, problems: Problems) -> dict[int, ServerEntry] | None:
    """Read `servers:`; None if anything in it is wrong."""
    limit = int(CLUSTER_KEYS["servers"].high or 15)
    example = "e.g. {0: '127.0.0.1:7000', 1: '127.0.0.1:7001', 2: '127.0.0.1:7002'}"
    if not isinstance(raw, Mapping) or not raw:
        problems.bad("servers", raw, f"expected a mapping of server id to {ADDRESS_HINT}, "
                     + example)
        return None
    start = len(problems.lines)
    ids = [key for key in raw if isinstance(key, int) and not isinstance(key, bool)]
    for key in raw:
        if key not in ids or not 0 <= key < min(len(raw), limit):
            problems.note(f"servers.{key}", f"bad server id; allowed: the ids 0 to "
                          f"{min(len(raw), limit) - 1}, each once ({len(raw)} servers, "
                          f"at most {limit})")
    entries: dict[int, ServerEntry] = {}
    keys: dict[int, tuple[str, str]] = {}
    for sid in sorted(ids):
        entry = _server(sid, raw[sid], problems)
        if entry is not None:
            entries[sid] = entry
            address_key = f"servers.{sid}.address" if isinstance(raw[sid], Mapping) \
                else f"servers.{sid}"
            listen_given = isinstance(raw[sid], Mapping) and raw[sid].get("listen") is not None
            keys[sid] = (address_key, f"servers.{sid}.listen" if listen_given else address_key)
    if len(problems.lines) != start:
        return None
    _check_addresses(entries, keys, problems)
    return entries if len(problems.lines) == start else None


def _server(sid: int, raw: object, problems: Problems) -> ServerEntry | None:
    where = f"servers.{sid}"
    if isinstance(raw, Mapping):
        for key in raw:
            if key not in _SERVER_KEYS:
                problems.unknown(where, key, _SERVER_KEYS)
        if "address" not in raw:
            problems.note(f"{where}.address", "missing; expected " + ADDRESS_HINT)
            return None
        address_raw, listen_raw = raw["address"], raw.get("listen")
    else:
        address_raw, listen_raw = raw, None
    address_key = f"{where}.address" if isinstance(raw, Mapping) else where
    address = _endpoint(address_key, address_raw, problems)
    listen = _endpoint(f"{where}.listen", listen_raw, problems) if listen_raw is not None \
        else address
    if address is not None and is_wildcard_host(address.host):
        problems.bad(address_key, address_raw,
                     "an advertised address is what others dial, and no one can dial "
                     f"{address.host}; allowed: this host's own address (put {address.host} "
                     "under listen: to bind every interface)")
        return None
    if address is None or listen is None:
        return None
    if is_loopback_host(listen.host) and not is_loopback_host(address.host):
        problems.bad(f"{where}.listen", listen_raw, f"a loopback address, but others dial "
                     f"{address}; allowed: {address.host}, 0.0.0.0 or another non-loopback "
                     "address of that host")
        return None
    return ServerEntry(id=sid, address=address, listen=listen)


def _endpoint(key: str, raw: object, problems: Problems) -> Endpoint | None:
    try:
        return parse_endpoint(raw)
    except ValueError as exc:
        problems.bad(key, raw, str(exc))
        return None


def _check_addresses(entries: Mapping[int, ServerEntry], keys: Mapping[int, tuple[str, str]],
                     problems: Problems) -> None:
    """Duplicates, and loopback mixed with other hosts (servers would dial themselves).
    `keys` names each server's address and listen keys as the file spells them."""
    seen: dict[Endpoint, int] = {}
    ports: dict[tuple[str, int], int] = {}  # (advertised host, listen port) -> server id
    for sid, entry in sorted(entries.items()):
        if entry.address in seen:
            problems.bad(keys[sid][0], str(entry.address),
                         f"also the address of server {seen[entry.address]}; allowed: an "
                         "address no other server has")
            continue
        seen[entry.address] = sid
        slot = (entry.address.host, entry.listen.port)
        if slot in ports:
            problems.bad(keys[sid][1], str(entry.listen),
                         f"server {ports[slot]} on the same host ({entry.address.host}) "
                         f"listens on port {entry.listen.port} too; allowed: a port no other "
                         "server on that host uses")
        ports.setdefault(slot, sid)
    remote = sorted({e.address.host for e in entries.values()
                     if not is_loopback_host(e.address.host)})
    if not remote:
        return
    for sid, entry in sorted(entries.items()):
        if is_loopback_host(entry.address.host):
            problems.bad(keys[sid][0], str(entry.address),
                         f"a loopback address in a multi-host file (other servers are on "
                         f"{', '.join(remote)}): they would dial themselves; allowed: "
                         "this server's host name or network address")


def _secret(value: object, folder: Path,
            problems: Problems) -> tuple[Path | None, bytes | None]:
    """Read the secret file: present, a regular file, owner-only, long enough."""
    if value is None:
        return None, None
    if not isinstance(value, str) or not value.strip():
        problems.bad("secret", value, "expected a file path in a string, or null")
        return None, None
    path = (folder / Path(value).expanduser()).resolve()
    fix = f"make one with: head -c 32 /dev/urandom | xxd -p -c 64 > {path}; chmod 600 {path}"
    try:
        info = path.stat()
    except FileNotFoundError:
        problems.bad("secret", value, f"no such file ({path}); copy it from the host where "
                     f"`paxlab cluster init` wrote it, or {fix}")
        return path, None
    except OSError as exc:
        problems.bad("secret", value, f"cannot read {path}: {exc.strerror}")
        return path, None
    if not stat.S_ISREG(info.st_mode):
        problems.bad("secret", value, f"{path} is not a regular file; allowed: a file of at "
                     f"least {SECRET_BYTES_MIN} bytes, mode 0600")
        return path, None
    if info.st_mode & 0o077:
        problems.bad("secret", value, f"{path} has mode {stat.S_IMODE(info.st_mode):04o}, so "
                     f"others can read it; allowed: mode 0600, owner only (chmod 600 {path})")
        return path, None
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        problems.bad("secret", value, f"cannot read {path}: {exc.strerror}")
        return path, None
    if len(secret) < SECRET_BYTES_MIN:
        problems.bad("secret", value, f"{path} holds {len(secret)} bytes; allowed: at least "
                     f"{SECRET_BYTES_MIN} (not counting surrounding whitespace); {fix}")
        return path, None
    return path, secret


def _open_without_secret(servers: Mapping[int, ServerEntry], secret_path: Path | None,
                         problems: Problems) -> None:
    """Without a secret anyone who can connect is trusted, so only loopback may listen."""
    if secret_path is not None:  # a secret was named but is bad: reported already
        return
    open_ = [e for e in servers.values() if not is_loopback_host(e.listen.host)]
    if open_:
        problems.note("secret", "missing; servers " + ", ".join(
            f"{e.id} ({e.listen})" for e in open_) + " listen beyond loopback, which needs a "
            "secret; allowed: a path to a file made by `paxlab cluster init` (or "
            "listen on 127.0.0.1 only)")


# --- writing --------------------------------------------------------------------------------


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def cluster_file_dict(cluster_file: ClusterFile) -> dict[str, Any]:
    """The file's YAML shape, every key written out (paths relative to the file's folder
    where they lie under it), so `load_cluster_file` reads back an equal ClusterFile."""
    folder = cluster_file.path.parent
    servers: dict[int, Any] = {}
    for sid, entry in sorted(cluster_file.servers.items()):
        servers[sid] = str(entry.address) if entry.listen == entry.address else {
            "address": str(entry.address), "listen": str(entry.listen)}
    cluster = {f.name: getattr(cluster_file.cluster, f.name)
               for f in dataclasses.fields(cluster_file.cluster) if f.name != "servers"}
    clients = {f.name: getattr(cluster_file.clients, f.name)
               for f in dataclasses.fields(cluster_file.clients) if f.name != "count"}
    secret = cluster_file.secret_path
    return {
        "name": cluster_file.name,
        "servers": servers,
        "cluster": cluster,
        "clients": clients,
        "data_dir": _relative(cluster_file.data_dir, folder),
        "secret": None if secret is None else _relative(secret, folder),
        "record_messages": cluster_file.record_messages,
    }


_HEADER = """\
# paxlab cluster file (docs/cluster.md). Servers: `paxlab server ID --cluster {file}`
# on each server's host, or `paxlab cluster up --cluster {file}` for the local ones.
# The secret file must be the same on every host, mode 0600; never commit it.
"""


def cluster_file_text(cluster_file: ClusterFile) -> str:
    """The cluster file as YAML text with a short header saying how to use it."""
    body = yaml.safe_dump(cluster_file_dict(cluster_file), sort_keys=False,
                          default_flow_style=False)
    return _HEADER.format(file=cluster_file.path.name) + body


def write_cluster_file(cluster_file: ClusterFile, *, overwrite: bool = False) -> Path:
    """Write `cluster_file` to its own path; FileExistsError unless `overwrite`, so a
    second `paxlab cluster init` never replaces the addresses others copied."""
    path = cluster_file.path
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(cluster_file_text(cluster_file))
    return path

