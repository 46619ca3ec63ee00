"""The server process around the loop: bad input exits 2, a damaged record file exits 3
naming the file and the offset, and the console on a pseudo-terminal drives a live
server (`slow on` reaches every server, `trace on` shows messages, Ctrl-C never kills
it, quit stops it cleanly)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from paxlab.cluster.clusterfile import load_cluster_file
from paxlab.cluster.server import server_main
from paxlab.core import Ballot
from paxlab.core.output import PromisedRecord
from paxlab.storage import DurableStorage
from tests.cluster.harness import ROOT, LocalCluster, wait_until, write_cluster
from tests.cluster.ptyproc import CTRL_C, PtyProcess


def test_a_missing_cluster_file_or_an_unknown_id_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main(tmp_path / "nope.yaml", 0, console=False) == 2
    assert "nope.yaml" in capsys.readouterr().err
    path = write_cluster(tmp_path, 3)
    assert server_main(path, 3, console=False) == 2
    assert "no server 3; its servers are 0..2" in capsys.readouterr().err


def test_a_damaged_record_file_exits_3_naming_the_file_and_offset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_cluster(tmp_path, 3)
    folder = load_cluster_file(path).server_dir(1)
    with DurableStorage(folder, fsync=False) as storage:
        storage.recover(0)
        for round_ in (1, 2, 3):
            storage.persist([PromisedRecord(ballot=Ballot(round_, 0))])
    record_file = folder / "replica.log"
    data = bytearray(record_file.read_bytes())
    data[12] ^= 0xFF  # inside the first record: valid ones follow, so not a torn tail
    record_file.write_bytes(bytes(data))
    assert server_main(path, 1, console=False) == 3
    err = capsys.readouterr().err
    assert f"cannot recover: {record_file}: corrupt record at byte offset 0" in err
    assert "cannot recover" in (folder / "server.log").read_text()
    assert not (folder / "server.pid").exists()


def test_the_console_drives_a_live_server(tmp_path: Path) -> None:
    path = write_cluster(tmp_path, 3)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with LocalCluster(path, start=False) as cluster, PtyProcess(
            [sys.executable, "-m", "paxlab.cluster.server", str(path), "0"], env=env,
            columns=200) as console:
        cluster.start(1)
        cluster.start(2)
        console.expect("s0> ")
        cluster.wait_leader()
        wait_until(lambda: len(cluster.statuses()) == 3, 5, "all three answering")
        console.send("stat" + CTRL_C)  # clears the line; the server goes on
        console.send("status\r")
        console.expect(r"links: s1 (up|down), s2 (up|down)")
        console.send("slow on\r")
        console.expect("slow on")
        for other in (1, 2):
            wait_until(lambda other=other: (cluster.status(other) or {}).get("slow"), 5,
                       f"slow mode reaching s{other}")
        console.send("slow off\r")
        console.expect("slow off")
        console.send("trace on\r")
        console.expect(r"in  s\d->s0 Heartbeat|out s0->s\d Heartbeat")
        console.send("trace off\r")
        console.send("quit\r")
        assert console.wait_exit() == 0
        assert not (cluster.cluster.server_dir(0) / "server.pid").exists()
        assert "s0 stopped" in (cluster.cluster.server_dir(0) / "server.log").read_text()
