"""The simulated disk: a crash keeps what was synced and a seeded prefix of what was only
written; and the `no-fsync` mutant, which replies before its records are synced, is caught
by the checks where the correct protocol (persist = write + sync) passes."""

from __future__ import annotations

import dataclasses
import random

import pytest

from paxlab.config import Config
from paxlab.config.types import Crash, Restart
from paxlab.core.ids import Ballot
from paxlab.core.output import PromisedRecord, Record
from paxlab.sim.cluster import SimCluster
from paxlab.sim.disk import LazySyncStorage, SimDisk, disk_counts
from paxlab.sim.mutants import get_mutant
from paxlab.sim.run import simulate, verdicts
from tests.sim.helpers import shipped

# seeds for the sim runs below: the mutant must be caught in it, the correct protocol pass
SEEDS = range(1, 21)


def promises(first: int, count: int) -> list[Record]:
    return [PromisedRecord(ballot=Ballot(round, 0)) for round in range(first, first + count)]


def test_synced_records_survive_a_crash() -> None:
    disk = SimDisk()
    disk.write(promises(1, 3))
    disk.sync()
    for seed in range(20):
        assert disk.crash(random.Random(seed)) == 0
    assert disk.records == promises(1, 3)
    assert (disk.writes, disk.syncs, disk.lost) == (3, 1, 0)


def test_persist_is_write_and_sync_so_it_always_survives() -> None:
    disk = SimDisk()
    rng = random.Random("persist")
    for round in range(1, 30):
        disk.persist(promises(round, 1))
        assert disk.crash(rng) == 0
    assert disk.records == promises(1, 29)
    assert disk.unsynced == []


def test_unsynced_records_may_be_lost_as_a_prefix_without_holes() -> None:
    kept_counts = set()
    for seed in range(200):
        disk = SimDisk()
        disk.persist(promises(1, 2))
        disk.write(promises(3, 5))
        assert disk.records == promises(1, 7), "written records are readable before a crash"
        lost = disk.crash(random.Random(seed))
        kept = 5 - lost
        assert disk.records == promises(1, 2 + kept)  # synced, then a prefix of the rest
        assert disk.unsynced == [] and disk.lost == lost
        kept_counts.add(kept)
    assert kept_counts == set(range(6)), "none, some and all of the buffer must be possible"


def test_the_same_seed_loses_the_same_records() -> None:
    def after_crashes(seed: str) -> list[Record]:
        disk, rng = SimDisk(), random.Random(seed)
        for round in range(1, 60, 6):
            disk.write(promises(round, 6))
            disk.crash(rng)
        return disk.records

    assert after_crashes("7:disk:0") == after_crashes("7:disk:0")
    assert len({tuple(after_crashes(f"{seed}:disk:0")) for seed in range(5)}) > 1


def test_lazy_sync_writes_now_and_syncs_once_the_interval_is_over() -> None:
    disk, now, scheduled = SimDisk(), [0.0], []
    lazy = LazySyncStorage(disk, lambda: now[0], scheduled.append, interval_ms=200)
    lazy.persist(promises(1, 1))
    now[0] = 50
    lazy.persist(promises(2, 1))
    assert scheduled == [200] and disk.durable == [] and len(disk.unsynced) == 2
    now[0] = 150
    lazy.write_back(now[0])  # early: nothing synced
    assert disk.durable == []
    now[0] = 200
    lazy.write_back(now[0])
    assert disk.durable == promises(1, 2) and disk.unsynced == []


def test_a_write_back_from_before_a_crash_does_not_sync_later_writes_early() -> None:
    disk, now, scheduled = SimDisk(), [0.0], []
    lazy = LazySyncStorage(disk, lambda: now[0], scheduled.append, interval_ms=200)
    lazy.persist(promises(1, 1))
    now[0] = 100
    while disk.crash(random.Random("lose")) == 0:  # find a crash that loses the record
        disk.write(promises(1, 1))
    lazy.persist(promises(2, 1))  # a new dirty period, due at 300
    now[0] = 200
    lazy.write_back(now[0])  # the old period's write-back
    assert disk.unsynced == promises(2, 1)
    assert scheduled == [200, 300]


def test_disk_counts_sum_the_disks() -> None:
    a, b = SimDisk(), SimDisk()
    a.persist(promises(1, 2))
    b.write(promises(1, 3))
    while b.crash(random.Random(1)) == 0:
        b.write(promises(1, 3))
    counts = disk_counts([a, b])
    assert counts["disk_writes"] == a.writes + b.writes and counts["disk_syncs"] == 1
    assert counts["disk_records_lost"] == b.lost > 0


def crash_all_often() -> Config:
    """crash_restart_all in 1.2 s with cheap proof of work: every server is killed at
    400 ms and at 800 ms, each time while clients write and for 100 ms, inside the
    mutant's 200 ms write-back window. Only a correct disk discipline survives that."""
    config = shipped("crash_restart_all")
    return dataclasses.replace(
        config,
        name="crash_all_often",
        cluster=dataclasses.replace(config.cluster, difficulty=2),
        workload=dataclasses.replace(config.workload, duration_ms=1200, think_time_ms=10),
        faults=(Crash(at_ms=400, target="all"), Restart(at_ms=500, target="all"),
                Crash(at_ms=800, target="all"), Restart(at_ms=900, target="all")),
    )


def failed_checks(seed: int, mutant: str | None) -> set[str]:
    return {c.name for c in verdicts(simulate(crash_all_often(), seed, mutant))
            if c.verdict != "pass"}


def test_the_correct_protocol_survives_crashing_every_server() -> None:
    failing = {seed: names for seed in SEEDS if (names := failed_checks(seed, None))}
    assert failing == {}


def disk_counts_of(seed: int, mutant: str | None) -> dict[str, int]:
    cluster = SimCluster(dataclasses.replace(crash_all_often(), seed=seed), seed,
                         get_mutant(mutant))
    cluster.run()
    return disk_counts(server.disk for server in cluster.server_nodes.values())


def test_only_the_mutant_leaves_records_unsynced_and_loses_them() -> None:
    correct, mutant = disk_counts_of(1, None), disk_counts_of(1, "no-fsync")
    assert correct["disk_writes"] > 0 and correct["disk_records_lost"] == 0
    assert mutant["disk_records_lost"] > 0
    assert mutant["disk_syncs"] < correct["disk_syncs"], "write-back batches many writes"


def test_no_fsync_is_caught_by_the_invariant_monitor_and_lost_writes() -> None:
    """Lamport, Paxos Made Simple: an acceptor "must remember this information even if it
    fails and then restarts". The mutant forgets promises and votes it already sent, so
    it breaks a promise (the online monitor sees it) and loses acknowledged writes."""
    for seed in SEEDS:
        failed = failed_checks(seed, "no-fsync")
        if failed:
            assert {"invariants", "no_lost_writes"} <= failed, (seed, failed)
            return
    pytest.fail(f"no-fsync was not caught in seeds {SEEDS.start}-{SEEDS.stop - 1}")


def test_fsync_never_in_the_config_loses_records_in_the_simulator_too() -> None:
    """`cluster.fsync: never` is a real setting (benchmarks), and the simulator models it
    as a real disk would: what was not synced may vanish in a crash."""
    config = crash_all_often()
    config = dataclasses.replace(config, cluster=dataclasses.replace(config.cluster,
                                                                     fsync="never"))
    sim_run = simulate(config, 1)
    assert sim_run.counts["disk_records_lost"] > 0
    assert simulate(crash_all_often(), 1).counts["disk_records_lost"] == 0
