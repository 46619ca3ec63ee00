"""A load process for `paxlab bench cluster`: many ClientSessions over TCP in one asyncio loop.

`python -m paxlab.bench.cluster_load CLUSTER_FILE --first-client N --sessions K` (servers,
secret and the clients' timeouts from the cluster file) answers JSON-line commands
on stdin: {"cmd": "start"} -> {"ok": true}; {"cmd": "progress"} -> {"done", "errors"};
{"cmd": "stop"} -> a report (`cluster_stats.encode_report`). It exits when stdin closes.

Each session is the core's `ClientSession`, so retries (same seq), leader hints, redirects
and nominations are the real ones; only the loop around it is the bench's. The real
client (`cluster/client_node.py`) runs one session per process with a transport thread;
here one process drives hundreds, so sockets, frames and timers live in one asyncio loop,
speaking the same wire (`cluster/wire.py`: handshake as role client, sealed frames). Each
session keeps one op outstanding (closed loop) and puts to its own 16 keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import deque
from pathlib import Path

from paxlab.bench.cluster_stats import encode_report
from paxlab.cluster.clusterfile import load_cluster_file
from paxlab.cluster.payload import decode_payload, envelope_payload
from paxlab.cluster.wire import Connector, FrameReader, Keys, Session, WireError, derive_keys
from paxlab.core import ClientParams, ClientSession
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Envelope, Submit
from paxlab.core.output import Output

__all__ = ["main"]

_RECONNECT_S = 0.05  # wait before redialing a server that refused or dropped us
_QUEUE_MAX = 8  # payloads kept for a server we are still dialing (one op each: plenty)


class _Link(asyncio.Protocol):
    """One session's connection to one server: handshake, then sealed frames both ways."""

    def __init__(self, load: _Load, driver: _Driver, server: int) -> None:
        self.load = load
        self.driver = driver
        self.server = server
        self.connector = Connector(load.keys, driver.session.node, f"s{server}")
        self.reader = FrameReader()
        self.wire: Session | None = None
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[bytes] = deque(maxlen=_QUEUE_MAX)
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.connector.hello())  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        try:
            for body in self.reader.feed(data):
                if self.wire is None:
                    confirm, self.wire = self.connector.on_challenge(body)
                    out = [confirm] + [self.wire.seal(p) for p in self.waiting]
                    self.waiting.clear()
                    self.transport.write(b"".join(out))  # type: ignore[union-attr]
                    continue
                _tag, value = decode_payload(self.wire.open(body))
                if isinstance(value, Envelope):
                    self.driver.deliver(value)
        except (WireError, RemoteError) as error:
            self.load.problems += 1
            self.load.note(f"c{self.driver.session.id} <- s{self.server}: {error}")
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.driver.links.pop(self.server, None)

    def send(self, payload: bytes) -> None:
        if self.wire is None or self.transport is None:
            self.waiting.append(payload)
        else:
            self.transport.write(self.wire.seal(payload))

    def abort(self) -> None:
        self.closed = True
        self.driver.links.pop(self.server, None)
        if self.transport is not None:
            self.transport.abort()


class _Driver:
    """One ClientSession and the loop's side of its Output: sends, its one timer, completions."""

    def __init__(self, load: _Load, client_id: int) -> None:
        self.load = load
        self.session = ClientSession(client_id, load.params, random.Random(client_id))
        self.links: dict[int, _Link] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.invoked_ns = 0
        self.count = 0

    def submit(self) -> None:
        if not self.load.running:
            return
        self.count += 1
        node = self.session.node
        message = Submit(op="put", key=repr(f"c{self.session.id}-{self.count % 16}"),
                         value=repr(f"v{self.count:012d}"))
        self.invoked_ns = time.monotonic_ns()
        self.carry_out(self.session.step(self.load.now_ms(),
                                         Envelope(source=node, target=node, message=message)))

    def deliver(self, envelope: Envelope) -> None:
        self.carry_out(self.session.step(self.load.now_ms(), envelope))

    def fire(self, message: object) -> None:
        self.timer = None
        node = self.session.node
        self.carry_out(self.session.step(
            self.load.now_ms(), Envelope(source=node, target=node, message=message)))  # type: ignore[arg-type]

    def carry_out(self, output: Output) -> None:
        for envelope in output.to_send:
            self.load.send(self, envelope)
        for command in output.timers:  # only the session's one "request" timer
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if command.at_ms is not None and command.message is not None:
                self.timer = self.load.loop.call_at(self.load.loop_time(command.at_ms),
                                                    self.fire, command.message)
        for done in output.completed:
            if done.outcome == "ok":
                self.load.pairs.append((self.invoked_ns, time.monotonic_ns()))
            else:
                self.load.errors += 1
            self.load.loop.call_soon(self.submit)


class _Load:
    """Every session of this process, the servers' addresses, and what was measured."""

    def __init__(self, loop: asyncio.AbstractEventLoop, servers: list[tuple[str, int]],
                 keys: Keys, params: ClientParams, first: int, count: int,
                 log_path: Path | None) -> None:
        self.loop = loop
        self.servers = servers
        self.keys = keys
        self.params = params
        self.start_s = loop.time()
        self.running = False
        self.pairs: list[tuple[int, int]] = []
        self.errors = 0
        self.problems = 0
        self.log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115
        self.drivers = [_Driver(self, first + k) for k in range(count)]

    def now_ms(self) -> int:
        return int((self.loop.time() - self.start_s) * 1000)

    def loop_time(self, at_ms: int) -> float:
        return self.start_s + at_ms / 1000

    def note(self, line: str) -> None:
        if self.log is not None:
            self.log.write(f"{self.now_ms():>8} ms  {line}\n")

    def send(self, driver: _Driver, envelope: Envelope) -> None:
        server = int(envelope.target[1:])
        link = driver.links.get(server)
        if link is None:
            if not 0 <= server < len(self.servers):
                return  # a hint beyond the table: the session times out and moves on
            link = driver.links[server] = _Link(self, driver, server)
            self.loop.create_task(self._dial(link))
        link.send(envelope_payload(envelope))

    async def _dial(self, link: _Link) -> None:
        host, port = self.servers[link.server]
        try:
            await self.loop.create_connection(lambda: link, host, port)
        except OSError as error:
            self.note(f"c{link.driver.session.id} -> s{link.server}: {error}")
            await asyncio.sleep(_RECONNECT_S)  # keep the dead link a moment: no dial storm
            link.abort()

    def start(self) -> None:
        self.running = True
        for driver in self.drivers:
            driver.submit()

    async def stop(self, timeout_s: float = 2.0) -> dict:
        self.running = False
        deadline = self.loop.time() + timeout_s
        while any(d.session.busy for d in self.drivers) and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        unfinished = sum(1 for d in self.drivers if d.session.busy)
        base = min((p[0] for p in self.pairs), default=time.monotonic_ns())
        return encode_report(base, self.pairs, self.errors + unfinished)


async def _serve(load: _Load) -> None:
    reader = asyncio.StreamReader()
    await load.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def reply(message: dict) -> None:
        sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        if not line.strip():
            continue
        command = json.loads(line).get("cmd")
        if command == "start":
            load.start()
            reply({"ok": True})
        elif command == "progress":
            reply({"done": len(load.pairs), "errors": load.errors, "problems": load.problems})
        elif command == "stop":
            reply(await load.stop())
        else:
            reply({"error": f"unknown command {command!r}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paxlab.bench.cluster_load")
    parser.add_argument("cluster", type=Path, help="the cluster file")
    parser.add_argument("--first-client", type=int, required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--log", type=Path)
    args = parser.parse_args(argv)
    cluster = load_cluster_file(args.cluster)
    servers = [(cluster.servers[i].address.host, cluster.servers[i].address.port)
               for i in sorted(cluster.servers)]
    loop = asyncio.new_event_loop()
    load = _Load(loop, servers, derive_keys(cluster.secret), cluster.client_params(),
                 args.first_client, args.sessions, args.log)
    try:
        loop.run_until_complete(_serve(load))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
