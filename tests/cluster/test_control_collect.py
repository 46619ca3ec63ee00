"""`paxlab cluster check` against the fake cluster: the results folder it writes, open ops
closed as info, faults in the summary, and that a lost write, a down server or chains
that never agree fail it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paxlab import results
from paxlab.cli.main import main
from paxlab.cluster import control
from paxlab.cluster.collect import collect
from paxlab.cluster.control import up
from paxlab.cluster.control_faults import link_fault
from tests.cluster.control_fake import FakeCluster, make_cluster, stop_all

T0 = 1_700_000_000_000_000_000  # a wall-clock ns, as clients write


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    fake = FakeCluster(make_cluster(tmp_path / "demo"), tmp_path)
    monkeypatch.setattr(control, "wire_admin", fake.admin)
    monkeypatch.setattr(control, "start_server", fake.start)
    assert up(fake.control()).ok
    yield fake
    stop_all(fake)


def history(fake: FakeCluster, client: int, *events: dict[str, Any], torn: str = "") -> None:
    folder = fake.cluster.client_dir(client)
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps({"process": client, **e}) + "\n" for e in events)
    (folder / "history.jsonl").write_text(text + torn)
    (folder / "client.log").write_text(f"client {client} log\n")


def put(seq: int, key: str, value: str, kind: str, at_ms: int) -> dict[str, Any]:
    return {"type": kind, "f": "put", "key": key, "value": value, "seq": seq,
            "time": T0 + at_ms * 1_000_000}


def get(seq: int, key: str, value: str | None, kind: str, at_ms: int) -> dict[str, Any]:
    return {"type": kind, "f": "get", "key": key, "value": value, "seq": seq,
            "time": T0 + at_ms * 1_000_000}


def played(fake: FakeCluster) -> None:
    """Client 7 put 'a' = 1 and read it; client 8's get is still open; one fault."""
    fake.commit({"client": 7, "seq": 1, "op": "put", "key": "'a'", "value": "1"})
    fake.commit({"client": 7, "seq": 2, "op": "get", "key": "'a'", "value": None})
    history(fake, 7, put(1, "'a'", "1", "invoke", 0), put(1, "'a'", "1", "ok", 3),
            get(2, "'a'", None, "invoke", 5), get(2, "'a'", "1", "ok", 7))
    history(fake, 8, get(1, "'a'", None, "invoke", 9), torn='{"process": 8, "ty')
    link_fault(fake.control(), "fail-link", "0", "1")
    link_fault(fake.control(), "fix-link", "0", "1")


def test_check_writes_a_results_folder_and_passes(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    played(fake)
    code = main(["cluster", "check", "--cluster", str(fake.cluster.path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ALL CHECKS PASS" in out and "note: c8: 1 op still open, recorded as info" in out
    run_dir = results.resolve_run_dir(fake.cluster.data_dir / "results")
    assert run_dir.name.endswith("-demo")
    config = results.read_config(run_dir)
    assert config["driver"] == "cluster" and config["servers"][1].startswith("127.0.0.1:")
    events = results.read_history(run_dir)
    assert events[0]["time"] == 0 and len(events) == 6
    assert events[-1]["type"] == "info" and events[-1]["process"] == 8
    assert sorted(results.read_chains(run_dir)) == [0, 1, 2]
    assert results.read_kvs(run_dir)[2] == {"'a'": "1"}
    summary = results.read_summary(run_dir)
    assert summary["partial"] is False and summary["clients"] == 2 and summary["servers"] == 3
    assert [f["detail"] for f in summary["faults"]] == ["fail_link 0-1", "fix_link 0-1"]
    assert [f["nodes"] for f in summary["faults"]] == [["s0", "s1"], ["s0", "s1"]]
    assert summary["ops"]["get"] == {"ok": 1, "fail": 0, "info": 1}
    assert (run_dir / "logs" / "client-7.log").read_text() == "client 7 log\n"
    assert main(["check", str(run_dir)]) == 0  # the lab's own `paxlab check` agrees
    assert main(["report", str(run_dir)]) == 0


def test_check_json(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    played(fake)
    code = main(["cluster", "check", "--cluster", str(fake.cluster.path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["passed"] is True and data["partial"] is False
    assert data["servers"] == ["s0", "s1", "s2"] and data["clients"] == [7, 8]
    assert [c["name"] for c in data["checks"]][:2] == ["chains_valid", "chains_identical"]
    assert Path(data["run_dir"]).is_dir()


def test_a_lost_write_fails_the_check(fake: FakeCluster, tmp_path: Path) -> None:
    history(fake, 7, put(1, "'a'", "1", "invoke", 0), put(1, "'a'", "1", "ok", 3))
    report = collect(fake.control(), tmp_path / "res")
    assert not report.ok
    assert "CHECKS FAILED" in "\n".join(report.lines)
    assert {c["name"]: c["verdict"] for c in report.data["checks"]}["no_lost_writes"] == "fail"


def test_a_down_server_makes_it_partial(fake: FakeCluster, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    played(fake)
    fake.servers[2].reachable = False
    code = main(["cluster", "check", "--cluster", str(fake.cluster.path),
                 "--results", str(tmp_path / "res")])
    out = capsys.readouterr().out
    assert code == 1
    assert "note: s2 did not answer: s2: connection refused" in out
    assert "PARTIAL RUN" in out
    summary = results.read_summary(tmp_path / "res" / "latest")
    assert summary["partial"] is True and summary["errors"] == [
        "s2 did not answer: s2: connection refused"]


def test_chains_that_never_agree_are_not_quiescent(fake: FakeCluster, tmp_path: Path) -> None:
    fake.commit({"client": 7, "seq": 1, "op": "put", "key": "'a'", "value": "1"}, on=[0, 1])
    report = collect(fake.control(), tmp_path / "res", quiesce_s=0.3)
    assert not report.ok and report.data["partial"] is True
    assert "not quiescent after 0.3 s: commit indexes s0 1, s1 1, s2 0" in report.data["notes"]


def test_servers_that_installed_snapshots_are_quiescent_and_pass(
        fake: FakeCluster, tmp_path: Path) -> None:
    """s1 holds blocks from a snapshot at 1 (its chain file starts there); s2 installed
    one at its tip and holds no block: it is left out, with a note, not made partial."""
    played(fake)
    fake.servers[1].snapshot_at = 1
    fake.servers[2].snapshot_at = 2
    report = collect(fake.control(), tmp_path / "res", quiesce_s=0.3)
    assert report.ok and report.data["partial"] is False, report.data
    assert ("s2 left out of chains/ and kv/: it installed a snapshot at height 2 and holds "
            "no block above it") in report.data["notes"]
    run_dir = results.resolve_run_dir(tmp_path / "res")
    chains = results.read_chains(run_dir)
    assert sorted(chains) == [0, 1] and chains[1][0]["height"] == 1


def test_an_empty_session_passes(fake: FakeCluster, tmp_path: Path) -> None:
    report = collect(fake.control(), tmp_path / "res")
    assert report.ok and report.data["events"] == 0
