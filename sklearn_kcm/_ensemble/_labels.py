"""The ensemble's ``y``: labelled and unlabelled rows, and the classes its members know."""

from numbers import Integral

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._utils._validation import check_y_given


def check_targets(X, y, owner, unlabelled_mark=None):
    """Class labels of a classifier's ``fit``: 1-D, as long as X, classification targets.

    Rows marked ``unlabelled_mark`` (see :func:`split_labelled`) are left out of
    the last check, so that string labels may sit beside -1.
    """
    check_y_given(y, owner)
    y = column_or_1d(_keep_label_types(y, unlabelled_mark), warn=True)
    check_consistent_length(X, y)
    labelled, _ = split_labelled(y, unlabelled_mark, batch=True)
    check_classification_targets(y[labelled])
    return y


def _keep_label_types(y, mark):
    """``y``, as an object array where a list or object array mixes strings and numbers.

    numpy would turn ``["neg", -1]`` into ``["neg", "-1"]``, a class "-1": the
    mark must mean the same whatever holds it. Mixed types are accepted only
    when the numbers are the mark."""
    if isinstance(y, np.ndarray) and y.dtype.kind != "O" or not hasattr(y, "__len__"):
        return y
    values = list(np.asarray(y, dtype=object).ravel()) if hasattr(y, "dtype") else list(y)
    texts = [value for value in values if isinstance(value, str)]
    if not texts or len(texts) == len(values):
        return y
    strays = [value for value in values if not isinstance(value, str)
              and not (isinstance(mark, Integral) and isinstance(value, Integral)
                       and value == mark)]
    if strays:
        raise ValueError(
            f"y mixes strings and numbers (e.g. {texts[0]!r} and {strays[0]!r}). Give every "
            f"label the same type; if {strays[0]!r} marks rows without a label, pass "
            f"unlabelled_label={strays[0]!r}.")
    return np.asarray(values, dtype=object).reshape(np.shape(y))


def split_labelled(y, mark=None, *, batch=False):
    """Indices of the labelled rows of ``y`` and of the rows marked ``mark`` (unlabelled).

    ``mark`` is ``KCMEnsemble(unlabelled_label=...)``, e.g. -1, scikit-learn's
    semi-supervised convention (``SelfTrainingClassifier``); with string
    labels, -1 sits in a list or an object array. None: every row is labelled.
    Training data must label rows of two classes at least; a ``batch`` of a
    stream may label any, or none.
    """
    if mark is not None and y.dtype.kind in "US" and not isinstance(mark, str) and np.any(
            y == str(mark)):
        raise ValueError(
            f"y holds the text {str(mark)!r} in {int(np.sum(y == str(mark)))} rows, and "
            f"unlabelled_label={mark!r} is a number. If those rows have no label, pass "
            f"unlabelled_label={str(mark)!r} (or hold {mark!r} in a list or object array); "
            f"if {str(mark)!r} is a class, pass unlabelled_label=None.")
    unlabelled = np.zeros(len(y), dtype=bool)
    if mark is not None and (y.dtype.kind == "O" or np.asarray(mark).dtype.kind == y.dtype.kind
                             or (y.dtype.kind in "iuf" and isinstance(mark, int))):
        unlabelled = np.asarray(y == mark, dtype=bool)
    if batch:
        return np.flatnonzero(~unlabelled), np.flatnonzero(unlabelled)
    if unlabelled.all():
        raise ValueError(
            f"Every row of y is {mark!r}, the mark of a row without a label; label at least "
            "one row of every class, so that the members know the classes."
        )
    if unlabelled.any() and np.unique(y[~unlabelled]).size == 1:
        raise ValueError(
            f"y marks {unlabelled.sum()} rows with {mark!r} as unlabelled and the others "
            f"hold a single class ({y[~unlabelled][0]!r}). If {mark!r} is a class of your "
            "task (labels -1/+1), pass unlabelled_label=None; otherwise label rows of "
            "every class."
        )
    if np.unique(y[~unlabelled]).size < 2:
        raise ValueError(
            f"y holds a single class ({np.asarray(y[~unlabelled][:1]).tolist()[0]!r}); a "
            "classifier can't train when only one class is present: give rows of two "
            "classes at least.")
    if unlabelled.any():
        _refuse_a_mark_that_is_a_class(y, unlabelled, mark)
    return np.flatnonzero(~unlabelled), np.flatnonzero(unlabelled)


def _refuse_a_mark_that_is_a_class(y, unlabelled, mark):
    """Raise where the mark reads as one more class: integer labels ``0..K-1`` with the mark
    among them, on no more rows than a class has (rows without a label usually outnumber
    each class). Its class would vanish from ``classes_`` without a word."""
    labels, counts = np.unique(y[~unlabelled], return_counts=True)
    if not isinstance(mark, Integral) or not all(isinstance(v, Integral) for v in labels):
        return
    together = np.sort(np.append(labels.astype(int), int(mark)))
    if not np.array_equal(together, np.arange(len(together))):
        return
    if unlabelled.sum() > 1.5 * counts.max():
        return
    raise ValueError(
        f"unlabelled_label={mark!r} marks {int(unlabelled.sum())} rows as unlabelled, but "
        f"{mark!r} reads as a class: with it the labels are 0..{len(together) - 1}, and it "
        f"has as many rows as a class (the largest labelled class, "
        f"{labels[np.argmax(counts)].item()!r}, has {counts.max()}); class {mark!r} would have no "
        "labelled row and vanish from classes_. If it is a class, pass "
        f"unlabelled_label=None; if those rows have no label, mark them -1 (and pass "
        "unlabelled_label=-1).")


UNLABELLED_FIX = ("Rows marked `unlabelled_label` have no label: label at least one row of "
                  "every class the large model knows.")


def check_first_batch(y, classes, mark):
    """Raise unless the labelled rows of the first batch of a stream hold every class."""
    labels = np.unique(y[split_labelled(y, mark)[0]])
    if classes is None:
        return
    classes = np.unique(classes)
    missing, extra = np.setdiff1d(classes, labels), np.setdiff1d(labels, classes)
    if missing.size or extra.size:
        problems = ([f"lacks {missing.tolist()[:10]} of `classes`"] if missing.size else []) + (
            [f"holds {extra.tolist()[:10]}, not in `classes`"] if extra.size else [])
        raise ValueError(
            "The first batch given to KCMEnsemble.partial_fit must hold every class of "
            f"`classes` ({len(classes)} classes) and no other; it "
            f"{' and '.join(problems)}. Fit on an initial labelled sample holding them all "
            "first, or give `classes` the labels of the stream."
        )


def check_same_classes(classes, member, name, fix=None):
    """Raise when a fitted member knows other classes than the ensemble (``fix``: what to do)."""
    member_classes = getattr(member, "classes_", None)
    if member_classes is None:
        raise ValueError(
            f"The {name} model has no `classes_` after fitting; KCMEnsemble needs "
            "classifiers whose predict_proba columns follow `classes_`."
        )
    if len(member_classes) != len(classes) or not np.all(member_classes == classes):
        raise ValueError(
            f"The {name} model knows the classes {list(member_classes)[:10]} but the "
            f"training labels are {list(classes)[:10]}. "
            + (fix or f"A prefit {name} model must have been fitted on the same set of "
                      "classes.")
        )
