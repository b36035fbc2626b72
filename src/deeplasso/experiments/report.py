"""Markdown reports drawn from a run directory's saved results alone.

``write_report(run_dir)`` redraws the figures and rewrites ``report.md`` for either
kind of run directory: one ``deeplasso fit`` run (``results.json``,
:mod:`.fit_report`) or a ``deeplasso reproduce`` run (``reproduce.json``,
:mod:`.reproduce_report`). Nothing here trains a model or reads one: every number
comes from the JSON files the runs wrote.
"""

from __future__ import annotations

from pathlib import Path as FsPath

from .fit_report import draw_figures, write_fit_report
from .reporting import fmt, md_table
from .reproduce_report import write_reproduce_report

__all__ = ["write_report", "write_fit_report", "fmt", "md_table"]


def write_report(run_dir) -> str:
    """Redraw the figures and rewrite ``report.md`` of a run directory from its saved
    results; returns the report's file name."""
    run_dir = FsPath(run_dir)
    if (run_dir / "reproduce.json").exists():
        return write_reproduce_report(run_dir)
    if (run_dir / "results.json").exists():
        draw_figures(run_dir)
        return write_fit_report(run_dir)
    raise FileNotFoundError(
        f"{run_dir} holds no finished run: expected results.json (deeplasso fit) or reproduce.json "
        "(deeplasso reproduce).")
