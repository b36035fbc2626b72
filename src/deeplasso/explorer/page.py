"""The explorer page: ``template.html`` with ``explorer.css``, ``explorer.js`` and the
data inlined, so that the one file works offline and requests nothing."""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path as FsPath

from ..engine.files import atomic_write
from .data import ExplorerData

__all__ = ["render", "write_page", "PAGE_NAME"]

#: File name of the page in a run directory.
PAGE_NAME = "explorer.html"


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json_in_script(payload: dict) -> str:
    """JSON that cannot end the ``<script>`` element it sits in: every ``<`` (only in
    strings, such as feature names) is written as the escape ``\\u003c``."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def _script(name: str) -> str:
    text = _asset(name)
    if "</script" in text.lower() or "<!--" in text:
        raise RuntimeError(f"{name} must not contain '</script' or '<!--' (it is inlined in a <script>)")
    return text


def render(data: ExplorerData, compress: bool = True) -> str:
    """The page's HTML for ``data``."""
    page = _asset("template.html")
    parts = {
        "/*@CSS@*/": _asset("explorer.css"),
        "/*@JS@*/": _script("explorer.js"),
        "@DATA@": _json_in_script(data.payload(compress)),
        "@TITLE@": html.escape(data.title),
    }
    for key in parts:
        if page.count(key) != 1:
            raise RuntimeError(f"explorer template: {key} must occur exactly once")
    # one pass over the template: an inlined value is never searched for placeholders
    return re.sub("|".join(re.escape(k) for k in parts), lambda m: parts[m.group(0)], page)


def write_page(data: ExplorerData, out, compress: bool = True) -> str:
    """Write the page for ``data`` to ``out`` (atomically); returns the file name."""
    text = render(data, compress)
    out = FsPath(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda f: f.write(text), mode="w")
    return str(out)
