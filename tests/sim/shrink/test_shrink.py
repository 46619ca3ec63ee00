"""The shrinker and its YAML reproducers: a planted bug's failing seed shrinks to fewer
faults and ops, the reproducer loads back as the same config and fails the same check,
`paxlab run` accepts it, and a passing seed is refused. The search itself is tested on a
fake judge, so its choices can be checked exactly and without simulating."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from paxlab import lab
from paxlab.check import CheckResult
from paxlab.cli import ExitCode, main
from paxlab.config import Config, config_to_dict, load_config
from paxlab.config.types import Heal, Isolate, PartitionHalves, ScriptedOp, SetNetwork
from paxlab.sim.run import simulate, verdicts
from paxlab.sim.shrink import search as shrink_search
from paxlab.sim.shrink.pin import pin
from paxlab.sim.shrink.reproducer import Origin, reproducer_yaml, write_reproducer
from paxlab.sim.shrink.search import failure_kinds, matches
from paxlab.sim.shrink.shrinker import ShrinkError, ShrinkResult, shrink
from tests.sim.helpers import CONFIGS, shipped, short_nemesis
from tests.sim.test_mutants import leader_churn

MUTANT = "skip-adopt"
SEED = 1  # leader_churn's first seed that catches skip-adopt (tests/sim/test_mutants.py)


@pytest.fixture(scope="module")
def shrunk() -> ShrinkResult:
    """One real shrink, kept small: about ten simulations of leader_churn."""
    return shrink(leader_churn(), SEED, MUTANT, budget=10)


def test_a_mutant_failure_shrinks_to_fewer_faults_and_ops(shrunk: ShrinkResult) -> None:
    assert shrunk.reproduces and shrunk.pin_note == ""
    assert shrunk.simulations <= 10 and "budget" in shrunk.stopped
    assert shrunk.failed_check in shrunk.target_checks
    assert shrunk.faults_after + shrunk.ops_after < shrunk.faults_before + shrunk.ops_before
    assert shrunk.faults_after == len(shrunk.config.faults)
    assert shrunk.ops_after == len(shrunk.config.workload.ops)
    assert shrunk.steps and all("left (simulation" in step for step in shrunk.steps)
    assert shrunk.config.name == f"leader_churn-seed{SEED}-repro"


def test_the_reproducer_loads_back_and_fails_the_same_check(
        shrunk: ShrinkResult, tmp_path: Path) -> None:
    origin = Origin(config_file="leader_churn.yaml", name="leader_churn")
    path = write_reproducer(shrunk.config, SEED, MUTANT, shrunk.failed_check, origin, tmp_path)
    assert path.name == f"leader_churn-seed{SEED}-{MUTANT}.yaml"
    loaded = load_config(path)
    assert dataclasses.replace(loaded, source=shrunk.config.source) == shrunk.config
    failed = {c.name for c in verdicts(simulate(loaded, SEED, MUTANT)) if c.verdict != "pass"}
    assert shrunk.failed_check in failed


def test_paxlab_run_accepts_the_reproducer(shrunk: ShrinkResult, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `paxlab run`'s own loading, up to where the lab would start."""
    path = tmp_path / "repro.yaml"
    path.write_text(reproducer_yaml(shrunk.config, SEED, None, shrunk.failed_check,
                                    Origin(config_file="", name="leader_churn")))
    started: list[Config] = []

    class Stop(Exception):
        pass

    def fake_run_lab(config: Config, *args: Any, **kwargs: Any) -> None:
        started.append(config)
        raise Stop

    monkeypatch.setattr(lab, "run_lab", fake_run_lab)
    with pytest.raises(Stop):
        main(["run", str(path), "--results", str(tmp_path / "results")])
    assert started == [load_config(path)]


def test_the_header_says_where_it_came_from_and_how_to_replay(tmp_path: Path) -> None:
    config = shipped("leader_crash")
    origin = Origin(config_file="configs/leader_crash.yaml", name="leader_crash",
                    swarm="kinds crash", notes=("Shrunk by hand",))
    text = reproducer_yaml(config, 7, None, "linearizable", origin, "r/x.yaml")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "# From: config configs/leader_crash.yaml, seed 7, swarm options kinds crash" in header
    assert "# Fails: linearizable" in header and "# Shrunk by hand" in header
    assert "#   paxlab sim r/x.yaml --seed 7" in header and "#   paxlab run r/x.yaml" in header
    assert yaml.safe_load(text)["seed"] == 7
    mutant = reproducer_yaml(config, 7, "stale-read", "linearizable", origin, "r/x.yaml")
    assert "#   paxlab sim r/x.yaml --seed 7 --mutant stale-read" in mutant
    assert "paxlab run" not in mutant


def test_every_fault_shape_round_trips(tmp_path: Path) -> None:
    """Whatever config_to_dict writes, the loader reads back as the same config."""
    config = shipped("nemesis_mix")
    path = tmp_path / "all.yaml"
    path.write_text(reproducer_yaml(config, config.seed, None, "liveness",
                                    Origin(config_file="", name="nemesis_mix")))
    assert dataclasses.replace(load_config(path), source=config.source) == config


def test_pin_writes_out_the_run_as_it_happened() -> None:
    config = short_nemesis()
    sim_run = simulate(config, 3)
    pinned = pin(config, sim_run)
    invokes = [e for e in sim_run.records.history if e["type"] == "invoke"]
    assert pinned.name == "nemesis_short-seed3-repro" and pinned.seed == 3
    assert pinned.workload.type == "scripted" and len(pinned.workload.ops) == len(invokes)
    for client in range(config.clients.count):
        mine = [(e["f"], e["key"], e["value"]) for e in invokes if e["process"] == client]
        ops = [(op.f, op.key, op.value) for op in pinned.workload.ops if op.client == client]
        assert ops == mine
    assert not any(isinstance(f, PartitionHalves) for f in pinned.faults)  # drawn: written out
    assert len(pinned.faults) > 1 and [f.at_ms for f in pinned.faults] == sorted(
        f.at_ms for f in pinned.faults)


def test_a_passing_seed_is_refused() -> None:
    with pytest.raises(ShrinkError, match="basic --seed 1 passes every check: nothing to"):
        shrink(shipped("basic"), 1)


# --- the search, on a fake judge -----------------------------------------------------------

def _scripted(ops: list[ScriptedOp], faults: tuple[Any, ...], clients: int) -> Config:
    base = shipped("basic")
    return dataclasses.replace(
        base, faults=faults, clients=dataclasses.replace(base.clients, count=clients),
        workload=dataclasses.replace(base.workload, type="scripted", ops_per_client=None,
                                     ops=tuple(ops)))


def _get(at_ms: int, client: int) -> ScriptedOp:
    return ScriptedOp(at_ms=at_ms, client=client, f="get", key="'k0'", value=None)


NEEDED_FAULT = Isolate(at_ms=300, target="leader")
NEEDED_OP = _get(450, 2)


def _toy() -> Config:
    """Twelve faults and twenty ops over four clients, of which the fake judge needs one
    fault and one op (client 2's op at 450 ms)."""
    faults = sorted([NEEDED_FAULT, Heal(at_ms=900)] + [
        SetNetwork(at_ms=100 * i + 50, changes=(("delay_ms_mean", float(i)),))
        for i in range(10)], key=lambda f: f.at_ms)
    ops = [_get(50 * i, i % 4) for i in range(20) if (50 * i, i % 4) != (450, 2)]
    return _scripted(sorted([*ops, NEEDED_OP], key=lambda op: op.at_ms), tuple(faults), 4)


def _judge(crash_without: Any = None) -> Any:
    """A fake trial: linearizable fails while the needed fault and op are in the config;
    with `crash_without`, configs lacking that fault crash instead."""
    def trial(config: Config, seed: int, mutant: str | None) -> tuple[list[CheckResult], None]:
        if crash_without is not None and crash_without not in config.faults:
            return [CheckResult("crashed", "fail", "KeyError: 'x'")], None
        ops = [(op.at_ms, op.f) for op in config.workload.ops]
        bad = NEEDED_FAULT in config.faults and (NEEDED_OP.at_ms, NEEDED_OP.f) in ops
        return [CheckResult("linearizable", "fail" if bad else "pass", "fake")], None
    return trial


FIRST = ([CheckResult("linearizable", "fail", "fake")], None)


def test_the_search_finds_the_fault_and_op_that_matter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shrink_search, "trial", _judge())
    lines: list[str] = []
    result = shrink(_toy(), 1, first=FIRST, progress=lines.append)
    assert result.config.faults == (NEEDED_FAULT,)
    assert len(result.config.workload.ops) == 1
    assert result.config.clients.count == 1  # client 2, alone, renumbered to 0
    assert result.config.workload.ops[0].client == 0
    assert result.stopped == "nothing more could be dropped"
    assert result.failed_check == "linearizable"
    assert lines == list(result.steps) and len(lines) >= 3
    again = shrink(_toy(), 1, first=FIRST)
    assert (again.config, again.steps, again.simulations) == (
        result.config, result.steps, result.simulations)


def test_the_budget_bounds_the_simulations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shrink_search, "trial", _judge())
    result = shrink(_toy(), 1, first=FIRST, budget=5)
    assert result.simulations == 5 and result.stopped == "budget of 5 simulations used"
    assert NEEDED_FAULT in result.config.faults


def test_a_crash_does_not_stand_in_for_the_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    heal = Heal(at_ms=900)
    monkeypatch.setattr(shrink_search, "trial", _judge(crash_without=heal))
    result = shrink(_toy(), 1, first=FIRST)
    assert heal in result.config.faults and NEEDED_FAULT in result.config.faults
    assert failure_kinds([CheckResult("crashed", "fail", "KeyError: 'x'")]) == ("crashed:KeyError",)
    assert matches("crashed:KeyError", "crashed")
    assert not matches("crashed:KeyError", "crashed:AssertionError")
    assert not matches("crashed:KeyError", "linearizable")


def test_when_pinning_loses_the_failure_the_result_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from paxlab.sim.shrink import shrinker as shrink_module

    def lossy_pin(config: Config, sim_run: Any) -> Config:
        return _scripted([_get(10, 0)], (), config.clients.count)  # fails nothing

    monkeypatch.setattr(shrink_module, "pin", lossy_pin)
    result = shrink(leader_churn(), SEED, MUTANT, budget=3)
    assert result.reproduces
    assert result.pin_note.startswith("pinning the op list lost the failure")
    assert result.config.workload.type == "generated"


# --- the command ----------------------------------------------------------------------------

def test_cli_shrinks_writes_and_replays(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "leader_churn.yaml"
    source.write_text(yaml.safe_dump(config_to_dict(leader_churn()), sort_keys=False))
    repro = tmp_path / "repro"
    code = main(["sim", str(source), "--seed", str(SEED), "--mutant", MUTANT, "--shrink",
                 "--repro-dir", str(repro), "--shrink-budget", "6"])
    assert code == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    path = repro / f"leader_churn-seed{SEED}-{MUTANT}.yaml"
    assert path.exists()
    assert "CHECKS FAILED" in out and "  shrink: dropped " in out
    assert "faults 6 -> " in out and "ops " in out and "virtual ms" in out
    assert f"reproducer: {path}" in out
    assert f"replay with: paxlab sim {path} --seed {SEED} --mutant {MUTANT}" in out
    assert f"replayed {path}: " in out and " fails again" in out


def test_cli_refuses_a_passing_seed_and_bad_combinations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basic = str(CONFIGS / "basic.yaml")
    assert main(["sim", basic, "--seed", "1", "--shrink", "--repro-dir", str(tmp_path)]) == 0
    assert "nothing to shrink" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert main(["sim", basic, "--seeds", "1-3", "--shrink"]) == ExitCode.BAD_INPUT
    assert main(["sim", basic, "--shrink", "--shrink-budget", "0"]) == ExitCode.BAD_INPUT
    assert "--shrink" in capsys.readouterr().err
