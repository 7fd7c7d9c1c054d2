"""Tuning the threshold: a grid over ``epsilon`` with and without ``memory=``.

Run ``python benchmarks/bench_grid.py [--values 10] [--splits 5]``. The demo's
ensemble (digits: logistic-regression small model, calibrated RBF SVM large
model, default KAN judge, distillation on) goes through ``GridSearchCV`` over
``epsilon`` (``--values`` values from 0.5 to 0.99, ``--splits`` folds, no refit),
once as today (every candidate refits every member) and once with
``KCMEnsemble(memory=...)`` (members fitted once per split, loaded for the other
values; the threshold and the distillation that uses it still run per value).
Both are timed against the plain fits they need: one fit of the ensemble on
each split's training rows. Ratios are measured in this one run.

Target (the serving issue): the cached grid at ≤ 1.5× the time of the plain
fits, with the same best epsilon and the same scores as the uncached grid.
Exits 1 when a target is missed.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split  # noqa: E402

from sklearn_kcm.__main__ import KCM, make_models  # noqa: E402


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=10)
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    kcm = make_models(0)[KCM].set_params(epsilon=0.9)
    grid = {"epsilon": np.round(np.linspace(0.5, 0.99, args.values), 3).tolist()}
    splits = list(StratifiedKFold(args.splits, shuffle=True, random_state=0).split(X_train,
                                                                                 y_train))
    print(f"digits, {len(X_train)} rows; GridSearchCV over {args.values} epsilon values x "
          f"{args.splits} splits; the demo's KCM ensemble")

    _, plain_fits = timed(lambda: [clone(kcm).fit(X_train[train], y_train[train])
                                   for train, _ in splits])
    print(f"  {args.splits} plain fits:          {plain_fits:7.1f} s")
    uncached, uncached_s = timed(lambda: GridSearchCV(kcm, grid, cv=splits, refit=False).fit(
        X_train, y_train))
    print(f"  grid, no memory:         {uncached_s:7.1f} s  ({uncached_s / plain_fits:.2f}x)")
    with tempfile.TemporaryDirectory() as location:
        cached, cached_s = timed(lambda: GridSearchCV(
            clone(kcm).set_params(memory=location), grid, cv=splits, refit=False).fit(
                X_train, y_train))
    ratio = cached_s / plain_fits
    print(f"  grid, memory=:           {cached_s:7.1f} s  ({ratio:.2f}x)")

    same_best = uncached.best_params_ == cached.best_params_
    gap = np.max(np.abs(uncached.cv_results_["mean_test_score"]
                        - cached.cv_results_["mean_test_score"]))
    print(f"best epsilon: {uncached.best_params_['epsilon']} without memory, "
          f"{cached.best_params_['epsilon']} with; largest score difference {gap:.2g}")
    print(f"cached grid / plain fits: {ratio:.2f} (target <= 1.5); speed-up over the uncached "
          f"grid {uncached_s / cached_s:.1f}x")
    return 0 if (ratio <= 1.5 and same_best and gap == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
