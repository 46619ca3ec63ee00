"""The report page in a real browser (headless chromium): it draws every model without a
script error, fetches nothing, and its hover, follow, filter, zoom and jump all work.

The models are the hand-made ones of tests/report/fixtures; the hooks are window.paxlab
(contract section 5). Each test opens its page from file://, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paxlab.report.page import render_page
from tests.report.browser import chrome, open_page, png_colours, wait_until
from tests.report.fixtures import models

pytestmark = pytest.mark.browser

FIXTURES = {name: getattr(models, f"{name}_model") for name in
            ("clean", "fault", "failure", "partial", "empty")}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chrome() as d:
        yield d


def _open(driver: Any, tmp_path: Path, model: dict, fragment: str = "") -> None:
    open_page(driver, render_page(model), tmp_path, fragment)


def _js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_model_draws_without_errors_or_requests(driver: Any, tmp_path: Path,
                                                      name: str) -> None:
    model = FIXTURES[name]()
    _open(driver, tmp_path, model)
    assert _js(driver, "return paxlab.errors") == []
    assert _js(driver, "return performance.getEntriesByType('resource').length") == 0
    policy = _js(driver, "return document.querySelector("
                         "'meta[http-equiv=\"Content-Security-Policy\"]').content")
    assert policy.startswith("default-src 'none'; script-src 'sha256-")
    verdict = driver.find_element("id", "verdict").text
    assert model["verdict"]["overall"] in verdict
    for line in model["unread"]:
        assert line in verdict
    assert _js(driver, "return paxlab.view") == {"t0_us": 0, "t1_us": model["run"]["end_us"]
                                                 or 1_000_000}
    note = driver.find_element("id", "aggregation-note").text
    assert (f"{model['messages']['count']:,} recorded" in note if model["messages"]["count"]
            else "No messages were recorded" in note)


def test_a_broken_model_is_reported_not_hidden(driver: Any, tmp_path: Path) -> None:
    """The error hook can fail: a model whose tables are junk still draws, and says so."""
    model = models.clean_model()
    model["ops"]["invoke_us"] = model["ops"]["invoke_us"][:5]
    model["messages"] = {"count": 3}
    model["chains"] = None
    _open(driver, tmp_path, model)
    assert _js(driver, "return paxlab.errors") == []
    assert "columns of unequal length" in driver.find_element("id", "verdict").text
    _js(driver, "paxlab.errors.push('planted'); setTimeout(() => { null.x; }, 0)")
    wait_until(lambda: len(_js(driver, "return paxlab.errors")) == 2, what="window.onerror")


def test_hovering_an_op_names_everything_about_it(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    model = models.fault_model()
    ops = model["ops"]
    i = next(i for i, t in enumerate(ops["type"]) if t == "ok" and ops["f"][i] == "put"
             and ops["height"][i] >= 0)
    client, seq = ops["client"][i], ops["seq"][i]
    _open(driver, tmp_path, model)
    start = ops["invoke_us"][i]
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", start - 20_000, start + 30_000)
    _js(driver, "document.getElementById('panel-ops').scrollIntoView()")
    _js(driver, "window.scrollTo(0, document.getElementById('panel-ops').offsetTop - 120)")
    # The page hides an unpinned tooltip on scroll, and the scroll event comes a frame
    # after scrollTo: wait two frames, or the hover below can be undone by it.
    driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                "requestAnimationFrame(() => requestAnimationFrame(done))")
    point = _js(driver, "const p = paxlab.opPoint(arguments[0], arguments[1]);"
                        "return p && [p.x - scrollX, p.y - scrollY]", client, seq)
    assert point is not None
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(point[0]), int(point[1]))
    actions.perform()
    tooltip = wait_until(lambda: driver.find_element("id", "tooltip").is_displayed()
                         and driver.find_element("id", "tooltip").text, what="#tooltip")
    key = model["keys"][ops["key"][i]]
    for needle in (f"client: c{client}", f"seq: {seq}", "f: put", f"key: {key}",
                   f"value: {ops['value'][i]}", "outcome: ok",
                   f"server: {model['nodes'][ops['server'][i]]} answered",
                   f"height: block {ops['height'][i]:,}"):
        assert needle in tooltip, (needle, tooltip)
    actions.click().perform()
    assert "pinned" in driver.find_element("id", "tooltip").get_attribute("class")
    assert driver.find_elements("css selector", "#tooltip button")


def test_following_a_slot_fades_the_rest(driver: Any, tmp_path: Path) -> None:
    model = models.clean_model()
    _open(driver, tmp_path, model)
    m = model["messages"]
    slot = 40
    accepts = {m["kinds"].index(k) for k in ("Accept", "Accepted")}
    t = [m["sent_us"][r] for r in range(m["count"]) if m["slot"][r] == slot
         and m["kind"][r] in accepts]
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", min(t) - 50_000, max(t) + 50_000)
    before = _js(driver, "return paxlab.stats()")
    assert before["followed"] == 0 and before["faded"] == 0
    _js(driver, "paxlab.follow({slot: arguments[0]})", slot)
    after = _js(driver, "return paxlab.stats()")
    assert after["following"] == {"slot": slot}
    assert after["followed"] >= len(t) and after["faded"] > 0
    assert after["arrows"] == before["arrows"]
    assert f"Following slot {slot}" in driver.find_element("id", "aggregation-note").text
    _js(driver, "paxlab.follow(null)")
    assert _js(driver, "return paxlab.stats().faded") == 0
    box = driver.find_element("id", "follow-input")  # the same through the controls
    box.send_keys(f"c{model['ops']['client'][0]}#{model['ops']['seq'][0]}\n")
    assert _js(driver, "return paxlab.stats().following.op") == [model["ops"]["client"][0],
                                                                model["ops"]["seq"][0]]


def test_filtering_a_kind_removes_exactly_its_arrows(driver: Any, tmp_path: Path) -> None:
    model = models.clean_model()
    _open(driver, tmp_path, model)
    m = model["messages"]
    accept = m["kinds"].index("Accept")
    n_accept = sum(1 for k in m["kind"] if k == accept)
    assert n_accept > 0 and not _js(driver, "return paxlab.stats().aggregated")
    before = _js(driver, "return paxlab.arrowsDrawn()")
    box = driver.find_element("css selector", 'input[data-kind="Accept"]')
    assert box.is_selected()
    box.click()
    assert _js(driver, "return paxlab.arrowsDrawn()") == before - n_accept
    box.click()
    assert _js(driver, "return paxlab.arrowsDrawn()") == before
    _js(driver, "paxlab.filter({kinds: ['Accept']})")
    assert _js(driver, "return paxlab.arrowsDrawn()") == n_accept
    assert box.is_selected()
    assert not driver.find_element("css selector", 'input[data-kind="Accepted"]').is_selected()
    _js(driver, "paxlab.filter({kinds: ['Accept'], nodes: ['s1']})")
    s1 = model["nodes"].index("s1")
    expected = sum(1 for r in range(m["count"]) if m["kind"][r] == accept
                   and s1 in (m["src"][r], m["dst"][r]))
    assert _js(driver, "return paxlab.arrowsDrawn()") == expected < n_accept


def test_dense_messages_are_aggregated_and_the_page_says_so(driver: Any, tmp_path: Path) -> None:
    model = models.big_model(ops=2_000)
    _open(driver, tmp_path, model)
    stats = _js(driver, "return paxlab.stats()")
    assert stats["aggregated"] and stats["arrows"] < stats["inView"]
    note = driver.find_element("id", "aggregation-note").text
    assert f"the {stats['inView']:,} messages in view are drawn as {stats['arrows']:,}" in note
    t0 = model["run"]["end_us"] // 2
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", t0, t0 + 100_000)
    zoomed = _js(driver, "return paxlab.stats()")
    assert not zoomed["aggregated"] and zoomed["arrows"] == zoomed["inView"] > 0
    assert "Drawing each of the" in driver.find_element("id", "aggregation-note").text


def test_the_first_problem_link_moves_the_view_there(driver: Any, tmp_path: Path) -> None:
    model = models.failure_model()
    _open(driver, tmp_path, model)
    t = model["verdict"]["first_problem"]["t_us"]
    driver.find_element("id", "first-problem").click()
    view = _js(driver, "return paxlab.view")
    assert view["t0_us"] <= t <= view["t1_us"]
    assert view["t1_us"] - view["t0_us"] < model["run"]["end_us"] / 2
    top = _js(driver, "return document.getElementById('panel-failure').getBoundingClientRect().top")
    assert 0 <= top < 150
    text = driver.find_element("id", "panel-failure").text
    assert model["failure"]["blocked"][0]["why"] in text
    assert model["failure"]["summary"] in text


def test_a_first_problem_in_the_messages_follows_the_slot_it_names(driver: Any,
                                                                    tmp_path: Path) -> None:
    model = models.fault_model()
    m = model["messages"]
    accepted = m["kinds"].index("Accepted")
    row = next(r for r in range(m["count"]) if m["kind"][r] == accepted and m["slot"][r] == 60)
    t = m["arrive_us"][row]
    model["verdict"]["first_problem"] = {
        "t_us": t, "panel": "messages",
        "text": f"invariants fail: one_block_per_slot at {t // 1000} ms: s1->s0 Accepted b=1.0 "
                "slot=60 hash=0050191e completes a majority"}
    _open(driver, tmp_path, model)
    _js(driver, "paxlab.firstProblem()")
    stats, view = _js(driver, "return [paxlab.stats(), paxlab.view]")
    assert stats["following"] == {"slot": 60} and stats["followed"] > 0
    assert view["t0_us"] <= min(m["sent_us"][r] for r in range(m["count"]) if m["slot"][r] == 60
                                and m["kind"][r] == accepted) and t <= view["t1_us"]
    top = _js(driver, "return document.getElementById('panel-messages')"
                      ".getBoundingClientRect().top")
    assert 0 <= top < 150


@pytest.mark.parametrize("anchor", ["failure", "messages", "chains"])
def test_a_view_in_the_url_opens_the_page_at_that_panel(driver: Any, tmp_path: Path,
                                                         anchor: str) -> None:
    """Opened as report.html#failure the panel comes first, under the bar, with the page
    unscrolled (headless Chromium's --screenshot paints a scrolled page blank); the failure
    view also zooms to the key's window. A later change of the fragment scrolls."""
    model = models.failure_model()
    _open(driver, tmp_path, model, "#" + anchor)
    top = _js(driver, f"return document.getElementById('panel-{anchor}')"
                      ".getBoundingClientRect().top")
    assert 0 <= top < 150 and _js(driver, "return scrollY") == 0
    view = _js(driver, "return paxlab.view")
    window = model["failure"]["window_us"]
    if anchor == "failure":
        assert view["t0_us"] <= window[0] < window[1] <= view["t1_us"] < model["run"]["end_us"]
    else:
        assert view == {"t0_us": 0, "t1_us": model["run"]["end_us"]}
    _js(driver, "location.hash = '#perf'")
    wait_until(lambda: _js(driver, "return document.getElementById('panel-perf')"
                                   ".getBoundingClientRect().top") < 150, what="#perf scroll")


def test_dragging_zooms_every_panel_and_double_click_resets(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    model = models.fault_model()
    _open(driver, tmp_path, model)
    canvas = driver.find_element("id", "timeline-canvas")
    _js(driver, "arguments[0].scrollIntoView()", canvas)
    width = canvas.size["width"]
    ActionChains(driver).move_to_element_with_offset(canvas, -width // 2 + 300, 0) \
        .click_and_hold().move_by_offset(200, 0).release().perform()
    view = _js(driver, "return paxlab.view")
    assert 0 < view["t0_us"] < view["t1_us"] < model["run"]["end_us"]
    ActionChains(driver).move_to_element(canvas).double_click().perform()
    assert _js(driver, "return paxlab.view") == {"t0_us": 0, "t1_us": model["run"]["end_us"]}
    wheel = ("const r = arguments[0].getBoundingClientRect(); arguments[0].dispatchEvent("
             "new WheelEvent('wheel', {clientX: r.left + r.width / 2, clientY: r.top + 20, "
             "deltaY: arguments[1], ctrlKey: arguments[2], shiftKey: arguments[3], "
             "bubbles: true, cancelable: true})); return paxlab.view")
    assert _js(driver, wheel, canvas, 100, False, False)["t1_us"] == model["run"]["end_us"]
    zoomed = _js(driver, wheel, canvas, -100, True, False)
    assert zoomed["t1_us"] - zoomed["t0_us"] < model["run"]["end_us"]
    panned = _js(driver, wheel, canvas, -100, False, True)
    assert panned["t0_us"] < zoomed["t0_us"]


def test_a_screenshot_is_not_blank(driver: Any, tmp_path: Path) -> None:
    _open(driver, tmp_path, models.fault_model(), "#messages")
    colours, commonest = png_colours(driver.get_screenshot_as_png())
    assert colours > 200 and commonest < 0.8, (colours, commonest)


def test_a_blank_png_is_seen_as_blank() -> None:
    """The screenshot check can fail: a one-colour image has one colour."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * 8 for _ in range(4))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 4, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    assert png_colours(png) == (1, 1.0)


SWEEP = """
const out = {tips: 0};
for (const cv of document.querySelectorAll('canvas')) {
  const r = cv.getBoundingClientRect();
  for (let y = r.top + 3; y < r.bottom; y += 17) for (let x = r.left + 3; x < r.right; x += 89) {
    cv.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
    if (!document.getElementById('tooltip').hidden) out.tips++;
  }
  cv.dispatchEvent(new MouseEvent('mouseleave', {bubbles: true}));
}
return out;
"""


@pytest.mark.parametrize("name", ["failure", "empty"])
def test_hovering_every_panel_everywhere_raises_nothing(driver: Any, tmp_path: Path,
                                                        name: str) -> None:
    model = FIXTURES[name]()
    _open(driver, tmp_path, model)
    end = model["run"]["end_us"] or 1_000_000
    for view in ((0, end), (end // 3, end // 3 + end // 40)):
        _js(driver, "paxlab.setView(arguments[0], arguments[1]); window.scrollTo(0, 0)", *view)
        tips = _js(driver, SWEEP)["tips"]
        assert _js(driver, "return paxlab.errors") == []
        assert (tips > 50) == (name != "empty"), tips


@pytest.mark.slow
def test_the_budget_run_is_small_and_opens_fast() -> None:
    """Issue 13's budget on 10,000 ops and ~100,000 messages (a benchmark more than a test:
    slow, and its timing depends on the machine; `python -m tests.report.measure_page`
    prints the figures)."""
    from tests.report.measure_page import measure

    figures = measure(10_000, opens=2)
    assert figures["messages"] >= 100_000
    assert figures["html_bytes"] < 10_000_000 and figures["ready_ms"] < 2_000, figures
