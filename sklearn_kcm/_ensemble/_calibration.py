"""The accuracy guarantee of ``KCMEnsemble(epsilon=AccuracyTarget(...))``: which labelled rows
certify the threshold, what the fitted ensemble answers on them, and the certificate.

A user checks the promise against the models they would deploy, fitted on
every labelled row. Certified on held-out rows, the judge and threshold are
kept and the members refitted on every labelled row: members left on three
quarters of the rows kept a promise relative to the large model against their
own large member, and broke it against the one a user fits on all the rows
(``benchmarks/guarantee.py`` checks both, over random splits).

Out-of-fold answers come from fold models, not from the members, judge and
threshold that will answer new inputs; measured over 200 splits, the promise
they certify held in only 72-95% of them at ``delta=0.1`` (the refitted judge
is surer of itself than its fold copies). Rows held out of the whole fit are
answered by the very ensemble that will be used, so Learn-then-Test's
guarantee holds as stated: the calibration rows and new inputs are
exchangeable given the fit.
"""

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from .._compat import _safe_indexing
from .._routing._guarantee import fit_guarantee
from ._large_calls import ask_large

# epsilon_ until held-out rows certify one: distillation, which runs before, keeps the
# large model's answers surer than this (the paper's epsilon) when its threshold is None
PROVISIONAL_THRESHOLD = 0.98
# below this, a class is too rare to stratify the split on
MIN_ROWS_TO_STRATIFY = 2


def calibration_split(y, labelled, groups, share, random_state):
    """``(fit_rows, calibration_rows)``: indices into X of the rows that fit and that certify.

    A share ``share`` of the labelled rows ``labelled`` (indices into ``y``) is
    held out, stratified by class where every class has two rows, or by group
    where ``groups`` is given (no group is then both fitted and certified on).
    Unlabelled rows are all fitted on.
    """
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=random_state)
        fit_part, calibration = next(splitter.split(labelled, groups=np.asarray(groups)[labelled]))
        fit_part, calibration = labelled[fit_part], labelled[calibration]
    else:
        _, counts = np.unique(y[labelled], return_counts=True)
        stratify = y[labelled] if counts.min() >= MIN_ROWS_TO_STRATIFY else None
        fit_part, calibration = train_test_split(labelled, test_size=share, stratify=stratify,
                                                 random_state=random_state)
    if len(np.unique(y[fit_part])) < 2 or not len(calibration):
        raise ValueError(
            f"AccuracyTarget(calibration={share!r}) leaves {len(fit_part)} labelled rows of "
            f"{len(np.unique(y[fit_part]))} class(es) to fit on and {len(calibration)} to "
            "certify the accuracy on: label more rows, or hold out a smaller share.")
    fit_rows = np.setdiff1d(np.arange(len(y)), calibration)
    return fit_rows, np.sort(calibration)


def held_out_answers(ensemble, X, y):
    """``C_x`` and whether each member is right on held-out rows X, y of a fitted ensemble.

    The small model answers every row, the judge scores it and the large model
    answers every row in one call with the small model's hint, as at predict
    time; the ledger counts them as fit work.
    """
    with ensemble.ledger_.timer("fit_calibration"):
        small_proba = ensemble._small_answer(X)
    confidence = ensemble._confidence(X, small_proba, phase="fit")
    large_proba = ask_large(ensemble.large_, X, np.arange(len(y)), small_proba,
                            hint=ensemble.hint, n_classes=len(ensemble.classes_),
                            ledger=ensemble.ledger_, phase="fit")
    small_correct, large_correct = ensemble._answers_right(small_proba, large_proba, y)
    return confidence, small_correct, large_correct


def subset_fit_data(X, y, sample_weight, groups, fit_params, rows):
    """X, y, sample_weight, groups and the sample-aligned ``fit_params`` on ``rows``."""
    n = len(y)

    def rows_of(value):
        if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != n:
            return value
        return _safe_indexing(value, rows)

    return (_safe_indexing(X, rows), y[rows], rows_of(sample_weight), rows_of(groups),
            {name: rows_of(value) for name, value in fit_params.items()})


def guaranteed_threshold(target, members):
    """The threshold of an :class:`AccuracyTarget` ``target`` (None: no target) after the
    first stage of fit, and ``guarantee_``: certified on the out-of-fold answers of
    ``members`` (``target.calibration="oof"``), or provisional (held-out rows certify it
    once this fit is done; the guarantee is set then). ``(None, None)`` without a target."""
    if target is None:
        return None, None
    if target.held_out:
        return PROVISIONAL_THRESHOLD, None
    rows = members.judging.oof_rows
    epsilon, promise = fit_guarantee(
        members.judging.oof_confidence, members.small_correct[rows],
        members.large_correct[rows], target=target.accuracy,
        relative_to=target.relative_to, delta=target.delta, calibration="out of fold")
    return epsilon, {**promise, "fitted_on": len(members.small_correct), "compares": (
        f"the fold models' routed answers against the large fold models', out of fold on "
        f"{len(rows):,} labelled rows; the members in use are fitted on all of them")}


def refit_statement(promise, n_labelled):
    """What a held-out promise compares once the members are refitted on ``n_labelled`` rows."""
    n_rows, share = promise["n_rows"], promise["large_share"]
    reference = ("the large model fitted on the same rows" if promise["relative_to"]
                 else "an absolute accuracy")
    return {"fitted_on": n_labelled, "compares": (
        f"this ensemble, its members fitted on all {n_labelled:,} labelled rows, against "
        f"{reference}; the judge and threshold were certified on {n_rows:,} held-out rows "
        f"answered by members fitted on the other {n_labelled - n_rows:,}, where they sent "
        f"{share:.0%} to the large model")}
