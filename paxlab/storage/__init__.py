"""Durable storage for servers: append-only record files (length + CRC32, fsync) and the
recovery that reads them back.

- `framing`: frame bytes (4-byte length, 4-byte CRC-32/ISO-HDLC, payload) and the scan
  that tells a torn tail (cut off and reported) from mid-file damage (an error).
- `records`: one persisted record <-> compact JSON payload bytes.
- `record_file`: `RecordFile` appends with one write and fsync; `load_records` reads.
- `snapshot_file`: the latest snapshot, replaced whole (tmp, fsync, rename, fsync folder).
- `chain_archive`: the blocks compacted away, one JSON line each, for outside checkers.
- `durable`: `DurableStorage`, the host's `Storage` for one server, with `recover` and
  `compact`.
- `memory`: the `Storage` protocol, and `MemoryStorage` for tests and clients.

The state these records rebuild is computed by the pure `paxlab.core.recovery`.
"""

from paxlab.storage.durable import FILE_NAME, DurableStorage
from paxlab.storage.memory import MemoryStorage, Storage
from paxlab.storage.record_file import LoadResult, RecordFile, StorageCorruption, load_records
from paxlab.storage.records import decode_record, encode_record

__all__ = [
    "FILE_NAME",
    "DurableStorage",
    "LoadResult",
    "MemoryStorage",
    "RecordFile",
    "Storage",
    "StorageCorruption",
    "decode_record",
    "encode_record",
    "load_records",
]
