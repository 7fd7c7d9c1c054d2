"""Does the judge earn its place? ``python -m benchmarks.judges [--seeds 0,1,2]``.

Every judge against the small model's own confidence (the cascade), on every
task of the suite and two tabular sets, at equal share sent to the large model.
For each task and seed the large model is fitted once and shared, frozen, by
every ensemble (routing does not change it); the ``gain`` target and the
default fit their own, for the large model's out-of-fold answers that the
target learns from and the default's fallback compares routings with (a frozen
model fitted on the training rows would answer them in sample). Distillation
is off: this measures routing alone.

Columns, read on the held-out routing curve of each ensemble: the share of
inputs sent to the large model for 99% of its accuracy, the accuracy at 10%,
20% and 30% sent, and the mean accuracy over shares in [0, 0.5] (the area
under the curve where budgets lie). Each task says the weight of the judge
against the small model's confidence that the default's fallback chose per
seed (1: the judge alone, 0: the cascade).

Writes ``docs/benchmarks/judges/results.json`` and ``results.md``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sklearn_kcm import (
    Judge,
    KANJudgeClassifier,
    KCMEnsemble,
    LargeShare,
    MLPJudgeClassifier,
    routing_curve,
)
from sklearn_kcm._ensemble._plan import resolve_judge
from sklearn_kcm._routing._curves import accuracy_at_share
from sklearn_kcm._routing._fallback import routing_quality
from sklearn_kcm._routing._judging import default_judge
from sklearn_kcm._torch._judges import COMPONENTS, MAX_INPUTS
from sklearn_kcm.nn import KAN

from ._ladder import TARGET_OF_LARGE, curve_summary
from ._tasks import PAPER_KAN, TASKS

TASK_NAMES = ["digits", "mnist", "digits_lt", "rotten_tomatoes", "breast_cancer", "clusters",
              "bikeshare"]
SHARES = (0.1, 0.2, 0.3)
BUDGET = 0.2
OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "judges"


def _default_input(task):
    """What the default judge reads on this task."""
    return resolve_judge(Judge(), task.X_train, task.small)[0]


def _judge_inputs(task):
    """The rows of the default judge's inputs: its preprocessing of X where it reads that."""
    if _default_input(task) != "preprocessed":
        return task.X_train
    return clone(task.small)[:-1].fit_transform(task.X_train, task.y_train)


def _default_judge(task, seed):
    """The default judge of the ensemble on this task."""
    reads = _default_input(task)
    return default_judge(seed, reads, impute=reads == "preprocessed")


def _with_last_step(task, seed, estimator):
    """``estimator`` in place of the KAN of the default judge, after what the default judge
    does to its inputs first: the imputer of a frame's preprocessing, and the projection of
    X wider than MAX_INPUTS columns that the KAN judge makes within its fit."""
    default = _default_judge(task, seed)
    steps = [clone(step) for _, step in default.steps[:-1]] if isinstance(
        default, Pipeline) else []
    X = _judge_inputs(task)
    if _default_input(task) != "small" and X.shape[1] > MAX_INPUTS:
        steps.append(TruncatedSVD(COMPONENTS, random_state=seed) if sp.issparse(X)
                     else PCA(COMPONENTS, random_state=seed))
    return make_pipeline(*steps, estimator) if steps else estimator


def matched_mlp_width(task, seed):
    """Hidden width of a one-layer MLP judge with as many parameters as the default KAN judge.

    The default judge reads X on numeric X (32 principal components of it when
    X is wider than 64 columns) and learns the task; on text it reads the
    small model's answer (``n_classes + 3`` numbers) and learns a yes/no target.
    """
    n_classes = len(np.unique(task.y_train))
    judge_input, judge_target = resolve_judge(Judge(), task.X_train, task.small)
    if judge_input == "small":
        n_inputs = n_classes + 3
    else:
        n_columns = _judge_inputs(task).shape[1]
        n_inputs = n_columns if n_columns <= MAX_INPUTS else COMPONENTS
    n_outputs = n_classes if judge_target in ("task", "agreement") else 2
    default = _default_judge(task, seed)
    kan_judge = default[-1] if isinstance(default, Pipeline) else default
    kan = KAN([n_inputs, *kan_judge.hidden_layer_sizes, n_outputs],
              grid_size=kan_judge.grid_size, spline_order=kan_judge.spline_order)
    n_parameters = sum(p.numel() for p in kan.parameters())
    # an MLP n_inputs -> h -> n_outputs has (n_inputs + 1) h + n_outputs (h + 1) parameters
    width = (n_parameters - n_outputs) / (n_inputs + 1 + n_outputs)
    return max(1, round(width)), n_parameters


def _knn_input(task):
    """What the kNN router reads: X, through the small model's preprocessing on a frame."""
    return "preprocessed" if _default_input(task) == "preprocessed" else "X"


def _knn_router(task, seed):
    """25 nearest neighbours (standardised) on what the default judge's projection, or the
    task's judge input on text, makes of X."""
    knn = make_pipeline(StandardScaler(with_mean=False), KNeighborsClassifier(25))
    if _default_input(task) == "small" and task.judge_input is not None:  # text
        return make_pipeline(*task.judge_input(), knn)
    return _with_last_step(task, seed, knn)


def judges(task, seed, mlp_width):
    """The ensembles compared on one task: name -> KCMEnsemble parameters (large model unset)."""
    routing_only = dict(epsilon=LargeShare(BUDGET), distill=False, cv=task.cv,
                        hint=None, random_state=seed)

    def no_fallback(judge, **choices):
        return dict(routing_only, judge=Judge(judge, fallback=False, **choices))

    def as_default(judge):  # a judge given in place of the default reads what the default reads
        reads = _default_input(task)
        return no_fallback(judge, **({"input": reads} if reads == "preprocessed" else {}))

    default = _default_judge(task, seed)
    kan = KANJudgeClassifier(random_state=seed, **PAPER_KAN)
    mlp = _with_last_step(task, seed, MLPJudgeClassifier((mlp_width,), random_state=seed))
    gbm = _with_last_step(task, seed, HistGradientBoostingClassifier(random_state=seed))
    return {
        "cascade": dict(judge="small", **routing_only),
        "KCM default": dict(judge=None, **routing_only),
        "KCM, cross-fitted judge": dict(judge=Judge(refit=False), **routing_only),
        # text: the default reads the small model's answer; this one its TF-IDF of X
        "KCM, reads the small model's preprocessing": dict(judge=Judge(input="preprocessed"),
                                                           **routing_only),
        "KCM, no fallback": as_default(default),
        "KCM, small_correct (0.1 default)": no_fallback(kan, target="small_correct"),
        "KCM, reads small only": no_fallback(kan, input="small", target="small_correct"),
        "KCM, gain target": no_fallback(kan, target="gain"),
        "KCM, paper (X, task)": no_fallback(task.judge("kan", seed), input="X", target="task"),
        "MCM, params matched": as_default(mlp),
        "MCM, paper (X, task)": no_fallback(task.judge("mlp", seed), input="X", target="task"),
        "GBM judge (reference)": as_default(gbm),
        # the field's simple baseline: how often the small model was right, out of fold,
        # on the nearest training rows
        "kNN router (baseline)": no_fallback(_knn_router(task, seed), input=_knn_input(task),
                                             target="small_correct"),
        **{f"KAN recipe: {name}": as_default(_with_last_step(task, seed, _recipe_judge(
            seed, **recipe))) for name, recipe in RECIPES.items()},
    }


WIDE = dict(hidden_layer_sizes=(36,), grid_size=2, spline_order=1)


class GridUpdates(Callback):
    """Refit the KAN's grids on its training rows at the start of the given epochs
    (pykan's "update grid from samples" during training)."""

    def __init__(self, epochs=(5, 10), rows=4000):
        self.epochs = epochs
        self.rows = rows

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if len(net.history) in self.epochs:  # history holds a row for this epoch already
            X = dataset_train.X[: self.rows]
            X = X.toarray() if hasattr(X, "toarray") else X
            with torch.no_grad():
                net.module_.update_grid(torch.as_tensor(X, device=net.device))


# The KAN judge's recipe study: the default judge (16 hidden units, grid 5, cubic splines,
# 20 epochs, batches of n / 16) with one change each, at about its parameter count
RECIPES = {
    "40 epochs": dict(max_epochs=40),
    "batches of 128, 30 epochs (the MLP's)": dict(batch_size=128, max_epochs=30),
    "weight decay 1e-3": dict(weight_decay=1e-3),
    "wider, linear splines: (36,), grid 2, order 1": dict(hidden_layer_sizes=(36,), grid_size=2,
                                                          spline_order=1),
    "wider: (24,), grid 3, order 2": dict(hidden_layer_sizes=(24,), grid_size=3,
                                          spline_order=2),
    "wider, linear splines, 40 epochs": dict(hidden_layer_sizes=(36,), grid_size=2,
                                             spline_order=1, max_epochs=40),
    "grid 10 (more parameters)": dict(grid_size=10),
    "layer norm": dict(layer_norm=True),
    "wider, linear splines, layer norm": dict(hidden_layer_sizes=(36,), grid_size=2,
                                              spline_order=1, layer_norm=True),
    "wider, linear splines, layer norm, 60 epochs": dict(hidden_layer_sizes=(36,), grid_size=2,
                                                         spline_order=1, layer_norm=True,
                                                         max_epochs=60),
    # from the wide default (36 units of linear splines on 2 intervals, 20 epochs)
    "wide, grid updates at epochs 5, 10": dict(**WIDE, callbacks=[GridUpdates((5, 10))]),
    "wide, grid updates, layer norm": dict(**WIDE, layer_norm=True,
                                           callbacks=[GridUpdates((5, 10))]),
    "wide, layer norm, batches of 128": dict(**WIDE, layer_norm=True, batch_size=128),
    "wide, layer norm, lr 2e-2": dict(**WIDE, layer_norm=True, lr=2e-2),
    "wide, layer norm, 40 epochs": dict(**WIDE, layer_norm=True, max_epochs=40),
    "wide, grid 3": dict(hidden_layer_sizes=(30,), grid_size=3, spline_order=1),
    "wider still: (48,), grid 1": dict(hidden_layer_sizes=(48,), grid_size=1, spline_order=1),
    "wide, 40 epochs, weight decay 1e-2": dict(**WIDE, max_epochs=40, weight_decay=1e-2),
    "wide, layer norm, weight decay 1e-2": dict(**WIDE, layer_norm=True, weight_decay=1e-2),
    "wide, quantile inputs": dict(**WIDE, quantile_inputs=True),
    "wide, quantile inputs, layer norm": dict(**WIDE, quantile_inputs=True, layer_norm=True),
    # the third round: dropout of hidden units, and more optimiser steps
    "wide, dropout 0.3": dict(**WIDE, dropout=0.3),
    "wide, dropout 0.3, 40 epochs": dict(**WIDE, dropout=0.3, max_epochs=40),
    "wide, layer norm, 40 epochs, batches of 128": dict(**WIDE, layer_norm=True, max_epochs=40,
                                                        batch_size=128),
    "wide, layer norm, 40 epochs, batches of 128, dropout 0.1": dict(
        **WIDE, layer_norm=True, max_epochs=40, batch_size=128, dropout=0.1),
}


def _recipe_judge(seed, quantile_inputs=False, **params):
    """A KAN judge of the recipe study; ``quantile_inputs`` maps each input onto normal
    quantiles first, so that the uniform grid's knots fall where the data lie."""
    judge = KANJudgeClassifier(random_state=seed, **{**PAPER_KAN, **params})
    if not quantile_inputs:
        return judge
    from sklearn.preprocessing import QuantileTransformer
    return make_pipeline(QuantileTransformer(n_quantiles=200, output_distribution="normal",
                                             random_state=seed), judge)


def aurc(confidence, small_correct):
    """Area under the risk-coverage curve of the small model ranked by ``confidence``:
    the mean, over k, of its error rate on the k rows it is most trusted on (lower is
    better; how well the confidence ranks the small model's mistakes, whatever the
    threshold)."""
    order = np.argsort(-np.asarray(confidence, dtype=float), kind="stable")
    errors = np.cumsum(~np.asarray(small_correct, dtype=bool)[order])
    return float(np.mean(errors / np.arange(1, len(errors) + 1)))


def curve_metrics(confidence, small_correct, large_correct, target):
    _, share, accuracy = routing_curve(confidence, small_correct, large_correct)
    at = accuracy_at_share(share, accuracy, SHARES)
    return dict(**curve_summary(share, accuracy, target),  # ours, and RouteLLM's APGR, CPT
                **{f"acc_at_{int(s * 100)}": float(a) for s, a in zip(SHARES, at)},
                area=routing_quality(confidence, small_correct, large_correct),
                aurc=aurc(confidence, small_correct))


def run_task(name, seed, log=print, methods=None):
    task = TASKS[name]("full", seed)
    large = clone(task.large).fit(task.X_train, task.y_train)
    large_correct = large.predict(task.X_test) == task.y_test
    target = TARGET_OF_LARGE * large_correct.mean()
    frozen = FrozenEstimator(large)
    mlp_width, kan_parameters = matched_mlp_width(task, seed)
    rows, small_accuracy = [], None
    for method, params in judges(task, seed, mlp_width).items():
        if methods is not None and method not in methods:
            continue
        # the fallback of the default asks a prefit large model about the training rows,
        # which a frozen model fitted on them would answer in sample
        judging = params["judge"]
        own_large = (not isinstance(judging, Judge) or judging.target == "gain"
                     or judging.fallback)
        model = KCMEnsemble(task.small, task.large if own_large else frozen, **params)
        start = time.perf_counter()
        model.fit(task.X_train, task.y_train)
        fit_s = time.perf_counter() - start
        small_correct = model.small_.predict(task.X_test) == task.y_test
        if small_accuracy is None:  # distillation is off: every small model is the plain one
            small_accuracy = float(small_correct.mean())
        confidence = model.routing_confidence(task.X_test)
        # a judge that learns the task is a classifier too: how good a one?
        # (through the small model's preprocessing for a judge that reads it)
        judge_accuracy = (float(np.mean(model.judge_.predict(model._judge_view(task.X_test))
                                        == task.y_test))
                          if model.judge_ is not None
                          and model.judge_input_ in ("X", "preprocessed")
                          and model.judge_target_ in ("task", "agreement") else float("nan"))
        row = dict(task=name, method=method, seed=seed, fit_s=fit_s,
                   judge_accuracy=judge_accuracy,
                   test_share=float(np.mean(confidence <= model.epsilon_)),
                   routing_weight=float(model.routing_weight_),
                   **curve_metrics(confidence, small_correct, large_correct, target))
        log(f"  {method:24s} share99={row['share_for_99']:.3f} area={row['area']:.4f} "
            f"fit {fit_s:.1f}s")
        rows.append(row)
    if methods is None or ORACLE in methods:
        # the bound of every judge: the test rows the large model fixes first, those it
        # breaks last (it knows the answers; no threshold is fitted)
        benefit = large_correct.astype(int) - small_correct.astype(int)
        ranks = np.linspace(0.0, 0.5, len(benefit)) - benefit  # as oracle_routing_curve
        rows.append(dict(task=name, method=ORACLE, seed=seed, fit_s=0.0,
                         judge_accuracy=float("nan"), test_share=float("nan"),
                         routing_weight=float("nan"),
                         **{**curve_metrics(ranks, small_correct, large_correct, target),
                            "aurc": float("nan")}))
    info = dict(description=task.description, small=task.small_name, large=task.large_name,
                large_accuracy=float(large_correct.mean()),
                small_accuracy=small_accuracy,
                n_train=len(task.y_train), n_test=len(task.y_test), mlp_width=mlp_width,
                kan_parameters=kan_parameters)
    return info, rows


ORACLE = "oracle (the bound)"
COLUMNS = [("share_for_99", "share for 99%", "share"), ("acc_at_10", "acc @10%", "acc"),
           ("acc_at_20", "acc @20%", "acc"), ("acc_at_30", "acc @30%", "acc"),
           ("area", "mean acc [0, 50%]", "acc"), ("test_share", f"share at a {BUDGET:.0%} budget",
                                                   "share"),
           ("judge_accuracy", "judge's own acc", "acc"), ("aurc", "AURC", "acc"),
           ("apgr", "APGR", "gap"), ("cpt_50", "CPT(50%)", "gap share"),
           ("cpt_80", "CPT(80%)", "gap share"), ("fit_s", "fit s", "seconds")]


def _cell(values, kind):
    values = np.asarray(values, dtype=float)
    if np.all(np.isnan(values)):  # APGR and CPT: the large model is no better on average
        return {"acc": "–", "gap": "no gap", "gap share": "no gap"}.get(kind, "never")
    if kind.startswith("gap"):
        kind = "share" if kind == "gap share" else "acc"
    mean, std = np.nanmean(values), np.nanstd(values)
    if kind == "share":
        return f"{mean:.0%} ± {std:.0%}"
    if kind == "seconds":
        return f"{mean:.1f}"
    return f"{mean:.3f} ± {std:.3f}"


def render_markdown(results):
    """The tables of ``results.json``: mean ± std over seeds, per task."""
    lines = [f"Seeds {results['seeds']}; {results['machine']}; "
             f"`{results['command']}` took {results['seconds'] / 60:.1f} min.", ""]
    # the columns this run measured (later ones read "–" for the rows without them)
    columns = [column for column in COLUMNS if any(column[0] in row for row in results["rows"])]
    for name, info in results["tasks"].items():
        rows = [row for row in results["rows"] if row["task"] == name]
        weights = ", ".join(f"{row['routing_weight']:g}" for row in rows
                            if row["method"] == "KCM default")
        lines += [
            f"### {name}", "",
            f"{info['description']}; small: {info['small']} ({info['small_accuracy']:.3f} on "
            f"seed {results['seeds'][0]}), large: {info['large']} ({info['large_accuracy']:.3f}); "
            f"{info['n_train']} training and {info['n_test']} test rows. The default's judge "
            f"weight against the small model's confidence, per seed: {weights}; "
            f"the default KAN judge has {info['kan_parameters']:,} parameters, the matched MLP "
            f"{info['mlp_width']} hidden units.", "",
            "| judge | " + " | ".join(title for _, title, _ in columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        for method in dict.fromkeys(row["method"] for row in rows):
            mine = [row for row in rows if row["method"] == method]
            # a column added after a run was recorded reads "–" there
            cells = [_cell([row[key] for row in mine], kind) if key in mine[0] else "–"
                     for key, _, kind in columns]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.judges", description=__doc__)
    parser.add_argument("--tasks", default=",".join(TASK_NAMES))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=None,
                        help="rows to run, separated by ';' (default: every judge)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true",
                        help="only rewrite results.md from results.json")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads((args.out / "results.json").read_text())
        (args.out / "results.md").write_text(render_markdown(results))
        return 0
    from .run import _machine

    seeds = [int(seed) for seed in args.seeds.split(",")]
    results = dict(seeds=seeds, machine=_machine(), tasks={}, rows=[],
                   command="python -m benchmarks.judges " + " ".join(argv or sys.argv[1:]))
    start = time.perf_counter()
    for name in args.tasks.split(","):
        for seed in seeds:
            print(f"{name}, seed {seed}", flush=True)
            info, rows = run_task(name, seed, methods=None if args.methods is None
                                  else [m.strip() for m in args.methods.split(";")])
            results["tasks"].setdefault(name, info)
            results["rows"] += rows
    results["seconds"] = time.perf_counter() - start
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(render_markdown(results))
    print(f"wrote {args.out} in {results['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
