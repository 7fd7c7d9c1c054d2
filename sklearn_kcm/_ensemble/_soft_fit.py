"""Training a small model on teacher probabilities, whatever it can learn from.

:func:`fit_on_soft_targets` trains it in one of three ways, picked from what
the small model can do:

- ``"soft"``: our torch classifiers train on probability targets directly
  (``partial_fit(X, P)``), the soft-target cross-entropy of the paper's KL loss;
- ``"sample_weight"``: any estimator whose ``fit`` takes ``sample_weight`` is
  refitted on the *soft-label expansion*: each teacher sample repeated once per
  class, labelled with that class and weighted by its probability. For models
  fitted by minimising the log-loss this is exactly the soft cross-entropy;
- ``"hard"``: otherwise the teacher's most probable class, with a warning.

In every case the small model keeps seeing the original labelled data; the
teacher's samples are added to it, each weighing as a labelled one.
"""

import inspect

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import clone
from sklearn.utils.validation import has_fit_parameter

from .._compat import _safe_indexing
from .._utils._metadata import routed_sample_weight
from .._utils._soft_labels import one_hot
from .._utils._validation import split_pipeline
from .._utils._warnings import warn

# The soft-label expansion leaves out classes below this probability: on MNIST at
# temperature 0.25 it keeps 8,877 of 38,000 rows and the fit takes 5 s instead of 15 s,
# for the same test accuracy; what it drops weighs at most 1% of a row.
MIN_EXPANDED_PROBA = 1e-3
# partial_fit passes over the teacher rows in fit, for a small model that learns soft
# labels (a KAN or MLP): 3 taught less (digits, 10% of the labels: 0.873 against 0.887),
# 30 no more than 10 (the distillation benchmark's knobs)
DISTILL_EPOCHS = 10
# The out-of-fold check of a stream's teacher rows (RefitSet.add_if_no_harm): 3 folds of at
# most 2,000 labelled rows, with at most the 2,000 latest stream rows taken; 6 fits of the
# small model a batch that teaches
STREAM_CHECK_FOLDS = 3
STREAM_CHECK_ROWS = 2000


def soften(proba, temperature):
    """Teacher probabilities at a temperature: ``softmax(log(p) / T)``.

    ``T > 1`` flattens the distribution (more of the teacher's "dark
    knowledge" in the non-top classes), ``T < 1`` sharpens it.
    """
    if temperature == 1.0:
        return proba
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    return softmax(logits, axis=1)


def expand_soft_labels(proba, classes, sample_weight=None, min_proba=0.0):
    """The soft-label expansion of ``proba``: one row per (sample, class).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None
    min_proba : float, default=0.0
        Classes less probable than this get no row.

    Returns
    -------
    rows : ndarray of int
        Index of the sample each expanded row copies.
    labels : ndarray
        Class of each expanded row.
    weights : ndarray of float
        ``proba[row, class] * sample_weight[row]``; rows of weight 0, or of a
        class below ``min_proba``, are dropped.

    Examples
    --------
    >>> import numpy as np
    >>> rows, labels, weights = expand_soft_labels(np.array([[0.75, 0.25]]), np.array([0, 1]))
    >>> rows.tolist(), labels.tolist(), weights.tolist()
    ([0, 0], [0, 1], [0.75, 0.25])
    """
    n_samples, n_classes = proba.shape
    rows = np.repeat(np.arange(n_samples), n_classes)
    labels = np.tile(classes, n_samples)
    weights = proba.ravel().astype(np.float64)
    if sample_weight is not None:
        weights = weights * np.repeat(sample_weight, n_classes)
    keep = (weights > 0) & (proba.ravel() >= min_proba)
    return rows[keep], labels[keep], weights[keep]


def soft_target_method(estimator):
    """How teacher probabilities can reach ``estimator``: soft, sample_weight or hard."""
    final = split_pipeline(estimator)[1]
    if getattr(final, "accepts_soft_labels", False):
        return "soft"
    if has_fit_parameter(final, "sample_weight"):
        return "sample_weight"
    return "hard"


def fit_on_soft_targets(small, X, y, teacher_rows, teacher_proba, classes, *,
                        labelled_rows=None, sample_weight=None, epochs=1,
                        incremental=False, refit_set=None, temperature=1.0):
    """Train the fitted ``small`` model on its labels plus a teacher's probabilities.

    Parameters
    ----------
    small : fitted classifier or Pipeline
        Updated in place (the final step of a Pipeline; its preprocessing
        stays as fitted).
    X : array-like, sparse matrix, DataFrame or list of texts
        The inputs, in whatever form ``small`` accepts.
    y : ndarray of shape (n_samples,)
        The labels of X (read only on ``labelled_rows``).
    teacher_rows : ndarray of int
        Rows of ``X`` the teacher labelled.
    teacher_proba : ndarray of shape (len(teacher_rows), n_classes)
        The teacher's probabilities over ``classes``.
    classes : ndarray of shape (n_classes,)
    labelled_rows : ndarray of int, default=None
        Rows of X whose label the small model learns; None means all.
    sample_weight : ndarray of shape (n_samples,), default=None
    epochs : int, default=1
        Passes of ``partial_fit`` for models that take soft labels.
    incremental : bool, default=False
        X is a batch of a stream: update with ``partial_fit`` on this data
        only, or, for a final estimator without ``partial_fit``, add it to
        ``refit_set`` and refit on all of it.
    refit_set : RefitSet, default=None
        What a final estimator without ``partial_fit`` is refitted on. Not
        incremental, this data replaces its base (a round of ``fit``).
    temperature : float, default=1.0
        The temperature ``teacher_proba`` was softened at. Above 1, a model
        taking soft labels learns them at that temperature (logits / T, loss ×
        T², Hinton et al.), in a pass apart from the labelled rows. Below 1 the
        targets are sharpened and every model learns them as they are: dividing
        the student's logits by T would undo the sharpening.

    Returns
    -------
    method : str
        The method used: ``"soft"``, ``"sample_weight"`` or ``"hard"``; on a
        stream, ``"refused"`` where ``refit_set`` found its teacher rows harmful
        (the small model is then unchanged).
    """
    method = soft_target_method(small)
    preprocess, final = split_pipeline(small)
    Xt = X if preprocess is None else preprocess.transform(X)
    n_samples = len(y)
    labelled = np.arange(n_samples) if labelled_rows is None else labelled_rows
    known = np.asarray(y)[labelled].astype(classes.dtype, copy=False)  # none: still typed
    weight = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight, float)
    teacher_weight = weight[teacher_rows]
    if method == "soft":
        labels, soft = one_hot(known, classes), teacher_proba.astype(np.float32)
        takes_temperature = "temperature" in inspect.signature(final.partial_fit).parameters
        if temperature <= 1.0 or not takes_temperature:  # labels and teachers in one pass
            passes = [(np.concatenate([labelled, teacher_rows]), np.vstack([labels, soft]),
                       np.concatenate([weight[labelled], teacher_weight]), {})]
        else:
            passes = [(labelled, labels, weight[labelled], {}),
                      (teacher_rows, soft, teacher_weight, {"temperature": temperature})]
        passes = [(_safe_indexing(Xt, rows), targets, weights, kwargs)
                  for rows, targets, weights, kwargs in passes if len(rows)]
        for _ in range(epochs):
            for X_part, targets, weights, kwargs in passes:
                final.partial_fit(X_part, targets, sample_weight=weights, **kwargs)
        return method
    if method == "sample_weight":
        rows, labels, weights = expand_soft_labels(teacher_proba, classes, teacher_weight,
                                                   min_proba=MIN_EXPANDED_PROBA)
        rows = np.concatenate([labelled, teacher_rows[rows]])
        labels = np.concatenate([known, labels])
        weights = np.concatenate([weight[labelled], weights])
    else:
        warn(
            f"{type(final).__name__}.fit takes neither soft labels nor sample_weight, so "
            "the teacher's probabilities are distilled as hard labels (its top class).")
        rows = np.concatenate([labelled, teacher_rows])
        labels = np.concatenate([known, classes[np.argmax(teacher_proba, axis=1)]])
        weights = None
    X_set = _safe_indexing(Xt, rows)
    kwargs = {} if weights is None else {"sample_weight": weights}
    if incremental and hasattr(final, "partial_fit"):
        final.partial_fit(X_set, labels, **kwargs)
    elif refit_set is not None and incremental and len(teacher_rows):
        if not refit_set.add_if_no_harm(final, X_set, labels, weights):
            return "refused"
        refit_set.fit(final)
    elif refit_set is not None:
        (refit_set.add if incremental else refit_set.replace)(X_set, labels, weights)
        refit_set.fit(final)
    else:
        final.fit(X_set, labels, **kwargs)
    return method


class RefitSet:
    """The rows a small model without ``partial_fit`` learns a stream from.

    Its final estimator is refitted on the rows of its last fit in
    ``KCMEnsemble.fit`` (labels and teacher rows) plus those of every batch of
    the stream so far, in the features the final step reads (after a
    Pipeline's preprocessing). It holds those features: memory grows with the
    teacher rows of the stream. A batch's teacher rows join only if they do
    not harm the small model out of fold on the labelled rows of ``fit``
    (:meth:`add_if_no_harm`).

    Parameters
    ----------
    X : ndarray or sparse matrix
        The labelled rows of the fit.
    labels : ndarray
    weights : ndarray or None
    """

    def __init__(self, X, labels, weights=None):
        self.replace(X, labels, weights)
        self._labelled = self._parts[0]
        self.last_check = None

    @classmethod
    def for_small(cls, small, X, y, fit_params):
        """The set of a fitted ``small`` model fitted on (X, y), or None when it needs none
        (it has ``partial_fit``, or takes soft labels)."""
        preprocess, final = split_pipeline(small)
        if hasattr(final, "partial_fit") or soft_target_method(final) == "soft":
            return None
        Xt = X if preprocess is None else preprocess.transform(X)
        return cls(Xt, y, routed_sample_weight(fit_params))

    def replace(self, X, labels, weights=None):
        """Make these rows the base; rows added since are dropped."""
        self._parts = []
        self.add(X, labels, weights)

    def add(self, X, labels, weights=None):
        """Add rows (``weights`` None: weight 1)."""
        weights = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
        # a new list: a shallow copy taken before keeps the rows it had
        self._parts = [*self._parts, (X, np.asarray(labels), weights)]

    def add_if_no_harm(self, final, X, labels, weights=None):
        """Add a stream's rows, unless they make ``final`` worse out of fold; whether added.

        On ``STREAM_CHECK_FOLDS`` folds of (a sample of at most
        ``STREAM_CHECK_ROWS`` of) the labelled rows of the fit, a clone of
        ``final`` fitted on the other folds plus the stream rows taken so far
        (the latest ``STREAM_CHECK_ROWS`` of them, so that a check costs the
        same on a long stream) is
        compared with one fitted on those plus these rows: they are refused
        when the second breaks more of the fold's answers than it fixes (a
        teacher wrong where the small model was right). ``last_check`` holds
        ``fixed`` and ``broken``.
        """
        weights = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
        new = (X, np.asarray(labels), weights)
        X_l, y_l, w_l = self._labelled
        rows = np.random.default_rng(0).permutation(len(y_l))[:STREAM_CHECK_ROWS]
        taken = _latest_rows(self._parts[1:], STREAM_CHECK_ROWS)
        fixed = broken = 0
        for fold in np.array_split(rows, STREAM_CHECK_FOLDS):
            train = np.setdiff1d(rows, fold)
            base = [(_safe_indexing(X_l, train), y_l[train], w_l[train]), *taken]
            before = _fit_clone(final, base).predict(_safe_indexing(X_l, fold)) == y_l[fold]
            after = _fit_clone(final, [*base, new]).predict(_safe_indexing(X_l, fold)) == (
                y_l[fold])
            fixed += int(np.sum(after & ~before))
            broken += int(np.sum(before & ~after))
        self.last_check = {"fixed": fixed, "broken": broken, "added": broken <= fixed}
        if broken <= fixed:
            self._parts = [*self._parts, new]
        return broken <= fixed

    def fit(self, final):
        """Refit ``final`` on every row held."""
        _fit_on(final, self._parts)


def _latest_rows(parts, limit):
    """The last ``limit`` rows of ``parts``, (X, labels, weights) blocks, as blocks.

    Examples
    --------
    >>> parts = [(np.zeros((5, 2)), np.arange(5), np.ones(5)),
    ...          (np.ones((3, 2)), np.arange(3), np.ones(3))]
    >>> [labels.tolist() for _, labels, _ in _latest_rows(parts, 4)]
    [[4], [0, 1, 2]]
    """
    kept, total = [], 0
    for X, labels, weights in reversed(parts):
        if total >= limit:
            break
        take = min(len(labels), limit - total)
        rows = np.arange(len(labels) - take, len(labels))
        kept.append((X if take == len(labels) else _safe_indexing(X, rows), labels[rows],
                     weights[rows]))
        total += take
    return kept[::-1]


def _fit_clone(final, parts):
    model = clone(final)
    _fit_on(model, parts)
    return model


def _fit_on(final, parts):
    """Fit ``final`` on the rows of ``parts``, (X, labels, weights) blocks stacked."""
    blocks, labels, weights = zip(*parts)
    if len(blocks) == 1:
        X = blocks[0]
    elif hasattr(blocks[0], "iloc"):  # DataFrames keep their column names
        X = blocks[0].__class__(np.vstack([block.to_numpy() for block in blocks]),
                                columns=blocks[0].columns)
    elif sp.issparse(blocks[0]):
        X = sp.vstack(blocks, format="csr")
    else:
        X = np.vstack(blocks)
    kwargs = {}
    if has_fit_parameter(final, "sample_weight"):
        kwargs["sample_weight"] = np.concatenate(weights)
    final.fit(X, np.concatenate(labels), **kwargs)
