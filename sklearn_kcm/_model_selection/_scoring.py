"""Deferral-aware scorers for ``GridSearchCV(scoring=...)``.

Each is a callable ``scorer(estimator, X, y) -> float`` (greater is better)
that accepts a fitted :class:`KCMEnsemble`, or a Pipeline ending in one.
"""

import numpy as np

from .._utils._validation import split_pipeline


def _unwrap(estimator, X):
    """The ensemble at the end of ``estimator`` and X as it reaches the ensemble."""
    preprocess, ensemble = split_pipeline(estimator)
    return ensemble, X if preprocess is None else preprocess.transform(X)


def neg_large_share(estimator, X, y=None):
    """Score an ensemble by minus the share of X it sends to the large model.

    Greater is cheaper.

    Parameters
    ----------
    estimator : KCMEnsemble or Pipeline ending in one
        The fitted ensemble.
    X : array-like, sparse matrix, DataFrame or list of str
        Inputs, in whatever form the ensemble accepts.
    y : array-like, default=None
        Ignored; there for the scorer signature.

    Returns
    -------
    float
        ``-share``, in ``[-1, 0]``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_kcm import neg_large_share
    >>> scoring = {"accuracy": "accuracy", "neg_large_share": neg_large_share}
    """
    ensemble, X = _unwrap(estimator, X)
    return -float(np.mean(ensemble.route(X)))


def make_budget_scorer(max_large_share):
    """Best accuracy reachable while sending at most ``max_large_share`` to the large model.

    Reads the routing curve on X (one call of the large model), so it scores
    the members and the judge, not the current ``epsilon``: use it to compare
    judges or members under a budget, and :func:`make_cost_scorer` to pick
    ``epsilon``.

    Parameters
    ----------
    max_large_share : float in [0, 1]
        The budget: the largest share of inputs the large model may see.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``, the accuracy.

    Examples
    --------
    >>> from sklearn_kcm import make_budget_scorer
    >>> scorer = make_budget_scorer(0.2)
    """
    if not 0 <= max_large_share <= 1:
        raise ValueError(f"max_large_share must be in [0, 1], got {max_large_share}.")

    def accuracy_within_budget(estimator, X, y):
        ensemble, X = _unwrap(estimator, X)
        _, share, accuracy = ensemble.routing_curve(X, y)
        return float(accuracy[share <= max_large_share].max())

    accuracy_within_budget.__name__ = f"accuracy_at_large_share_{max_large_share:g}"
    return accuracy_within_budget


def make_cost_scorer(small_cost, large_cost, error_cost=1.0):
    """Make a scorer of minus the expected cost per input of the ensemble as configured.

    ``cost = small_cost + large_cost * share_sent_to_large + error_cost * error_rate``:
    every input pays the small model (and judge), routed inputs also pay the
    large model, and every wrong answer costs ``error_cost``. Express the three
    in one unit (e.g. cents per input).

    Parameters
    ----------
    small_cost : float
        Cost of the small model and the judge on one input.
    large_cost : float
        Cost of the large model on one input.
    error_cost : float, default=1.0
        Cost of one wrong answer.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``, minus the expected cost.

    Examples
    --------
    >>> from sklearn_kcm import make_cost_scorer
    >>> scorer = make_cost_scorer(small_cost=0.001, large_cost=0.1, error_cost=1.0)
    """
    for name, value in (("small_cost", small_cost), ("large_cost", large_cost),
                        ("error_cost", error_cost)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}.")

    def neg_expected_cost(estimator, X, y):
        ensemble, X = _unwrap(estimator, X)
        proba, routed = ensemble._predict_proba_and_route(X)  # one pass of small and judge
        share = float(np.mean(routed))
        error = 1.0 - float(np.mean(ensemble.classes_[np.argmax(proba, axis=1)] == np.asarray(y)))
        return -(small_cost + large_cost * share + error_cost * error)

    return neg_expected_cost
