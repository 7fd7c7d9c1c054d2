"""Whether the large model's answers on unlabelled rows would help the small model.

A teacher worse than its student pulls it down, and how much a teacher knows
shows only against labels. So the check is the distillation itself, out of
fold: for each fold of the labelled rows, a small model fitted on the other
folds learns from the answers on the unlabelled rows of a large model that did
not see the fold either, and is scored on the fold against the small model's
plain out-of-fold answers: it must fix more of them than it breaks, and the
teacher's targets must be right more often than the small model there (a
teacher no better than its student can pass the sign test by chance). The large
models are the out-of-fold teachers already fitted for distillation; the cost
is one call of each on the unlabelled rows and one on its held-out labelled
rows (none for an LLM), and one small fit per fold, plus one distillation per
fold for each share of the student's own answer compared (``Distillation(mix="auto")``).
"""

import copy

import numpy as np
from scipy.stats import binomtest
from sklearn.base import clone

from .._compat import _num_samples, _safe_indexing
from .._utils._warnings import warn
from ._large_calls import bills_its_calls
from ._soft_fit import DISTILL_EPOCHS, fit_on_soft_targets, soften

# One-sided sign test: more answers fixed than broken, at this level. Measured on
# digits with 5-25% of the labels: stricter levels refused most distillations that
# helped on the test set; looser ones let through some that hurt.
MAX_P_VALUE = 0.25
# The shares of the student's own answer that Distillation(mix="auto") compares: the paper's
# large model alone, and the mean of the two.
AUTO_MIXES = (0.0, 0.5)


def distillation_helps(small, X, y, *, labelled, unlabelled, splits, teachers, distiller,
                       small_oof, fit_params, mixes=None, shared_hint=None):
    """Whether distillation from the unlabelled rows makes the small model no less accurate.

    Warns when it does not: the large model then teaches nothing.

    Parameters
    ----------
    small : classifier
        The unfitted small model.
    X, y : all rows and their labels (read on ``labelled`` only).
    labelled, unlabelled : ndarray of int
        Rows of X with and without a label.
    splits : list of (train, test)
        Folds of the labelled rows (indices into ``labelled``).
    teachers : LargeTeachers
        Out-of-fold large models: the one answering ``labelled[test]`` did not
        see that fold.
    distiller : Distiller
        The settings of the distillation (threshold, temperature, weight, mix).
    small_oof : ndarray of shape (len(labelled), n_classes)
        The plain small model's out-of-fold probabilities.
    fit_params : dict
        For the small model's fit, per labelled row where per sample.
    mixes : tuple of float, default=None
        Shares of the student's own answer in the targets to compare (see
        :meth:`Distiller.large_targets`); the one that fixes the most answers
        net of those it breaks is tested, ties going to the first. None:
        ``(distiller.mix,)``.
    shared_hint : ndarray of shape (n_samples, n_classes), default=None
        The hint that a teacher serving every fold (a prefit or an LLM large
        model) reads: the fitted small model's probabilities, as in the
        distillation that follows, so that its answers serve both and it is
        asked about each unlabelled row once. None: the first fold's student's.

    Returns
    -------
    dict
        ``used``: distillation fixes more out-of-fold answers than it breaks,
        with a one-sided sign-test p-value (``p_value``) at most
        ``MAX_P_VALUE``, and the teachers' targets are more accurate than the
        small model out of fold (``teacher_accuracy``, None for an LLM, which
        is asked about no labelled row); ``mix``, the share chosen; its counts
        ``fixed`` and ``broken``; the accuracies on the labelled rows
        ``small_accuracy`` (plain) and ``distilled_accuracy``.
    """
    mixes = (distiller.mix,) if mixes is None else tuple(mixes)
    classes = distiller.classes
    y_l = np.asarray(y)[labelled]
    plain = classes[np.argmax(small_oof, axis=1)] == y_l
    models = teachers.models()
    rows_of = {id(model): rows for model, rows in models}
    answers = {}  # a prefit teacher serves every fold: asked once (with the first hint)
    distilled = {mix: np.zeros(len(labelled), dtype=bool) for mix in mixes}
    for train, test in splits:
        model = _teacher_of(models, labelled[test])
        fold_small = clone(small).fit(_safe_indexing(X, labelled[train]), y_l[train],
                                      **{k: _safe_indexing(v, train)
                                         for k, v in fit_params.items()})
        student_proba = np.zeros((len(y), len(classes)))
        student_proba[unlabelled] = fold_small.predict_proba(_safe_indexing(X, unlabelled))
        if id(model) not in answers:
            serves_every_fold = (shared_hint is not None
                                 and np.isin(labelled, rows_of[id(model)]).all())
            answers[id(model)] = teachers.ask(model, X, unlabelled,
                                              shared_hint if serves_every_fold else student_proba)
        for mix in mixes:
            student = copy.deepcopy(fold_small) if len(mixes) > 1 else fold_small
            keep, targets = distiller.large_targets(answers[id(model)],
                                                    student_proba[unlabelled], mix)
            if keep.any():
                fit_on_soft_targets(student, X, y, unlabelled[keep],
                                    soften(targets, distiller.temperature), classes,
                                    labelled_rows=labelled[train],
                                    epochs=DISTILL_EPOCHS,
                                    temperature=distiller.temperature)
            distilled[mix][test] = student.predict(_safe_indexing(X, labelled[test])) == y_l[test]
    # a sign test on the rows where the two disagree: few labels make accuracies noisy
    counts = {mix: (int(np.sum(right & ~plain)), int(np.sum(plain & ~right)))
              for mix, right in distilled.items()}
    mix = max(mixes, key=lambda m: counts[m][0] - counts[m][1])  # ties: the first
    fixed, broken = counts[mix]
    p_value = binomtest(fixed, fixed + broken, alternative="greater").pvalue if fixed else 1.0
    teacher = teacher_accuracy(teachers, X, y_l, labelled, splits, small_oof, classes, mix)
    plain, distilled = float(plain.mean()), float(distilled[mix].mean())
    better_teacher = teacher is None or teacher > plain
    helps = bool(fixed > broken and p_value <= MAX_P_VALUE and better_teacher)
    if not helps:
        why = (f"fixes {fixed} answers of the small model and breaks {broken} ({plain:.1%} -> "
               f"{distilled:.1%}), too little evidence that it helps" if better_teacher else
               f"its targets (mix={mix}) are right on {teacher:.1%} of them, the small "
               f"model on {plain:.1%}: a teacher no better than its student")
        warn(
            f"The large model does not teach (the {unlabelled.size} unlabelled rows nor the "
            f"labelled ones): out of fold on the labelled rows, distillation from its answers "
            f"{why}. Label more rows, or change the Distillation's threshold, temperature or "
            "mix (0.5 tempers a weak teacher with the small model's own answers).")
    return {"used": helps, "mix": float(mix), "small_accuracy": plain,
            "distilled_accuracy": distilled, "teacher_accuracy": teacher, "fixed": fixed,
            "broken": broken, "p_value": float(p_value)}


def teacher_accuracy(teachers, X, y_l, labelled, splits, small_oof, classes, mix):
    """The accuracy on the labelled rows of the targets the teachers would give
    (``mix`` of the small model's out-of-fold answer), each row answered by a teacher
    that did not see it; None for a teacher that bills its calls (an LLM is asked
    about no labelled row), whose check is the distillation's alone."""
    models = teachers.models()
    if any(bills_its_calls(model) for model, _ in models):
        return None
    hint = np.zeros((_num_samples(X), len(classes)))
    hint[labelled] = small_oof
    proba = np.zeros((len(labelled), len(classes)))
    for _, test in splits:
        proba[test] = teachers.ask(_teacher_of(models, labelled[test]), X, labelled[test], hint)
    targets = (1.0 - mix) * proba + mix * small_oof
    return float(np.mean(classes[np.argmax(targets, axis=1)] == y_l))


def _teacher_of(models, fold):
    """The teacher whose held-out rows hold the rows of ``fold`` (it did not see them)."""
    return next(model for model, rows in models if np.isin(fold, rows).all())
