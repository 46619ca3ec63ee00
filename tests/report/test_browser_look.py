"""What a reader sees on pages shaped like real runs' (many faults close together, a key
with hundreds of ops before its stale read, a long chain where one server's block
differs): no label on a canvas overlaps another, counts say what is in view, the failure
opens on what went wrong with its sentence set apart, a differing block is red however
many heights share a pixel, and a message that never arrived does not end on a lifeline.

The models are tests/report/fixtures' hand-made ones, reshaped here; the page's label
registry (paxlab.labels), arrows (paxlab.arrows) and cells (paxlab.chainCell) are read
through window.paxlab.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paxlab.report.page import render_page
from tests.report.browser import chrome, open_page
from tests.report.fixtures import models

pytestmark = pytest.mark.browser

TIME_CANVASES = ("timeline-canvas", "perf-canvas", "failure-canvas", "ops-canvas", "msg-canvas",
                 "chains-canvas")
RED = [217, 45, 32]


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chrome() as d:
        yield d


def _open(driver: Any, tmp_path: Path, model: dict, fragment: str = "") -> None:
    open_page(driver, render_page(model), tmp_path, fragment)
    assert driver.execute_script("return paxlab.errors") == []


def _labels(driver: Any, canvas: str) -> list[list[Any]]:
    return driver.execute_script("return paxlab.labels(arguments[0])", canvas)


def _overlaps(boxes: list[list[Any]]) -> list[tuple[str, str]]:
    return [(a[4], b[4]) for a, b in itertools.combinations(boxes, 2)
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5]


def crowded_faults_model() -> dict:
    """Six short link faults 90 ms apart, each with its first ok and recovery, before the
    fixture's crash and isolate: a nemesis run's throughput panel."""
    model = models.fault_model()
    short = [{"start_us": 400_000 + i * 90_000, "end_us": 460_000 + i * 90_000,
              "action": "fail_link", "label": f"fail_link {i}-{i + 1}",
              "nodes": [i % 5, (i + 1) % 5]} for i in range(6)]
    model["faults"] = short + model["faults"]
    model["recovery"] = ([{"fault": i, "first_ok_us": 493 + i, "recover_us": 1500 + 7 * i}
                          for i in range(6)]
                         + [dict(r, fault=r["fault"] + 6) for r in model["recovery"]])
    return model


def crowded_failure_model(extra: int = 600) -> dict:
    """The fixture's stale read after `extra` earlier ops of the same key, all of them steps
    of the longest linearizable prefix: the key's window is most of the run."""
    model = models.failure_model()
    f = model["failure"]
    start = f["window_us"][0]
    early = [{"process": i % 3, "seq": 10_000 + i, "f": "put", "value": str(5_000_000 + i),
              "type": "ok", "invoke_us": 50_000 + i * (start - 60_000) // extra,
              "end_us": 50_000 + i * (start - 60_000) // extra + 900} for i in range(extra)]
    f["ops"] = early + f["ops"]
    f["prefix"] = ([{"op": i, "value_after": o["value"]} for i, o in enumerate(early)]
                   + [dict(p, op=p["op"] + extra) for p in f["prefix"]])
    f["blocked"] = [dict(b, op=b["op"] + extra) for b in f["blocked"]]
    f["window_us"] = [early[0]["invoke_us"], f["window_us"][1]]
    return model


def long_chain_model(heights: int = 3281, forks_at: int = 2208) -> dict:
    """Five chains of `heights` blocks; s1 holds another block at `forks_at` and stops there."""
    model = models.clean_model()
    common = [f"{h:08x}" for h in range(heights)]
    rows = [list(common) for _ in range(5)]
    rows[1] = [*common[:forks_at], "ffff0000"]
    hashes = sorted(set(common) | {"ffff0000"})
    index = {h: i for i, h in enumerate(hashes)}
    model["chains"] = {"servers": list(range(5)), "start": [0] * 5,
                       "length": [len(r) for r in rows],
                       "hashes": hashes, "cells": [[index[h] for h in r] for r in rows],
                       "diverge_at": forks_at}
    return model


@pytest.mark.parametrize("name", ["crowded_faults", "crowded_failure", "fault", "failure"])
def test_no_label_overlaps_another_at_any_zoom(driver: Any, tmp_path: Path, name: str) -> None:
    model = (globals()[f"{name}_model"] if name.startswith("crowded") else
             getattr(models, f"{name}_model"))()
    _open(driver, tmp_path, model)
    end = model["run"]["end_us"]
    drawn: dict[str, int] = {}
    for t0, t1 in ((0, end), (300_000, 1_100_000), (380_000, 520_000), (end // 2, end // 2 + 4000)):
        driver.execute_script("paxlab.setView(arguments[0], arguments[1])", t0, t1)
        for canvas in TIME_CANVASES:
            boxes = _labels(driver, canvas)
            assert _overlaps(boxes) == [], (canvas, t0, t1)
            drawn[canvas] = drawn.get(canvas, 0) + len(boxes)
    assert drawn["timeline-canvas"] and drawn["perf-canvas"]  # it checked something
    if model["failure"]:
        assert drawn["failure-canvas"]


def test_recovery_marks_have_their_own_strip_and_say_the_times(driver: Any,
                                                                tmp_path: Path) -> None:
    model = crowded_faults_model()
    _open(driver, tmp_path, model)
    texts = [b[4] for b in _labels(driver, "perf-canvas")]
    assert any(t.startswith("first ok +") for t in texts), texts
    assert any(t.startswith("recovered +") for t in texts), texts
    driver.execute_script("paxlab.setView(380000, 520000)")  # zoomed in: the full label
    texts = [b[4] for b in _labels(driver, "perf-canvas")]
    assert "first ok +493 µs (fail_link 0-1)" in texts, texts


def test_the_commit_lane_counts_the_commits_in_view(driver: Any, tmp_path: Path) -> None:
    model = models.fault_model()
    times = model["commits"]["t_us"]
    _open(driver, tmp_path, model)

    def said() -> str:
        return next(b[4] for b in _labels(driver, "timeline-canvas") if "commits in view" in b[4])

    assert said() == f"{len(times):,} commits in view"
    t0, t1 = times[10], times[40]  # both ends on a commit: they count
    driver.execute_script("paxlab.setView(arguments[0], arguments[1])", t0, t1)
    assert said() == f"{sum(1 for t in times if t0 <= t <= t1):,} commits in view" == \
        "31 commits in view"


def test_a_crowded_failure_opens_on_what_went_wrong(driver: Any, tmp_path: Path) -> None:
    model = crowded_failure_model()
    f = model["failure"]
    blocked = f["ops"][f["blocked"][0]["op"]]
    _open(driver, tmp_path, model, "#failure")
    view = driver.execute_script("return paxlab.view")
    assert view["t0_us"] <= blocked["invoke_us"] and blocked["end_us"] <= view["t1_us"]
    shown = [o for o in f["ops"] if view["t0_us"] <= o["invoke_us"] <= view["t1_us"]]
    assert len(shown) < len(f["ops"]) / 10, (view, f["window_us"])  # not the 600 before it
    box = driver.find_element("id", "failure-blocked")
    assert f["blocked"][0]["why"] in box.text
    canvas = driver.find_element("id", "failure-canvas")
    assert box.location["y"] < canvas.location["y"]  # the sentence comes before the picture
    texts = [b[4] for b in _labels(driver, "failure-canvas")]
    assert any(t.startswith("✗ get") and t.endswith("cannot come next") for t in texts), texts
    driver.find_element("id", "failure-zoom").click()  # and the whole window is one click away
    view = driver.execute_script("return paxlab.view")
    assert view["t0_us"] <= f["window_us"][0] and f["window_us"][1] <= view["t1_us"]
    assert _overlaps(_labels(driver, "failure-canvas")) == []


def test_a_small_failure_still_opens_on_the_keys_whole_window(driver: Any,
                                                               tmp_path: Path) -> None:
    model = models.failure_model()
    _open(driver, tmp_path, model, "#failure")
    view, window = driver.execute_script("return paxlab.view"), model["failure"]["window_us"]
    assert view["t0_us"] <= window[0] < window[1] <= view["t1_us"]
    assert driver.find_elements("id", "failure-focus") == []


def _pixel(driver: Any, point: dict) -> list[int]:
    return driver.execute_script(
        "const c = document.getElementById('chains-canvas').getContext('2d');"
        "return Array.from(c.getImageData(arguments[0], arguments[1], 1, 1).data).slice(0, 3)",
        round(point["x"]), round(point["y"]))


def test_a_differing_block_is_red_even_when_heights_share_a_pixel(driver: Any,
                                                                    tmp_path: Path) -> None:
    model = long_chain_model()
    _open(driver, tmp_path, model)
    cell = "return paxlab.chainCell(arguments[0], arguments[1])"
    assert _pixel(driver, driver.execute_script(cell, 1, 2208)) == RED
    assert _pixel(driver, driver.execute_script(cell, 0, 2208)) != RED
    beyond = driver.execute_script(cell, 1, 2800)  # s1 ended: no block there, and no red
    assert _pixel(driver, beyond) != RED
    texts = [b[4] for b in _labels(driver, "chains-canvas")]
    assert any("around the first difference, at height 2,208" in t for t in texts), texts
    assert _overlaps(_labels(driver, "chains-canvas")) == []


def test_a_chain_grid_without_a_difference_has_no_red_and_no_close_up(driver: Any,
                                                                        tmp_path: Path) -> None:
    model = long_chain_model()
    model["chains"]["cells"][1] = list(model["chains"]["cells"][0])
    model["chains"]["length"][1] = model["chains"]["length"][0]
    model["chains"]["diverge_at"] = None
    _open(driver, tmp_path, model)
    cell = driver.execute_script("return paxlab.chainCell(1, 2208)")
    assert _pixel(driver, cell) != RED
    assert not any("first difference" in b[4] for b in _labels(driver, "chains-canvas"))


def test_a_chain_from_a_snapshot_is_drawn_at_its_heights(driver: Any, tmp_path: Path) -> None:
    """s2 installed a snapshot at 1000: its row holds heights 1000.. (cell i is height
    1000 + i), drawn where the others draw those heights, and nothing to the left."""
    model = long_chain_model()
    chains = model["chains"]
    chains["start"][2] = 1000
    chains["cells"][2] = chains["cells"][2][1000:]
    chains["length"][2] = len(chains["cells"][2])
    _open(driver, tmp_path, model)
    cell = "return paxlab.chainCell(arguments[0], arguments[1])"
    for height in (1000, 1700, 3000):
        here = _pixel(driver, driver.execute_script(cell, 2, height))
        assert here == _pixel(driver, driver.execute_script(cell, 0, height)), height
        assert here != RED
    below = _pixel(driver, driver.execute_script(cell, 2, 300))
    assert below != _pixel(driver, driver.execute_script(cell, 0, 300))
    assert below != RED
    texts = [b[4] for b in _labels(driver, "chains-canvas")]
    assert any(t.startswith("from a snapshot at height 1,000") for t in texts), texts
    assert any("around the first difference, at height 2,208" in t for t in texts), texts
    assert _overlaps(_labels(driver, "chains-canvas")) == []


def test_a_message_that_never_arrived_stops_between_lifelines(driver: Any,
                                                               tmp_path: Path) -> None:
    model = copy.deepcopy(models.fault_model())
    m = model["messages"]
    lost = [r for r in range(m["count"]) if m["arrive_us"][r] == -1
            and m["fates"][m["fate"][r]] in ("dropped", "cut")
            and abs(m["src"][r] - m["dst"][r]) > 1]
    assert lost
    t = m["sent_us"][lost[0]]
    _open(driver, tmp_path, model)
    driver.execute_script("paxlab.setView(arguments[0], arguments[1])", t - 30_000, t + 30_000)
    assert not driver.execute_script("return paxlab.stats().aggregated")
    arrows = driver.execute_script("return paxlab.arrows()")
    rows = {a[4]: a for a in arrows}
    lifelines = {round(a[1]) for a in arrows if m["copy"][a[4]] == 0}
    stubs = [rows[r] for r in lost if r in rows]
    assert stubs
    for a in stubs:
        assert min(abs(a[3] - y) for y in lifelines) >= 8, (a, sorted(lifelines))


@pytest.mark.parametrize("name", ["crowded_faults", "crowded_failure", "long_chain"])
def test_hovering_the_reshaped_pages_raises_nothing_and_names_what_is_there(
        driver: Any, tmp_path: Path, name: str) -> None:
    from tests.report.test_browser import SWEEP

    model = globals()[f"{name}_model"]()
    _open(driver, tmp_path, model, "#failure" if name == "crowded_failure" else "")
    assert driver.execute_script(SWEEP)["tips"] > 50
    assert driver.execute_script("return paxlab.errors") == []
    if name == "crowded_faults":  # the recovery strip's brackets have tooltips
        driver.execute_script("paxlab.setView(380000, 520000); window.scrollTo(0, 0)")
        box = next(b for b in _labels(driver, "perf-canvas") if b[4].startswith("first ok"))
        tip = driver.execute_script(
            "const cv = document.getElementById('perf-canvas');"
            "cv.scrollIntoView(); const s = cv.getBoundingClientRect();"
            "cv.dispatchEvent(new MouseEvent('mousemove', {clientX: s.left + arguments[0],"
            " clientY: s.top + arguments[1], bubbles: true}));"
            "return document.getElementById('tooltip').textContent",
            box[0] + 2, (box[1] + box[3]) / 2)
        assert "first ok after the fault started" in tip and "fail_link 0-1" in tip, tip
