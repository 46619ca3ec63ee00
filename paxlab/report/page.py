"""One self-contained HTML file from a report model: `render_page(model) -> bytes`.

Why one file with everything inline: a report is attached to issues, mailed and opened
from `file://` on machines without network, so it may not fetch anything. The page's
Content-Security-Policy says so to the browser: no source is allowed but the one inline
script whose sha256 the policy names (the model rides along as inert JSON, which a
policy does not need to allow). Same model, same bytes, so golden tests can compare pages.

The script is kept in small files with one job each (paxlab/report/assets/*.js, listed in
SCRIPT_PARTS) and put together here into the frame report.js, so the page still has one
script and one hash; no bundler, no modules: the parts share the frame's scope.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from importlib import resources
from typing import Any

__all__ = ["MODEL_ELEMENT_ID", "SCRIPT_PARTS", "content_security_policy", "model_json",
           "page_script", "render_page"]

MODEL_ELEMENT_ID = "paxlab-model"
"""The id of the `<script type="application/json">` element that holds the model."""

SCRIPT_PARTS = ("core.js", "view.js", "verdict.js", "timeline.js", "perf.js", "failure.js",
                "ops.js", "messages.js", "chains.js", "interact.js", "filters.js", "main.js")
"""The page script's parts in paxlab/report/assets, in the order they are put into the frame
(report.js). Each is one job of the page (one panel, or the model, the shared view, the
mouse, the hooks); the order matters, since a part may use what an earlier part defined
when its own top level runs (interact.js lists the panels that come before it)."""

_PARTS_MARK = "/*{{parts}}*/"
_LINES_MARK = "/*{{part-lines}}*/[]"
_PLACEHOLDER = re.compile(r"\{\{(csp|title|css|model|js)\}\}")
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _asset(name: str) -> str:
    """A file of paxlab/report/assets (package data, so an installed paxlab has it too)."""
    return resources.files("paxlab.report").joinpath("assets", name).read_text("utf-8")


def _finite(value: Any) -> Any:
    """The model with NaN and infinities as null: JSON has no such numbers, and a page
    whose JSON does not parse would show nothing at all."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def model_json(model: dict) -> str:
    """The model as compact, key-sorted JSON that is safe inside a `<script>` element:
    `<`, `>` and `&` only occur inside JSON strings, where their \\u escapes mean the same,
    so no `</script>` or `<!--` in a key or a value can end the element early."""
    try:
        text = json.dumps(model, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(model), sort_keys=True, separators=(",", ":"))
    return re.sub(r"[<>&]", lambda m: _JSON_ESCAPES[m.group()], text)


def page_script(first_line: int = 1) -> str:
    """The page's one script: the frame report.js with SCRIPT_PARTS in its parts marker
    (each opens with a comment naming it), plus a table of where each part starts, counted
    in lines of the page from `first_line` (the page line the script starts on), so that a
    script error can name the part and its own line rather than a line of the page."""
    frame = _asset("report.js")
    if _PARTS_MARK not in frame:
        return frame
    before, after = frame.split(_PARTS_MARK, 1)
    chunks, starts = [], []
    line = first_line + before.count("\n")  # the page line the first part starts on
    for name in SCRIPT_PARTS:
        text = _asset(name)
        text = text if text.endswith("\n") else text + "\n"
        chunks.append(text)
        starts.append([name, line])
        line += text.count("\n")
    table = json.dumps(starts, separators=(",", ":"))
    return before.replace(_LINES_MARK, table) + "".join(chunks) + after


def content_security_policy(script: str) -> str:
    """The policy for a page whose only script is `script` (its exact text between the
    tags): nothing may be fetched, inline styles are allowed, images only as data: URLs."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; script-src 'sha256-{digest}'; "
            "style-src 'unsafe-inline'; img-src data:")


def render_page(model: dict) -> bytes:
    """The report page for `model` (contract section 4) as UTF-8 bytes.

    Raises ValueError if an asset would break the page (a script that ends its own
    element); a model never can, see `model_json`."""
    template, css = _asset("page.html"), _asset("report.css")
    run = model.get("run") if isinstance(model.get("run"), dict) else {}
    name = run.get("name") if isinstance(run.get("name"), str) else ""
    parts = {
        "title": html.escape(f"paxlab report: {name}" if name else "paxlab report"),
        "css": css,
        "model": model_json(model),
    }
    # the page line the script starts on (the policy, one line, is filled in after)
    head = template.partition("{{js}}")[0]
    first_line = 1 + head.count("\n") + sum(
        parts[m.group(1)].count("\n") for m in _PLACEHOLDER.finditer(head) if m.group(1) in parts)
    script = page_script(first_line)
    if re.search(r"</script", script, re.IGNORECASE) or re.search(r"</style", css, re.IGNORECASE):
        raise ValueError("the page script or report.css contains a closing tag of its own element")
    parts["csp"] = html.escape(content_security_policy(script), quote=False)
    parts["js"] = script
    # One pass over the template only: a value that happens to contain "{{js}}" stays text.
    page = _PLACEHOLDER.sub(lambda m: parts[m.group(1)], template)
    return page.encode("utf-8")
