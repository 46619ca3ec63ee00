"""One self-contained HTML file from a report model: `render_page(model) -> bytes`.

Why one file with everything inline: a report is attached to issues, mailed and opened
from `file://` on machines without network, so it may not fetch anything. The page's
Content-Security-Policy says so to the browser: no source is allowed but the one inline
script whose sha256 the policy names (the model rides along as inert JSON, which a
policy does not need to allow). Same model, same bytes, so golden tests can compare pages.
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

__all__ = ["MODEL_ELEMENT_ID", "content_security_policy", "model_json", "render_page"]

MODEL_ELEMENT_ID = "paxlab-model"
"""The id of the `<script type="application/json">` element that holds the model."""

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
    script = _asset("report.js")
    css = _asset("report.css")
    if re.search(r"</script", script, re.IGNORECASE) or re.search(r"</style", css, re.IGNORECASE):
        raise ValueError("report.js or report.css contains a closing tag of its own element")
    run = model.get("run") if isinstance(model.get("run"), dict) else {}
    name = run.get("name") if isinstance(run.get("name"), str) else ""
    parts = {
        "csp": html.escape(content_security_policy(script), quote=False),
        "title": html.escape(f"paxlab report: {name}" if name else "paxlab report"),
        "css": css,
        "model": model_json(model),
        "js": script,
    }
    # One pass over the template only: a value that happens to contain "{{js}}" stays text.
    page = _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("page.html"))
    return page.encode("utf-8")
