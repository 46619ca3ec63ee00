"""Swarm testing: each seed draws a fault mix within what the config allows, the same draw
for the same seed in any process, another draw for another seed, and `--seed N --swarm`
replays seed N of a sweep exactly."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from paxlab.cli import ExitCode, main
from paxlab.config import Config, config_to_dict, parse_config
from paxlab.config.types import Crash, Heal, Nemesis, NetworkConfig
from paxlab.sim.swarm import INTERVAL_SCALES, LOSS_LEVELS, NO_NEMESIS, swarm_config
from paxlab.sim.sweep import check_seed
from tests.sim.helpers import short_nemesis
from tests.sim.test_mutants import leader_churn

CONFIG = short_nemesis()
(NEMESIS,) = CONFIG.faults
assert isinstance(NEMESIS, Nemesis)
SEEDS = range(1, 201)


def lossy(config: Config) -> Config:
    network = dataclasses.replace(config.network, drop_probability=0.2,
                                  duplicate_probability=0.1)
    return dataclasses.replace(config, network=network)


def churn_nemesis() -> Config:
    """leader_churn's cluster and clients under a leader-hunting nemesis: with the
    ack-before-majority mutant some seeds fail within a second of CPU."""
    config = leader_churn()
    return dataclasses.replace(
        config, name="churn_nemesis",
        workload=dataclasses.replace(config.workload, duration_ms=1500),
        faults=(Nemesis(at_ms=300, kinds=("isolate_leader", "crash_leader", "pause_leader",
                                          "one_way_link"),
                        interval_ms=1000, until_ms=2800, seed=None),))


def test_same_seed_same_draw() -> None:
    assert swarm_config(CONFIG, 7) == swarm_config(CONFIG, 7)


def test_same_draw_in_another_process_with_another_hash_seed() -> None:
    """Catches set order leaking into the drawn kinds (STYLE.md section 4)."""
    code = ("from tests.sim.helpers import short_nemesis; from paxlab.sim.swarm import "
            "swarm_config; print(swarm_config(short_nemesis(), 7)[1])")
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == str(swarm_config(CONFIG, 7)[1])


def test_different_seeds_draw_differently() -> None:
    draws = {swarm_config(CONFIG, seed)[0].faults for seed in range(20)}
    assert len(draws) >= 15


def test_draws_stay_within_the_config() -> None:
    config = lossy(CONFIG)
    kinds_seen: set[str] = set()
    scales_seen: set[float] = set()
    for seed in SEEDS:
        drawn, lines = swarm_config(config, seed)
        (nemesis,) = drawn.faults
        assert isinstance(nemesis, Nemesis)
        assert nemesis.kinds and set(nemesis.kinds) <= set(NEMESIS.kinds)
        assert list(nemesis.kinds) == [k for k in NEMESIS.kinds if k in nemesis.kinds]
        assert (nemesis.at_ms, nemesis.until_ms, nemesis.seed) == (
            NEMESIS.at_ms, NEMESIS.until_ms, NEMESIS.seed)
        scale = nemesis.interval_ms / NEMESIS.interval_ms
        assert scale in INTERVAL_SCALES
        assert drawn.network.drop_probability in {0.2 * level for level in LOSS_LEVELS}
        assert drawn.network.duplicate_probability in {0.1 * level for level in LOSS_LEVELS}
        assert (drawn.cluster, drawn.clients, drawn.workload) == (
            config.cluster, config.clients, config.workload)
        assert len(lines) == 2 and f"interval {nemesis.interval_ms} ms" in lines[0]
        kinds_seen |= set(nemesis.kinds)
        scales_seen.add(scale)
    assert kinds_seen == set(NEMESIS.kinds)  # every kind is on in some seed
    assert scales_seen == set(INTERVAL_SCALES)
    sizes = {len(swarm_config(config, seed)[0].faults[0].kinds) for seed in SEEDS}  # type: ignore[union-attr]
    assert 1 in sizes and len(NEMESIS.kinds) in sizes


def test_a_drawn_config_is_a_valid_config() -> None:
    drawn, _ = swarm_config(lossy(CONFIG), 3)
    assert parse_config(config_to_dict(drawn), drawn.source) == drawn


def test_interval_stays_at_least_one_ms() -> None:
    tiny = dataclasses.replace(CONFIG, faults=(dataclasses.replace(NEMESIS, interval_ms=1),))
    intervals = {swarm_config(tiny, seed)[0].faults[0].interval_ms  # type: ignore[union-attr]
                 for seed in range(30)}
    assert intervals == {1, 2}  # 0.5x and 0.75x round up to the floor of 1 ms


def test_no_nemesis_no_draw_and_says_so() -> None:
    plain = dataclasses.replace(lossy(CONFIG), faults=(Crash(at_ms=5, target=1),
                                                       Heal(at_ms=9)))
    assert swarm_config(plain, 4) == (plain, [NO_NEMESIS])


def test_clean_network_is_left_alone() -> None:
    clean = NetworkConfig(delay_ms_mean=1.0, delay_ms_jitter=0.5, drop_probability=0.0,
                          duplicate_probability=0.0)
    config = dataclasses.replace(CONFIG, network=clean)
    drawn, lines = swarm_config(config, 5)
    assert drawn.network == clean and len(lines) == 1


def test_seed_and_swarm_replays_a_sweep_seed(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep's failing seed and `paxlab sim CONFIG --seed N --swarm --mutant M` fail the
    same checks, and the single run prints the options the seed drew."""
    config = churn_nemesis()
    path = tmp_path / "churn.yaml"
    path.write_text(yaml.safe_dump(config_to_dict(config)))
    swept = check_seed(config, 1, "ack-before-majority", swarm=True)
    assert swept.failed
    code = main(["sim", str(path), "--seed", "1", "--swarm", "--mutant", "ack-before-majority"])
    assert code == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    _, drawn = swarm_config(config, 1)
    assert list(swept.options) == drawn and "\n".join(drawn) in out
    names = ", ".join(check.name for check in swept.checks)
    assert f"CHECKS FAILED: {names}\n" in out
