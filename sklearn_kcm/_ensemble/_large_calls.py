"""Calling the large model: what it reads, the small model's hint, one counted call."""

import numpy as np
import scipy.sparse as sp
from sklearn.frozen import FrozenEstimator

from .._compat import _safe_indexing
from .._utils._validation import checked_proba
from ._recent import row_digests


def large_input(X, small_proba, hint):
    """The large model's input: X, or X with the small model's probabilities appended.

    ``hint="features"`` appends them as columns (numeric X only); any other
    ``hint`` leaves X as it is.
    """
    if hint != "features":
        return X
    if sp.issparse(X):
        return sp.hstack([X, sp.csr_matrix(small_proba)], format="csr")
    if hasattr(X, "iloc"):
        X = X.to_numpy()
    return np.hstack([np.asarray(X), small_proba])


def takes_hint(model, hint, method="predict_proba"):
    """Whether ``model``'s ``method`` requests ``hint`` (only with ``hint="auto"``)."""
    if hint != "auto":
        return False
    if isinstance(model, FrozenEstimator):
        if method != "predict_proba":
            return False  # a frozen model's fit does nothing
        model = model.estimator
    try:
        requested = model.get_metadata_routing().consumes(method, ["hint"])
    except AttributeError:
        return False
    return "hint" in requested


def fit_large(model, X, y, small_proba, *, hint, fit_params):
    """Fit a large ``model`` on X, given the small model's out-of-fold probabilities on X.

    They reach it as columns (``hint="features"``) or, for a model whose
    ``fit`` requests ``hint`` (e.g. a fine-tuned ``TransformerClassifier``
    that reads them before the text), as ``hint=``: it learns from answers of
    a small model that had not seen the row, as at predict time.
    """
    kwargs = {"hint": small_proba} if takes_hint(model, hint, "fit") else {}
    return model.fit(large_input(X, small_proba, hint), y, **fit_params, **kwargs)


def ask_large(model, X, rows, small_proba, *, hint, n_classes, ledger, phase, recent=None):
    """One call of a large ``model`` on ``rows`` of X, with the hint; counted in ``ledger``.

    ``small_proba`` holds the small model's probabilities on every row of X;
    ``phase`` ("fit" or "predict") names the ledger's counters. ``recent``
    (a :class:`~._recent.RecentAnswers`): rows it holds, asked with the same
    hint, are answered from it without a call, and the answers bought are added.
    """
    X_rows = _safe_indexing(X, rows)
    row_hint = small_proba[rows]
    proba = np.empty((rows.size, n_classes))
    todo = np.arange(rows.size)
    if recent is not None:
        digests = row_digests(X_rows, row_hint)
        stored = recent.get(digests)
        known = np.array([answer is not None for answer in stored], dtype=bool)
        if known.any():
            proba[known] = np.vstack([answer for answer in stored if answer is not None])
        todo = np.flatnonzero(~known)
    if todo.size:
        asked = X_rows if todo.size == rows.size else _safe_indexing(X_rows, todo)
        kwargs = {"hint": row_hint[todo]} if takes_hint(model, hint) else {}
        # in fit the large model answers as a teacher; its own fit is timed as "fit_large"
        with ledger.timer("predict_large" if phase == "predict" else "fit_teacher_answers"):
            answers = model.predict_proba(large_input(asked, row_hint[todo], hint), **kwargs)
        ledger.add(**{f"{phase}_large_samples": todo.size, f"{phase}_large_calls": 1})
        proba[todo] = checked_proba(answers, todo.size, n_classes, "large")
        if recent is not None:
            recent.put([digests[i] for i in todo], proba[todo])
    return proba


def learns_in_fit(model):
    """Whether a fitted large ``model``'s ``fit`` learnt anything (not a FrozenEstimator,
    nor a model that keeps a bill of its calls, an LLM, whose fit reads the labels only)."""
    return not (isinstance(model, FrozenEstimator) or bills_its_calls(model))


def bills_its_calls(model):
    """Whether a fitted large ``model`` keeps a bill of its calls (``usage_``: an LLM).

    Such a model learns nothing from the labels in ``fit`` and each call costs
    money, so the ensemble asks it about no training row it need not.
    """
    return getattr(model, "usage_", None) is not None


def add_usage(large, others):
    """Add the LLM usage (``usage_``) of the ``others`` large models to ``large``'s.

    The out-of-fold clones of an LLM large model call the service on the
    user's behalf too; their calls belong in the bill of the fitted one.
    """
    usage = getattr(large, "usage_", None)
    if usage is None:
        return
    for model in others:
        theirs = getattr(model, "usage_", None)
        if theirs is not None and theirs is not usage:
            usage.add(**theirs.counts())
