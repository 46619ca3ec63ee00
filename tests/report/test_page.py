"""render_page without a browser: one deterministic, self-contained file whose policy
allows exactly its own script, with the model embedded so that no value can break out."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re

import pytest

from paxlab.report import page
from paxlab.report.page import MODEL_ELEMENT_ID, render_page
from tests.report.fixtures import models

FIXTURES = {name: getattr(models, f"{name}_model") for name in
            ("clean", "fault", "failure", "partial", "empty")}


def _script(text: str) -> str:
    """The one executable script: the `<script>` element without a type."""
    scripts = re.findall(r"<script>(.*?)</script>", text, re.DOTALL)
    assert len(scripts) == 1
    return scripts[0]


def _policy(text: str) -> str:
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert len(metas) == 1
    return html.unescape(metas[0])


def _embedded(text: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{MODEL_ELEMENT_ID}">(.*?)</script>',
                      text, re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_same_model_same_bytes_whatever_the_dict_order(name: str) -> None:
    model = FIXTURES[name]()
    shuffled = json.loads(json.dumps(model))
    shuffled = dict(reversed(list(shuffled.items())))
    shuffled["run"] = dict(reversed(list(shuffled["run"].items())))
    assert render_page(model) == render_page(FIXTURES[name]()) == render_page(shuffled)


def test_different_models_give_different_pages() -> None:
    assert render_page(models.clean_model()) != render_page(models.fault_model())


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_policy_allows_exactly_the_inline_script(name: str) -> None:
    text = render_page(FIXTURES[name]()).decode("utf-8")
    policy, script = _policy(text), _script(text)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert policy == (f"default-src 'none'; script-src 'sha256-{digest}'; "
                      "style-src 'unsafe-inline'; img-src data:")
    assert "unsafe" not in policy.split(";")[1]


def test_a_changed_script_no_longer_matches_the_policy() -> None:
    """The hash check above can fail: one byte more in the script and the digest differs."""
    text = render_page(models.clean_model()).decode("utf-8")
    script = _script(text) + " "
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"'sha256-{digest}'" not in _policy(text)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_nothing_points_outside_the_file(name: str) -> None:
    text = render_page(FIXTURES[name]()).decode("utf-8")
    assert not re.search(r"https?://|ftp://|wss?://", text)
    links = re.findall(r"""\b(?:src|href|action)\s*=\s*["']([^"']*)""", text, re.IGNORECASE)
    assert links and all(link.startswith(("#", "data:")) for link in links), links
    assert "@import" not in text and "url(" not in text
    assert "fetch(" not in text and "XMLHttpRequest" not in text and "WebSocket" not in text


def test_the_model_round_trips_and_no_value_ends_the_element() -> None:
    model = models.clean_model()
    model["run"]["name"] = "</script><script>alert(1)</script><!-- & >"
    model["keys"][0] = "'</SCRIPT>'"
    text = render_page(model).decode("utf-8")
    assert text.count("</script>") == 2 and "alert(1)</script>" not in text
    assert "<!--" not in text.split("<body>")[1]
    assert _embedded(text) == json.loads(json.dumps(model))
    assert "<title>paxlab report: &lt;/script&gt;" in text


def test_nan_and_infinity_become_null() -> None:
    model = models.clean_model()
    model["verdict"]["throughput_ops_s"] = float("nan")
    model["series"]["p99_ms"][0] = float("inf")
    embedded = _embedded(render_page(model).decode("utf-8"))
    assert embedded["verdict"]["throughput_ops_s"] is None
    assert embedded["series"]["p99_ms"][0] is None


def test_a_script_that_closes_its_own_element_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = page._asset
    monkeypatch.setattr(page, "_asset", lambda name: "let x = '</script>';" if name == "report.js"
                        else real(name))
    with pytest.raises(ValueError, match="closing tag"):
        render_page(models.empty_model())


def test_the_page_carries_every_hook_the_tests_use() -> None:
    text = render_page(models.failure_model()).decode("utf-8")
    for needle in ('id="verdict"', 'id="tooltip"', 'id="panel-failure"', 'id="panel-messages"',
                   'id="panel-chains"', 'id="aggregation-note"', "data-kind", "first-problem",
                   "arrowsDrawn", "opPoint", "firstProblem", "window.onerror"):
        assert needle in text, needle
