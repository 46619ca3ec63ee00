"""The check entry points: seven checks in order, on disk or in memory, and check/'s imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import paxlab.check
from paxlab import results
from paxlab.check import CHECK_NAMES, CheckResult, check_records, check_run, checks_passed

_CHECK_DIR = Path(paxlab.check.__file__).parent


def test_valid_run_folder_passes_all_seven_in_order(kit, records, tmp_path: Path) -> None:
    run_dir = kit.write_run(tmp_path / "run", records)
    verdicts = check_run(run_dir)
    assert (
        [r.name for r in verdicts]
        == list(CHECK_NAMES)
        == [
            "chains_valid",
            "chains_identical",
            "kv_identical",
            "writes_exactly_once",
            "no_lost_writes",
            "no_phantom_reads",
            "linearizable",
        ]
    )
    assert [r.verdict for r in verdicts] == ["pass"] * 7, verdicts
    assert checks_passed(verdicts)
    assert verdicts == check_records(records)


def test_check_run_follows_latest(kit, records, tmp_path: Path) -> None:
    run_dir = kit.write_run(tmp_path / "20250101-000000-demo", records)
    results.update_latest(tmp_path, run_dir)
    assert checks_passed(check_run(tmp_path / "latest"))


def test_broken_run_folder_fails_the_right_checks(kit, records, tmp_path: Path) -> None:
    records.chains[1][2]["txns"][1]["value"] = "'tampered'"
    verdicts = {r.name: r.verdict for r in check_run(kit.write_run(tmp_path, records))}
    assert verdicts == {
        "chains_valid": "fail",
        "chains_identical": "fail",
        "kv_identical": "fail",  # server 1's chain now replays to x='tampered'
        "writes_exactly_once": "pass",  # read from server 0's chain
        "no_lost_writes": "pass",  # the same chain
        "no_phantom_reads": "pass",  # the history alone, which is intact
        "linearizable": "pass",
    }


def test_malformed_file_raises_results_error(kit, records, tmp_path: Path) -> None:
    run_dir = kit.write_run(tmp_path, records)
    chain_file = run_dir / "chains" / "server-1.jsonl"
    lines = chain_file.read_text().splitlines()
    lines[2] = lines[2][:-5]
    chain_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(results.ResultsError, match=r"server-1\.jsonl: line 3: malformed JSON"):
        check_run(run_dir)


def test_missing_chains_fail_rather_than_pass(records, tmp_path: Path) -> None:
    results.write_history(tmp_path, records.history)
    results.write_chain_meta(tmp_path, 4)
    verdicts = {r.name: r.verdict for r in check_run(tmp_path)}
    chain_checks = CHECK_NAMES[:5]  # the history-only checks may pass without chains
    assert [verdicts[name] for name in chain_checks] == ["fail"] * 5
    assert not checks_passed(check_run(tmp_path))


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["pass", "pass"], True),
        (["pass", "fail"], False),
        (["pass", "unknown"], False),
        ([], False),
    ],
)
def test_checks_passed(verdicts: list, expected: bool) -> None:
    assert checks_passed([CheckResult(f"c{i}", v, "") for i, v in enumerate(verdicts)]) is expected


def test_check_package_imports_only_results_and_stdlib() -> None:
    """check/ must not import paxlab.core: it recomputes hashes so a core bug can't hide."""
    allowed_paxlab = {"paxlab.results"}
    for path in sorted(_CHECK_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "paxlab":
                modules = [f"paxlab.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module == "__future__" or module.startswith("paxlab.check"):
                    continue
                top = module.split(".")[0]
                assert module in allowed_paxlab or (
                    top != "paxlab" and top in sys.stdlib_module_names
                ), f"{path.name} imports {module}"


def test_check_run_repeats_the_recorded_invariants_verdict(kit, records,
                                                           tmp_path: Path) -> None:
    """The invariant monitor judges messages as they fly; a results folder holds no
    messages, so `paxlab check` repeats the verdict the run recorded, failures included."""
    run_dir = kit.write_run(tmp_path / "run", records)
    results.write_summary(run_dir, {"checks": [
        {"name": "linearizable", "verdict": "pass", "details": "ignored: recomputed"},
        {"name": "invariants", "verdict": "fail", "details": "promise_kept at 5 ms: ..."},
    ]})
    verdicts = check_run(run_dir)
    assert [r.name for r in verdicts] == [*CHECK_NAMES, "invariants"]
    assert verdicts[-1].verdict == "fail" and "promise_kept at 5 ms" in verdicts[-1].details
    assert not checks_passed(verdicts)
