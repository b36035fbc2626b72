"""Experiments of the paper, each writing its results into a run directory."""
