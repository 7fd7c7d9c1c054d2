"""Checks shared by the estimators: targets, members' answers, inputs and Pipelines.

Each rule is written once here, so that every estimator words the same problem
the same way and says how to fix it.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from ._soft_labels import rows_are_probabilities


def split_pipeline(estimator):
    """The preprocessing steps (or None) and the final estimator of a model."""
    if isinstance(estimator, Pipeline):
        return estimator[:-1], estimator[-1]
    return None, estimator


def final_estimator(estimator):
    """The estimator that answers: the last step of a Pipeline, or the model itself."""
    return split_pipeline(estimator)[1]


def check_y_given(y, owner, alternative=""):
    """Raise the error scikit-learn's checks expect when ``y`` is None."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None"
                         f"{alternative}.")


def check_known_labels(y, classes, fix):
    """Raise when ``y`` holds labels outside ``classes``; ``fix`` says what to do."""
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(f"y holds labels {unknown.tolist()[:5]} that are not among the "
                         f"classes {np.asarray(classes).tolist()[:10]}. {fix}")


def checked_proba(proba, n_rows, n_classes, name):
    """A member's probabilities as float64, or a clear error when they are not usable."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n_rows, n_classes):
        raise ValueError(f"The {name} model's predict_proba returned shape {proba.shape} for "
                         f"{n_rows} rows and {n_classes} classes; it must give one column "
                         "per class of `classes_`, in that order.")
    if not np.all(np.isfinite(proba)) or not rows_are_probabilities(proba).all():
        raise ValueError(f"The {name} model's predict_proba returned rows that are not "
                         "probabilities (NaN, inf, or rows not summing to 1); check that "
                         "model on these inputs (e.g. values outside its training range).")
    return proba


def is_numeric(X):
    """Whether X holds numbers only (sparse, numeric DataFrame, array of numbers)."""
    if sp.issparse(X):
        return True
    if hasattr(X, "dtypes"):  # DataFrame
        return all(_is_numeric_dtype(dtype) for dtype in X.dtypes)
    try:
        array = np.asarray(X)
        if array.dtype.kind == "O":  # numbers stored as objects convert; text does not
            array = array.astype(np.float64)
        return array.dtype.kind in "biuf"
    except (ValueError, TypeError):  # ragged, or not numbers
        return False


def _is_numeric_dtype(dtype):
    """Whether a column of this dtype holds numbers (or booleans): numpy dtypes, and
    pandas' extension dtypes (``Int64``, ``Float64``, ``boolean``, pyarrow numbers...),
    which numpy cannot interpret; ``string`` and ``category`` are not numbers."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biuf"
    from pandas.api.types import is_numeric_dtype  # an extension dtype: pandas is there

    return bool(is_numeric_dtype(dtype))


def fit_takes_sample_weight(estimator):
    """Whether ``estimator.fit`` has a ``sample_weight`` parameter (False for None)."""
    return estimator is not None and has_fit_parameter(estimator, "sample_weight")


def check_hint(hint, n_samples, n_classes):
    """The small model's probabilities given as a large model's ``hint``, checked, as float64."""
    hint = np.asarray(hint, dtype=np.float64)
    if hint.shape != (n_samples, n_classes):
        raise ValueError(
            f"hint must have shape (n_samples, n_classes) = ({n_samples}, {n_classes}), "
            f"got {hint.shape}."
        )
    bad = ~(np.isfinite(hint).all(axis=1) & (hint >= 0).all(axis=1)
            & rows_are_probabilities(hint))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"hint must hold the small model's class probabilities (rows of numbers in "
            f"[0, 1] summing to 1); row {row} is {hint[row].tolist()}. Pass "
            "small.predict_proba(X)."
        )
    return hint


def check_texts(X, owner):
    """X as a list of str: a list/array of texts, a Series, or a one-column DataFrame."""
    if hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(
                f"{owner} takes one column of texts; the DataFrame has {X.shape[1]}. "
                "Select it first, e.g. df['text']."
            )
        X = X.iloc[:, 0]
    if isinstance(X, str) or not hasattr(X, "__len__"):
        raise ValueError(f"{owner} takes a list or array of texts, one per sample.")
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:  # a column of texts
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{owner} takes one text per sample, a 1-D list or array; got an array of "
            f"shape {array.shape}. Join the columns into one text per row, or select one."
        )
    texts = list(array)
    if len(texts) == 0:
        raise ValueError(f"Found array with 0 sample(s); {owner} needs at least one text.")
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise ValueError(f"{owner} takes texts (str); got {bad[0]} among the samples.")
    return texts
