"""The run phases' pure rules: when a run is quiescent, when the workload is done, what
the recover phase does (paxlab.scenario.phases), shared by the lab and the simulator."""

from __future__ import annotations

from paxlab.scenario.phases import (
    QUIET_POLLS,
    ServerStatus,
    is_workload_done,
    plan_recovery,
    quiet_polls,
    run_phases,
)

SAME = [ServerStatus(commit=4, tip="ab", busy=False)] * 3


def test_quiescent_after_two_agreeing_polls_with_nobody_busy() -> None:
    quiet = 0
    for _ in range(QUIET_POLLS):
        quiet = quiet_polls(quiet, SAME)
    assert quiet == QUIET_POLLS == 2


def test_a_lagging_server_or_a_busy_leader_starts_the_count_again() -> None:
    lagging = [*SAME[:2], ServerStatus(commit=3, tip="aa", busy=False)]
    busy = [ServerStatus(commit=4, tip="ab", busy=True), *SAME[1:]]
    forked = [*SAME[:2], ServerStatus(commit=4, tip="ff", busy=False)]
    for statuses in (lagging, busy, forked):
        assert quiet_polls(1, statuses) == 0


def test_workload_done_when_each_client_finished_or_is_down_and_no_fault_is_due() -> None:
    finished = {"c0"}
    down = {"c1"}
    assert is_workload_done(["c0", "c1"], finished.__contains__, down.__contains__, 0)
    assert not is_workload_done(["c0", "c1", "c2"], finished.__contains__,
                                down.__contains__, 0)
    # A fault still scheduled may restart c1: no client alive is not the end.
    assert not is_workload_done(["c0", "c1"], finished.__contains__, down.__contains__, 1)


def test_recovery_resumes_then_restarts_in_server_order() -> None:
    plan = plan_recovery(["s0", "s1", "s2", "s3"], {"s3", "s1"}.__contains__,
                         {"s2"}.__contains__)
    assert plan.resume == ("s1", "s3") and plan.restart == ("s2",)


def test_phases_run_in_order() -> None:
    calls: list[str] = []

    class Driver:
        def run_workload(self) -> None:
            calls.append("workload")

        def recover_everything(self) -> None:
            calls.append("recover")

        def quiesce(self) -> bool:
            calls.append("quiesce")
            return True

        def give_up(self) -> None:
            calls.append("give up")

    assert run_phases(Driver()) is True
    assert calls == ["workload", "recover", "quiesce", "give up"]
