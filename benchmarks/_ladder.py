"""Fit and score the ladder of the paper's tables on one task.

small, large, the small model after distillation, the confidence cascade,
MCM (MLP judge), KCM (KAN judge) (both judges with the library's defaults:
on numeric X they learn the task from X and route by their agreement with
the small model's answer; on text they read the small model's out-of-fold
answer and learn whether it is right; both fall back to the cascade where
they route worse out of fold) and
KCM with the paper's judge (reading X only, learning the task labels). Every
routing method runs at the same budget (``epsilon=LargeShare(budget)``) so
that accuracies compare at equal cost; the routing curve gives, besides, the
share each judge needs to reach 99% of the large model's accuracy.
"""

import time

import numpy as np
from sklearn.base import clone

from sklearn_kcm import (
    Distillation,
    Judge,
    KCMEnsemble,
    LargeShare,
    MLPJudgeClassifier,
    gap_recovered,
    oracle_routing_curve,
    routing_curve,
)
from sklearn_kcm._ensemble._large_calls import takes_hint
from sklearn_kcm._routing._curves import accuracy_at_share

TARGET_OF_LARGE = 0.99


def routing_methods(task, seed, budget):
    # the paper's rungs distil on the labelled rows (distill="large"; the default distils on
    # rows without a label only), where the large model's outputs are at least this sure: the
    # auto epsilon_ (0.98-0.995 here) would keep almost none of them; at the paper's
    # temperature 1 (the library's default is 0.25 since the suites' runs in the docs)
    common = dict(epsilon=LargeShare(budget),
                  distill=Distillation("large", threshold=0.5, temperature=1.0),
                  cv=task.cv, hint=task.hint,
                  random_state=seed)
    return {
        "cascade": KCMEnsemble(task.small, task.large, judge="small", **{**common,
                                                                         "distill": False}),
        "MCM (MLP judge)": KCMEnsemble(task.small, task.large,
                                       MLPJudgeClassifier(random_state=seed), **common),
        "KCM (KAN judge)": KCMEnsemble(task.small, task.large, **common),
        "KCM, paper judge": KCMEnsemble(
            task.small, task.large,
            Judge(task.judge("kan", seed), input="X", target="task", fallback=False), **common),
    }


def _hinted_large_row(task, model):
    """KCM's large model on every test row, reading the hint of KCM's small model: was the
    hint, learnt from out-of-fold small answers, worth reading? (Set against ``large``.)"""
    hint = model.small_.predict_proba(task.X_test)
    predictions, predict_s = _timed(lambda: model.large_.predict(task.X_test, hint=hint))
    return _row(task, "large + hint", predictions, share=1.0, fit_s=float("nan"),
                predict_s=predict_s)


def share_for(large_share, accuracy, target):
    """Smallest share sent to the large model whose accuracy reaches ``target`` (NaN: never)."""
    reached = np.flatnonzero(accuracy >= target - 1e-12)
    return float(large_share[reached[0]]) if reached.size else float("nan")


def curve_with(model, X, y, large_predictions):
    """The ensemble's routing curve, reusing the large model's answers on X.

    ``KCMEnsemble.routing_curve`` would ask the large model about all of X once
    more; the benchmark already has those answers (the same fitted model, the
    same inputs), and the large model is the expensive part of every run.
    """
    small_correct = model.small_.predict(X) == y
    large_correct = np.asarray(large_predictions) == y
    return routing_curve(model.routing_confidence(X), small_correct, large_correct)


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _timed_predict(task, model):
    if task.forget is not None:
        task.forget()
    return _timed(model.predict, task.X_test)


def _row(task, method, predictions, *, share, fit_s, predict_s):
    correct = np.asarray(predictions) == task.y_test
    row = dict(task=task.name, method=method, accuracy=float(correct.mean()),
               large_share=float(share), fit_s=fit_s, predict_s=predict_s)
    if task.groups is not None:
        for group in ("many", "medium", "few"):
            row[group] = float(correct[task.groups == group].mean())
    return row


def run_ladder(task, seed, budget, log=print):
    """Rows of results (one dict per method) and the routing curves, for one seed."""
    rows, curves, predictions_of = [], {}, {}
    for method, model, share in (("small", task.small, 0.0), ("large", task.large, 1.0)):
        log(f"    {method} ({getattr(task, method + '_name')})")
        model = clone(model)
        _, fit_s = _timed(model.fit, task.X_train, task.y_train)
        predictions_of[method], predict_s = _timed_predict(task, model)
        rows.append(_row(task, method, predictions_of[method], share=share, fit_s=fit_s,
                         predict_s=predict_s))
    target = TARGET_OF_LARGE * rows[1]["accuracy"]  # rows: small, large
    for method, model in routing_methods(task, seed, budget).items():
        log(f"    {method}")
        _, fit_s = _timed(model.fit, task.X_train, task.y_train)
        predictions, predict_s = _timed_predict(task, model)
        row = _row(task, method, predictions, share=np.mean(model.route(task.X_test)),
                   fit_s=fit_s, predict_s=predict_s)
        thresholds, large_share, accuracy = curve_with(model, task.X_test, task.y_test,
                                                       predictions_of["large"])
        row.update(curve_summary(large_share, accuracy, target))
        row["epsilon"] = float(model.epsilon_)
        curves[method] = dict(large_share=large_share.tolist(), accuracy=accuracy.tolist(),
                              thresholds=thresholds.tolist(), epsilon=float(model.epsilon_))
        rows.append(row)
        if method == "KCM (KAN judge)":
            # the small model KCM keeps, on its own: what distillation did to it
            distilled, small_predict_s = _timed_predict(task, model.small_)
            rows.append(_row(task, "small + distillation", distilled, share=0.0,
                             fit_s=float("nan"), predict_s=small_predict_s))
            if takes_hint(model.large_, task.hint, "fit"):
                rows.append(_hinted_large_row(task, model))
    rows.append(_oracle_row(task, predictions_of, budget, target))
    for row in rows:
        row["seed"] = seed
    return rows, curves


def curve_summary(large_share, accuracy, target):
    """Our column (the share for 99% of the large model) and RouteLLM's (APGR, CPT(50%),
    CPT(80%)) of one routing curve."""
    recovered = gap_recovered(large_share, accuracy)
    return dict(share_for_99=share_for(large_share, accuracy, target), apgr=recovered["apgr"],
                cpt_50=recovered["cpt"][0.5], cpt_80=recovered["cpt"][0.8])


def _oracle_row(task, predictions_of, budget, target):
    """The bound of every judge: small right, or large right where small is wrong, sent in
    order of benefit; its accuracy at the budget."""
    small_correct = np.asarray(predictions_of["small"]) == task.y_test
    large_correct = np.asarray(predictions_of["large"]) == task.y_test
    _, large_share, accuracy = oracle_routing_curve(small_correct, large_correct)
    row = dict(task=task.name, method="oracle (bound)",
               accuracy=float(accuracy_at_share(large_share, accuracy, [budget])[0]),
               large_share=float(budget), fit_s=float("nan"), predict_s=float("nan"))
    if task.groups is not None:  # the bound is of the whole set, not of each group
        row.update({group: float("nan") for group in ("many", "medium", "few")})
    return {**row, **curve_summary(large_share, accuracy, target)}
