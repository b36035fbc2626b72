"""What the reports share: numbers and tables in Markdown, and the figures module if matplotlib is there."""

from __future__ import annotations

import math

__all__ = ["fmt", "md_table", "optional_plots"]


def fmt(v, digits: int = 3, pct: bool = False) -> str:
    """A number for a table; ``-`` for missing values."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return str(v)
    return f"{100 * v:.1f}" if pct else f"{v:.{digits}f}"


def md_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table: one header row, then ``rows``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def optional_plots():
    """:mod:`deeplasso.evaluation.plots`, or None without matplotlib (reports then have no figures)."""
    try:
        from ..evaluation import plots  # lazy: matplotlib is optional
    except ImportError:
        return None
    return plots
