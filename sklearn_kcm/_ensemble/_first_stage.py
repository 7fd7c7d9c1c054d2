"""The first stage of ``KCMEnsemble.fit``: what it learns before it picks the threshold.

The small model's out-of-fold answers, the small, large and judge fits, the
judge's out-of-fold confidences and the out-of-fold teachers depend on the data
and on the :class:`~._plan.MemberPlan` alone, not on the parameters that act
after them (the threshold, and the distillation that uses it). With
``memory=`` they are computed once per (plan, data) and loaded from disk
afterwards, the way ``Pipeline(memory=...)`` caches its transformers, so that a
grid over ``epsilon`` costs one member fit per split; without it, the latest
seeded fits are kept in memory for the same purpose (:mod:`._fit_cache`).
"""

import copy
import functools

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_memory

from .._routing._folds import out_of_fold_proba
from .._routing._judging import fit_judge
from .._routing._ledger import CostLedger
from .._utils._metadata import labelled_part
from ._fit_cache import cached_first_stage
from ._labels import UNLABELLED_FIX, check_same_classes
from ._large_calls import bills_its_calls, fit_large, learns_in_fit
from ._soft_fit import RefitSet
from ._teachers import LargeTeachers


def fit_members_cached(memory):
    """:func:`fit_members`, cached in ``memory`` (a path or a ``joblib.Memory``), or, for
    None, among the latest seeded fits of this process (:mod:`._fit_cache`)."""
    if memory is None:
        return functools.partial(cached_first_stage, fit_members)
    return check_memory(memory).cache(fit_members, ignore=["verbose"])


def fit_members(plan, X, y, *, labelled, unlabelled, groups, metadata, verbose=0):
    """Fit the members of an ensemble on the labelled rows of X.

    Parameters
    ----------
    plan : MemberPlan
        What to fit and compute (the cache key, with the data).
    X, y : the training data, with unlabelled rows.
    labelled, unlabelled : ndarray of int
    groups : array-like or None
    metadata : Bunch
        Routed fit parameters per member.
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
    cv = check_cv(plan.cv, y_l, classifier=True)
    splits = _folds_of(cv, plan.cv, X_l, y_l, groups_l)
    small_oof = None
    if plan.small_oof:
        rows, small_oof, _ = out_of_fold_proba(plan.small, X_l, y_l, splits,
                                               fit_params=metadata.small.fit,
                                               n_jobs=plan.n_jobs, ledger=ledger,
                                               key="fit_small_oof", name="small fold")
        if not np.array_equal(rows, np.arange(len(y_l))):
            raise ValueError(
                f"cv={plan.cv!r} does not hold out every labelled row exactly once; the "
                "small model's out-of-fold answers need a partition of the rows: pass an "
                "integer or a KFold-like splitter.")

    small = clone(plan.small)
    with ledger.timer("fit_small"):
        small.fit(X_l, y_l, **metadata.small.fit)
    check_same_classes(classes, small, "small")
    refit_set = RefitSet.for_small(small, X_l, y_l, metadata.small.fit)

    large = clone(plan.large)
    with ledger.timer("fit_large"):
        fit_large(large, X_l, y_l, small_oof, hint=plan.hint, fit_params=metadata.large.fit)
    ledger.add(fit_large_fits=int(learns_in_fit(large)))
    check_same_classes(classes, large, "large", fix=UNLABELLED_FIX if unlabelled.size else None)

    # honest large-model answers on the training rows, fitted on first use
    # (by the "gain" judge target or by distillation)
    teachers = LargeTeachers.for_training(
        plan.large, large, X, y, rows=labelled,
        splits=splits, small_oof=small_oof,
        fit_params=metadata.large.fit, hint=plan.hint, n_classes=len(classes),
        ledger=ledger, n_jobs=plan.n_jobs)
    if plan.prefit_teachers:
        teachers.models()

    small_correct = None if small_oof is None else classes[np.argmax(small_oof, axis=1)] == y_l
    large_correct = None
    # a model that keeps a bill is asked about no training row the fallback can do without;
    # the "gain" target and a guarantee cannot
    if plan.large_answers and (plan.judge_target == "gain" or plan.guarantee
                               or not bills_its_calls(large)):
        large_correct = classes[np.argmax(
            teachers.answer_rows(X, labelled, small_oof), axis=1)] == y_l
    judge = plan.judge
    # getattr, not `in`: with routing on and no parameters scikit-learn gives an
    # EmptyRequest, which answers any name and loops forever under `in`
    judge_fit = getattr(metadata, "judge", Bunch(fit={})).fit
    X_judge, preprocessing = X_l, None
    if plan.judge_input == "preprocessed":
        # a copy: distillation may refit the small model, and with it its preprocessing
        preprocessing = copy.deepcopy(small[:-1])
        X_judge = preprocessing.transform(X_l)
    judging = fit_judge(
        judge, X_judge, y_l, small_oof=small_oof, small_correct=small_correct,
        large_correct=large_correct, judge_input=plan.judge_input,
        judge_target=plan.judge_target, cv=cv, groups=groups_l, fallback=plan.judge_fallback,
        need_confidence=plan.judge_oof, fit_params=judge_fit,
        ledger=ledger, verbose=verbose, n_jobs=plan.n_jobs, refit=plan.judge_refit,
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
