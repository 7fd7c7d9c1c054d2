"""The Distiller: one pass of the paper's loop on routed inputs, with fixed settings.

The large model's answers on the hard rows where it is confident (``L_ls``) and
the judge's on the easy ones (``L_js``) become soft targets, added to the
labelled rows; :func:`~._soft_fit.fit_on_soft_targets` trains the small model
on them.
"""

from numbers import Real

import numpy as np

from .._compat import Interval, StrOptions, _safe_indexing
from .._routing._curves import top_probability
from .._utils._options import Options
from ._soft_fit import fit_on_soft_targets, soften

TEACHERS = ("auto", "large", "judge", "both")


class Distillation(Options):
    """How :class:`~sklearn_kcm.KCMEnsemble` distils its teachers into the small model.

    ``KCMEnsemble(distill="large")`` names the teachers and keeps the measured
    settings; ``distill=Distillation("large", temperature=1.0)`` changes them.

    Parameters
    ----------
    teachers : {"auto", "large", "judge", "both"} or bool, default="auto"
        Which teachers update the small model: the large model's soft outputs
        on the hard training inputs where its confidence exceeds
        ``threshold`` (``"large"``, the paper's ``L_ls``), the judge's outputs
        on the easy inputs (``"judge"``, ``L_js``, needs a judge that learns
        the task: target "task" or "agreement"), or both. ``"auto"``: the
        large model teaches the rows without a label only (a fit on labelled
        rows alone asks it nothing: ``L_ls`` there needs ``cv`` out-of-fold
        fits of it), and a stream's routed rows. True means ``"large"``;
        False: no teacher.
    threshold : float in [0, 1] or None, default=0.0
        Minimum confidence of the large model for its output to teach; None
        means ``epsilon_``, as in the paper. 0 lets every answer it gave teach:
        the paper's threshold let none of a few-label large model's answers
        through (measured in the distillation guide), and the out-of-fold
        checks of unlabelled rows and of a stream's batches refuse the answers
        that would harm the small model.
    mix : float in [0, 1] or "auto", default="auto"
        Share of the small model's own probabilities in the large model's
        targets, ``(1 - mix) * p_large + mix * p_small`` (0: the paper).
        ``"auto"``: with unlabelled rows, the out-of-fold check keeps 0 or 0.5,
        whichever fixes more answers net (``distill_mix_``); else 0.
    temperature : float, default=0.25
        Applied to teacher probabilities, ``softmax(log(p) / T)``. Below 1 the
        targets are sharpened and learnt as they are (an unsure large model
        trained on few labels teaches best at T = 0.25, measured in the
        distillation guide); above 1 (Hinton et al.), a small model that takes
        soft labels learns them on its logits / T, the loss times T².

    Examples
    --------
    >>> from sklearn_kcm import Distillation
    >>> Distillation("large", threshold=None, temperature=1.0)
    Distillation(teachers='large', temperature=1.0, threshold=None)
    """

    _parameter_constraints = {
        "teachers": ["boolean", StrOptions(set(TEACHERS))],
        "threshold": [None, Interval(Real, 0, 1, closed="both")],
        "mix": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, teachers="auto", *, threshold=0.0, mix="auto", temperature=0.25):
        self.teachers = teachers
        self.threshold = threshold
        self.mix = mix
        self.temperature = temperature


def distillation_of(distill):
    """``distill`` (teachers, a bool or a :class:`Distillation`) as a validated Distillation."""
    if isinstance(distill, Distillation):
        return distill.validated()
    return Distillation(distill)


def teacher_sources(distill):
    """The teachers a ``distill`` parameter names: a subset of {"large", "judge"}."""
    if distill is False:
        return set()
    if distill is True or distill in ("large", "auto"):
        return {"large"}
    return {"judge"} if distill == "judge" else {"large", "judge"}


def teaches_labelled(distill):
    """Whether the large model teaches the labelled rows too under ``distill`` (the paper's
    ``L_ls``); ``"auto"`` lets it teach only the rows without a label."""
    return distill is True or distill in ("large", "both")


class Distiller:
    """One pass of distillation with fixed settings: routed rows in, a trained small model out.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
    threshold : float
        The large model's answers teach where their top probability exceeds it.
    temperature : float
        Applied to every teacher's probabilities (:func:`soften`).
    mix : float
        Share of the student's own probabilities in the large model's targets.
    ledger : CostLedger
        Times the training of the small model (``fit_distill``).
    refit_set : RefitSet or None, default=None
        For a small model without ``partial_fit``: what it is refitted on.
    labelled : bool, default=True
        The large model answers the routed labelled rows too (the paper's
        ``L_ls``); False: only rows without a label (``distill="auto"``).
    """

    def __init__(self, classes, *, threshold, temperature, ledger, mix=0.0,
                 refit_set=None, labelled=True):
        self.labelled = labelled
        self.classes = classes
        self.threshold = threshold
        self.temperature = temperature
        self.mix = mix
        self.ledger = ledger
        self.refit_set = refit_set

    def large_targets(self, large_proba, student_proba, mix=None):
        """Which answers of the large model teach (its confidence above the threshold) and
        their targets, mixed with the student's own probabilities (share ``mix``, default
        ``self.mix``), before the temperature."""
        mix = self.mix if mix is None else mix
        keep = top_probability(large_proba) > self.threshold
        return keep, (1.0 - mix) * large_proba[keep] + mix * student_proba[keep]

    def teach(self, small, X, y, small_proba, routed, *, unlabelled=(), ask_unlabelled="none",
              large=None, judge=None, sample_weight=None, epochs=1, incremental=False):
        """Train ``small`` on the labels of X plus its teachers' answers; returns a record.

        The large model answers the routed labelled rows (unless
        ``labelled`` is False), and of the unlabelled rows ``ask_unlabelled``:
        "all" (in ``fit``), "routed" (a stream: the calls production pays
        anyway) or "none"; the judge answers the easy rows.

        Parameters
        ----------
        small : fitted classifier or Pipeline
            Updated in place.
        X, y : the inputs and their labels (read on the labelled rows only).
        small_proba : ndarray of shape (n_samples, n_classes)
            The small model's probabilities on X, the hint of the large model.
        routed : ndarray of bool
            The rows the large model answers in production.
        unlabelled : ndarray of int
            Rows of X without a label.
        ask_unlabelled : {"all", "routed", "none"}
            Which of them the large model answers.
        large : LargeTeachers or None
            Its answers teach where confident.
        judge : callable or None
            ``judge(X_rows, small_proba_rows) -> proba``: answers the easy rows.
        sample_weight : ndarray or None
        epochs : int
            Passes of ``partial_fit`` for small models that take soft labels.
        incremental : bool
            X is a batch of a stream: the small model learns its labels with
            ``partial_fit`` even when no teacher speaks.

        Returns
        -------
        record : dict
            ``large_samples`` (routed), ``teacher_samples``, ``method``
            (None when nothing was learnt, ``"refused"`` when a stream's
            out-of-fold check found its teacher rows harmful: ``check``
            holds its counts), and ``large_confidence_max``, the large
            model's highest confidence on the rows it answered.
        large_answers : tuple (rows, proba) or None
            What the large model answered, confident or not.
        """
        is_unlabelled = np.zeros(len(routed), dtype=bool)
        is_unlabelled[np.asarray(unlabelled, dtype=int)] = True
        asked = {"all": is_unlabelled, "routed": is_unlabelled & routed,
                 "none": np.zeros_like(routed)}[ask_unlabelled]
        large_rows = np.flatnonzero((routed & ~is_unlabelled & self.labelled) | asked)
        judge_rows = np.flatnonzero(~routed)
        labelled_rows = np.flatnonzero(~is_unlabelled) if is_unlabelled.any() else None
        rows, probas = [np.empty(0, dtype=int)], [np.empty((0, len(self.classes)))]
        large_answers = None
        if large is not None and large_rows.size:
            large_proba = large.answer(X, large_rows, small_proba)
            large_answers = (large_rows, large_proba)
            keep, targets = self.large_targets(large_proba, small_proba[large_rows])
            rows.append(large_rows[keep])
            probas.append(targets)
        if judge is not None and judge_rows.size:
            rows.append(judge_rows)
            probas.append(judge(_safe_indexing(X, judge_rows), small_proba[judge_rows]))
        rows, probas = np.concatenate(rows), np.vstack(probas)
        record = {"large_samples": int(routed.sum()), "teacher_samples": int(rows.size),
                  "method": None}
        learns_labels = labelled_rows is None or len(labelled_rows) > 0
        if large_answers is not None:  # what the threshold let through, for the record
            record["large_confidence_max"] = float(top_probability(large_answers[1]).max())
        if self.refit_set is not None:
            self.refit_set.last_check = None
        if rows.size or (incremental and learns_labels):
            with self.ledger.timer("fit_distill"):
                record["method"] = fit_on_soft_targets(
                    small, X, y, rows, soften(probas, self.temperature), self.classes,
                    labelled_rows=labelled_rows, sample_weight=sample_weight,
                    epochs=epochs, incremental=incremental,
                    refit_set=self.refit_set, temperature=self.temperature,
                )
        if self.refit_set is not None and self.refit_set.last_check is not None:
            record["check"] = self.refit_set.last_check
        return record, large_answers
