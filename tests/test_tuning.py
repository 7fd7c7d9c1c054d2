"""Tuning the threshold: KCMEnsemble(memory=...) caches member fits across epsilon values,
and tune_epsilon reads every threshold from one fit per split."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import KCMEnsemble, make_cost_scorer, tune_epsilon
from sklearn_kcm._testing import fast_judge


class FitLog:
    """The member fits of a test, one line each in a file: clones, cache loads and
    worker processes all write to it."""

    def __init__(self, path):
        self.path = str(path)
        self.clear()

    def clear(self):
        Path(self.path).write_text("")

    def names(self):
        return Path(self.path).read_text().split()


class Recorded(ClassifierMixin, BaseEstimator):
    """A classifier that logs its fits in the file ``log``."""

    def __init__(self, estimator, name, log):
        self.estimator = estimator
        self.name = name
        self.log = log

    def fit(self, X, y, sample_weight=None):
        with open(self.log, "a") as log:
            log.write(self.name + "\n")
        self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        return self.estimator_.predict(X)


@pytest.fixture
def data():
    X, y = load_digits(n_class=5, return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture
def fits(tmp_path):
    return FitLog(tmp_path / "fits.log")


def _kcm(fits, judge="small", distill="large", **params):
    """An ensemble whose distillation on labelled rows fits out-of-fold teachers."""
    small = Recorded(LogisticRegression(C=0.1, max_iter=500), "small", fits.path)
    large = Recorded(DecisionTreeClassifier(random_state=0), "large", fits.path)
    return KCMEnsemble(small, large, judge, cv=3, random_state=0, distill=distill, **params)


def test_epsilon_grid_fits_the_members_once_per_split_and_scores_as_without(data, tmp_path, fits):
    X_train, _, y_train, _ = data
    grid = {"epsilon": [0.5, 0.9, 0.95]}
    fits.clear()
    # unseeded: nothing is kept, every candidate refits (nothing here draws at random)
    plain = GridSearchCV(_kcm(fits).set_params(random_state=None), grid, cv=2).fit(
        X_train, y_train)
    # per split: the large model, its 3 out-of-fold teachers; then the refit on all rows
    assert fits.names().count("large") == 2 * 3 * (1 + 3) + (1 + 3)
    for cache in ({}, {"memory": str(tmp_path)}):  # seeded: in memory by default, or on disk
        fits.clear()
        cached = GridSearchCV(_kcm(fits, **cache), grid, cv=2).fit(X_train, y_train)
        assert fits.names().count("large") == 2 * (1 + 3) + (1 + 3)
        assert cached.best_params_ == plain.best_params_
        np.testing.assert_allclose(cached.cv_results_["mean_test_score"],
                                   plain.cv_results_["mean_test_score"])


def test_a_cached_fit_predicts_like_a_fresh_one(data, tmp_path, fits):
    X_train, X_test, y_train, _ = data
    fresh = _kcm(fits, fast_judge(), epsilon=0.9).fit(X_train, y_train)
    _kcm(fits, fast_judge(), epsilon=0.5, memory=str(tmp_path)).fit(X_train, y_train)  # the cache
    fits.clear()
    loaded = _kcm(fits, fast_judge(), epsilon=0.9, memory=str(tmp_path)).fit(X_train, y_train)
    assert set(fits.names()) == {"small"}  # distillation refits the small model only
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fresh.predict_proba(X_test))
    assert loaded.epsilon_ == 0.9 and loaded.distillation_ == fresh.distillation_


@pytest.mark.parametrize("change", ["member", "ensemble", "data"])
def test_what_the_members_learn_from_changes_the_key(change, data, tmp_path, fits):
    X_train, _, y_train, _ = data
    _kcm(fits, memory=str(tmp_path)).fit(X_train, y_train)
    fits.clear()
    kcm, X = _kcm(fits, memory=str(tmp_path)), X_train
    if change == "member":
        kcm.set_params(small__estimator__C=1.0)
    elif change == "ensemble":
        kcm.set_params(hint="features")
    else:
        X = X_train + 1e-3
    kcm.fit(X, y_train)
    assert fits.names().count("large") == 1 + 3


def test_tune_epsilon_fits_once_per_split_and_agrees_with_a_cost_grid(data, fits):
    X_train, _, y_train, _ = data
    kcm = _kcm(fits, distill=False)  # then epsilon changes nothing the members learn
    fits.clear()
    tuned = tune_epsilon(kcm, X_train, y_train, large_cost=0.05, error_cost=1.0, cv=3)
    assert fits.names().count("large") == 3
    # an independent grid of refits, the tuned epsilon among its points, finds it cheapest
    some = [*tuned.thresholds[:: max(1, tuned.thresholds.size // 6)], tuned.epsilon]
    grid = GridSearchCV(kcm, {"epsilon": np.clip(some, 0, 1).tolist()}, cv=3, refit=False,
                        scoring=make_cost_scorer(0.0, large_cost=0.05, error_cost=1.0))
    grid.fit(X_train, y_train)
    costs = -grid.cv_results_["mean_test_score"]
    assert costs[-1] == pytest.approx(costs.min(), abs=1e-12)
    assert tuned.expected_cost == pytest.approx(costs[-1], abs=1e-12)
    np.testing.assert_allclose(costs, tuned.expected_cost_curve[np.searchsorted(
        tuned.thresholds, some)], atol=1e-12)


@pytest.mark.parametrize("large_cost, routes", [(1e6, "nothing"), (0.0, "the hard rows")])
def test_tune_epsilon_follows_the_price_of_the_large_model(large_cost, routes, data, fits):
    X_train, X_test, y_train, _ = data
    kcm = _kcm(fits, distill=False)
    tuned = tune_epsilon(kcm, X_train, y_train, large_cost=large_cost, cv=3)
    share = kcm.set_params(epsilon=tuned.epsilon).fit(X_train, y_train).route(X_test).mean()
    if routes == "nothing":
        assert share == 0 and tuned.large_share[np.searchsorted(tuned.thresholds,
                                                                tuned.epsilon)] == 0
    else:  # free large-model calls: as accurate as routing can be, at some share
        assert tuned.accuracy.max() == pytest.approx(1 - tuned.expected_cost)
        assert share > 0
