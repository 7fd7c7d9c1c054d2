"""Serving speed: rows per second of the judge, the small model and the ensemble.

Run ``python benchmarks/bench_predict.py``. The demo's ensemble (digits: a
logistic-regression small model, a calibrated RBF SVM large model, the default
KAN judge, 15% of the inputs for the large model) is fitted once; then for
batches of 1, 100, 10,000 and 1,000,000 rows (digits test rows with a little
noise; one row: an easy one, that the small model answers) it times the small
model's ``predict_proba``, the judge's ``predict_proba`` and
``KCMEnsemble.predict_proba``, taking the median of several runs, and the
peak memory added by the 1,000,000-row batch. Ratios are measured in this one
run: the machine is shared and noisy.

Targets (DESIGN §7 and the serving issue): the judge costs no more than the
small model's ``predict_proba`` on the demo data (judge / small ≤ 1 at 10,000
rows), and one easy row through ``KCMEnsemble.predict_proba`` takes under 2 ms.
Exits 1 when a target is missed.
"""

import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_kcm.__main__ import KCM, make_models  # noqa: E402

SIZES = (1, 100, 10_000, 1_000_000)
REPEATS = {1: 200, 100: 50, 10_000: 5, 1_000_000: 1}


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y,
                                                   random_state=0)
    kcm = make_models()[KCM].fit(X_train, y_train)
    rng = np.random.default_rng(0)
    easy = X_test[kcm.routing_confidence(X_test) > kcm.epsilon_]
    print(f"{'rows':>9} {'small rows/s':>13} {'judge rows/s':>13} {'KCM rows/s':>11} "
          f"{'judge/small':>12} {'KCM ms/call':>12}")
    ratios, one_row_ms = {}, None
    for n in SIZES:
        source = easy if n == 1 else X_test
        batch = source[rng.integers(0, len(source), n)] + rng.normal(0, 0.01, (n, X.shape[1]))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        small = median_seconds(lambda: kcm.small_.predict_proba(batch), REPEATS[n])
        judge = median_seconds(lambda: kcm.judge_.predict_proba(batch), REPEATS[n])
        whole = median_seconds(lambda: kcm.predict_proba(batch), REPEATS[n])
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        ratios[n] = judge / small
        if n == 1:
            one_row_ms = whole * 1e3
        print(f"{n:>9} {n / small:>13,.0f} {n / judge:>13,.0f} {n / whole:>11,.0f} "
              f"{judge / small:>12.2f} {whole * 1e3:>12.3f}"
              + (f"   peak memory +{peak_mb:,.0f} MB" if n == SIZES[-1] else ""), flush=True)
    missed = []
    if ratios[10_000] > 1.0:
        missed.append(f"judge / small = {ratios[10_000]:.2f} at 10,000 rows (target <= 1)")
    if one_row_ms > 2.0:
        missed.append(f"one easy row takes {one_row_ms:.2f} ms (target < 2 ms)")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
