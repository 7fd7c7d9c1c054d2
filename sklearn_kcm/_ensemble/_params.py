"""Rules that tie KCMEnsemble's parameters to each other and to the training data.

Each rule is checked in ``fit``, where X is known, with a message that names the
parameters involved and says what to do; single-parameter rules are declared in
``KCMEnsemble._parameter_constraints``.
"""

import warnings

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from .._routing._base import check_budget
from .._routing._signals import READS_X, TASK_TARGETS
from .._utils._validation import is_numeric
from ._distill import teacher_sources
from ._large import takes_hint


def resolve_judge(judge_input, judge_target, X, judge=None, small=None):
    """What the judge reads and learns, with "auto" resolved for this X.

    Numeric X, or a ``judge`` Pipeline the user built (its first steps turn X
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


def needs_small_oof(params, judge_input, judge_target, has_unlabelled=False):
    """Whether ``fit`` needs the small model's out-of-fold probabilities.

    Rows without a label need them when the large model may teach them: its
    answers teach only if they beat the small model's out of fold. A large
    model trained on the hint needs them as its training hints.
    """
    judge_reads_or_learns_small = params["judge"] != "small" and (
        params["judge_fallback"] or judge_input not in READS_X or judge_target not in TASK_TARGETS
        or (judge_target == "agreement" and params["epsilon"] == "auto"))
    unlabelled_taught = has_unlabelled and "large" in teacher_sources(params["distill"])
    return (params["hint"] == "features" or takes_hint(params["large"], params["hint"], "fit")
            or judge_reads_or_learns_small or unlabelled_taught
            or (params["epsilon"] == "auto" and params["judge"] == "small"))


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


def check_params_together(params, X, judge_target):
    """Raise when parameters of ``params`` (``get_params(deep=False)``) contradict each other.

    ``judge_target`` is the resolved one (see :func:`resolve_judge`).
    """
    check_budget(params["epsilon"], params["target_large_share"])
    if params["judge"] == "small":
        ignored = {key: params[key] for key in ("judge_input", "judge_target")
                   if params[key] != "auto"}
        if ignored:
            raise ValueError(
                f"judge='small' routes by the small model's own confidence, with no judge to "
                f"read or learn anything, so {ignored} would be ignored. Leave them 'auto', or "
                "give a judge estimator (judge=None for the default KAN judge)."
            )
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
    if params["judge_input"] == "preprocessed" and not _preprocesses(params["small"]):
        raise ValueError(
            f"judge_input='preprocessed' reads X as the small model's Pipeline turns it into "
            f"numbers, but the small model is {params['small']!r}. Give a small model "
            "Pipeline (e.g. make_pipeline(ColumnTransformer(...), LogisticRegression())), or "
            "judge_input='X' with a judge Pipeline of its own.")
    if params["judge_input"] == "both":
        _require_numeric(
            X, "judge_input='both' appends the small model's answer to X as columns, so X "
            "must be numeric. For text or other inputs use judge_input='small' (the "
            "small model's answer; 'auto' picks it), or judge_input='X' with a judge "
            "Pipeline that turns X into numbers.")
    judge_teaches = "judge" in teacher_sources(params["distill"])
    if judge_teaches and (params["judge"] == "small" or judge_target not in TASK_TARGETS):
        raise ValueError(
            f"distill={params['distill']!r} uses the judge as a teacher, which needs a judge "
            f"trained on the task labels, but judge={params['judge']!r} learns "
            f"{judge_target!r}. Use distill='large', or a judge estimator with "
            "judge_target='task' or 'agreement'."
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
    if epsilon != "auto" and oof_confidence is not None and len(oof_confidence):
        share = float(np.mean(oof_confidence <= fitted_epsilon))
        if share > 0.5:
            warnings.warn(
                f"epsilon={epsilon!r} sends {share:.0%} of the training rows to the large model "
                f"out of fold ({len(oof_confidence)} rows): the ensemble will save few large-"
                "model calls. Give epsilon='auto' with the share you can pay for, e.g. "
                "target_large_share=0.2, or a lower epsilon.", UserWarning, stacklevel=4)
    if small_correct is not None and large_correct is not None:
        small, large = float(np.mean(small_correct)), float(np.mean(large_correct))
        if large < small:
            warnings.warn(
                f"The large model is less accurate than the small one out of fold on the "
                f"{len(small_correct)} training rows ({large:.3f} against {small:.3f}): "
                "routing inputs to it adds cost and loses accuracy. Check the large model "
                "(its parameters, its training data), or use the small model alone.",
                UserWarning, stacklevel=4)
