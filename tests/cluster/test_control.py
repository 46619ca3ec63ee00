"""`paxlab cluster init|up|down|status` against a fake cluster (real processes, fake admin):
what each prints and returns, and each bad input's exit code and message."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paxlab.cli.main import main
from paxlab.cluster import control, procs
from paxlab.cluster.clusterfile import load_cluster_file
from paxlab.cluster.control import Control, ControlError, down, up
from paxlab.cluster.control_status import cluster_status, verdict
from paxlab.cluster.procs import is_alive, read_pid, running_server
from tests.cluster.control_fake import FakeCluster, make_cluster, stop_all


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """A 3-server fake cluster; the CLI's admin and starter are the fake's too."""
    fake = FakeCluster(make_cluster(tmp_path / "demo"), tmp_path)
    monkeypatch.setattr(control, "wire_admin", fake.admin)
    monkeypatch.setattr(control, "start_server", fake.start)
    yield fake
    stop_all(fake)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- init -------------------------------------------------------------------------------


def test_init_writes_a_loadable_file_and_a_private_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "cluster", "init", str(tmp_path / "demo"), "--servers", "5")
    assert code == 0 and "paxlab cluster up --cluster" in out
    cf = load_cluster_file(tmp_path / "demo" / "cluster.yaml")
    assert len(cf.servers) == 5 and len({e.address.port for e in cf.servers.values()}) == 5
    assert stat.S_IMODE(os.stat(tmp_path / "demo" / "secret").st_mode) == 0o600
    assert cf.secret is not None and len(cf.secret) == 64
    code, _, err = cli(capsys, "cluster", "init", str(tmp_path / "demo"), "--servers", "3")
    assert code == 2 and "already exist; not overwriting" in err
    assert len(load_cluster_file(tmp_path / "demo" / "cluster.yaml").servers) == 5


def test_init_json_and_base_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "cluster", "init", str(tmp_path / "d"), "--servers", "2",
                       "--base-port", "7100", "--host", "10.1.2.3", "--json")
    assert code == 0
    assert json.loads(out)["servers"] == {"s0": "10.1.2.3:7100", "s1": "10.1.2.3:7101"}


@pytest.mark.parametrize(("args", "message"), [
    (["--servers", "0"], "--servers 0: expected an integer from 1 to 15"),
    (["--servers", "16"], "--servers 16: expected an integer from 1 to 15"),
    (["--servers", "3", "--host", "0.0.0.0"], "others cannot dial 0.0.0.0"),
    (["--servers", "3", "--host", "a b"], "expected a host name or IP address"),
    (["--servers", "3", "--base-port", "65535"], "expected a port from 1 to 65533"),
    (["--servers", "3", "--host", "10.1.2.3"], "give --base-port"),
])
def test_init_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                        message: str) -> None:
    code, _, err = cli(capsys, "cluster", "init", str(tmp_path / "x"), *args)
    assert code == 2 and message in err
    assert not (tmp_path / "x" / "secret").exists()


def test_a_bad_or_missing_cluster_file_is_exit_2(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "cluster", "status", "--cluster", str(tmp_path / "no.yaml"))
    assert code == 2 and "no such cluster file" in err
    (tmp_path / "bad.yaml").write_text("servers: {0: '0.0.0.0:1'}\n")
    code, _, err = cli(capsys, "cluster", "up", "--cluster", str(tmp_path / "bad.yaml"))
    assert code == 2 and "bad.yaml: servers.0 = '0.0.0.0:1'" in err


# --- up and down ------------------------------------------------------------------------


def test_up_starts_waits_for_a_leader_and_down_stops_twice(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    file = str(fake.cluster.path)
    code, out, _ = cli(capsys, "cluster", "up", "--cluster", file)
    assert code == 0, out
    pids = [read_pid(fake.cluster, sid) for sid in range(3)]
    assert all(pid and is_alive(pid) for pid in pids)
    assert "s0 started (pid" in out and "leader: s0" in out
    assert f"connect a client: paxlab client 7 --cluster {file}" in out
    code, out, _ = cli(capsys, "cluster", "up", "--cluster", file, "--json")
    assert code == 0 and json.loads(out)["servers"]["s1"] == {"state": "running",
                                                              "pid": pids[1]}
    code, out, _ = cli(capsys, "cluster", "down", "--cluster", file)
    assert code == 0 and out.count(" stopped (pid") == 3, out
    assert not any(pid and is_alive(pid) for pid in pids)
    assert all(read_pid(fake.cluster, sid) is None for sid in range(3))
    code, out, _ = cli(capsys, "cluster", "down", "--cluster", file, "--json")
    assert code == 0 and json.loads(out)["servers"] == dict.fromkeys(("s0", "s1", "s2"),
                                                                     "not running")


def test_up_names_the_holder_of_a_busy_port_and_starts_nothing(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    port = fake.cluster.servers[1].listen.port
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        code, _, err = cli(capsys, "cluster", "up", "--cluster", str(fake.cluster.path))
    assert code == 2
    assert f"s1: port {port} (127.0.0.1:{port}) is in use" in err
    assert "nothing was started" in err and not fake.started
    assert f"in use by pid {os.getpid()} (" in err


def test_a_server_that_dies_at_start_is_reported_with_its_output(
        fake: FakeCluster, tmp_path: Path) -> None:
    ctl = fake.control()

    def broken(cluster: object, sid: int) -> object:
        if sid == 2:
            out = fake.cluster.server_dir(2)
            out.mkdir(parents=True, exist_ok=True)
            (out / "server.out").write_text("Traceback...\nOSError: boom\n")
            import subprocess
            import sys
            return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        return fake.start(fake.cluster, sid)

    ctl.starter = broken  # type: ignore[assignment]
    report = up(ctl, wait_s=5)
    assert not report.ok and report.data["failed"] == ["s2"]
    assert "s2 exited at start (code 3)" in "\n".join(report.lines)
    assert "  OSError: boom" in report.lines
    down(ctl)
    assert running_server(fake.cluster, 0) is None


def test_up_prints_the_command_for_remote_servers(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"x" * 32)
    os.chmod(tmp_path / "secret", 0o600)
    (tmp_path / "cluster.yaml").write_text(
        "servers: {0: 192.0.2.10:7000, 1: 192.0.2.11:7000, 2: 192.0.2.12:7000}\n"
        "secret: secret\n")
    cf = load_cluster_file(tmp_path / "cluster.yaml")

    def unreachable(*_: object) -> dict[str, object]:
        raise control.Unreachable("timeout")

    report = up(Control(cf, admin=unreachable), wait_s=0.2)
    assert report.ok  # nothing local to start; the others start there
    assert ("s1 is on 192.0.2.11: copy cluster.yaml and its secret there, then run: "
            "paxlab server 1 --cluster cluster.yaml") in report.lines
    assert report.data["servers"]["s2"]["state"] == "remote"
    assert down(Control(cf, admin=unreachable)).data["servers"]["s0"] == "unreachable"


def test_a_stale_pid_file_is_not_our_server(fake: FakeCluster) -> None:
    folder = fake.cluster.server_dir(0)
    folder.mkdir(parents=True)
    (folder / "server.pid").write_text(str(os.getpid()))  # alive, but pytest, not a server
    assert running_server(fake.cluster, 0) is None
    assert not (folder / "server.pid").exists()
    assert down(fake.control()).data["servers"]["s0"] == "not running"


# --- status -----------------------------------------------------------------------------


def test_status_table_and_ok_verdict(fake: FakeCluster,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ctl = fake.control()
    up(ctl)
    fake.commit({"client": 7, "seq": 1, "op": "put", "key": "'a'", "value": "1"})
    fake.commit()
    code, out, _ = cli(capsys, "cluster", "status", "--cluster", str(fake.cluster.path))
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["id", "address", "up", "role", "leader", "ballot", "commit",
                                "head", "links", "reconn", "auth_fail", "flags"]
    assert lines[1].split()[:8] == ["s0", str(fake.cluster.servers[0].address), "yes",
                                    "leader", "s0", "1.0", "2",
                                    fake.servers[0].chain[-1]["hash"][:8]]
    assert lines[-1] == "OK: leader s0, 3/3 up, chains agree up to height 1"
    code, out, _ = cli(capsys, "cluster", "status", "--cluster", str(fake.cluster.path),
                       "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["verdict"].startswith("OK: leader s0")
    assert [row["up"] for row in data["servers"]] == [True, True, True]
    assert data["servers"][2]["links"] == {"s0": "up", "s1": "up"}


def test_status_without_a_majority(fake: FakeCluster,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    fake.start(fake.cluster, 1)
    ctl = fake.control()
    import time
    deadline = time.monotonic() + 5
    while running_server(fake.cluster, 1) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    report = cluster_status(ctl)
    assert not report.ok
    assert report.lines[-1] == "NO LEADER: 1 of 3 reachable, a majority (2) is needed"
    assert "not running" in report.lines[1]
    code, out, _ = cli(capsys, "cluster", "status", "--cluster", str(fake.cluster.path),
                       "--json")
    assert code == 1 and json.loads(out)["servers"][0]["error"] == "not running"


def row(sid: int, commit: int, head: str | None, role: str = "follower",
        leader: str | None = "s0", up: bool = True) -> dict[str, object]:
    return {"id": f"s{sid}", "up": up, "commit": commit, "head": head, "role": role,
            "leader": leader}


def test_verdicts() -> None:
    leader = row(0, 5, "h5", "leader")
    assert verdict([leader, row(1, 5, "h5"), row(2, 3, "h3")], 3) == (
        True, "OK: leader s0, 3/3 up, chains at height 4, catching up: s2 at 2")
    assert verdict([leader, row(1, 5, "h5"), row(2, 0, None, up=False)], 3) == (
        True, "OK: leader s0, 2/3 up (s2 down), chains agree up to height 4")
    assert verdict([leader, row(1, 5, "x5"), row(2, 5, "h5")], 3) == (
        False, "DIVERGED: servers s0, s1, s2 have different blocks at commit 5")
    assert verdict([row(0, 0, None, leader=None), row(1, 0, None, leader=None),
                    row(2, 0, None, up=False)], 3) == (
        False, "NO LEADER: 2/3 up (s2 down), electing; chains empty")
    old = row(2, 5, "h5", "leader", leader="s2")
    assert verdict([leader, row(1, 5, "h5"), old], 3)[1].startswith(
        "OK: leader s0 (s2 still thinks it leads)")


def test_down_kills_a_server_that_ignores_stop_and_sigterm(
        fake: FakeCluster, tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(fake.script.read_text().replace(
        "signal.signal(signal.SIGTERM, bye)", "signal.signal(signal.SIGTERM, signal.SIG_IGN)"))
    fake.script = script
    ctl = fake.control()
    fake.start(fake.cluster, 0)
    import time
    deadline = time.monotonic() + 5
    while running_server(fake.cluster, 0) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    fake.servers[0].reachable = False  # admin stop gets no answer
    report = down(ctl, timeout_s=0.4)
    assert report.data["servers"]["s0"] == "killed"
    assert running_server(fake.cluster, 0) is None


def test_local_host_detection() -> None:
    assert control.is_local_host("127.0.0.1") and control.is_local_host("localhost")
    assert not control.is_local_host("192.0.2.1")  # TEST-NET-1: never this machine
    assert not control.is_local_host("no-such-host.invalid")


def test_busy_port_is_none_for_a_free_port() -> None:
    from paxlab.cluster.address import Endpoint
    from paxlab.cluster.clusterinit import free_ports

    assert control.busy_port(Endpoint("127.0.0.1", free_ports("127.0.0.1", 1)[0])) is None


def test_unreachable_servers_through_the_real_wire(fake: FakeCluster,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No server runs: the wire's AdminError becomes Unreachable, status says so."""
    monkeypatch.undo()
    report = cluster_status(Control(fake.cluster, timeout_s=0.3))
    assert not report.ok and all(row["error"] == "not running" for row in
                                 report.data["servers"])
    with pytest.raises(ControlError, match="out of range"):
        from paxlab.cluster.control_faults import parse_server
        parse_server("3", 3)


def test_a_child_that_exits_while_it_is_looked_at_is_reaped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """is_alive's waitpid can see our server still running and /proc then show it a zombie:
    it must be reaped there, or `cluster down` leaves a zombie that a caller still finds in
    /proc (test_control_e2e failed so under load)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_text().rpartition(")")[2].split()[0] != "Z":  # exited, not yet reaped
        assert time.monotonic() < deadline
        time.sleep(0.01)
    real_waitpid, calls = os.waitpid, []

    def first_sees_it_running(pid: int, options: int) -> tuple[int, int]:
        calls.append(pid)
        return (0, 0) if len(calls) == 1 else real_waitpid(pid, options)

    monkeypatch.setattr(procs.os, "waitpid", first_sees_it_running)
    assert not is_alive(child.pid)
    assert not stat.exists()
    child.returncode = 0  # reaped above; keep Popen from waiting for it again
