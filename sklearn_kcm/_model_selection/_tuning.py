"""Choosing ``epsilon`` from cross-validated routing curves, one fit per split."""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils.validation import indexable

from .._compat import Interval, _safe_indexing, validate_params
from ._scoring import _unwrap


@validate_params(
    {"estimator": [object], "X": ["array-like", "sparse matrix"], "y": ["array-like"],
     "large_cost": [Interval(Real, 0, None, closed="left")],
     "error_cost": [Interval(Real, 0, None, closed="left")],
     "cv": ["cv_object"], "groups": ["array-like", None]},
    prefer_skip_nested_validation=False,
)
def tune_epsilon(estimator, X, y, *, large_cost, error_cost=1.0, cv=5, groups=None):
    """Choose ``epsilon`` by the expected cost on held-out rows, every threshold at once.

    What :class:`~sklearn.model_selection.TunedThresholdClassifierCV` does for
    a decision threshold: each split fits one clone of the ensemble on its
    training rows and reads the routing curve on its held-out rows (one call of
    the large model on them), which scores *every* threshold from that one
    fit. The chosen ``epsilon`` minimises the expected cost per input, averaged
    over the splits::

        large_cost * share_sent_to_large + error_cost * error_rate

    (what every input pays the small model and the judge does not move the
    choice). A ``GridSearchCV`` over ``epsilon`` with :func:`make_cost_scorer`
    refits per value instead, and with distillation on it also lets the
    threshold change what the small model learns; here the curves are read on
    ensembles fitted at the estimator's own ``epsilon``.

    Parameters
    ----------
    estimator : KCMEnsemble or Pipeline ending in one
        Unfitted; cloned for each split.
    X : array-like, sparse matrix, DataFrame or list of str
        Training inputs, in whatever form the estimator accepts.
    y : array-like of shape (n_samples,)
        Class labels.
    large_cost : float >= 0
        Cost of the large model on one input.
    error_cost : float >= 0, default=1.0
        Cost of one wrong answer, in the same unit.
    cv : int, cross-validation generator or iterable, default=5
        The splits (stratified for an int).
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group-aware ``cv``.

    Returns
    -------
    Bunch
        ``epsilon`` (the best threshold), ``expected_cost`` (its mean cost
        per input), ``thresholds`` (every candidate, increasing) and
        ``expected_cost_curve`` (the mean cost at each), ``large_share`` and
        ``accuracy`` (their means over the splits at each candidate).

    See Also
    --------
    make_cost_scorer : The same cost as a scorer for ``GridSearchCV``.
    KCMEnsemble.routing_curve : The curve of one fitted ensemble.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_kcm import KCMEnsemble, tune_epsilon
    >>> X, y = load_iris(return_X_y=True)
    >>> kcm = KCMEnsemble(LogisticRegression(), RandomForestClassifier(random_state=0),
    ...                   judge="small", distill=False)
    >>> tuned = tune_epsilon(kcm, X, y, large_cost=0.01, error_cost=1.0, cv=3)
    >>> kcm = kcm.set_params(epsilon=tuned.epsilon).fit(X, y)
    """
    X, y, groups = indexable(X, y, groups)
    y = np.asarray(y)
    curves = []
    for train, test in check_cv(cv, y, classifier=True).split(X, y, groups):
        fitted = clone(estimator).fit(_safe_indexing(X, train), y[train])
        ensemble, X_test = _unwrap(fitted, _safe_indexing(X, test))
        curves.append(ensemble.routing_curve(X_test, y[test]))
    thresholds = np.unique(np.concatenate([curve[0] for curve in curves]))
    share, accuracy = np.zeros(thresholds.size), np.zeros(thresholds.size)
    for curve_thresholds, curve_share, curve_accuracy in curves:
        # a split's curve is a step function of the threshold: the last step at or below it
        step = np.maximum(np.searchsorted(curve_thresholds, thresholds, side="right") - 1, 0)
        share += curve_share[step] / len(curves)
        accuracy += curve_accuracy[step] / len(curves)
    cost = large_cost * share + error_cost * (1.0 - accuracy)
    best = int(np.argmin(cost))  # ties: the smallest threshold, the fewest large-model calls
    return Bunch(epsilon=float(np.clip(thresholds[best], 0.0, 1.0)),
                 expected_cost=float(cost[best]), thresholds=thresholds,
                 expected_cost_curve=cost, large_share=share, accuracy=accuracy)
