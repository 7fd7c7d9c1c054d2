"""What ``KCMEnsemble.fit`` learns before it picks the threshold: cacheable.

The small model's out-of-fold answers, the small, large and judge fits, the
judge's out-of-fold confidences and the out-of-fold teachers depend on the data
and on every parameter except those that act after them (:data:`AFTER_MEMBERS`:
the threshold, and the distillation that uses it). With ``memory=`` they are
computed once per (parameters, data) and loaded from disk afterwards, the way
``Pipeline(memory=...)`` caches its transformers, so that a grid over
``epsilon`` costs one member fit per split.
"""

import copy

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_memory

from .._routing._folds import out_of_fold_proba
from .._routing._judging import default_judge_for_preprocessed, fit_judge
from .._routing._ledger import CostLedger
from .._utils._metadata import labelled_part, rekeyed_for
from ._distill import RefitSet, teaches_labelled
from ._labels import UNLABELLED_FIX, check_same_classes
from ._large import fit_large
from ._params import needs_small_oof
from ._teachers import LargeTeachers

# parameters of KCMEnsemble that only act after the members are fitted
AFTER_MEMBERS = ("epsilon", "target_large_share", "distill_threshold", "distill_rounds",
                 "distill_weight", "distill_mix", "distill_epochs", "temperature", "memory",
                 "verbose")


def fit_members_cached(memory):
    """:func:`fit_members`, cached in ``memory`` (None, a path or a ``joblib.Memory``)."""
    return check_memory(memory).cache(fit_members, ignore=["verbose"])


def knows_large_answers(params, fitted_large, judge_target):
    """Whether the judge's fit uses the large model's out-of-fold answers on the training rows.

    The ``"gain"`` target learns from them. The fallback compares routings with
    them where they cost no large-model work that the labels make redundant:
    a prefit large model answers the training rows in one call, and the
    out-of-fold teachers are fitted anyway when the large model teaches the
    labelled rows (``distill="large"`` or ``"both"``). Otherwise, and always for
    a model that keeps a bill (``usage_``, an LLM client), the fallback takes
    the large model to be right everywhere: it then compares how well each
    routing finds the small model's mistakes, which measured as well (see the
    judge benchmark).
    """
    if judge_target == "gain":
        return True
    if not params["judge_fallback"] or getattr(fitted_large, "usage_", None) is not None:
        return False
    return isinstance(fitted_large, FrozenEstimator) or teaches_labelled(params["distill"])


def group_folds(splits, n_groups):
    """``splits`` merged into ``n_groups`` folds, fold ``i`` into group ``i % n_groups``.

    Every row stays held out by exactly one group, and every fold's held-out
    rows lie within one group's: a model fitted on a group's training rows has
    seen none of the fold's. None keeps ``splits``.

    Examples
    --------
    >>> import numpy as np
    >>> folds = [(np.array([1, 2]), np.array([0])), (np.array([0, 2]), np.array([1])),
    ...          (np.array([0, 1]), np.array([2]))]
    >>> [(train.tolist(), test.tolist()) for train, test in group_folds(folds, 2)]
    [([1], [0, 2]), ([0, 2], [1])]
    """
    if n_groups is None:
        return splits
    if n_groups > len(splits):
        raise ValueError(
            f"teacher_cv={n_groups} asks for more teachers than the {len(splits)} folds of "
            "cv: give teacher_cv at most the number of folds, or None for one per fold."
        )
    n_rows = sum(len(test) for _, test in splits)
    grouped = []
    for group in range(n_groups):
        test = np.sort(np.concatenate([test for i, (_, test) in enumerate(splits)
                                       if i % n_groups == group]))
        grouped.append((np.setdiff1d(np.arange(n_rows), test), test))
    return grouped


def fit_members(params, judge, X, y, *, labelled, unlabelled, groups, metadata,
                judge_input, judge_target, need_confidence, prefit_teachers, verbose=0):
    """Fit the members of an ensemble on the labelled rows of X.

    Parameters
    ----------
    params : dict
        The ensemble's parameters without :data:`AFTER_MEMBERS` (the cache key).
    judge : classifier or None
        The unfitted judge template (None: route by the small model).
    X, y : the training data, with unlabelled rows.
    labelled, unlabelled : ndarray of int
    groups : array-like or None
    metadata : Bunch
        Routed fit parameters per member.
    judge_input, judge_target : str
        Resolved.
    need_confidence : bool
        Keep the judge's out-of-fold confidences (for ``epsilon="auto"``).
    prefit_teachers : bool
        Fit the out-of-fold teachers now (to cache them) rather than on first use.
    verbose : int

    Returns
    -------
    Bunch
        ``classes``, ``splits``, ``small_oof``, ``small``, ``refit_set``,
        ``large``, ``teachers`` (:class:`LargeTeachers`), ``judging`` (see
        :func:`fit_judge`), ``judge_preprocessing`` (the small model's fitted
        preprocessing that the judge reads X through, or None), ``ledger``, and
        whether the members' out-of-fold answers are right, ``small_correct``
        and ``large_correct`` (None where not computed).
    """
    X_l, y_l, groups_l, metadata = labelled_part(X, y, groups, metadata, labelled)
    classes = unique_labels(y_l)
    ledger = CostLedger(verbose=verbose)
    cv = check_cv(params["cv"], y_l, classifier=True)
    splits = _folds_of(cv, params["cv"], X_l, y_l, groups_l)
    small_oof = None
    if needs_small_oof(params, judge_input, judge_target, bool(unlabelled.size)):
        rows, small_oof, _ = out_of_fold_proba(params["small"], X_l, y_l, splits,
                                               fit_params=metadata.small.fit,
                                               n_jobs=params["n_jobs"], ledger=ledger,
                                               key="fit_small_oof", name="small fold")
        if not np.array_equal(rows, np.arange(len(y_l))):
            raise ValueError(
                f"cv={params['cv']!r} does not hold out every labelled row exactly once; the "
                "small model's out-of-fold answers need a partition of the rows: pass an "
                "integer or a KFold-like splitter.")

    small = clone(params["small"])
    with ledger.timer("fit_small"):
        small.fit(X_l, y_l, **metadata.small.fit)
    check_same_classes(classes, small, "small")
    refit_set = RefitSet.for_small(small, X_l, y_l, metadata.small.fit)

    large = clone(params["large"])
    with ledger.timer("fit_large"):
        fit_large(large, X_l, y_l, small_oof, hint=params["hint"], fit_params=metadata.large.fit)
    check_same_classes(classes, large, "large", fix=UNLABELLED_FIX if unlabelled.size else None)

    # honest large-model answers on the training rows, fitted on first use
    # (by the "gain" judge target or by distillation)
    teachers = LargeTeachers.for_training(
        params["large"], large, X, y, rows=labelled,
        splits=group_folds(splits, params["teacher_cv"]), small_oof=small_oof,
        fit_params=metadata.large.fit, hint=params["hint"], n_classes=len(classes),
        ledger=ledger, n_jobs=params["n_jobs"])
    if prefit_teachers:
        teachers.models()

    small_correct = None if small_oof is None else classes[np.argmax(small_oof, axis=1)] == y_l
    large_correct = None
    if judge is not None and knows_large_answers(params, large, judge_target):
        large_correct = classes[np.argmax(
            teachers.answer_rows(X, labelled, small_oof), axis=1)] == y_l
    judge_fit = metadata.judge.fit if "judge" in metadata else {}
    X_judge, preprocessing = X_l, None
    if judge_input == "preprocessed":
        # a copy: distillation may refit the small model, and with it its preprocessing
        preprocessing = copy.deepcopy(small[:-1])
        X_judge = preprocessing.transform(X_l)
        if params["judge"] is None:  # the default judge, for the width it will read
            judge = default_judge_for_preprocessed(params["random_state"], X_judge)
            judge_fit = rekeyed_for(judge, judge_fit)
    judging = fit_judge(
        judge, X_judge, y_l, small_oof=small_oof, small_correct=small_correct,
        large_correct=large_correct, judge_input=judge_input, judge_target=judge_target,
        cv=cv, groups=groups_l, fallback=params["judge_fallback"],
        need_confidence=need_confidence, fit_params=judge_fit,
        ledger=ledger, verbose=verbose, n_jobs=params["n_jobs"], refit=params["judge_refit"],
    )
    return Bunch(classes=classes, splits=splits, small_oof=small_oof, small=small,
                 refit_set=refit_set, large=large, teachers=teachers, judging=judging,
                 judge_preprocessing=preprocessing, ledger=ledger, small_correct=small_correct,
                 large_correct=large_correct)


def _folds_of(cv, given, X, y, groups):
    """The folds of the members' out-of-fold answers, or an error that names ``cv``."""
    try:
        return list(cv.split(X, y, groups))
    except ValueError as error:
        labels, counts = np.unique(y, return_counts=True)
        rarest = labels.tolist()[int(np.argmin(counts))]
        raise ValueError(
            f"cv={given!r} cannot split the {len(y)} labelled rows ({error}); the smallest "
            f"class, {rarest!r}, has {counts.min()} rows. Give a cv of at most that many "
            "folds, or label more rows of that class.") from error
