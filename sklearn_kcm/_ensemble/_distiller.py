"""The Distiller: one pass of the paper's loop on routed inputs, with fixed settings.

The large model's answers on the hard rows where it is confident (``L_ls``) and
the judge's on the easy ones (``L_js``) become soft targets, added to the
labelled rows; :func:`~._soft_fit.fit_on_soft_targets` trains the small model
on them.
"""

import numpy as np

from .._compat import _safe_indexing
from .._routing._curves import top_probability
from ._soft_fit import fit_on_soft_targets, soften


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
    weight : float
        Weight of a teacher sample relative to a labelled one.
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

    def __init__(self, classes, *, threshold, temperature, weight, ledger, mix=0.0,
                 refit_set=None, labelled=True):
        self.labelled = labelled
        self.classes = classes
        self.threshold = threshold
        self.temperature = temperature
        self.weight = weight
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
                    distill_weight=self.weight, epochs=epochs, incremental=incremental,
                    refit_set=self.refit_set, temperature=self.temperature,
                )
        if self.refit_set is not None and self.refit_set.last_check is not None:
            record["check"] = self.refit_set.last_check
        return record, large_answers
