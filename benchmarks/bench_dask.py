"""Out-of-core prediction and streaming on Dask: memory against block size, throughput per worker.

Run ``python benchmarks/bench_dask.py`` (extra ``dask``). A KCM ensemble (SGD
logistic regression small model, gradient-boosting large model, KAN judge) is
fitted on 20,000 rows, then predicts 5,000,000 rows that dask generates block by
block (never all in memory) on a LocalCluster of 2 worker processes, for
several block sizes; a fresh cluster per block size so that each worker's peak
RSS belongs to that run. Then ``partial_fit`` over a stream of 100 batches.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_kcm import (  # noqa: E402
    Distillation,
    KANJudgeClassifier,
    KCMEnsemble,
    LargeShare,
    predict_blocks,
)

N_FEATURES, N_CLASSES = 20, 4
PROJECTION = np.random.default_rng(42).normal(size=(N_FEATURES, N_CLASSES))


def make_rows(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES))
    scores = np.tanh(X) @ PROJECTION + 0.5 * X[:, :N_CLASSES] ** 2
    y = np.argmax(scores + rng.normal(scale=0.8, size=scores.shape), axis=1)
    return X, y


def block_of_rows(block_id, block_info=None):
    n = block_info[None]["chunk-shape"][0]
    return make_rows(n, seed=1000 + block_id[0])[0]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--blocks", type=int, nargs="+", default=[50_000, 250_000, 1_000_000])
    parser.add_argument("--part", choices=["all", "predict", "stream"], default="all")
    args = parser.parse_args(argv)
    X, y = make_rows(20_000, seed=0)
    if args.part in ("all", "predict"):
        bench_predict(X, y, args)
    return 0 if args.part == "predict" or bench_stream(X, y) else 1


def bench_predict(X, y, args):
    import dask.array as da
    from distributed import Client, LocalCluster

    kcm = KCMEnsemble(
        make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)),
        HistGradientBoostingClassifier(random_state=0),
        KANJudgeClassifier(random_state=0), epsilon=LargeShare(0.2), distill=False,
        random_state=0,
    ).fit(X, y)
    print(f"predict {args.rows:,} rows x {N_FEATURES} features, 2 worker processes "
          f"(1 thread each); epsilon_ = {kcm.epsilon_:.4f}")
    print(f"{'block rows':>10} {'block MB':>9} {'seconds':>8} {'rows/s/worker':>14} "
          f"{'peak RSS MB/worker':>19} {'to large':>9}")
    for block in args.blocks:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            baseline = max(client.run(peak_rss_mb).values())
            lazy = da.map_blocks(block_of_rows, chunks=((block,) * (args.rows // block),
                                                        (N_FEATURES,)), dtype=float)
            start = time.perf_counter()
            routed = predict_blocks(kcm, lazy, "route").sum()
            predicted = predict_blocks(kcm, lazy)
            share, counts = da.compute(routed, da.bincount(predicted, minlength=N_CLASSES))
            seconds = time.perf_counter() - start
            peak = max(client.run(peak_rss_mb).values())
        print(f"{block:>10,} {block * N_FEATURES * 8 / 2**20:9.1f} {seconds:8.1f} "
              f"{args.rows * 2 / seconds / 2:14,.0f} {peak:19,.0f} {share / args.rows:9.1%}"
              f"   (idle worker {baseline:,.0f} MB)")


def bench_stream(X, y):
    """partial_fit over 100 batches; True when the small model improved."""
    stream = KCMEnsemble(SGDClassifier(loss="log_loss", random_state=0),
                         HistGradientBoostingClassifier(random_state=0), judge="small",
                         epsilon=0.9, cv=3, distill=Distillation(threshold=0.5))
    X_test, y_test = make_rows(20_000, seed=7)
    scaler = StandardScaler().fit(X)
    stream.partial_fit(scaler.transform(X[:2_000]), y[:2_000], classes=np.arange(N_CLASSES))
    before = stream.small_.score(scaler.transform(X_test), y_test)
    for batch in range(100):
        Xb, yb = make_rows(500, seed=2000 + batch)
        stream.partial_fit(scaler.transform(Xb), yb)
    after = stream.small_.score(scaler.transform(X_test), y_test)
    large = stream.large_.score(scaler.transform(X_test), y_test)
    print(f"partial_fit over 100 batches of 500 rows: small model accuracy {before:.3f} -> "
          f"{after:.3f} (large model {large:.3f})")
    return after > before


if __name__ == "__main__":
    sys.exit(main())
