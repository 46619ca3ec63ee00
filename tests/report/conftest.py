"""Until RECORD's paxlab.results.messages lands, the report reads messages through the
stand-in in messages_fake.py (the contract's API); once it lands this does nothing."""

from __future__ import annotations

import pytest

from paxlab.report import read
from tests.report import messages_fake


@pytest.fixture(autouse=True)
def _message_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    if read.read_messages is None:
        monkeypatch.setattr(read, "read_messages", messages_fake.read_messages)
