"""The lab's router feeds every frame it decodes to the invariant monitor, logs each
violation at once, and reports them to the launcher when it stops. In process: pipes,
no child processes."""

from __future__ import annotations

import io
import random
from multiprocessing import Pipe

from paxlab.config.types import NetworkConfig
from paxlab.core.codec import encode_envelope
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.messages import Accepted, Envelope, Message, Promise
from paxlab.lab.control import RunClock, recv_control
from paxlab.lab.router import Router
from paxlab.network.model import NetworkModel
from paxlab.network.monitor import MonitorReport

NETWORK = NetworkConfig(delay_ms_mean=1, delay_ms_jitter=0, drop_probability=0,
                        duplicate_probability=0)


def test_the_router_reports_what_the_monitor_saw() -> None:
    node_ends, router_ends = {}, {}
    for node in ("s0", "s1", "s2", "c0"):
        node_ends[node], router_ends[node] = Pipe(duplex=True)
    lab_end, control = Pipe(duplex=True)
    log = io.StringIO()
    model = NetworkModel(rules=NETWORK, rng=random.Random("1:network"))
    router = Router(dict(router_ends), control, model, log, RunClock(0))

    def send(source: str, target: str, message: Message) -> None:
        envelope = Envelope(source=NodeId(source), target=NodeId(target), message=message)
        node_ends[source].send_bytes(encode_envelope(envelope))
        router._receive(router_ends[source])

    send("s1", "s2", Promise(ballot=Ballot(2, 2), from_slot=0, commit_index=0, accepted=(),
                             decided=()))
    send("s1", "s0", Accepted(ballot=Ballot(1, 0), slot=0, block_hash="ab" * 32))
    node_ends["c0"].send_bytes(b"not json")  # invalid frames never reach the monitor
    router._receive(router_ends["c0"])

    assert "INVARIANT VIOLATED promise_kept" in log.getvalue()
    assert "s1->s0 Accepted b=1.0 slot=0 hash=abababab" in log.getvalue()
    router.report_invariants()
    event = recv_control(lab_end)
    assert event["event"] == "invariants"
    report = MonitorReport.from_dict(event)
    assert (report.observed, report.total) == (2, 1)
    assert report.check().verdict == "fail"
