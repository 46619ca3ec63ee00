"""Whole-cluster properties on the in-memory Net: random faults, then heal and converge.

Safety is checked after every scheduled event (chains agree on their common prefix,
link, verify and hold each (client, seq) once), liveness after healing (every chain is
the same, every op finished), and the results against a naive replay of the chain.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from paxlab.core.chain import GENESIS_PREV, verify_block
from paxlab.core.ids import server_node
from paxlab.core.replica import Role
from tests.core.harness import Net

SERVERS, CLIENTS, DIFFICULTY = 3, 3, 4
PARAMS = {"difficulty": DIFFICULTY, "batch_size_max": 3, "pipeline_window": 3}
# Short client timeouts, so faults produce retries, nominations and "info" outcomes.
CLIENT_PARAMS = {"request_timeout_ms": 200, "op_timeout_ms": 1500}
KEYS = ["'a'", "'b'"]


# --- checks ---------------------------------------------------------------------------


def check_safety(net: Net) -> None:
    chains = [r.learner.chain for r in net.replicas]
    longest = max(chains, key=len)
    for chain in chains:
        assert [b.hash for b in chain] == [b.hash for b in longest[: len(chain)]], (
            "chains disagree on a committed slot"
        )
        prev = GENESIS_PREV
        for height, block in enumerate(chain):
            assert (block.height, block.prev) == (height, prev)
            verify_block(block, DIFFICULTY)
            prev = block.hash
        ids = [t.request_id for b in chain for t in b.txns]
        assert len(ids) == len(set(ids)), "a (client, seq) is in the chain twice"
    ballots = [r.leader.ballot for r in net.replicas if r.leader is not None]
    assert len(ballots) == len(set(ballots)), "two leaders share a ballot"
    assert all(r.leader.ballot.replica == r.id for r in net.replicas if r.leader is not None)


def replay(chain: list) -> tuple[dict[str, str], dict[tuple[int, int], str | None]]:
    """The naive model: apply each txn in chain order; what each (client, seq) read."""
    data: dict[str, str] = {}
    results: dict[tuple[int, int], str | None] = {}
    for block in chain:
        for t in block.txns:
            if t.request_id in results:
                continue
            if t.op == "put":
                data[t.key] = t.value
                results[t.request_id] = None
            else:
                results[t.request_id] = data.get(t.key)
    return data, results


def check_converged(net: Net) -> None:
    check_safety(net)
    chains = net.chains()
    assert all(c == chains[0] for c in chains), "chains differ after quiescence"
    chain = net.replicas[0].learner.chain
    data, results = replay(chain)
    for replica in net.replicas:
        assert replica.learner.kv.data == data, "KV differs from a replay of its chain"
    for done in net.completions:
        if done.outcome != "ok":
            continue
        assert (done.client, done.seq) in results, f"ok {done} is not in the chain"
        if done.op == "get":
            assert done.value == results[(done.client, done.seq)], f"{done} read wrong"
    assert not any(s.busy for s in net.sessions)


def quiet(net: Net) -> bool:
    chains = net.chains()
    return (
        not any(s.busy for s in net.sessions)
        and len(net.leaders()) == 1
        and all(c == chains[0] for c in chains)
        and all(r.leader is None or not r.leader.proposals for r in net.replicas)
    )


# --- the property ---------------------------------------------------------------------

PAIRS = [(a, b) for a in range(SERVERS) for b in range(a + 1, SERVERS)]
OP = st.tuples(st.just("op"), st.integers(0, CLIENTS - 1), st.sampled_from(KEYS),
               st.one_of(st.none(), st.integers(0, 9).map(str)), st.integers(0, 120))
EVENT = st.one_of(
    OP, OP, OP,  # ops are the common case; the gap after each lets the client finish
    st.tuples(st.just("cut"), st.sampled_from(PAIRS)),
    st.tuples(st.just("isolate"), st.integers(0, SERVERS - 1)),
    st.tuples(st.just("heal")),
    st.tuples(st.just("drops"), st.sampled_from([0.0, 0.05, 0.2, 0.5])),
    st.tuples(st.just("dups"), st.sampled_from([0.0, 0.1, 0.3])),
    st.tuples(st.just("wait"), st.integers(1, 800)),
)


def run_schedule(seed: int, schedule: list[tuple[Any, ...]], jitter_ms: int = 0) -> Net:
    net = Net(servers=SERVERS, clients=CLIENTS, seed=seed, params=PARAMS,
              client_params=CLIENT_PARAMS, jitter_ms=jitter_ms)
    rng = random.Random(f"{seed}:faults")
    drop_probability, dup_probability = [0.0], [0.0]
    net.drop = lambda env: drop_probability[0] > 0 and rng.random() < drop_probability[0]
    net.duplicate = lambda env: dup_probability[0] > 0 and rng.random() < dup_probability[0]
    for event in schedule:
        kind = event[0]
        if kind == "op":
            _, client, key, value, gap_ms = event
            if not net.sessions[client].busy:
                net.submit(client, "get" if value is None else "put", key, value)
            net.run_for(gap_ms)
        elif kind == "cut":
            a, b = event[1]
            net.cut.add(frozenset((server_node(a), server_node(b))))
        elif kind == "isolate":
            net.isolate(event[1])
        elif kind == "heal":
            net.heal()
        elif kind == "drops":
            drop_probability[0] = event[1]
        elif kind == "dups":
            dup_probability[0] = event[1]
        else:
            net.run_for(event[1])
        check_safety(net)
    # Liveness mode: heal every link, stop dropping, and let it settle.
    net.heal()
    drop_probability[0] = dup_probability[0] = 0.0
    net.run_until(lambda: quiet(net), deadline_ms=15_000)
    return net


# On a failure, shrink one bug and skip the "explain" phase: both replay hundreds of
# variants, and a broken protocol then takes minutes to report instead of seconds.
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(
    seed=st.integers(0, 2**16),
    schedule=st.lists(EVENT, min_size=20, max_size=60),
    jitter_ms=st.sampled_from([0, 3, 20]),
)
def test_faults_then_heal_converges_to_one_valid_chain(
    seed: int, schedule: list[tuple[Any, ...]], jitter_ms: int
) -> None:
    net = run_schedule(seed, schedule, jitter_ms)
    check_converged(net)


def test_a_busy_schedule_with_every_fault_converges() -> None:
    """A fixed schedule that is sure to overlap ops with each kind of fault."""
    schedule: list[tuple[Any, ...]] = [("wait", 700)]
    for round_ in range(6):
        schedule += [
            ("op", 0, "'a'", str(round_), 30), ("op", 1, "'a'", None, 30),
            ("drops", 0.2), ("wait", 150),
            ("isolate", round_ % SERVERS), ("op", 0, "'b'", str(round_), 30), ("wait", 400),
            ("heal",), ("cut", PAIRS[round_ % len(PAIRS)]), ("wait", 300), ("heal",),
            ("drops", 0.0), ("dups", 0.3), ("wait", 200), ("dups", 0.0),
        ]
    net = run_schedule(5, schedule, jitter_ms=10)
    check_converged(net)
    assert sum(c.outcome == "ok" for c in net.completions) >= 6
    assert len(net.replicas[0].learner.chain) >= 3


def test_the_checks_catch_broken_clusters() -> None:
    """Each check fails on the breakage it names (STYLE 4: checkers see broken input)."""
    net = run_schedule(3, [("wait", 700), ("op", 0, "'a'", "1", 30), ("wait", 300),
                           ("op", 0, "'a'", None, 30), ("wait", 300)])
    check_converged(net)
    follower = next(r for r in net.replicas if r.role is not Role.LEADER)
    chain = follower.learner.chain
    original = list(chain)

    def fails(name: str) -> None:
        try:
            check_converged(net)
        except AssertionError:
            return
        raise AssertionError(f"check missed: {name}")

    chain.pop()
    fails("a chain that lags after quiescence")
    chain[:] = original
    follower.learner.kv.data["'zzz'"] = "1"
    fails("KV that differs from the replay")
    del follower.learner.kv.data["'zzz'"]
    chain.append(original[-1])
    fails("a block twice (height and duplicate ids)")
    chain[:] = original
    ok_put = next(i for i, c in enumerate(net.completions) if c.op == "put")
    net.completions[ok_put] = dataclasses.replace(net.completions[ok_put], seq=99)
    fails("an ok put that is not in the chain")
    net.completions[ok_put] = dataclasses.replace(net.completions[ok_put], seq=1)
    ok_get = next(i for i, c in enumerate(net.completions) if c.op == "get")
    net.completions[ok_get] = dataclasses.replace(net.completions[ok_get], value="'stale'")
    fails("a get that read a value the chain does not give it")


# --- determinism ----------------------------------------------------------------------

DETERMINISM_SCHEDULE: list[tuple[Any, ...]] = [
    ("wait", 400), ("op", 0, "'a'", "1", 30), ("drops", 0.2), ("op", 1, "'b'", "2", 30),
    ("wait", 300), ("isolate", 1), ("op", 0, "'a'", None, 30), ("wait", 500), ("heal",),
    ("op", 1, "'a'", "3", 30), ("dups", 0.2), ("op", 0, "'b'", None, 30), ("wait", 300),
]


def fingerprint(seed: int) -> str:
    """Everything observable about one run, as text."""
    net = run_schedule(seed, DETERMINISM_SCHEDULE, jitter_ms=5)
    return json.dumps({
        "chains": net.chains(),
        "traces": net.traces,
        "sent": [e.describe() for e in net.sent],
        "completions": [repr(c) for c in net.completions],
        "now_ms": net.now_ms,
    })


def test_same_seed_same_run() -> None:
    first, second = fingerprint(7), fingerprint(7)
    assert json.loads(first)["chains"] == json.loads(second)["chains"]
    assert first == second
    # Another process with another hash seed catches set or dict order leaking out.
    root = Path(__file__).resolve().parents[2]
    other = subprocess.run(
        [sys.executable, "-c",
         "import sys; from tests.core.test_cluster_properties import fingerprint; "
         "sys.stdout.write(fingerprint(7))"],
        cwd=root, env={**os.environ, "PYTHONHASHSEED": "123"},
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert other == first


def test_different_seeds_differ() -> None:
    runs = {fingerprint(seed) for seed in range(5)}
    assert len(runs) == 5
