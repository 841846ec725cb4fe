"""Both classifiers are scikit-learn estimators: its own estimator checks, and its tools (Nengo-style: one suite).

scikit-learn's checks feed 2-D tabular X, which a sequence classifier reads
as aeon does: a batch of univariate sequences whose second axis is time.
The checks that assume that axis holds a fixed number of features are
expected to fail, each with its reason below; every other check passes.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from rrnn_net import GenerativeRNN, NotFittedError, RRNNClassifier
from rrnn_net.baseline import ReservoirClassifier
from rrnn_net.datasets import class_sequences

#: A small multi-step fit: the checks test the estimator protocol, not the learning, and fit dozens of times.
QUICK_FIT = {"horizons": (2,), "epochs_per_stage": 5}
ESTIMATORS = [RRNNClassifier(2, n_members=1, objective="multistep", fit_options=QUICK_FIT, progress=False),
              RRNNClassifier(2, n_members=2, objective="multistep", fit_options=QUICK_FIT, progress=False),
              ReservoirClassifier(10)]

_TIME_AXIS = ("2-D X is a batch of univariate sequences (aeon's layout): its second axis is time, whose length "
              "may differ between fit and predict, so n_features_in_ counts channels (1), not columns")
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _TIME_AXIS,
    "check_n_features_in_after_fitting": _TIME_AXIS,
    "check_classifiers_train": _TIME_AXIS + " (the check requires predict to refuse other column counts)",
    "check_estimators_empty_data_messages": "an empty time axis is reported as such (ShapeError naming X's shape), "
                                            "not in scikit-learn's words for zero features",
    "check_fit2d_1feature": "one column is one time point: the multi-step fit refuses sequences of one sample",
}


def expected_failed_checks(estimator) -> dict[str, str]:
    failed = dict(EXPECTED_FAILED_CHECKS)
    if isinstance(estimator, ReservoirClassifier):
        del failed["check_fit2d_1feature"]  # a reservoir reads one-sample sequences fine
    return failed


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def sequences():
    models = [GenerativeRNN.oscillator(3, 2, observation_noise=0.05, seed=s) for s in (0, 1)]
    return class_sequences(models, 6, 40, seed=0)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_classifiers_work_in_cross_validation_pipelines_and_grid_search(estimator, sequences):
    X, y = sequences
    assert is_classifier(estimator)
    scores = cross_val_score(clone(estimator), X, y, cv=2)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    # A transformer in front: sequences pass through unchanged (aeon's transformers take the same layout).
    pipeline = make_pipeline(FunctionTransformer(lambda X: X * 2.0), clone(estimator)).fit(X, y)
    assert pipeline.predict(X).shape == y.shape
    name = "n_hidden"
    search = GridSearchCV(clone(estimator), {name: [2, 3]}, cv=2).fit(X, y)
    assert search.best_params_[name] in (2, 3)
    assert search.predict(X).shape == y.shape


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_unfitted_classifiers_raise_scikit_learns_not_fitted_error(estimator, sequences):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(NotFittedError) as raised:
        clone(estimator).predict(sequences[0])
    assert isinstance(raised.value, SklearnNotFittedError)
