"""Liveness is judged apart from safety: after the last fault heals, every op must be
answered within checks.liveness_timeout_ms and the servers must converge."""

from __future__ import annotations

import dataclasses
import io

from paxlab.config.types import SetNetwork
from paxlab.sim.liveness import liveness_check
from paxlab.sim.run import simulate, verdicts
from paxlab.sim.sweep import run_sweep
from tests.sim.helpers import shipped

MS = 1_000_000


def op(kind: str, process: int, at_ms: int, seq: int = 1) -> dict:
    return {"type": kind, "process": process, "time": at_ms * MS, "f": "put", "key": "'k'",
            "value": "1" if kind == "invoke" else None, "seq": seq}


def check(history: list[dict], healed_ms: float | None = 100.0, quiescent: bool = True):
    return liveness_check(history, healed_ms, bound_ms=500, quiescent=quiescent,
                          quiesce_timeout_ms=5000)


def test_ops_answered_after_healing_pass() -> None:
    history = [op("invoke", 0, 50), op("ok", 0, 700), op("invoke", 1, 90), op("info", 1, 400)]
    result = check(history)
    assert result.verdict == "pass", result.details
    assert "healed at 100 ms" in result.details


def test_an_op_unanswered_past_the_bound_fails_and_is_named() -> None:
    history = [op("invoke", 0, 50), op("ok", 0, 70),
               op("invoke", 1, 200, seq=7), op("info", 1, 601)]
    result = check(history)
    assert result.verdict == "fail"
    assert "c1 put 'k' (seq 7) invoked at 200 ms, unanswered at 601 ms" in result.details


def test_timeouts_while_a_fault_is_in_force_do_not_count() -> None:
    history = [op("invoke", 0, 50), op("info", 0, 5050)]
    assert check(history, healed_ms=None).verdict == "pass"


def test_not_converging_fails_as_liveness() -> None:
    result = check([], quiescent=False)
    assert result.verdict == "fail" and "did not converge within 5000 ms" in result.details


def test_run_errors_fail_as_liveness() -> None:
    result = liveness_check([], 0.0, 500, True, 5000, errors=["run_timeout_s reached"])
    assert result.verdict == "fail" and "run_timeout_s reached" in result.details


def test_a_correct_run_with_a_healed_fault_passes_and_records_when_it_healed() -> None:
    config = shipped("basic")
    config = dataclasses.replace(config, faults=(
        SetNetwork(at_ms=100, changes=(("drop_probability", 1.0),)),
        SetNetwork(at_ms=600, changes=(("drop_probability", 0.0),)),
    ))
    sim_run = simulate(config, 1)
    assert sim_run.healed_ms == 600
    (liveness,) = [c for c in verdicts(sim_run) if c.name == "liveness"]
    assert liveness.verdict == "pass", liveness.details


def test_clients_that_never_wait_long_enough_fail_liveness_in_the_simulator() -> None:
    """No fault at all, but every op times out before any answer can arrive: the run is
    safe (nothing acknowledged), yet it does not make progress, and liveness says so."""
    config = shipped("basic")
    config = dataclasses.replace(
        config, clients=dataclasses.replace(config.clients, op_timeout_ms=1,
                                            request_timeout_ms=1),
        checks=dataclasses.replace(config.checks, liveness_timeout_ms=10))
    checks = {c.name: c for c in verdicts(simulate(config, 1))}
    assert checks["liveness"].verdict == "fail"
    assert "unanswered" in checks["liveness"].details
    assert checks["chains_identical"].verdict == "pass"


def test_a_sweep_reports_liveness_failures_apart_from_safety_failures() -> None:
    config = shipped("basic")
    config = dataclasses.replace(
        config, clients=dataclasses.replace(config.clients, op_timeout_ms=1,
                                            request_timeout_ms=1),
        checks=dataclasses.replace(config.checks, liveness_timeout_ms=10))
    out = io.StringIO()
    outcome = run_sweep(config, 1, 2, out, "basic.yaml")
    assert [f.kind for f in outcome.failures] == ["liveness", "liveness"]
    assert out.getvalue().endswith("2 of 2 seeds failed: 0 safety, 2 liveness only\n")
