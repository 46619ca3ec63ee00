"""The report pages of real runs in a real browser: a clean lab run, a lab fault run, a
simulated mutant that fails linearizability and a Ctrl-C'd lab run, each as its own
command wrote it (tests/report/real_runs.py makes them once for this module).

On each page: no script error and nothing fetched; hovering an op shows what the run
recorded about it (history.jsonl, the chain, messages.jsonl); following its slot fades
the rest; switching Accept off removes exactly its arrows; a screenshot has content. The
mutant's page jumps to its failure and explains it; the partial run's page says partial.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.browser import chrome, png_colours, wait_until
from tests.report.real_runs import HEARTBEATS, RUN_NAMES, RawRun, make_real_runs, pick_op, read_raw

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chrome() as d:  # first: skips (or fails when required) before any run is made
        yield d


@pytest.fixture(scope="module")
def folders(driver: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_real_runs(tmp_path_factory.mktemp("real-runs"))


@pytest.fixture(scope="module")
def raws(folders: dict[str, Path]) -> dict[str, RawRun]:
    return {name: read_raw(folder) for name, folder in folders.items()}


def _js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def _severe(driver: Any) -> list[str]:
    """The browser console's SEVERE lines since the last call (reading drains the log)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _open(driver: Any, folder: Path, fragment: str = "") -> dict:
    """Open the run's own report.html from file:// and wait until it is drawn."""
    _severe(driver)
    driver.get((folder / "report.html").as_uri() + fragment)
    wait_until(lambda: _js(driver, "return !!(window.paxlab && window.paxlab.ready)"),
               what="window.paxlab.ready")
    return _js(driver, "return paxlab.model")


def _scroll_to_ops(driver: Any) -> None:
    """Scroll the client lanes under the bar, and wait two frames: the page hides an
    unpinned tooltip on scroll, and the scroll event comes a frame after scrollTo, so a
    hover made sooner can be undone by it (a flaky test on a loaded machine)."""
    _js(driver, "window.scrollTo(0, document.getElementById('panel-ops').offsetTop - 120)")
    driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                "requestAnimationFrame(() => requestAnimationFrame(done))")


def _mouse_to_op(driver: Any, op: tuple[int, int], click: bool = False) -> None:
    """Move the real pointer onto the op's bar in the client lanes (and click it)."""
    from selenium.webdriver.common.action_chains import ActionChains

    _scroll_to_ops(driver)
    point = _js(driver, "const p = paxlab.opPoint(arguments[0], arguments[1]);"
                        "return p && [p.x - scrollX, p.y - scrollY]", *op)
    assert point is not None, f"paxlab.opPoint{op} is null: the op is out of view"
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(point[0]), int(point[1]))
    if click:
        actions.click()
    actions.perform()


def _after_us(name: str, raw: RawRun) -> int:
    """Where to look for an op: in the fault run, after its first fault (a new leader
    answers); elsewhere, mid-run."""
    if name == "fault":
        return raw.summary["faults"][0]["time_ms"] * 1000
    times = sorted(e["time"] // 1000 for e in raw.ops.values())
    return times[len(times) // 2]


@pytest.mark.parametrize("name", RUN_NAMES)
def test_the_page_draws_without_errors_or_requests(driver: Any, folders: dict[str, Path],
                                                   raws: dict[str, RawRun], name: str) -> None:
    model = _open(driver, folders[name])
    assert _js(driver, "return paxlab.errors") == []
    assert _severe(driver) == []
    assert _js(driver, "return performance.getEntriesByType('resource').length") == 0
    assert model["unread"] == []
    raw = raws[name]
    assert model["messages"]["count"] == len(raw.copies) > 100
    # nothing capped silently: every copy sent in the run is drawn or collapsed as a tick
    stats = _js(driver, "return paxlab.stats()")
    end_us = model["run"]["end_us"]
    assert stats["inView"] + stats["collapsed"] == sum(1 for c in raw.copies
                                                       if c.sent_us <= end_us)
    note = driver.find_element("id", "aggregation-note").text
    # aggregated exactly when the page says so, with the counts (no silent cap)
    assert (f"the {stats['inView']:,} messages in view are drawn as {stats['arrows']:,}"
            in note) is stats["aggregated"], note
    verdict = driver.find_element("id", "verdict").text
    failed = sorted(c["name"] for c in raw.summary["checks"] if c["verdict"] != "pass")
    assert failed == (["linearizable"] if name == "mutant" else [])
    assert ("CHECKS FAILED: linearizable" if failed else "ALL CHECKS PASS") in verdict


def test_a_fetch_or_a_script_error_would_be_seen(driver: Any, folders: dict[str, Path]) -> None:
    """The checks above can fail: a planted image from the network is refused by the page's
    policy, and still shows in the resource entries and the console; a planted uncaught
    error shows in the console and in paxlab.errors."""
    _open(driver, folders["clean"])
    _js(driver, "const i = new Image(); i.src = 'http://127.0.0.1:9/x.png';"
                "document.body.append(i)")
    logged = "\n".join(wait_until(lambda: _severe(driver), what="a SEVERE console line"))
    assert "violates the following Content Security Policy directive" in logged, logged
    assert _js(driver, "return performance.getEntriesByType('resource').length") == 1
    _js(driver, "setTimeout(() => { null.x; }, 0)")
    logged = "\n".join(wait_until(lambda: _severe(driver), what="a SEVERE console line"))
    assert "Uncaught TypeError" in logged, logged
    assert _js(driver, "return paxlab.errors") != []


@pytest.mark.parametrize("name", RUN_NAMES)
def test_hovering_an_op_shows_what_the_run_recorded(driver: Any, folders: dict[str, Path],
                                                    raws: dict[str, RawRun],
                                                    name: str) -> None:
    raw = raws[name]
    client, seq = op = pick_op(raw, _after_us(name, raw))
    event = raw.ops[op]
    _open(driver, folders[name])
    start, end = event["time"] // 1000, event["end"] // 1000
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", start - 20_000, end + 30_000)
    _mouse_to_op(driver, op)
    tooltip = wait_until(lambda: driver.find_element("id", "tooltip").is_displayed()
                         and driver.find_element("id", "tooltip").text, what="#tooltip")
    (server,) = raw.answered_by[op]
    for needle in (f"client: c{client}", f"seq: {seq}", "f: put", f"key: {event['key']}",
                   f"value: {event['value']}", "outcome: ok", f"server: {server} answered",
                   f"height: block {raw.height[op]:,}"):
        assert needle in tooltip, (needle, tooltip)
    assert _js(driver, "return paxlab.errors") == [] and _severe(driver) == []


HOVER = """
const [client, seq, t0, t1] = arguments;
paxlab.setView(t0, t1);
const p = paxlab.opPoint(client, seq);
if (!p) return null;
document.getElementById('ops-canvas').dispatchEvent(new MouseEvent('mousemove',
  {clientX: p.x - scrollX, clientY: p.y - scrollY, bubbles: true}));
const tip = document.getElementById('tooltip');
return tip.hidden ? '' : tip.innerText;
"""


def _expected_tip(raw: RawRun, op: tuple[int, int]) -> dict[str, set[str]]:
    """Each tooltip row's allowed texts for `op`, from the run's own files."""
    event, servers = raw.ops[op], raw.answered_by.get(op, set())
    outcome = event["outcome"] or "info"  # never completed: unknown
    value = event["value"] if event["f"] == "put" else event.get("result")
    height = raw.height.get(op)
    return {"client": {f"c{op[0]} (process {op[0]})"}, "seq": {str(op[1])},
            "f": {event["f"]}, "key": {event["key"]},
            "value": {"null" if value is None or (outcome != "ok" and event["f"] == "get")
                      else value},
            "server": {f"{s} answered" for s in servers} or {"no server answered"},
            "height": {f"block {height:,}" if height is not None else "not in any block"}}


@pytest.mark.parametrize("name", RUN_NAMES)
def test_every_kind_of_op_tooltip_matches_the_record(driver: Any, folders: dict[str, Path],
                                                     raws: dict[str, RawRun],
                                                     name: str) -> None:
    """Beyond the one op hovered by mouse: gets and puts, ok, fail and info ops, ops that
    two servers answered, and some of each client's others, hovered by event."""
    raw = raws[name]
    model = _open(driver, folders[name])
    _scroll_to_ops(driver)
    ops = sorted(raw.ops)
    odd = [op for op in ops if raw.ops[op]["outcome"] != "ok"
           or len(raw.answered_by.get(op, ())) != 1]
    chosen = sorted(set(ops[:: max(1, len(ops) // 30)] + odd[:20]))
    for op in chosen:
        event = raw.ops[op]
        start = event["time"] // 1000
        end = event["end"] // 1000 if event["end"] is not None else model["run"]["end_us"]
        text = _js(driver, HOVER, op[0], op[1], start - 20_000, end + 30_000)
        assert text, (op, text)
        rows = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
        outcome = event["outcome"] or "info"
        assert rows["outcome"].split(" ")[0] == outcome, (op, rows)
        for row, allowed in _expected_tip(raw, op).items():
            assert rows.get(row) in allowed, (op, row, rows, allowed)
    assert _js(driver, "return paxlab.errors") == []


@pytest.mark.parametrize("name", RUN_NAMES)
def test_following_an_ops_slot_fades_the_rest(driver: Any, folders: dict[str, Path],
                                              raws: dict[str, RawRun], name: str) -> None:
    """Through the page's own controls: click the op to pin its tooltip, press "follow its
    slot"; every message of that slot (and of its ops) is drawn bold, the rest faded."""
    raw = raws[name]
    op = pick_op(raw, _after_us(name, raw))
    slot = raw.height[op]
    followers = raw.followers_of(slot)
    drawn = [c for c in followers if c.type not in HEARTBEATS]
    # a view wide enough that other messages share it (a quiet run has few per ms)
    t0 = min(c.sent_us for c in followers) - 30_000
    t1 = max(c.end_us or c.sent_us for c in followers) + 30_000
    _open(driver, folders[name])
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", t0, t1)
    before = _js(driver, "return paxlab.stats()")
    assert before["followed"] == before["faded"] == 0 and not before["aggregated"], before
    _mouse_to_op(driver, op, click=True)
    button = next(b for b in driver.find_elements("css selector", "#tooltip button")
                  if b.text == f"follow its slot {slot}")
    button.click()
    after = _js(driver, "return paxlab.stats()")
    assert after["following"] == {"slot": slot}
    assert after["followed"] == len(drawn) > 0, (after, len(drawn))
    assert after["faded"] == before["arrows"] - len(drawn) > 0, (after, before)
    assert after["arrows"] == before["arrows"]
    assert f"Following slot {slot}" in driver.find_element("id", "aggregation-note").text
    _js(driver, "paxlab.follow(null)")
    assert _js(driver, "return paxlab.stats()")["faded"] == 0
    assert _js(driver, "return paxlab.errors") == []


def _accept_window(raw: RawRun, end_us: int) -> tuple[int, int]:
    """A view from the run's start in which the page draws every arrow (not aggregated):
    the whole run, or up to the 1,000th arrow. From 0, a copy is in view iff sent <= t1."""
    sent = sorted(c.sent_us for c in raw.copies if c.type not in HEARTBEATS)
    return 0, (end_us if len(sent) <= 1_000 else sent[1_000] - 1)


@pytest.mark.parametrize("name", RUN_NAMES)
def test_switching_accept_off_removes_exactly_its_arrows(driver: Any,
                                                         folders: dict[str, Path],
                                                         raws: dict[str, RawRun],
                                                         name: str) -> None:
    raw = raws[name]
    model = _open(driver, folders[name])
    t0, t1 = _accept_window(raw, model["run"]["end_us"])
    _js(driver, "paxlab.setView(arguments[0], arguments[1])", t0, t1)
    accepts = sum(1 for c in raw.copies if c.type == "Accept" and c.sent_us <= t1)
    shown = sum(1 for c in raw.copies if c.type not in HEARTBEATS and c.sent_us <= t1)
    before = _js(driver, "return paxlab.stats()")
    assert not before["aggregated"] and before["arrows"] == shown, (before, shown)
    box = driver.find_element("css selector", 'input[data-kind="Accept"]')
    _js(driver, "arguments[0].scrollIntoView({block: 'center'})", box)
    assert box.is_selected()
    box.click()
    assert not box.is_selected()
    assert _js(driver, "return paxlab.arrowsDrawn()") == before["arrows"] - accepts
    assert accepts > 0
    box.click()
    assert _js(driver, "return paxlab.arrowsDrawn()") == before["arrows"]
    assert _js(driver, "return paxlab.errors") == []


def test_the_mutants_first_problem_link_jumps_to_its_failure(driver: Any,
                                                             folders: dict[str, Path],
                                                             raws: dict[str, RawRun]) -> None:
    model = _open(driver, folders["mutant"])
    problem, failure = model["verdict"]["first_problem"], model["failure"]
    assert problem["panel"] == "failure" and failure["verdict"] == "fail"
    # the blocked op is one the run recorded: that client's get, and what it read
    blocked = failure["blocked"][0]
    op = failure["ops"][blocked["op"]]
    recorded = raws["mutant"].ops[(op["process"], op["seq"])]
    assert (recorded["f"], recorded["key"], recorded["outcome"], recorded["result"]) == (
        op["f"], failure["key"], op["type"], op["value"])
    assert f"(c{op['process']} seq {op['seq']})" in blocked["why"]
    link = driver.find_element("id", "first-problem")
    assert problem["text"] in link.text
    link.click()
    view = _js(driver, "return paxlab.view")
    assert view["t0_us"] <= problem["t_us"] <= view["t1_us"], (view, problem)
    # zoomed in on it: the blocked op whole, in less than half the run (the failing key's
    # window here is 0-3.4 s of 5.1 s: a jump to the window would show nothing)
    assert view["t0_us"] <= op["invoke_us"] < op["end_us"] <= view["t1_us"], (view, op)
    assert view["t1_us"] - view["t0_us"] < model["run"]["end_us"] / 2, view
    top = _js(driver, "return document.getElementById('panel-failure')"
                      ".getBoundingClientRect().top")
    assert 0 <= top < 150
    text = driver.find_element("id", "panel-failure").text
    assert blocked["why"] in text and failure["summary"] in text
    assert _js(driver, "return paxlab.errors") == []


@pytest.mark.parametrize("name", RUN_NAMES)
def test_only_the_partial_run_says_it_is_partial(driver: Any, folders: dict[str, Path],
                                                 raws: dict[str, RawRun], name: str) -> None:
    model = _open(driver, folders[name])
    partial = name == "partial"
    assert raws[name].summary["partial"] is partial and model["run"]["partial"] is partial
    verdict = driver.find_element("id", "verdict").text
    assert ("Partial run: it was interrupted" in verdict) is partial
    assert ("(partial: interrupted)" in verdict) is partial


@pytest.mark.parametrize("name", RUN_NAMES)
def test_a_screenshot_is_not_blank(driver: Any, folders: dict[str, Path], name: str) -> None:
    panel = "failure" if name == "mutant" else "messages"
    _open(driver, folders[name], "#" + panel)
    top = _js(driver, f"return document.getElementById('panel-{panel}')"
                      ".getBoundingClientRect().top")
    assert 0 <= top < 150, top  # the URL's panel comes first, as README's pictures need
    colours, commonest = png_colours(driver.get_screenshot_as_png())
    assert colours > 200 and commonest < 0.8, (colours, commonest)


def test_the_runs_are_what_the_issue_asks_for(folders: dict[str, Path],
                                              raws: dict[str, RawRun]) -> None:
    """A clean run has no faults, the fault run crashed and cut a node, the mutant is
    named, the partial run is marked: else the tests above would test something else."""
    summaries = {name: raw.summary for name, raw in raws.items()}
    assert summaries["clean"]["faults"] == []
    assert {f["action"] for f in summaries["fault"]["faults"]} >= {"crash", "partition"}
    assert summaries["mutant"]["mutant"] == "stale-read"
    assert summaries["partial"]["partial"] is True
    drivers = {name: json.loads((folder / "messages.jsonl").open().readline())["driver"]
               for name, folder in folders.items()}
    assert drivers == {"clean": "lab", "fault": "lab", "mutant": "sim", "partial": "lab"}
