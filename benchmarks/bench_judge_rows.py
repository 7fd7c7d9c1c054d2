"""The judge's rows: ``python benchmarks/bench_judge_rows.py [--rows 200000] [--limits 20000,0]``.

Each judge of a default ``KCMEnsemble`` (the fold judges and the refitted one)
learns from at most ``MAX_JUDGE_ROWS`` rows, a sample stratified by what it
learns. Does the sample route as well as every row, and what does it save?
Tabular data where the judge matters (``make_classification``: 20 features,
two classes of four clusters each, 1% label noise), a logistic regression
small model and a ``HistGradientBoostingClassifier`` (50 iterations) large
model, ``epsilon="auto"`` at 20%; ``--rows`` training rows and a quarter as
many test rows. For each bound (0: none, every row): the fit's seconds
against the members' own fits, the share of the test inputs the large model
needs for 99% of its accuracy, and the accuracy at 10%, 20% and 30% sent. One
torch thread (``OMP_NUM_THREADS=1``); the ratios compare within this one run.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_kcm import KCMEnsemble, LargeShare  # noqa: E402
from sklearn_kcm._ensemble._fit_cache import RECENT_FITS  # noqa: E402
from sklearn_kcm._routing import _judging  # noqa: E402
from sklearn_kcm._routing._curves import accuracy_at_share  # noqa: E402


def seconds(function):
    # from no cached fit: the bound is a module constant, not part of the cache's key
    RECENT_FITS.clear()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def share_for(share, accuracy, goal):
    """The smallest share sent whose accuracy reaches ``goal``."""
    return float(share[int(np.argmax(np.maximum.accumulate(accuracy) >= goal - 1e-12))])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--limits", default=f"{_judging.MAX_JUDGE_ROWS},0")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = make_classification(args.rows * 5 // 4, 20, n_informative=8, n_redundant=4,
                               n_clusters_per_class=4, flip_y=0.01, random_state=0)
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    small = LogisticRegression(max_iter=1000)
    large = HistGradientBoostingClassifier(max_iter=50, random_state=0)
    members = seconds(lambda: clone(small).fit(X_train, y_train)) + seconds(
        lambda: clone(large).fit(X_train, y_train))
    print(f"{args.rows:,} training rows, {len(y_test):,} test rows; members' own fits "
          f"{members:.1f} s")
    print(f"{'judge rows':>12} {'fit s':>7} {'x members':>10} {'share for 99%':>14} "
          f"{'acc @10%':>9} {'acc @20%':>9} {'acc @30%':>9}")
    for limit in (int(text) for text in args.limits.split(",")):
        _judging.MAX_JUDGE_ROWS = limit or np.inf
        kcm = KCMEnsemble(small, large, epsilon=LargeShare(0.2), random_state=0)
        fit = seconds(lambda: kcm.fit(X_train, y_train))
        _, share, accuracy = kcm.routing_curve(X_test, y_test)
        at = [accuracy_at_share(share, accuracy, s) for s in (0.1, 0.2, 0.3)]
        print(f"{limit or 'every row':>12} {fit:7.1f} {fit / members:10.1f} "
              f"{share_for(share, accuracy, 0.99 * accuracy[-1]):14.1%} "
              + " ".join(f"{a:9.4f}" for a in at), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
