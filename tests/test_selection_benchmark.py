"""The selection benchmark's levers (benchmarks/selection_quality.py): whole-pixel groups,
the last-norm tie rule and selection frequency over several paths."""

import sys
from pathlib import Path as FsPath

import numpy as np
import pytest

from deeplasso.engine.results import Path, PathPoint

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1] / "benchmarks"))
sq = pytest.importorskip("selection_quality")


def _path(norm_rows, lambdas):
    pts = [PathPoint(lambda_=lam, theta_norm=np.asarray(r, float), train_loss=0.0, train_score=0.0, val_loss=0.0,
                     val_score=0.0, val_objective=0.0, epochs=1, seconds=0.0) for r, lam in zip(norm_rows, lambdas)]
    return Path(points=pts, n_features=len(norm_rows[0]))


def test_pixel_groups_partition_the_values_by_pixel():
    groups = sq.pixel_groups((3, 4, 5))
    assert len(groups) == 20
    assert sorted(v for g in groups for v in g) == list(range(60))
    # each group is one pixel in the three channel planes
    assert all(g == [p, 20 + p, 40 + p] for p, g in enumerate(groups))
    with pytest.raises(SystemExit, match="colour"):
        sq.pixel_groups((1, 8, 8))


def test_last_norm_tie_rule_breaks_ties_at_the_point_before_leaving():
    # features 0 and 1 leave together at lambda 3; 0 is larger there, 1 is larger summed over the path
    rows = [[1.0, 5.0, 2.0, 1.0], [0.9, 0.5, 2.0, 1.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.0, 0.2]]
    path = _path(rows, [0.0, 2.0, 3.0, 4.0])
    assert list(path.ranking()) == [3, 2, 1, 0]  # the default rule: sum of norms
    assert list(sq.last_norm_ranking(path)) == [3, 2, 0, 1]
    # the ordering by importance itself is untouched
    imp = path.feature_importances()
    r = sq.last_norm_ranking(path)
    assert np.all(np.diff(imp[r]) <= 0)


def test_frequency_selection_counts_top_k_memberships():
    rankings = [np.array([0, 1, 2, 3, 4]), np.array([1, 0, 3, 2, 4]), np.array([2, 1, 0, 4, 3])]
    sel = sq.frequency_selection(rankings, [1, 2, 3])
    # top-1: 0, 1 and 2 once each; 1 has the smallest mean position (1, 0, 1)
    assert list(sel[1]) == [1]
    # top-2: 1 in all three, then 0 (twice)
    assert list(sel[2]) == [1, 0]
    # top-3: 0 and 1 in all three (1 first by mean position), 2 twice, 3 once
    assert list(sel[3]) == [1, 0, 2]
