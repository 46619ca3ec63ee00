"""Options shared by the whole suite: `--rewrite` regenerates transcript expectations."""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="rewrite the expected part of tests/core/testdata/*.txt from what the "
        "scripts produce now (then review the diff)",
    )
