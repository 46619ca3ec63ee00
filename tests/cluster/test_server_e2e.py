"""Real server processes on 127.0.0.1: elect, commit a client's op, survive kill -9 of
the leader and catch up from the record file, cut and fix links by admin, pause and
resume, and refuse a busy port by naming who holds it."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from tests.cluster.harness import LocalCluster, MiniClient, wait_until, write_cluster


def test_three_servers_elect_a_leader_and_a_clients_put_commits_everywhere(
        tmp_path: Path) -> None:
    with LocalCluster(write_cluster(tmp_path, 3)) as cluster:
        leader = cluster.wait_ready()
        with MiniClient(cluster.cluster, 7) as client:
            put = client.request((leader + 1) % 3, "put", "('alice', 1)", "{'phone': '858-1'}")
            assert put.outcome == "ok"
            get = client.request(leader, "get", "('alice', 1)", None)
            assert get.outcome == "ok" and get.value == "{'phone': '858-1'}"
        height = cluster.wait_converged([0, 1, 2])
        assert height >= 2
        dump = cluster.admin(1, {"cmd": "dump"})
        assert dump["kv"] == {"('alice', 1)": "{'phone': '858-1'}"} and dump["difficulty"] == 0
        status = cluster.status(leader)
        assert status is not None and status["pid"] == cluster.procs[leader].pid
        assert status["links"] == {f"s{i}": "up" for i in range(3) if i != leader}


def test_kill_9_of_the_leader_fails_over_and_the_restarted_one_catches_up(
        tmp_path: Path) -> None:
    with LocalCluster(write_cluster(tmp_path, 3)) as cluster, \
            MiniClient(cluster.cluster, 3) as client:
        old = cluster.wait_ready()
        for n in range(3):
            assert client.request(old, "put", repr(n), repr(n * n)).outcome == "ok"
        cluster.kill(old)
        new = cluster.wait_leader(not_=old)
        assert client.request(new, "put", "'after'", "'failover'").outcome == "ok"
        cluster.start(old)
        height = cluster.wait_converged([0, 1, 2])
        assert height >= 4
        log = (cluster.cluster.server_dir(old) / "server.log").read_text()
        assert "recovered" in log and "blocks" in log
        dump = cluster.admin(old, {"cmd": "dump"})
        assert dump["kv"] == {"0": "0", "1": "1", "2": "4", "'after'": "'failover'"}


def test_fail_link_and_fix_link_by_admin(tmp_path: Path) -> None:
    with LocalCluster(write_cluster(tmp_path, 3)) as cluster:
        leader = cluster.wait_ready()
        follower = (leader + 1) % 3
        fault = {"cmd": "fault", "net": {"cmd": "fail_link", "a": f"s{leader}",
                                         "b": f"s{follower}"}}
        for end in (leader, follower):
            assert cluster.admin(end, fault)["ok"]
        status = cluster.status(leader)
        assert status is not None and status["links"][f"s{follower}"] == "cut"
        # The other follower makes the majority; the cut one falls behind.
        with MiniClient(cluster.cluster, 1) as client:
            assert client.request(leader, "put", "'x'", "1").outcome == "ok"
        fix = {"cmd": "fault", "net": {"cmd": "fix_link", "a": f"s{leader}",
                                       "b": f"s{follower}"}}
        for end in (leader, follower):
            assert cluster.admin(end, fix)["ok"]
        wait_until(lambda: (cluster.status(leader) or {}).get("links", {}).get(
            f"s{follower}") == "up", 5, "the link back up")
        cluster.wait_converged([0, 1, 2])


def test_a_paused_leader_is_replaced_and_steps_down_after_resume(tmp_path: Path) -> None:
    with LocalCluster(write_cluster(tmp_path, 3)) as cluster:
        old = cluster.wait_ready()
        assert cluster.admin(old, {"cmd": "pause", "ms": None})["ok"]
        paused = cluster.status(old)
        assert paused is not None and paused["paused"] is True  # commands still answer
        new = cluster.wait_leader(not_=old)
        assert cluster.admin(old, {"cmd": "resume"})["ok"]
        wait_until(lambda: (cluster.status(old) or {}).get("role") == "follower", 5,
                   "the old leader stepping down")
        assert cluster.wait_leader() == new


def test_crash_replies_then_sigkills_and_stop_exits_cleanly(tmp_path: Path) -> None:
    with LocalCluster(write_cluster(tmp_path, 3)) as cluster:
        # Every server answering, not just a leader and one follower: a majority can elect
        # while s2 is still starting, before it wrote its pid file (it writes that before
        # it answers admin requests or installs its SIGTERM handler).
        cluster.wait_ready()
        pid_file = cluster.cluster.server_dir(2) / "server.pid"
        assert pid_file.read_text().strip() == str(cluster.procs[2].pid)
        assert cluster.admin(2, {"cmd": "crash"})["ok"]
        assert cluster.wait_exit(2) == -signal.SIGKILL
        assert pid_file.exists()  # a crash leaves it behind, as kill -9 does
        assert cluster.admin(1, {"cmd": "stop"})["ok"]
        assert cluster.wait_exit(1) == 0
        assert not (cluster.cluster.server_dir(1) / "server.pid").exists()
        cluster.signal(0, signal.SIGTERM)
        assert cluster.wait_exit(0) == 0
        assert "s0 stopped" in (cluster.cluster.server_dir(0) / "server.log").read_text()


def test_a_busy_port_exits_2_naming_its_holder(tmp_path: Path) -> None:
    path = write_cluster(tmp_path, 3)
    with LocalCluster(path, start=False) as cluster:
        port = cluster.cluster.servers[0].listen.port
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            cluster.start(0)
            assert cluster.wait_exit(0) == 2
        stderr = cluster.stderr_path(0).read_text()
        assert f"port {port} is in use by pid {os.getpid()}" in stderr
        assert not (cluster.cluster.server_dir(0) / "server.pid").exists()
