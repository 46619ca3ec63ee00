"""The PNG plots: real PNGs, the same bytes for the same model, drawn even for an empty
folder, and a clear way out when matplotlib is missing."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from paxlab.report import build_model
from paxlab.report.png import INSTALL_HINT, PlotsUnavailable, png_names, write_pngs
from tests.report.runs import sim_folder

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def hide_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import matplotlib...` fail, as on a machine without the plots extra."""
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.fixture(scope="module")
def fault_model(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_model(sim_folder(tmp_path_factory.mktemp("runs"), "nemesis", seed=3))


def test_two_pngs_the_same_bytes_each_time(fault_model: dict, tmp_path: Path) -> None:
    first = write_pngs(fault_model, tmp_path / "a")
    second = write_pngs(fault_model, tmp_path / "b")
    assert [p.name for p in first] == list(png_names())
    for a, b in zip(first, second, strict=True):
        data = a.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
        assert data == b.read_bytes()
    assert not list((tmp_path / "a").glob(".*"))  # no temp file left behind


def test_an_empty_folder_still_plots(tmp_path: Path) -> None:
    paths = write_pngs(build_model(tmp_path / "nothing"), tmp_path / "out")
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in paths)


def test_without_matplotlib_the_error_says_how_to_install_it(
        fault_model: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_matplotlib(monkeypatch)
    with pytest.raises(PlotsUnavailable, match=r"pip install 'paxlab\[plots\]'"):
        write_pngs(fault_model, tmp_path)
    assert "pip install 'paxlab[plots]'" in INSTALL_HINT
    assert not list(tmp_path.iterdir())
