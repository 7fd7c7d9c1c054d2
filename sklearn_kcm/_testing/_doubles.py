"""Members that record what the ensemble asks of them, and a judge quick to train."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from .._torch._judges import KANJudgeClassifier


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression that keeps what it was fitted on (``X_fit_``, ``y_fit_``,
    ``sample_weight_``)."""

    def fit(self, X, y, sample_weight=None):
        self.X_fit_, self.y_fit_ = np.asarray(X), np.asarray(y)
        self.sample_weight_ = sample_weight
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """A large model that records every predict_proba call (rows and hint)."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        default = DecisionTreeClassifier(random_state=0)
        self.estimator_ = clone(default if self.estimator is None else self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.calls_ = []
        return self

    def predict_proba(self, X, hint=None):
        self.calls_.append({"n": len(X), "hint": hint})
        return self.estimator_.predict_proba(X)


class HintedClassifier(CountingClassifier):
    """The same, and it asks for the small model's hint through metadata routing."""

    __metadata_request__predict_proba = {"hint": True}


def fast_judge(**params):
    """A KAN judge that trains in a blink (one layer of cubic splines, five epochs), for
    tests of routing."""
    defaults = dict(hidden_layer_sizes=(), grid_size=5, spline_order=3, max_epochs=5,
                    batch_size=32, random_state=0)
    return KANJudgeClassifier(**{**defaults, **params})
