"""Distillation: the second stage of ``KCMEnsemble.fit``, and each batch of ``partial_fit``.

After the members are fitted and the threshold is set, the teachers of the
:class:`~._plan.DistillPlan` (the large model on the hard rows, the judge on
the easy ones) train the small model; where the large model would teach rows
without a label, an out-of-fold check first decides whether it may. The stage
is called with what it reads of the fitted ensemble, a :class:`Classroom`, and
returns what the ensemble records; it trains the classroom's small model in
place.
"""

from dataclasses import dataclass
from typing import Callable

from sklearn.frozen import FrozenEstimator

from .._routing._curves import route_to_large
from .._utils._warnings import warn
from ._distill_check import AUTO_MIXES, distillation_helps
from ._distiller import Distiller
from ._large_calls import bills_its_calls
from ._soft_fit import DISTILL_EPOCHS
from ._teachers import LargeTeachers


@dataclass
class Classroom:
    """What distillation reads of a fitted ensemble, and the small model it trains.

    ``confidence(X, small_proba)`` is the ensemble's ``C_x`` on rows X (fit
    phase), ``judge_proba(X, small_proba)`` its judge's probabilities (for the
    judge as a teacher); ``recent`` the ensemble's memo of an LLM's answers on
    the rows ``predict`` sent it (or None).
    """

    small: object
    large: object
    classes: object
    epsilon: float
    hint: object
    ledger: object
    refit_set: object
    confidence: Callable
    judge_proba: Callable
    recent: object = None
    verbose: int = 0

    def distiller(self, plan, mix):
        """The :class:`Distiller` of ``plan`` (a DistillPlan) with the share ``mix``."""
        threshold = self.epsilon if plan.threshold is None else plan.threshold
        return Distiller(self.classes, threshold=threshold, temperature=plan.temperature,
                         mix=mix, ledger=self.ledger, refit_set=self.refit_set,
                         labelled=plan.labelled)


def teach_in_fit(room, plan, members, template, X, y, *, labelled, unlabelled, sample_weight,
                 small_fit_params):
    """The second stage of ``fit``: the teachers of ``plan`` train ``room.small``, after an
    out-of-fold check (of clones of the unfitted ``template``) where the large model would
    teach rows without a label.

    Returns ``(records, unlabelled_teacher, mix)``: the rounds' records, the check's
    result (or None) and the share of the small model's own answer in the targets.
    """
    mix = 0.0 if plan.mix == "auto" else float(plan.mix)
    if not plan.teaches:
        return [], None, mix
    with room.ledger.timer("fit_route"):
        small_proba = room.small.predict_proba(X)
    # who answers the rows: the out-of-fold teachers (labelled rows), and, for the
    # unlabelled ones, a model that learns nothing from labels (an LLM) once
    teachers = members.teachers if plan.large else None
    if plan.large and unlabelled.size and bills_its_calls(room.large):
        teachers = LargeTeachers.unseen(room.large, len(y), hint=room.hint,
                                        n_classes=len(room.classes), ledger=room.ledger)
    check = None
    if plan.large and unlabelled.size:
        mixes = AUTO_MIXES if plan.mix == "auto" else (mix,)
        with room.ledger.timer("fit_distill_check"):
            check = distillation_helps(
                template, X, y, labelled=labelled, unlabelled=unlabelled,
                splits=members.splits, teachers=teachers,
                distiller=room.distiller(plan, mixes[0]), small_oof=members.small_oof,
                fit_params=small_fit_params, mixes=mixes, shared_hint=small_proba)
        mix = check["mix"]
        if not check["used"]:
            teachers = None  # it would pull the small model down
        elif not (isinstance(room.large, FrozenEstimator) or bills_its_calls(room.large)):
            teachers = teachers.also(room.large, unlabelled)  # new to it
    record, _, _ = teach_round(room, room.distiller(plan, mix), plan, X, y, teachers,
                               sample_weight=sample_weight, epochs=DISTILL_EPOCHS,
                               unlabelled=unlabelled, ask_unlabelled="all",
                               small_proba=small_proba)
    return [{"round": 0, **record}], check, mix


def teach_batch(room, plan, mix, X, y, *, unlabelled, sample_weight):
    """One batch of a stream teaches ``room.small``: the fitted large model answers its
    routed rows (the batch is new to it: a direct teacher). Returns ``(record,
    small_proba, large_answers)``, for the judge to learn from next."""
    teachers = LargeTeachers.unseen(room.large, len(y), hint=room.hint,
                                    n_classes=len(room.classes), ledger=room.ledger,
                                    recent=room.recent)
    return teach_round(room, room.distiller(plan, mix), plan, X, y, teachers,
                       sample_weight=sample_weight, epochs=1, unlabelled=unlabelled,
                       ask_unlabelled="routed", incremental=True)


def teach_round(room, distiller, plan, X, y, large_teachers, *, sample_weight, epochs,
                unlabelled=(), ask_unlabelled="none", incremental=False, small_proba=None):
    """Route X and let the teachers of ``plan`` teach the small model (see
    :meth:`Distiller.teach`): ``(record, small_proba, large_answers)``.

    ``small_proba``: the small model's probabilities on X, if already known."""
    with room.ledger.timer("fit_route"):
        if small_proba is None:
            small_proba = room.small.predict_proba(X)
        routed = route_to_large(room.confidence(X, small_proba), room.epsilon)
    record, large_answers = distiller.teach(
        room.small, X, y, small_proba, routed,
        unlabelled=unlabelled, ask_unlabelled=ask_unlabelled,
        large=large_teachers if plan.large else None,
        judge=room.judge_proba if plan.judge else None,
        sample_weight=sample_weight, epochs=epochs, incremental=incremental)
    warn_if_nothing_taught(record, distiller.threshold, plan.large, incremental)
    if room.verbose and not incremental:
        print("[KCMEnsemble] distillation: "
              f"{record['large_samples']} hard samples, "
              f"{record['teacher_samples']} teacher samples, {record['method']}")
    return record, small_proba, large_answers


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

