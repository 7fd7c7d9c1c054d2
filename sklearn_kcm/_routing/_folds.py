"""Out-of-fold probabilities: clones fitted on some folds, asked about the others.

What ``cross_val_predict(method="predict_proba")`` computes, with three
differences the ensemble needs: the folds may be a part of a partition (the
judge's scores stop once they cover enough rows), each fit's seconds come back
(``verbose`` shows every fit made on the user's behalf), and the fitted clones
come back too (a cross-fitted judge reuses them).
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from .._compat import _safe_indexing
from ._ledger import timed


def out_of_fold_proba(estimator, X, y, splits, *, fit_params, n_jobs, ledger, key, name):
    """Probabilities of clones of ``estimator`` on the held-out rows of ``splits``.

    Parameters
    ----------
    estimator : classifier
        Unfitted; one clone per split.
    X, y : the rows the splits index.
    splits : list of (train, test)
        The folds; their held-out rows need not cover X.
    fit_params : dict
        For ``fit``, per row where per sample.
    n_jobs : int or None
        Parallel fits (joblib).
    ledger : CostLedger
        Times the fits together under ``key``; ``verbose`` prints each, as ``name i/n``.
    key, name : str

    Returns
    -------
    rows : ndarray of int
        The held-out rows, sorted.
    proba : ndarray of shape (len(rows), n_classes)
        One column per class of ``y``, in sorted order; 0 for a class that a
        fold's clone never saw, as ``cross_val_predict`` gives.
    models : list
        The fitted clones, in the order of ``splits``.
    """
    classes = np.unique(y)
    with ledger.timer(key):
        fitted = Parallel(n_jobs=n_jobs)(
            delayed(timed(_fit_and_ask))(clone(estimator), X, y, train, test, fit_params,
                                         classes)
            for train, test in splits)
    ledger.report_fits(name, [seconds for _, seconds in fitted])
    rows = np.concatenate([test for _, test in splits])
    order = np.argsort(rows, kind="stable")
    proba = np.vstack([proba for (_, proba), _ in fitted])
    return rows[order], proba[order], [model for (model, _), _ in fitted]


def _fit_and_ask(model, X, y, train, test, fit_params, classes):
    """``model`` fitted on ``train``, and its probabilities on ``test`` over ``classes``."""
    params = {key: _safe_indexing(value, train) for key, value in fit_params.items()}
    model.fit(_safe_indexing(X, train), y[train], **params)
    return model, aligned_proba(model.predict_proba(_safe_indexing(X, test)), model.classes_,
                                classes)


def aligned_proba(proba, model_classes, classes):
    """``proba`` over ``model_classes`` as columns over ``classes`` (a superset, sorted):
    0 for a class the model never saw, as ``cross_val_predict`` gives."""
    if len(model_classes) == len(classes):
        return proba
    aligned = np.zeros((len(proba), len(classes)))
    aligned[:, np.searchsorted(classes, model_classes)] = proba
    return aligned
