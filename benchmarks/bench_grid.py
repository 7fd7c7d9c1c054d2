"""Tuning the threshold: a grid over ``epsilon``, by default, without a cache and with ``memory=``.

Run ``python benchmarks/bench_grid.py [--values 10] [--splits 5]``. The demo's
ensemble (digits: logistic-regression small model, calibrated RBF SVM large
model, default KAN judge, ``random_state=0``) goes through ``GridSearchCV`` over
``epsilon`` (``--values`` values from 0.5 to 0.99, ``--splits`` folds, no refit)
three times: with no cache at all (every candidate refits every member: what
the default cost before the in-process cache), by default (the first stage of
each split's first candidate kept in memory and loaded for the others, see
``sklearn_kcm/_ensemble/_fit_cache.py``), and with ``KCMEnsemble(memory=...)``
(the same on disk). Each cache starts empty. All are timed against the plain
fits they need: one fit of the ensemble on each split's training rows. Ratios
are measured in this one run.

Targets (the cost issue): the default grid at <= 1.5x the time of the plain
fits, and the cached grids with the same best epsilon and the same scores as the
grid without a cache. Exits 1 when a target is missed.
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
from sklearn_kcm._ensemble._fit_cache import RECENT_FITS  # noqa: E402


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
    grid_values = {"epsilon": np.round(np.linspace(0.5, 0.99, args.values), 3).tolist()}
    splits = list(StratifiedKFold(args.splits, shuffle=True, random_state=0).split(X_train,
                                                                                 y_train))
    print(f"digits, {len(X_train)} rows; GridSearchCV over {args.values} epsilon values x "
          f"{args.splits} splits; the demo's KCM ensemble")

    def grid(estimator):
        RECENT_FITS.clear()  # every cache starts empty
        return timed(lambda: GridSearchCV(estimator, grid_values, cv=splits, refit=False).fit(
            X_train, y_train))

    _, plain_fits = timed(lambda: [clone(kcm).fit(X_train[train], y_train[train])
                                   for train, _ in splits])
    print(f"  {args.splits} plain fits:          {plain_fits:7.1f} s")
    entries = RECENT_FITS.max_entries
    RECENT_FITS.max_entries = 0  # nothing kept: every candidate refits every member
    uncached, uncached_s = grid(kcm)
    RECENT_FITS.max_entries = entries
    print(f"  grid, no cache:          {uncached_s:7.1f} s  ({uncached_s / plain_fits:.2f}x)")
    default, default_s = grid(kcm)
    ratio = default_s / plain_fits
    print(f"  grid, by default:        {default_s:7.1f} s  ({ratio:.2f}x)")
    with tempfile.TemporaryDirectory() as location:
        RECENT_FITS.max_entries = 0  # the disk cache alone
        cached, cached_s = grid(clone(kcm).set_params(memory=location))
        RECENT_FITS.max_entries = entries
    print(f"  grid, memory=:           {cached_s:7.1f} s  ({cached_s / plain_fits:.2f}x)")

    def agrees(search):
        gap = np.max(np.abs(uncached.cv_results_["mean_test_score"]
                            - search.cv_results_["mean_test_score"]))
        return uncached.best_params_ == search.best_params_ and gap == 0

    same = agrees(default) and agrees(cached)
    print(f"best epsilon without a cache {uncached.best_params_['epsilon']}; the cached grids "
          f"{'give the same best epsilon and scores' if same else 'DIFFER'}")
    print(f"default grid / plain fits: {ratio:.2f} (target <= 1.5); speed-up over no cache "
          f"{uncached_s / default_s:.1f}x")
    return 0 if (ratio <= 1.5 and same) else 1


if __name__ == "__main__":
    sys.exit(main())
