"""What a fit of KCMEnsemble will do, resolved once from its parameters and the data.

:func:`plan_fit` reads the parameters once, checks the rules that tie them to
each other and to the training data (with a message that names the parameters
involved and says what to do; single-parameter rules are declared in
``KCMEnsemble._parameter_constraints``), and returns a frozen :class:`FitPlan`:
what the judge reads and learns, which out-of-fold signals the first stage
computes, who teaches the small model and how. The stages of ``fit`` read the
plan, never the parameters, and the first stage's plan is its cache key.
"""

import os
from dataclasses import dataclass, replace

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from .._routing._budgets import AccuracyTarget, budget_of
from .._routing._judge import judge_spec
from .._routing._signals import READS_X, TASK_TARGETS
from .._utils._validation import is_numeric
from .._utils._warnings import warn
from ._distiller import distillation_of, teacher_sources, teaches_labelled
from ._fit_cache import keeps_first_stage
from ._large_calls import takes_hint


@dataclass(frozen=True)
class MemberPlan:
    """What the first stage of ``fit`` fits and computes; the key of ``memory``'s cache.

    The parameters that act only after it (the threshold's value, the
    distillation) are not in it, so that a grid over them fits the members
    once per split.
    """

    small: object
    large: object
    judge: object  # the unfitted judge; None routes by the small model (the cascade)
    judge_input: str
    judge_target: str
    judge_fallback: bool
    judge_refit: bool
    small_oof: bool  # compute the small model's out-of-fold answers
    judge_oof: bool  # keep the judge's out-of-fold C_x (a budget fits the threshold on them)
    large_answers: bool  # the judge's fit reads the large model's out-of-fold answers
    guarantee: bool  # both members' out-of-fold answers certify an AccuracyTarget's threshold
    prefit_teachers: bool  # fit the out-of-fold teachers now, to cache them
    hint: object
    cv: object
    n_jobs: object
    random_state: object


@dataclass(frozen=True)
class DistillPlan:
    """Who teaches the small model after the members are fitted, and how."""

    large: bool  # the large model teaches (rows without a label; with `labelled`, all)
    labelled: bool  # it teaches the labelled rows too: the paper's L_ls
    judge: bool  # the judge's answers on the easy rows teach too: L_js
    threshold: object  # the large model's confidence above which it teaches; None: epsilon_
    temperature: float
    mix: object  # float, or "auto": chosen by the out-of-fold check

    @property
    def teaches(self):
        return self.large or self.judge


@dataclass(frozen=True)
class FitPlan:
    members: MemberPlan
    distill: DistillPlan


def plan_fit(params, X, *, judge_for, has_unlabelled, members_only=False):
    """The plan of a fit of KCMEnsemble with ``params`` (``get_params(deep=False)``) on X.

    ``judge_for(judge_input)`` makes the unfitted judge that reads
    ``judge_input`` of X (None for the cascade); ``has_unlabelled``: y marks
    rows without a label; ``members_only``: the judge and threshold are already
    fitted and certified, the plan refits the members alone (no judge, none of
    the out-of-fold signals only the judge reads). Raises where parameters
    contradict each other or the data.
    """
    judging = judge_spec(params["judge"])
    budget = budget_of(params["epsilon"])
    distillation = distillation_of(params["distill"])
    judge_input, judge_target = resolve_judge(judging, X, params["small"])
    check_params_together(params, X, judging, judge_target, distillation)
    judge = judge_for(judge_input)
    auto = not isinstance(budget, float)
    fallback = judging == "small" or judging.fallback
    # a guarantee certified out of fold needs both members' answers on every labelled row
    guarantee = isinstance(budget, AccuracyTarget) and not budget.held_out
    distill = distill_plan(distillation, has_unlabelled=has_unlabelled)
    # the judge reads or learns the small model's out-of-fold answers, or the fallback
    # compares routings on them
    judge_reads_small = judge is not None and (
        fallback or judge_input not in READS_X or judge_target not in TASK_TARGETS
        or (judge_target == "agreement" and auto))
    # the large model's fit and the unlabelled rows' check read them whatever routes
    members_read_small_oof = (
        params["hint"] == "features" or takes_hint(params["large"], params["hint"], "fit")
        or (has_unlabelled and distill.large))
    small_oof = (members_read_small_oof or judge_reads_small or (auto and judge is None)
                 or guarantee)
    members = MemberPlan(
        small=params["small"], large=params["large"], judge=judge,
        judge_input=judge_input, judge_target=judge_target, judge_fallback=fallback,
        judge_refit=judging == "small" or judging.refit, small_oof=small_oof, judge_oof=auto,
        large_answers=guarantee or judge is not None and knows_large_answers(
            fallback, params["large"], judge_target, distill.labelled),
        guarantee=guarantee,
        # a cached first stage holds fitted teachers: they are not fitted on first use then
        prefit_teachers=distill.large and keeps_first_stage(params["memory"],
                                                            params["random_state"]),
        hint=params["hint"], cv=params["cv"], n_jobs=params["n_jobs"],
        random_state=params["random_state"])
    if members_only:
        members = replace(members, judge=None, judge_fallback=False,
                          judge_oof=False, large_answers=False, guarantee=False,
                          small_oof=members_read_small_oof)
    return FitPlan(members=members, distill=distill)


def distill_plan(distillation, *, has_unlabelled):
    """Who teaches the small model under ``distillation`` (a :class:`Distillation`):
    :class:`DistillPlan`.

    The large model teaches the rows without a label (``has_unlabelled``: there
    are some; a batch of a stream counts as such), and the labelled rows too
    where its ``teachers`` ask for the paper's ``L_ls``.
    """
    sources = teacher_sources(distillation.teachers)
    labelled = teaches_labelled(distillation.teachers)
    return DistillPlan(
        large="large" in sources and (labelled or has_unlabelled), labelled=labelled,
        judge="judge" in sources, threshold=distillation.threshold,
        temperature=distillation.temperature, mix=distillation.mix)


def knows_large_answers(fallback, large, judge_target, teaches_labelled):
    """Whether the judge's fit uses the large model's out-of-fold answers on the training rows.

    The ``"gain"`` target learns from them. The fallback compares routings with
    them where they cost no large-model work that the labels make redundant:
    a prefit large model answers the training rows in one call, and the
    out-of-fold teachers are fitted anyway when the large model teaches the
    labelled rows (``distill="large"`` or ``"both"``). Otherwise, and for a
    model that keeps a bill (``usage_``, an LLM client; checked once it is
    fitted), the fallback takes the large model to be right everywhere: it then
    compares how well each routing finds the small model's mistakes, which
    measured as well (see the judge benchmark).
    """
    if judge_target == "gain":
        return True
    return fallback and (isinstance(large, FrozenEstimator) or teaches_labelled)


def resolve_judge(judging, X, small=None):
    """What the judge reads and learns, with "auto" resolved for this X.

    ``judging`` is a :class:`~sklearn_kcm.Judge` or "small" (the cascade: no
    judge, whose "reading" is resolved as a judge's of default options would be).
    Numeric X, or a judge Pipeline the user built (its first steps turn X
    into numbers, e.g. a ``TfidfVectorizer`` on texts): the judge reads X and
    learns the task labels, and ``C_x`` is its agreement with the small model's
    answer (a second opinion must not read that answer, or it would only echo
    it). A DataFrame of text or category columns, with the default judge and a
    small model that is a Pipeline: the judge reads X as that Pipeline's
    preprocessing turns it into numbers (``"preprocessed"``), and learns the
    same. Anything else (text, dicts...): the judge reads the small model's
    answer and learns whether it is right, which works whatever the small
    model reads.
    """
    cascade = judging == "small"
    judge = None if cascade else judging.estimator
    judge_input, judge_target = ("auto", "auto") if cascade else (judging.input, judging.target)
    numeric = is_numeric(X) or isinstance(judge, Pipeline)
    learns_task = judge_target in ("auto", *TASK_TARGETS)
    if judge_input == "auto":
        if not numeric and learns_task and judge is None and _preprocesses(small) and hasattr(
                X, "dtypes"):
            judge_input = "preprocessed"
        else:
            judge_input = "X" if numeric and learns_task else ("both" if numeric else "small")
    if judge_target == "auto":
        judge_target = "agreement" if judge_input in READS_X else "small_correct"
    return judge_input, judge_target


def _preprocesses(small):
    """Whether ``small`` is a Pipeline with steps before its classifier."""
    return isinstance(small, Pipeline) and len(small.steps) > 1


def _require_numeric(X, message):
    """Raise ``message`` unless X holds numbers; values that are neither text nor numbers
    (e.g. dicts) raise the TypeError of numpy's conversion, as scikit-learn's do."""
    if is_numeric(X):
        return
    try:
        np.asarray(X, dtype=np.float64)
    except TypeError as error:
        raise TypeError(f"{error}. {message}") from error
    except ValueError:
        pass
    raise ValueError(message)


def check_params_together(params, X, judging, judge_target, distillation):
    """Raise when parameters of ``params`` (``get_params(deep=False)``) contradict each other.

    ``judging``: the :class:`~sklearn_kcm.Judge` (or "small"); ``judge_target``
    the resolved one (see :func:`resolve_judge`); ``distillation``: the
    :class:`~sklearn_kcm.Distillation`.
    """
    memory = params["memory"]
    if isinstance(memory, str) and os.path.exists(os.path.expanduser(memory)) and (
            not os.path.isdir(os.path.expanduser(memory))):
        raise ValueError(
            f"memory={memory!r} is a file; memory must be a folder, where the members' fits "
            "are cached (it is made if missing): give a folder's path, e.g. "
            "memory='kcm_cache'.")
    if params["hint"] == "features" and isinstance(params["large"], FrozenEstimator):
        raise ValueError(
            "hint='features' trains the large model on X plus the small model's "
            "probabilities, but a FrozenEstimator large model is not refitted and was "
            "trained on X alone. Use hint=None (or 'auto' for a model that takes `hint`), "
            "or give the unfitted large model."
        )
    if params["hint"] == "features":
        _require_numeric(
            X, "hint='features' appends the small model's probabilities to X as columns, "
            "so X must be numeric. For text or other inputs use hint='auto' with a "
            "large model that takes `hint` in predict_proba (e.g. LLMClassifier).")
    judge_input = "auto" if judging == "small" else judging.input
    if judge_input == "preprocessed" and not _preprocesses(params["small"]):
        raise ValueError(
            f"Judge(input='preprocessed') reads X as the small model's Pipeline turns it into "
            f"numbers, but the small model is {params['small']!r}. Give a small model "
            "Pipeline (e.g. make_pipeline(ColumnTransformer(...), LogisticRegression())), or "
            "Judge(estimator, input='X') with a judge Pipeline of its own.")
    if judge_input == "both":
        _require_numeric(
            X, "Judge(input='both') appends the small model's answer to X as columns, so X "
            "must be numeric. For text or other inputs use Judge(input='small') (the "
            "small model's answer; 'auto' picks it), or Judge(estimator, input='X') with a "
            "judge Pipeline that turns X into numbers.")
    judge_teaches = "judge" in teacher_sources(distillation.teachers)
    if judge_teaches and (judging == "small" or judge_target not in TASK_TARGETS):
        raise ValueError(
            f"distill={params['distill']!r} uses the judge as a teacher, which needs a judge "
            f"trained on the task labels, but judge={params['judge']!r} learns "
            f"{'nothing' if judging == 'small' else repr(judge_target)}. Use distill='large', "
            "or a judge that learns the task: Judge(estimator, target='task') or "
            "target='agreement'."
        )


def warn_if_routing_wastes(epsilon, fitted_epsilon, oof_confidence, small_correct,
                           large_correct):
    """Warn when, out of fold on the training rows, the routing saves little or nothing.

    A given ``epsilon`` that sends more than half of the rows to the large model
    (``epsilon=0.98`` against a judge of text that is rarely that sure), and a
    large model less accurate than the small one (routing to it loses
    accuracy). ``oof_confidence`` and the correctness arrays may be None
    (not measured in this fit), and then say nothing.
    """
    if isinstance(epsilon, float) and oof_confidence is not None and len(oof_confidence):
        share = float(np.mean(oof_confidence <= fitted_epsilon))
        if share > 0.5:
            warn(
                f"epsilon={epsilon!r} sends {share:.0%} of the training rows to the large model "
                f"out of fold ({len(oof_confidence)} rows): the ensemble will save few large-"
                "model calls. Give the share you can pay for, e.g. epsilon=LargeShare(0.2), "
                "or a lower epsilon.")
    if small_correct is not None and large_correct is not None:
        small, large = float(np.mean(small_correct)), float(np.mean(large_correct))
        if large < small:
            warn(
                f"The large model is less accurate than the small one out of fold on the "
                f"{len(small_correct)} training rows ({large:.3f} against {small:.3f}): "
                "routing inputs to it adds cost and loses accuracy. Check the large model "
                "(its parameters, its training data), or use the small model alone.")
