"""Distillation: the second stage of ``KCMEnsemble.fit``, and each batch of ``partial_fit``.

After the members are fitted and the threshold is set, the teachers of the
:class:`~._plan.DistillPlan` (the large model on the hard rows, the judge on
the easy ones) train the small model; where the large model would teach rows
without a label, an out-of-fold check first decides whether it may.
"""

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import indexable

from .._compat import _fit_context, _num_samples
from .._routing._curves import route_to_large
from .._routing._judging import update_judge
from .._utils._interrupts import restores_on_interrupt
from .._utils._validation import check_known_labels
from .._utils._warnings import warn
from ._distill_check import AUTO_MIXES, distillation_helps
from ._distiller import Distiller, distillation_of
from ._labels import check_first_batch, check_targets, split_labelled
from ._large_calls import bills_its_calls
from ._plan import distill_plan
from ._soft_fit import DISTILL_EPOCHS
from ._teachers import LargeTeachers


class DistillationStage:
    """The distillation methods of :class:`~sklearn_kcm.KCMEnsemble` (a mixin).

    Reads the fitted ensemble (``small_``, ``large_``, ``classes_``,
    ``epsilon_``, ``ledger_``, its routing), updates the small model (and the
    judge, on a stream) and sets ``distillation_``, ``unlabelled_teacher_``
    and ``distill_mix_``.
    """

    def _distil(self, plan, members, X, y, *, labelled, unlabelled, sample_weight,
                small_fit_params):
        """The second stage of ``fit``: the teachers of ``plan`` (a DistillPlan) train the
        small model, after an out-of-fold check where the large model teaches unlabelled rows."""
        self.distillation_, self.unlabelled_teacher_ = [], None
        self.distill_mix_ = 0.0 if plan.mix == "auto" else float(plan.mix)
        if not plan.teaches:
            return
        with self.ledger_.timer("fit_route"):
            small_proba = self.small_.predict_proba(X)
        # who answers the rows: the out-of-fold teachers (labelled rows), and, for the
        # unlabelled ones, a model that learns nothing from labels (an LLM) once
        teachers = members.teachers if plan.large else None
        if plan.large and unlabelled.size and bills_its_calls(self.large_):
            teachers = LargeTeachers.unseen(self.large_, len(y), hint=self.hint,
                                            n_classes=len(self.classes_), ledger=self.ledger_)
        if plan.large and unlabelled.size:
            mixes = AUTO_MIXES if plan.mix == "auto" else (self.distill_mix_,)
            with self.ledger_.timer("fit_distill_check"):
                self.unlabelled_teacher_ = distillation_helps(
                    self.small, X, y, labelled=labelled, unlabelled=unlabelled,
                    splits=members.splits, teachers=teachers,
                    distiller=self._distiller(plan, mixes[0]), small_oof=members.small_oof,
                    fit_params=small_fit_params, mixes=mixes,
                    shared_hint=small_proba)
            self.distill_mix_ = self.unlabelled_teacher_["mix"]
            if not self.unlabelled_teacher_["used"]:
                teachers = None  # it would pull the small model down
            elif not (isinstance(self.large_, FrozenEstimator) or bills_its_calls(self.large_)):
                teachers = teachers.also(self.large_, unlabelled)  # new to it
        distiller = self._distiller(plan, self.distill_mix_)
        self._distillation_round(distiller, plan, X, y, teachers, sample_weight=sample_weight,
                                 epochs=DISTILL_EPOCHS, unlabelled=unlabelled,
                                 ask_unlabelled="all", small_proba=small_proba)

    def _distiller(self, plan, mix):
        threshold = self.epsilon_ if plan.threshold is None else plan.threshold
        return Distiller(self.classes_, threshold=threshold, temperature=plan.temperature,
                         mix=mix, ledger=self.ledger_,
                         refit_set=self._refit_set, labelled=plan.labelled)

    def _distillation_round(self, distiller, plan, X, y, large_teachers, *, sample_weight,
                            epochs, unlabelled=(), ask_unlabelled="none", incremental=False,
                            small_proba=None):
        """Route X and let the teachers of ``plan`` teach the small model (see
        :meth:`Distiller.teach`); the small model's probabilities and the large one's answers.

        ``small_proba``: the small model's probabilities on X, if already known."""
        with self.ledger_.timer("fit_route"):
            if small_proba is None:
                small_proba = self.small_.predict_proba(X)
            routed = route_to_large(self._confidence(X, small_proba, "fit"), self.epsilon_)
        record, large_answers = distiller.teach(
            self.small_, X, y, small_proba, routed,
            unlabelled=unlabelled, ask_unlabelled=ask_unlabelled,
            large=large_teachers if plan.large else None,
            judge=self._judge_proba if plan.judge else None,
            sample_weight=sample_weight, epochs=epochs, incremental=incremental)
        self.distillation_.append({"round": len(self.distillation_), **record})
        warn_if_nothing_taught(record, distiller.threshold, plan.large, incremental)
        if self.verbose and not incremental:
            print("[KCMEnsemble] distillation: "
                  f"{record['large_samples']} hard samples, "
                  f"{record['teacher_samples']} teacher samples, {record['method']}")
        return small_proba, large_answers

    # what a batch changes in place; the ledger keeps counting what was paid
    @restores_on_interrupt("small_", "judge_", "distillation_", copied=("_refit_set",))
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Improve the small model and the judge from one more batch of a stream.

        The distillation loop applied to the batch: route it, ask the large
        model (fitted before; the batch is new to it, so its outputs are
        honest teachers) about the hard rows, and train the small model on the
        batch's labels plus the confident teacher outputs. Rows without a label
        (``y`` None, or rows marked ``unlabelled_label``) learn only from the
        large model's answers on the routed rows: the calls production pays
        anyway, counted in ``ledger_`` as fit calls; rows that :meth:`predict`
        sent to an LLM large model before are not asked again. A small model
        with ``partial_fit`` is updated with it; one without is refitted on
        what it was fitted on in ``fit`` plus every teacher row of the stream
        so far, provided that, out of fold on the labelled rows of ``fit``, the
        batch's teacher rows fix at least as many of its answers as they break
        (else the batch is refused, with a warning and the counts in
        ``distillation_``). A batch that pays the large model and teaches
        nothing warns why. Ctrl-C leaves the ensemble as it was. The judge,
        when it has ``partial_fit``, learns whether the small model is right:
        from the labels, or, without them, from whether it agrees with the
        large model where that answered. On an unfitted ensemble the
        first call fits it on the batch, which must then hold a label of every
        class.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,), default=None
            True labels, ``unlabelled_label`` for rows without one; None: no
            row has a label.
        classes : array-like, default=None
            Every class of the stream; checked against the batch on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the batch's samples, for the small model and the judge.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        if not hasattr(self, "small_"):
            y = check_targets(X, y, "KCMEnsemble", self.unlabelled_label)
            check_first_batch(y, classes, self.unlabelled_label)
            return self.fit(X, y, sample_weight=sample_weight)
        X, sample_weight = indexable(X, sample_weight)
        n_samples = _num_samples(X)
        if y is None:
            y = np.full(n_samples, self.unlabelled_label, dtype=object)
            labelled, unlabelled = np.empty(0, dtype=int), np.arange(n_samples)
        else:
            y = check_targets(X, y, "KCMEnsemble", self.unlabelled_label)
            labelled, unlabelled = split_labelled(y, self.unlabelled_label, batch=True)
        check_known_labels(y[labelled], self.classes_, "The ensemble was fitted on `classes_`: "
                           "refit it on data holding every class of the stream.")
        self._learn_from_batch(X, y, labelled=labelled, unlabelled=unlabelled,
                               sample_weight=sample_weight)
        return self

    def _learn_from_batch(self, X, y, *, labelled, unlabelled, sample_weight):
        """One batch of a stream teaches the small model, and the judge when it can learn."""
        # the batch is new to the fitted large model: it teaches directly
        teachers = LargeTeachers.unseen(self.large_, len(y), hint=self.hint,
                                        n_classes=len(self.classes_), ledger=self.ledger_,
                                        recent=self._recent_answers)
        plan = distill_plan(distillation_of(self.distill), has_unlabelled=True)
        small_proba, large_answers = self._distillation_round(
            self._distiller(plan, self.distill_mix_), plan, X, y, teachers,
            sample_weight=sample_weight, epochs=1, unlabelled=unlabelled,
            ask_unlabelled="routed", incremental=True)
        if self.judge_ is not None and hasattr(self.judge_, "partial_fit"):
            update_judge(self.judge_, self._judge_view(X), y, labelled=labelled,
                         small_proba=small_proba, large_answers=large_answers,
                         classes=self.classes_, judge_input=self.judge_input_,
                         judge_target=self.judge_target_, sample_weight=sample_weight,
                         ledger=self.ledger_)


def warn_if_nothing_taught(record, threshold, large_teaches, stream):
    """Say, with the counts, why a distillation that paid the large model taught nothing
    (no answer above ``threshold``), or why a stream's batch was refused."""
    where = "partial_fit" if stream else "fit"
    if record["method"] == "refused":
        check = record["check"]
        warn(f"{where} left the small model as it was: out of fold on the labelled rows of "
             f"fit, learning the large model's answers on this batch's "
             f"{record['teacher_samples']} routed rows fixed {check['fixed']} answers and "
             f"broke {check['broken']}. A large model that errs where the small one is right "
             "teaches it nothing; distillation_ records each batch.")
    elif large_teaches and record["large_samples"] and not record["teacher_samples"] and (
            "large_confidence_max" in record):
        warn(f"{where} paid the large model for {record['large_samples']} routed rows and "
             f"taught the small model nothing: none of its answers was surer than "
             f"the threshold {threshold:g} (the surest: "
             f"{record['large_confidence_max']:.4f}). Lower it (Distillation(threshold=0.0) "
             "lets every answer teach, checked out of fold on a stream), or distill=False to "
             "pay for no teaching.")

