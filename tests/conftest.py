"""Fixtures shared by several test modules."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def xor240():
    """240 samples, 10 features; labels from features 0, 1, 2 only, through an XOR (no
    linear model separates them)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 10)).astype(np.float32)
    y = ((X[:, 0] + X[:, 1] > 0) ^ (X[:, 2] > 0)).astype(np.int64)
    return X, y
