"""The chain archive: the blocks a server compacted away, kept for outside checkers.

After a snapshot a server drops the blocks below it from memory and from its record file
(`paxlab.core.snapshot`); with `cluster.chain_archive: true` (the default) it first
appends them here, so the whole chain from genesis stays on disk and any tool can still
re-hash it link by link. The archive is never read on the recovery path (that would make
restart time grow with the number of operations); only its last line is, to learn where
it ends.

Format (`chain-archive.jsonl`): one block per line, in the documented block format
(docs/results-contract.md) as compact ASCII JSON, heights consecutive from 0. Blocks are
self-verifying (each carries its hash and its predecessor's), so no checksum is added.
Appends are whole lines, fsynced with fsync on; a crash mid-append leaves a line without
its newline, which `ChainArchive.open` cuts. The archive only grows contiguously: blocks
it already holds (a compaction repeated after a crash) are skipped, and when the blocks
to add start above its end (the server installed a peer's snapshot and never held the
ones between) it stops growing, because a chain with a hole proves nothing to genesis.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from paxlab.core.chain import Block
from paxlab.core.codec import block_json
from paxlab.core.errors import RemoteError
from paxlab.storage.record_file import StorageCorruption, fsync_directory, write_all

__all__ = ["ARCHIVE_NAME", "ChainArchive"]

ARCHIVE_NAME = "chain-archive.jsonl"
_TAIL_BYTES = 1 << 16  # read back from the end in steps of this, to find the last line


class ChainArchive:
    """Appends retired blocks to `path`; `next_height` is the height it expects next."""

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.next_height = 0
        self.stopped_at: int | None = None  # the height of a hole, once one was refused
        self.note: str | None = None  # what `open` cut, for the server log

    def open(self) -> ChainArchive:
        """Learn where the archive ends from its last line, cutting a torn one."""
        if not self.path.exists():
            return self
        size = self.path.stat().st_size
        with open(self.path, "rb") as file:
            end = _last_newline(file, size)
            if end < size:
                os.truncate(self.path, end)
                self.note = (f"{self.path}: cut a torn last line at byte {end} "
                             f"({size - end} bytes dropped)")
            if end == 0:
                return self
            start = _last_newline(file, end - 1)
            file.seek(start)
            line = file.read(end - start)
        try:
            block = Block.from_dict(json.loads(line))
        except (ValueError, RemoteError) as error:
            raise StorageCorruption(f"{self.path}: corrupt archived block at byte offset "
                                    f"{start}: {error}") from error
        self.next_height = block.height + 1
        return self

    def append(self, blocks: Sequence[Block]) -> None:
        """Add the blocks it does not hold yet, if they continue it (module docstring)."""
        fresh = [block for block in blocks if block.height >= self.next_height]
        if not fresh or self.stopped_at is not None:
            return
        if fresh[0].height != self.next_height:
            self.stopped_at = self.next_height
            return
        data = "".join(block_json(block) + "\n" for block in fresh).encode("ascii")
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            write_all(fd, data)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if created and self.fsync:
            fsync_directory(self.path.parent)
        self.next_height = fresh[-1].height + 1

    def blocks(self) -> list[Block]:
        """Every archived block, in order (reads the whole file: for dumps, not restarts)."""
        if not self.path.exists():
            return []
        blocks = []
        offset = 0
        with open(self.path, "rb") as file:
            for line in file:
                try:
                    blocks.append(Block.from_dict(json.loads(line)))
                except (ValueError, RemoteError) as error:
                    raise StorageCorruption(f"{self.path}: corrupt archived block at byte "
                                            f"offset {offset}: {error}") from error
                offset += len(line)
        return blocks


def _last_newline(file: BinaryIO, end: int) -> int:
    """The offset just after the last b"\\n" before `end` (0 when there is none)."""
    position = end
    while position > 0:
        step = min(_TAIL_BYTES, position)
        file.seek(position - step)
        chunk = file.read(step)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return position - step + found + 1
        position -= step
    return 0
