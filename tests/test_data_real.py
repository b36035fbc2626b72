"""Checks on the real data sets when they are available (skipped otherwise).

Looks in ``$DEEPLASSO_DATA`` and in the ``shared/data`` folder beside the
repository (``<repo>/../shared/data``); Fashion-MNIST also in
``/usr/share/datasets`` (Debian package ``dataset-fashion-mnist``).  Never
downloads.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from deeplasso.data import (
    DataNotFoundError,
    channel_stats,
    compute_stats,
    load,
    paper_split,
    official_split,
    preprocess,
    select_classes,
    subsample_per_class,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data_dir(sub):
    """The first folder (env var, then shared/data) that has ``sub``."""
    cands = [Path(p) for p in os.environ.get("DEEPLASSO_DATA", "").split(os.pathsep) if p.strip()] + [SHARED]
    for c in cands:
        if (c / sub).is_dir():
            return c
    return None


def _load_or_skip(name, sub):
    d = _data_dir(sub)
    if d is None and name != "fashion-mnist":
        pytest.skip(f"real {name} files not found (looked in $DEEPLASSO_DATA and {SHARED})")
    try:
        return load(name, data_dir=d, download=False)
    except DataNotFoundError:
        pytest.skip(f"real {name} files not found")


@pytest.fixture(scope="module")
def cifar():
    return _load_or_skip("cifar10", "cifar-10-batches-bin")


@pytest.fixture(scope="module")
def mnist():
    return _load_or_skip("mnist", "mnist")


def test_cifar10_real(cifar):
    assert cifar.x_train.shape == (50000, 3, 32, 32) and cifar.x_test.shape == (10000, 3, 32, 32)
    assert cifar.x_train.dtype == np.uint8 and cifar.y_train.dtype == np.int64
    assert np.all(np.bincount(cifar.y_train, minlength=10) == 5000)
    assert np.all(np.bincount(cifar.y_test, minlength=10) == 1000)
    assert cifar.classes == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    assert cifar.x_train.min() == 0 and cifar.x_train.max() == 255
    mean, std = channel_stats(cifar.x_train)
    np.testing.assert_allclose(mean, [0.4914, 0.4822, 0.4465], atol=1e-3)
    np.testing.assert_allclose(std, [0.2470, 0.2435, 0.2616], atol=1e-3)
    # the first training image's label, as published for data_batch_1 (6 = frog)
    assert cifar.y_train[0] == 6 and cifar.y_train[1] == 9


def test_cifar10_real_preprocess_and_split(cifar):
    sub = subsample_per_class(cifar, n_train=50, n_test=10, random_state=0)
    X = preprocess(sub.x_train, "imagenet")
    assert X.shape == (500, 3072) and X.dtype == np.float32
    s = compute_stats(cifar.x_train, "train")
    Xt = s.apply(cifar.x_train[:2000]).reshape(2000, 3, -1)
    assert np.all(np.abs(Xt.mean(axis=(0, 2))) < 0.1)
    two = select_classes(cifar, ["cat", "dog"])
    assert two.classes == ("cat", "dog") and two.y_train.size == 10000 and two.y_test.size == 2000


def test_mnist_real(mnist):
    assert mnist.x_train.shape == (60000, 1, 28, 28) and mnist.x_test.shape == (10000, 1, 28, 28)
    assert mnist.y_train.size == 60000 and mnist.y_test.size == 10000
    assert mnist.x_train.min() == 0 and mnist.x_train.max() == 255
    assert mnist.y_train.min() == 0 and mnist.y_train.max() == 9
    mean, std = channel_stats(mnist.x_train)
    np.testing.assert_allclose(mean, [0.1307], atol=1e-3)
    np.testing.assert_allclose(std, [0.3081], atol=1e-3)
    assert mnist.y_train[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first labels
    assert mnist.y_test[:3].tolist() == [7, 2, 1]


def test_mnist_real_paper_split(mnist):
    sp = paper_split(mnist, random_state=0)
    assert (sp.y_train.size, sp.y_val.size, sp.y_test.size) == (56000, 7000, 7000)
    counts = np.bincount(np.concatenate([mnist.y_train, mnist.y_test]), minlength=10)
    assert np.all(np.abs(np.bincount(sp.y_val, minlength=10) - counts / 10) < 1)
    one_four = select_classes(official_split(mnist, 0.1), [1, 4])
    assert one_four.classes == ("1", "4") and set(np.unique(one_four.y_test)) == {0, 1}


def test_fashion_mnist_real():
    ds = _load_or_skip("fashion-mnist", "fashion-mnist")
    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert np.all(np.bincount(ds.y_train, minlength=10) == 6000)
    assert np.all(np.bincount(ds.y_test, minlength=10) == 1000)
    mean, _ = channel_stats(ds.x_train)
    np.testing.assert_allclose(mean, [0.2860], atol=1e-3)
