"""Transcript scripts for the pure core: a tiny command language over scripted.Cluster.

A transcript file (tests/core/testdata/*.txt) is a script, a `----` line, and the
lines the script produces, after etcd-io/raft's datadriven `interaction_test.go`. Each
command is echoed as `> command`, followed by what its steps did, in step order:

    s0: candidate b=1.0 from_slot=0       a trace line of the stepped replica
    s0 persist promised b=1.0             a record it asked to persist (before sends)
    s0->s1 Prepare b=1.0 from_slot=0      an envelope it sent (Envelope.describe())
    s1 down: dropped s0->s1 Prepare ...   a delivery to a crashed replica

Commands (servers are s0.., clients c0..; ` #` starts a comment):

    replicas N [prevote]        first line: N booted replicas (with cluster.prevote on)
    time MS | wait MS           set virtual time / move it forward
    timeout sI | tick sI        step an ElectionTimeout / HeartbeatTimeout into sI
    deliver [FILTER]            deliver the matching pending envelopes once, in send order
    drop [FILTER]               drop the matching pending envelopes
    flush [among=s0,s1]         deliver until quiet; envelopes outside `among` are dropped
    client sI cC#S put K V [nominate] | client sI cC#S get K [nominate]
    crash sI | restart sI       stop sI / rebuild it from the records it persisted
    state sI                    one line of sI's role, ballot, chain and kv

FILTER words: to=sI from=sI kind=Accept (all must match).
"""

from __future__ import annotations

import random
import re
import shlex
from pathlib import Path

from paxlab.core import Replica, recover_state
from paxlab.core.messages import (
    Boot,
    ClientRequest,
    ElectionTimeout,
    Envelope,
    HeartbeatTimeout,
)
from paxlab.core.output import AcceptedRecord, DecidedRecord, Output, PromisedRecord, Record
from tests.core.scripted import Cluster, env, make_params

__all__ = ["SEPARATOR", "describe_record", "parse", "run_script"]

SEPARATOR = "----"
_COMMENT = re.compile(r"(^|\s)#.*$")  # `c0#1` is a request id, ` # ...` a comment


def describe_record(record: Record) -> str:
    if isinstance(record, PromisedRecord):
        return f"promised b={record.ballot}"
    if isinstance(record, AcceptedRecord):
        return f"accepted slot={record.slot} b={record.ballot} hash={record.block.hash[:4]}"
    assert isinstance(record, DecidedRecord)
    return f"decided slot={record.block.height} hash={record.block.hash[:4]}"


class Transcript:
    """Runs one script over a scripted Cluster and collects its lines."""

    def __init__(self, n: int, prevote: bool = False) -> None:
        self.cluster = Cluster(n=n, overrides={"prevote": prevote})
        self.down: set[str] = set()
        self.records: dict[str, list[Record]] = {r.node: [] for r in self.cluster.replicas}
        self.lines: list[str] = []

    def _step(self, envelope: Envelope) -> None:
        if envelope.target in self.down:
            self.lines.append(f"{envelope.target} down: dropped {envelope.describe()}")
            return
        out = self.cluster.step(envelope)
        self._show(envelope.target, out)

    def _show(self, node: str, out: Output) -> None:
        self.lines.extend(f"{node}: {line}" for line in out.trace)
        self.records[node].extend(out.to_persist)
        self.lines.extend(f"{node} persist {describe_record(r)}" for r in out.to_persist)
        self.lines.extend(e.describe() for e in out.to_send)

    def _matching(self, words: list[str]) -> list[Envelope]:
        want = dict(word.split("=", 1) for word in words)
        unknown = set(want) - {"to", "from", "kind"}
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}")
        return [
            e for e in self.cluster.pending
            if want.get("to", e.target) == e.target
            and want.get("from", e.source) == e.source
            and want.get("kind", type(e.message).__name__) == type(e.message).__name__
        ]

    def run(self, command: str) -> None:
        words = shlex.split(command)
        name, args = words[0], words[1:]
        c = self.cluster
        self.lines.append(f"> {command}")
        if name == "time":
            c.now_ms = int(args[0])
        elif name == "wait":
            c.now_ms += int(args[0])
        elif name in ("timeout", "tick"):
            message = ElectionTimeout() if name == "timeout" else HeartbeatTimeout()
            self._step(env(args[0], args[0], message))
        elif name == "deliver":
            chosen = self._matching(args)
            c.pending = [e for e in c.pending if e not in chosen]
            for e in chosen:
                self._step(e)
        elif name == "drop":
            chosen = self._matching(args)
            c.pending = [e for e in c.pending if e not in chosen]
        elif name == "flush":
            among = None
            if args:
                among = set(args[0].removeprefix("among=").split(","))
            for _ in range(100):
                if among is not None:
                    c.pending = [e for e in c.pending if e.source in among and e.target in among]
                if not c.pending:
                    break
                batch, c.pending = c.pending, []
                for e in batch:
                    self._step(e)
            else:
                raise AssertionError("flush: the cluster did not go quiet")
        elif name == "client":
            server, request = args[0], _request(args[1:])
            self._step(env(f"c{request.client}", server, request))
        elif name == "crash":
            self.down.add(args[0])
        elif name == "restart":
            self._restart(args[0])
        elif name == "state":
            self.lines.append(_state_line(c.replicas[int(args[0][1:])]))
        else:
            raise ValueError(f"unknown command {name!r}")

    def _restart(self, node: str) -> None:
        c = self.cluster
        index = int(node[1:])
        params = make_params(c.n, **c.overrides)
        recovered = recover_state(self.records[node], params.difficulty)
        c.replicas[index] = Replica(index, params, random.Random(index), recovered=recovered)
        self.down.discard(node)
        self._step(env(node, node, Boot()))


def _request(words: list[str]) -> ClientRequest:
    who, op, key, *rest = words
    client, seq = who.removeprefix("c").split("#")
    nominate = "nominate" in rest
    rest = [w for w in rest if w != "nominate"]
    value = rest[0] if op == "put" else None
    return ClientRequest(client=int(client), seq=int(seq), op=op,  # type: ignore[arg-type]
                         key=key, value=value, nominate=nominate)


def _state_line(r: Replica) -> str:
    ballot = r.leader.ballot if r.leader else (r.candidate.ballot if r.candidate else None)
    chain = " ".join(b.hash[:4] for b in r.learner.chain) or "-"
    kv = ",".join(f"{k}={v}" for k, v in sorted(r.learner.kv.data.items())) or "-"
    return (f"{r.node} {r.role.value} ballot={ballot} promised={r.acceptor.promised} "
            f"leader={r.leader_id} chain=[{chain}] kv={{{kv}}}")


def parse(text: str) -> tuple[list[str], list[str]]:
    """(commands, expected lines) of a transcript file."""
    script, sep, expected = text.partition(f"\n{SEPARATOR}\n")
    if not sep:
        raise ValueError(f"no {SEPARATOR!r} line")
    commands = []
    for line in script.splitlines():
        command = _COMMENT.sub("", line).strip()
        if command:
            commands.append(command)
    return commands, [line for line in expected.splitlines() if line.strip()]


def run_script(commands: list[str]) -> list[str]:
    first = commands[0].split()
    if first[0] != "replicas":
        raise ValueError("a transcript starts with `replicas N`")
    transcript = Transcript(int(first[1]), prevote=first[2:] == ["prevote"])
    for command in commands[1:]:
        transcript.run(command)
    return transcript.lines


def render(path: Path) -> str:
    """The file's text with its expected part replaced by what the script produces now."""
    text = path.read_text()
    script = text.partition(f"\n{SEPARATOR}\n")[0]
    commands, _ = parse(text)
    return f"{script}\n{SEPARATOR}\n" + "\n".join(run_script(commands)) + "\n"
