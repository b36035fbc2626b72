"""scikit-learn's estimator checks, on small fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from deeplasso import LassoNetAutoencoder, LassoNetClassifier, LassoNetRegressor

FAST = dict(hidden_dims=(8,), lr=1e-2, max_epochs=10, patience=2, path_multiplier=2.0, batch_size=32,
            random_state=0, verbose=0)

# Every check is expected to pass; an expected failure would be listed here with its reason.
EXPECTED_FAILED = {}


@parametrize_with_checks(
    # the autoencoder is checked as a transformer (fit(X), y ignored), on its SGD path
    [LassoNetClassifier(**FAST), LassoNetRegressor(**FAST), LassoNetAutoencoder(**FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
