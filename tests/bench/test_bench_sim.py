"""`paxlab bench-sim` prints what issue 6 asks for (not timed: numbers vary by machine),
and the fast sealing and hash text give exactly the documented recipe's bytes."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.bench.sim import measure_seed
from paxlab.cli import ExitCode, main
from paxlab.core import chain, step_leader
from paxlab.core.chain import GENESIS_PREV, Txn, block_hash, seal_block
from tests.sim.helpers import CONFIGS, shipped

SIM_BENCH = str(CONFIGS / "sim_bench.yaml")
BASIC = str(CONFIGS / "basic.yaml")


def plain_seal(height: int, prev: str, txns: tuple[Txn, ...], difficulty: int) -> tuple[str, str]:
    """README, "Block format", done the slow obvious way: (nonce, hash) of the first nonce
    whose hash has `difficulty` leading zero bits."""
    for nonce in itertools.count():
        text = json.dumps(
            {"height": height, "prev": prev, "txns": [t.to_dict() for t in txns],
             "nonce": str(nonce)},
            sort_keys=True, separators=(",", ":"),
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        if int(digest, 16) >> (256 - difficulty) == 0:
            return str(nonce), digest
    raise AssertionError("unreachable")


BLOCKS = [
    (0, GENESIS_PREV, ()),
    (1, "ab" * 32, (Txn(client=1, seq=1, op="put", key="'x'", value="1"),)),
    (7, "0f" * 32, (Txn(client=0, seq=3, op="get", key="'k1'", value=None),
                    Txn(client=3, seq=9, op="put", key="'caf\\xe9 \"q\"'", value="'\u00e9\\n'"))),
    (42, "9" * 64, tuple(Txn(client=c, seq=c + 10, op="put", key=f"'k{c}'",
                             value=str(c * 1_000_000 + 1)) for c in range(8))),
]


@pytest.mark.parametrize("difficulty", [0, 1, 4, 8, 10])
@pytest.mark.parametrize(("height", "prev", "txns"), BLOCKS)
def test_sealing_matches_the_plain_recipe(height: int, prev: str, txns: tuple[Txn, ...],
                                          difficulty: int) -> None:
    block = seal_block(height, prev, txns, difficulty)
    assert (block.nonce, block.hash) == plain_seal(height, prev, txns, difficulty)
    assert block_hash(height, prev, txns, block.nonce) == block.hash


_TEXT = st.text(max_size=12)  # any code point: quotes, backslashes, controls, surrogates


@settings(max_examples=150, deadline=None)
@given(
    height=st.integers(min_value=0, max_value=2**40),
    nonce=_TEXT,
    txns=st.lists(
        st.builds(lambda client, seq, key, value: Txn(
            client=client, seq=seq, op="get" if value is None else "put", key=key, value=value),
            st.integers(min_value=-5, max_value=10**12), st.integers(min_value=0, max_value=99),
            _TEXT, st.none() | _TEXT),
        max_size=3),
)
def test_hash_text_is_json_dumps(height: int, nonce: str, txns: list[Txn]) -> None:
    prev = "c" * 64
    expected = json.dumps(
        {"height": height, "prev": prev, "txns": [t.to_dict() for t in txns], "nonce": nonce},
        sort_keys=True, separators=(",", ":"),
    )
    assert chain._recipe_text(height, prev, tuple(txns), nonce) == expected


def test_hash_text_falls_back_for_int_subclasses() -> None:
    """A bool height is "true" to json.dumps; the fast path must not print it as 1."""
    txns = (Txn(client=1, seq=1, op="put", key="'x'", value="1"),)
    text = chain._recipe_text(True, GENESIS_PREV, txns, "0")  # type: ignore[arg-type]
    assert text.startswith('{"height":true,')


def test_bench_sim_prints_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-sim", SIM_BENCH, "--seeds", "1-2"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "config: 5 servers, 4 clients, 300 ops, difficulty 4, faults: nemesis" in out
    assert "seed 1:" in out and "seed 2:" in out
    for field in ("p50", "p95", "max", "mean", "proof of work", "checks", "baseline"):
        assert field in out
    assert "events/s" in out
    assert "proof of work: difficulty 4," in out and "at difficulty 8 sealing would take" in out
    assert "CPU share: proof of work" in out
    assert "vs baseline:" in out and "nonces of the plain recipe" in out
    assert "projected 1,000 seeds:" in out
    assert "cProfile" not in out


def test_bench_sim_profile_prints_the_top_entries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-sim", BASIC, "--seeds", "2-2", "--profile"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "cProfile of simulate + verdicts over 1 seeds" in out
    assert "tottime" in out and "due to restriction <15>" in out


def test_bench_sim_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-sim", BASIC, "--seeds", "5-1"]) == ExitCode.BAD_INPUT
    assert main(["bench-sim", str(CONFIGS / "missing.yaml")]) == ExitCode.BAD_INPUT


def test_proof_of_work_is_timed_and_the_wrapper_removed() -> None:
    sample = measure_seed(shipped("basic"), 1)
    assert 0 < sample.seal_ms <= sample.sim_ms
    assert sample.blocks > 0 and sample.hash_attempts >= sample.blocks
    assert sample.passed
    assert step_leader.seal_block is chain.seal_block is seal_block
