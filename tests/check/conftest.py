"""Builds small valid runs that the checker tests then break one rule at a time.

Blocks are sealed here with the README's hash recipe written out again, not with
paxlab.check.chains.block_hash, so a wrong recipe in the checker fails these tests.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path

import pytest

from paxlab import results

__all__ = ["DIFFICULTY", "ChainKit"]

DIFFICULTY = 4  # about 16 tries a block: fast, yet a random hash fails it 15 times in 16


def _sha(height: int, prev: str, txns: list, nonce: str) -> str:
    body = {"height": height, "prev": prev, "txns": txns, "nonce": nonce}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


class ChainKit:
    """Helpers the tests reach through the `kit` fixture."""

    difficulty = DIFFICULTY

    @staticmethod
    def put(client: int, seq: int, key: str, value: str) -> dict:
        return {"client": client, "seq": seq, "op": "put", "key": key, "value": value}

    @staticmethod
    def get(client: int, seq: int, key: str) -> dict:
        return {"client": client, "seq": seq, "op": "get", "key": key, "value": None}

    @staticmethod
    def seal(
        height: int, prev: str, txns: list, difficulty: int = DIFFICULTY, weak: bool = False
    ) -> dict:
        """A block whose nonce meets `difficulty`, or with weak=True one whose hash is
        correct but fails it (to test the proof-of-work rule alone)."""
        for n in itertools.count():
            digest = _sha(height, prev, txns, str(n))
            meets = int(digest, 16) >> (256 - difficulty) == 0
            if meets != weak:
                return {
                    "height": height,
                    "prev": prev,
                    "txns": txns,
                    "nonce": str(n),
                    "hash": digest,
                }
        raise AssertionError("unreachable")

    def chain(self, batches: list[list[dict]], difficulty: int = DIFFICULTY) -> list[dict]:
        """A valid chain with one block per batch of txns."""
        blocks: list[dict] = []
        prev = "0" * 64
        for height, txns in enumerate(batches):
            block = self.seal(height, prev, copy.deepcopy(txns), difficulty)
            blocks.append(block)
            prev = block["hash"]
        return blocks

    def batches(self) -> list[list[dict]]:
        """The valid run's blocks: gets, an empty gap-filling block, a committed info put."""
        put, get = self.put, self.get
        return [
            [put(1, 1, "'x'", "1"), put(2, 1, "'y'", "'a'")],
            [],
            [get(1, 2, "'x'"), put(2, 2, "'x'", "2")],
            [put(3, 1, "'z'", "9")],
            [put(1, 3, "'y'", "'b'")],
            [get(2, 3, "'y'")],
        ]

    @staticmethod
    def history() -> list[dict]:
        """Client 3's put 'z' ended info yet was committed; its put 'w' failed; client 4's
        info put 'q' was never committed. All of that is valid."""

        def ev(process: int, kind: str, f: str, key: str, value: str | None, seq: int, t: int):
            return {"process": process, "type": kind, "f": f, "key": key, "value": value,
                    "seq": seq, "time": t}  # fmt: skip

        return [
            ev(1, "invoke", "put", "'x'", "1", 1, 1_000),
            ev(2, "invoke", "put", "'y'", "'a'", 1, 1_500),
            ev(1, "ok", "put", "'x'", "1", 1, 5_000),
            ev(2, "ok", "put", "'y'", "'a'", 1, 6_000),
            ev(1, "invoke", "get", "'x'", None, 2, 7_000),
            ev(2, "invoke", "put", "'x'", "2", 2, 7_100),
            ev(1, "ok", "get", "'x'", "1", 2, 9_000),
            ev(2, "ok", "put", "'x'", "2", 2, 9_500),
            ev(3, "invoke", "put", "'z'", "9", 1, 10_000),
            ev(3, "info", "put", "'z'", "9", 1, 20_000),
            ev(3, "invoke", "put", "'w'", "5", 2, 21_000),
            ev(3, "fail", "put", "'w'", "5", 2, 22_000),
            ev(1, "invoke", "put", "'y'", "'b'", 3, 23_000),
            ev(1, "ok", "put", "'y'", "'b'", 3, 25_000),
            ev(2, "invoke", "get", "'y'", None, 3, 26_000),
            ev(2, "ok", "get", "'y'", "'b'", 3, 28_000),
            ev(4, "invoke", "put", "'q'", "7", 1, 29_000),
            ev(4, "info", "put", "'q'", "7", 1, 30_000),
        ]

    def records(self, servers: int = 3) -> results.RunRecords:
        """A valid run: every server holds the same chain and its replayed KV."""
        chain = self.chain(self.batches())
        kv = {"'x'": "2", "'y'": "'b'", "'z'": "9"}
        return results.RunRecords(
            history=self.history(),
            chains={sid: copy.deepcopy(chain) for sid in range(servers)},
            difficulty=DIFFICULTY,
            kvs={sid: dict(kv) for sid in range(servers)},
        )

    @staticmethod
    def write_run(run_dir: Path, records: results.RunRecords) -> Path:
        """Write records as a run folder through the results writers."""
        run_dir.mkdir(parents=True, exist_ok=True)
        results.write_history(run_dir, records.history)
        results.write_chain_meta(run_dir, records.difficulty)
        for sid, blocks in records.chains.items():
            results.write_chain(run_dir, sid, blocks)
        for sid, kv in records.kvs.items():
            results.write_kv(run_dir, sid, kv)
        return run_dir

    def reseal(self, blocks: list[dict], start: int = 0) -> list[dict]:
        """Re-link and re-seal blocks from `start` on after a test edits them, so only the
        edit (not a broken hash) makes the chain different."""
        out = copy.deepcopy(blocks[:start])
        prev = out[-1]["hash"] if out else "0" * 64
        for block in blocks[start:]:
            sealed = self.seal(block["height"], prev, copy.deepcopy(block["txns"]))
            out.append(sealed)
            prev = sealed["hash"]
        return out


@pytest.fixture
def kit() -> ChainKit:
    return ChainKit()


@pytest.fixture
def records(kit: ChainKit) -> results.RunRecords:
    return kit.records()
