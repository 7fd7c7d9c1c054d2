"""Pure functions that turn classification targets into probability rows.

Our torch classifiers train on probability targets only: hard labels become
one-hot rows, soft labels (teacher probabilities) are checked and kept. Both
then go through the same soft-target cross-entropy.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import column_or_1d

SOFT_LABEL_ATOL = 1e-3


def is_soft(y):
    """Whether ``y`` holds soft labels: a 2-D array with more than one column."""
    return getattr(y, "ndim", 1) == 2 and y.shape[1] > 1


def rows_are_probabilities(proba):
    """Which rows of ``proba`` sum to 1, within the tolerance every check here uses."""
    return np.isclose(proba.sum(axis=1), 1.0, rtol=0, atol=SOFT_LABEL_ATOL)


def check_soft_labels(y, n_classes=None):
    """Validate a matrix of class probabilities and return it as float32.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_classes)
        Rows of non-negative numbers that sum to 1.
    n_classes : int, default=None
        Expected number of columns, if known.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), dtype float32
    """
    if not np.issubdtype(y.dtype, np.number):
        raise ValueError(
            f"Soft labels must be numeric class probabilities, got dtype {y.dtype}. "
            "Pass a 1-D array for hard labels."
        )
    y = y.astype(np.float64, copy=False)
    if n_classes is not None and y.shape[1] != n_classes:
        raise ValueError(
            f"Soft labels have {y.shape[1]} columns but the estimator knows "
            f"{n_classes} classes. Give one column per class, in the order of "
            "`classes_` (or of `classes` on the first call to partial_fit)."
        )
    sums = y.sum(axis=1)
    if y.min() < 0 or not rows_are_probabilities(y).all():
        worst = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(
            "Soft labels must be probabilities: non-negative rows that sum to 1 "
            f"(row {worst} sums to {sums[worst]:.4g}, minimum entry {y.min():.4g}). "
            "Normalise the rows, e.g. with scipy.special.softmax on logits."
        )
    return y.astype(np.float32)


def resolve_classes(y, classes):
    """Classes of an estimator on its first fit: ``classes`` (given to
    ``partial_fit``) when given, else the labels in ``y``, or ``0..C-1`` for
    soft labels."""
    if classes is not None:
        return np.unique(np.asarray(classes))
    if is_soft(y):
        return np.arange(y.shape[1])
    return unique_labels(y)


def hard_labels(y):
    """Check a 1-D target of class labels (a column vector warns, like sklearn)."""
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


def one_hot(y, classes):
    """One-hot float32 rows of ``y`` over ``classes`` (every label of ``y`` among them)."""
    rows = np.zeros((len(y), len(classes)), dtype=np.float32)
    rows[np.arange(len(y)), np.searchsorted(classes, y)] = 1.0
    return rows
