"""Does the accuracy guarantee hold, and what does it cost? ``python -m benchmarks.guarantee
[--tasks digits,mnist,bikeshare] [--splits 200] [--calibration 0.25|oof]``.

For each task and each random train/test split (the task's own stratified split,
seeded by the split's number, members and judge seeded alike),
``KCMEnsemble(small, large, epsilon="auto", target_accuracy=...)`` with the
default judge is fitted on the training part, once per promise (the second fit
loads the first stage from ``memory``: the members and judges are the same),
and its routing curve measured on the test part, one large-model call. Two
promises at ``AccuracyTarget(delta=0.1)``: an absolute accuracy (per task, between the
small and the large model's), and 99% of the large model's accuracy. MNIST
fits with ``cv=3`` (200 refits in an hour on two cores), the others with 5.
``--calibration`` is ``target_calibration``: a share of the training rows held
out to certify (the default, written to ``docs/benchmarks/guarantee/``), or
``oof`` (to ``docs/benchmarks/guarantee/oof/``).

The promise is about the accuracy on the distribution; a test part measures it
with noise. Where the threshold just clears the target, its true accuracy lies
about ``z * SE_calibration`` above it (``z = 1.28`` at ``delta = 0.1``), and a
test part with as many rows as the calibration part keeps it in only about
``Phi(z) = 90%`` of the splits even when the certificate is exact. ``--test-size
0.5`` splits each task anew, half of its rows for the test (four times the
calibration rows), so that the check reads the promise and not the test's
noise (written to ``.../test_0.5/``).

``met`` counts the splits whose test accuracy keeps the promise (for the
relative one: at least 0.99 times the large model's test accuracy, on the same
rows: the ensemble's own large member). ``met against the user's large model``
reads the relative promise against the large model a user would deploy
instead: a clone fitted on every training row of the split, apart from the
ensemble. The library refits its members on every labelled row after
certifying, so the two agree; before it did (``before_refit/``, the same script
run on the code of that time), the ensemble's large member had seen three
quarters of the rows. The guarantee says: in at least 90% of the splits, up to the noise of a
finite test part (a test accuracy is itself an estimate, and a promise that
holds just at its edge is "met" half of the time on test rows). A split where
nothing is certified sends every input to the large model and counts as met if
that keeps the promise.

That noise does not average out: a certificate that is exact (its threshold's
true accuracy below the target in exactly 10% of the draws) reads "met" on a
test part four times the calibration rows in only about
``Phi(1.28 / sqrt(1 + 1/4)) = 87%`` of the splits. ``met, resampled`` checks
the certificate itself: on each split, the fitted ensemble's answers on the test
rows are a population whose accuracy at every threshold is known exactly;
``RESAMPLES`` calibration sets of the promise's size are drawn from it with
replacement (independent rows of that population), each certified, and the
share whose threshold keeps the promise on the whole population is reported,
averaged over the splits.

The price of the promise: the share that ``epsilon="auto"`` would have needed
to reach the same mean test accuracy. Its threshold is the quantile of
out-of-fold confidences, which on new rows sends that share; the benchmark
reads the mean test routing curve at that share instead of refitting.

Writes ``docs/benchmarks/guarantee/<task>.json`` (one row per split and
promise; a run resumes where it stopped, tasks may run in parallel) and
``results.md``.
"""

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone

from sklearn_kcm import AccuracyTarget, KCMEnsemble, routing_curve
from sklearn_kcm._routing._curves import accuracy_at_share, route_to_large
from sklearn_kcm._routing._guarantee import guaranteed_threshold

from ._tasks import TASKS

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "guarantee"
DELTA = 0.1
RELATIVE = 0.99
# absolute promises between the small model's test accuracy and the large one's
ABSOLUTE = {"digits": 0.97, "mnist": 0.95, "bikeshare": 0.93, "clusters": 0.88,
            "five_classes": 0.77, "breast_cancer": 0.95}
# a quarter of the training rows certifies less: on digits' 315 rows even the large model
# alone (right on 97.7%) is certified only above about 96.6% at delta = 0.1, on MNIST's
# 1,250 (96%) above 95.3%; the promises sit a point lower than out of fold
HELD_OUT = {"digits": (0.95, 0.98), "mnist": (0.94, 0.99), "bikeshare": (0.92, 0.99)}
# half of the rows for the test: 225 (digits), 625 (MNIST) and 1,080 (Bikeshare) certify
HELD_OUT_HALF = {"digits": (0.95, 0.97), "mnist": (0.93, 0.99), "bikeshare": (0.92, 0.99),
                 "five_classes": (0.77, 0.99)}
# MNIST's 200 refits take an hour on two cores with three folds (five: two hours)
CV = {"mnist": 3}
# certificates drawn from each split's test rows (``met_resampled``)
RESAMPLES = 50
GRID = np.linspace(0.0, 1.0, 201)  # shares at which the test curves are kept


def _calibration(text):
    return text if text == "oof" else float(text)


def promises(task, calibration, test_size=None):
    """(kind, target, target_relative_to) of each promise tested on ``task``."""
    if calibration == "oof":
        return [("absolute", ABSOLUTE[task], None), ("relative", RELATIVE, "large")]
    table = HELD_OUT if test_size is None else HELD_OUT_HALF
    absolute, relative = table.get(task, (ABSOLUTE[task], RELATIVE))
    return [("absolute", absolute, None), ("relative", relative, "large")]


def resplit(task, test_size, seed):
    """``task`` with its rows split anew, ``test_size`` of them (stratified) for the test."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frames = isinstance(task.X_train, pd.DataFrame)
    X = (pd.concat([task.X_train, task.X_test]) if frames
         else np.concatenate([task.X_train, task.X_test]))
    y = np.concatenate([task.y_train, task.y_test])
    task.X_train, task.X_test, task.y_train, task.y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    return task


def resampled_met(confidence, small_correct, large_correct, n_rows, target, relative_to,
                  *, seed, draws=RESAMPLES):
    """The share of ``draws`` certificates, each on ``n_rows`` test rows drawn with
    replacement, whose threshold keeps the promise on all the test rows.

    The test rows' empirical distribution is a population whose accuracy at any
    threshold is known exactly, and draws with replacement are independent
    rows of it: the certificate's promise is checked without a test's noise.
    """
    rng = np.random.default_rng(seed)
    relative = relative_to == "large"
    goal = target * np.mean(large_correct) if relative else target
    met = 0
    for _ in range(draws):
        rows = rng.integers(0, len(confidence), n_rows)
        threshold, _, _ = guaranteed_threshold(
            confidence[rows], small_correct[rows], large_correct[rows], target=target,
            relative_to_large=relative, delta=DELTA)
        routed = route_to_large(confidence, np.inf if threshold is None else threshold)
        met += np.mean(np.where(routed, large_correct, small_correct)) >= goal - 1e-12
    return float(met / draws)


def one_split(name, split, calibration, test_size=None):
    """The rows of results.json for one split of task ``name``: one per promise."""
    task = TASKS[name]("quick", split)
    if test_size is not None:
        task = resplit(task, test_size, split)
    rows = []
    # the large model a user would deploy instead, fitted on all their labelled rows
    deployed = clone(task.large).fit(task.X_train, task.y_train)
    deployed_accuracy = float(np.mean(deployed.predict(task.X_test) == task.y_test))
    cache = tempfile.mkdtemp(prefix="kcm-guarantee-")
    try:
        for kind, target, relative_to in promises(name, calibration, test_size):
            start = time.perf_counter()
            budget = AccuracyTarget(target, relative_to=relative_to, delta=DELTA,
                                    calibration=calibration)
            kcm = KCMEnsemble(task.small, task.large, epsilon=budget, hint=task.hint,
                              cv=CV.get(name, task.cv), memory=cache, random_state=split)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # uncertified promises are counted below
                kcm.fit(task.X_train, task.y_train)
            seconds = time.perf_counter() - start
            # the test rows' C_x and answers, kept for the resampled check (one large call)
            confidence, small_correct, large_correct = kcm._routing_answers(task.X_test,
                                                                            task.y_test)
            thresholds, share, accuracy = routing_curve(confidence, small_correct,
                                                        large_correct)
            # a threshold below every test confidence sends no test row: the first point
            point = max(int(np.searchsorted(thresholds, kcm.epsilon_, side="right")) - 1, 0)
            large_accuracy = float(accuracy[-1])
            goal = target * large_accuracy if relative_to else target
            deployed_goal = target * deployed_accuracy if relative_to else target
            promise = kcm.guarantee_
            rows.append({
                "task": name, "split": split, "kind": kind, "target": target,
                "certified": promise["certified"], "calibration": promise["calibration"],
                "n_test": len(task.y_test),
                "n_rows": promise["n_rows"],
                "calibration_share": promise["large_share"],
                "test_share": float(share[point]), "test_accuracy": float(accuracy[point]),
                "small_accuracy": float(accuracy[0]), "large_accuracy": large_accuracy,
                "met": bool(accuracy[point] >= goal - 1e-12),
                "deployed_large_accuracy": deployed_accuracy,
                "met_deployed": bool(accuracy[point] >= deployed_goal - 1e-12),
                "met_resampled": resampled_met(confidence, small_correct, large_correct,
                                               promise["n_rows"], target, relative_to,
                                               seed=split),
                "routing_by": kcm.routing_by_, "fit_seconds": seconds,
                "curve": accuracy_at_share(share, accuracy, GRID).round(5).tolist(),
            })
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return rows


def _price(rows):
    """The share at which the mean test curve reaches the promise's mean test accuracy
    (relative promises: the mean ratio to the large model's)."""
    curves = np.array([row["curve"] for row in rows])
    large = np.array([row["large_accuracy"] for row in rows])
    reached = np.array([row["test_accuracy"] for row in rows])
    if rows[0]["kind"] == "relative":
        curves, reached = curves / large[:, None], reached / large
    mean_curve = np.maximum.accumulate(curves.mean(axis=0))
    return float(GRID[int(np.argmax(mean_curve >= reached.mean() - 1e-12))])


def render_markdown(results):
    lines = [
        "# The accuracy guarantee over random splits",
        "",
        f"`{results['command']}` on {results['machine']}; delta = {DELTA}, the "
        "default judge, calibration rows "
        f"{results['rows'][0].get('calibration', 'out of fold')}. "
        "Test shares and accuracies: mean ± std over the splits.",
        "",
    ]
    rows = results["rows"]
    resampled = "met_resampled" in rows[0]  # runs before the resampled check have none
    deployed = "met_deployed" in rows[0]  # nor those before the members' refit
    lines += [
        "| task | promise | splits | calibration rows | test rows | certified | met "
        + ("| met against the user's large model " if deployed else "")
        + ("| met, resampled " if resampled else "")
        + "| share sent (test) | test accuracy | large model "
        "| epsilon='auto' for the same accuracy | price |",
        "|---" * (12 + resampled + deployed) + "|",
    ]
    for name in dict.fromkeys(row["task"] for row in rows):
        for kind in ("absolute", "relative"):
            mine = [row for row in rows if row["task"] == name and row["kind"] == kind]
            if not mine:
                continue
            target = mine[0]["target"]
            promise = (f">= {target:g} x large" if kind == "relative" else f">= {target:g}")
            share = np.array([row["test_share"] for row in mine])
            accuracy = np.array([row["test_accuracy"] for row in mine])
            large = np.array([row["large_accuracy"] for row in mine])
            auto = _price(mine)
            n_test = "" if "n_test" not in mine[0] else f"{mine[0]['n_test']:,}"
            met = f"{np.mean([row['met'] for row in mine]):.1%} | "
            if deployed:
                met += f"{np.mean([row['met_deployed'] for row in mine]):.1%} | "
            if resampled:
                met += f"{np.mean([row['met_resampled'] for row in mine]):.1%} | "
            lines.append(
                f"| {name} | {promise} | {len(mine)} | "
                f"{np.mean([row['n_rows'] for row in mine]):,.0f} | {n_test} | "
                f"{sum(row['certified'] for row in mine)} | "
                f"{met}"
                f"{share.mean():.1%} ± {share.std():.1%} | "
                f"{accuracy.mean():.4f} ± {accuracy.std():.4f} | {large.mean():.4f} | "
                f"{auto:.1%} | {share.mean() - auto:+.1%} |")
    seconds = np.array([row["fit_seconds"] for row in rows if row["kind"] == "absolute"])
    lines += ["", f"Mean fit: {seconds.mean():.1f} s (the first promise of a split; the "
              "second loads the members from `memory`).", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.guarantee", description=__doc__)
    parser.add_argument("--tasks", default="digits,mnist,bikeshare")
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--calibration", type=_calibration, default=0.25)
    parser.add_argument("--test-size", type=float, default=None,
                        help="split every task anew with this share of its rows for the test")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--render", action="store_true", help="only rewrite results.md")
    args = parser.parse_args(argv)
    args.out = args.out or (OUT / "oof" if args.calibration == "oof" else OUT) / (
        "" if args.test_size is None else f"test_{args.test_size:g}")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.render:
        import torch

        for name in args.tasks.split(","):
            path = args.out / f"{name}.json"  # one file a task: tasks may run in parallel
            results = json.loads(path.read_text()) if path.exists() else {"rows": []}
            results.update(
                machine=f"{os.cpu_count()} CPU cores, torch {torch.__version__}, Python "
                        f"{platform.python_version()}",
                command=f"python -m benchmarks.guarantee --splits {args.splits} "
                        f"--calibration {args.calibration}" + (
                            "" if args.test_size is None else f" --test-size {args.test_size:g}"))
            done = {row["split"] for row in results["rows"]}
            for split in range(args.splits):
                if split in done:
                    continue
                rows = one_split(name, split, args.calibration, args.test_size)
                print(name, split, [(row["kind"], row["certified"], round(row["test_share"], 3),
                                     row["met"]) for row in rows], flush=True)
                results["rows"] += rows
                path.write_text(json.dumps(results) + "\n")
    parts = [json.loads(path.read_text()) for path in sorted(args.out.glob("*.json"))]
    results = {**parts[0], "rows": [row for part in parts for row in part["rows"]]}
    (args.out / "results.md").write_text(render_markdown(results))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
