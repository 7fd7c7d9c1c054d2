"""Three members against two at equal cost: ``python -m benchmarks.cascade [--seeds 0,1,2]``.

MNIST-5000 (the suite's split, seeded): logistic regression on the pixels, a
KAN on 32 principal components (``KANClassifier``, one hidden layer of 32) and
the calibrated RBF SVM on 50 components. ``KCMCascade`` of the three, with the
default judges, against the two-model ``KCMEnsemble`` of logistic regression
and SVM (the suite's KCM) and of KAN and SVM, each fitted once per seed.

Cost per input: the members' predict seconds per sample, measured on the test
rows in this run (the best of three), summed over the members an input reaches
(in the cascade an input that reaches the SVM has also been read by the KAN).
The judges' seconds are reported apart: they are not in the cost.

Equal cost: budgets are the cost of logistic regression plus 5, 10, 20 or 30%
of the SVM's. A two-model ensemble sends the largest share the budget pays
for. The cascade has one more choice, the share past its first member (0 to
100% in steps of 5%; the share that reaches the SVM is then the largest the
rest of the budget pays for): it picks it on one half of the test rows, the
most accurate there, and is scored on the other half, then the halves swap.
Thresholds are read on the half that picks, so every method is scored on rows
that set none of its thresholds. A search over both of the cascade's shares
overfits the picking half (on 500 rows its accuracy fell as the budget rose).
``fitted``: the cascade at ``target_shares=(0.3, 0.1)``, fitted out of fold.

Writes ``docs/benchmarks/cascade/results.json`` and ``results.md``.
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kcm import KANClassifier, KCMCascade, KCMEnsemble, LargeShare
from sklearn_kcm._routing._curves import threshold_for_share

from ._tasks import TASKS

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "cascade"
BUDGETS = (0.05, 0.1, 0.2, 0.3)  # of the SVM's cost, on top of logistic regression's
SHARES = np.linspace(0.0, 1.0, 21)


def _seconds_per_sample(predict, X, repeats=3):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        best = min(best, time.perf_counter() - start)
    return best / len(X)


def _pair_threshold(confidence, costs, budget):
    """The threshold of a two-member ensemble that sends the largest share ``budget`` pays."""
    if budget < costs[0]:
        return None
    return threshold_for_share(confidence, min(1.0, (budget - costs[0]) / costs[1]))


def _cascade_thresholds(c0, c1, right, costs, budget):
    """The cascade's two thresholds within ``budget``: for each share past the first member,
    the largest share to the last that the rest pays; the most accurate of them."""
    best, best_accuracy = None, -1.0
    for first in SHARES:
        to_last = (budget - costs[0] - first * costs[1]) / costs[2]
        if to_last < 0:
            break
        t0 = threshold_for_share(c0, first)
        past = ~(c0 > t0)
        t1 = threshold_for_share(c1[past], min(1.0, to_last / first)) if past.any() else -np.inf
        accuracy = _apply_cascade((t0, t1), c0, c1, right, costs)[0]
        if accuracy > best_accuracy:
            best, best_accuracy = (t0, t1), accuracy
    return best


def _apply_pair(t, confidence, small_right, large_right, costs):
    up = ~(confidence > t)
    return float(np.where(up, large_right, small_right).mean()), costs[0] + up.mean() * costs[1]


def _apply_cascade(thresholds, c0, c1, right, costs):
    t0, t1 = thresholds
    past = ~(c0 > t0)
    top = past & ~(c1 > t1)
    answer = np.where(top, right[2], np.where(past, right[1], right[0]))
    return float(answer.mean()), costs[0] + past.mean() * costs[1] + top.mean() * costs[2]


def one_seed(seed):
    task = TASKS["mnist"]("quick", seed)
    lr, svm = task.small, task.large
    kan = make_pipeline(PCA(32, random_state=seed), StandardScaler(),
                        KANClassifier(hidden_layer_sizes=(32,), random_state=seed))
    X_train, y_train, X_test, y_test = task.X_train, task.y_train, task.X_test, task.y_test
    models = {
        "cascade": KCMCascade([("lr", lr), ("kan", kan), ("svm", svm)], epsilon="auto",
                              target_shares=(0.3, 0.1), random_state=seed),
        "lr → svm": KCMEnsemble(clone(lr), clone(svm), epsilon=LargeShare(0.2),
                                random_state=seed),
        "kan → svm": KCMEnsemble(clone(kan), clone(svm), epsilon=LargeShare(0.2),
                                 random_state=seed),
    }
    fit_seconds = {}
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_train, y_train)
        fit_seconds[name] = time.perf_counter() - start
    cascade = models["cascade"]
    members = [cascade.named_estimators_[name] for name in ("lr", "kan", "svm")]
    costs = [_seconds_per_sample(member.predict_proba, X_test) for member in members]
    right = [member.predict(X_test) == y_test for member in members]
    c0 = cascade.steps_[0].routing_confidence(X_test)
    c1 = cascade.steps_[1].routing_confidence(X_test)
    judge_seconds = [_seconds_per_sample(step.routing_confidence, X_test)
                     - cost for step, cost in zip(cascade.steps_, costs)]
    pairs = {}
    for name in ("lr → svm", "kan → svm"):
        ensemble = models[name]
        small_cost = costs[0] if name.startswith("lr") else costs[1]
        pairs[name] = (ensemble.routing_confidence(X_test),
                       ensemble.small_.predict(X_test) == y_test,
                       ensemble.large_.predict(X_test) == y_test, (small_cost, costs[2]))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_test))
    halves = [order[: len(order) // 2], order[len(order) // 2:]]
    rows = []
    for fraction in BUDGETS:
        budget = costs[0] + fraction * costs[2]
        scores = {name: [] for name in ("cascade", *pairs)}
        for pick, score in (halves, halves[::-1]):
            r_pick, r_score = [r[pick] for r in right], [r[score] for r in right]
            chosen = _cascade_thresholds(c0[pick], c1[pick], r_pick, costs, budget)
            if chosen is not None:
                scores["cascade"].append(
                    _apply_cascade(chosen, c0[score], c1[score], r_score, costs))
            for name, (confidence, small_right, large_right, pair_costs) in pairs.items():
                chosen = _pair_threshold(confidence[pick], pair_costs, budget)
                if chosen is not None:
                    scores[name].append(_apply_pair(chosen, confidence[score],
                                                    small_right[score], large_right[score],
                                                    pair_costs))
        for name, points in scores.items():
            if points:
                accuracy, cost = np.mean(points, axis=0)
                rows.append({"seed": seed, "budget": fraction, "method": name,
                             "accuracy": float(accuracy), "cost_us": float(cost) * 1e6})
    member = cascade.route(X_test)
    accuracy = float(cascade.score(X_test, y_test))
    shares = np.bincount(member, minlength=3) / len(member)
    rows.append({"seed": seed, "budget": None, "method": "cascade, fitted (0.3, 0.1)",
                 "accuracy": accuracy, "shares": shares.tolist(),
                 "cost_us": float(costs[0] + shares[1:].sum() * costs[1]
                                  + shares[2] * costs[2]) * 1e6})
    return {"seed": seed, "rows": rows, "member_cost_us": [c * 1e6 for c in costs],
            "judge_cost_us": [c * 1e6 for c in judge_seconds],
            "member_accuracy": [float(r.mean()) for r in right], "fit_seconds": fit_seconds}


def _mean_std(values):
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def render_markdown(results):
    seeds = results["seeds"]
    lines = [
        "# Three members against two at equal cost (MNIST-5000)",
        "",
        f"`{results['command']}` on {results['machine']}, seeds "
        f"{', '.join(str(s['seed']) for s in seeds)}; mean ± std over seeds.",
        "",
        "| member | test accuracy | predict µs per sample |",
        "|---|---|---|",
    ]
    for i, name in enumerate(("logistic regression", "KAN (PCA 32)", "RBF SVM (PCA 50)")):
        lines.append(f"| {name} | {_mean_std([s['member_accuracy'][i] for s in seeds])} | "
                     f"{np.mean([s['member_cost_us'][i] for s in seeds]):.1f} |")
    fits = {name: np.mean([s["fit_seconds"][name] for s in seeds])
            for name in seeds[0]["fit_seconds"]}
    judges = [np.mean([s["judge_cost_us"][i] for s in seeds]) for i in range(2)]
    lines += ["", "Fit seconds: " + ", ".join(f"{name} {value:.0f} s" for name, value in
                                               fits.items()) +
              f". The judges (not in the cost): {judges[0]:.1f} and {judges[1]:.1f} µs per "
              "sample for the two steps.", "",
              "| budget (LR + x of the SVM) | µs per input | cascade LR → KAN → SVM | "
              "KCM LR → SVM | KCM KAN → SVM |", "|---|---|---|---|---|"]
    rows = [row for s in seeds for row in s["rows"]]
    for fraction in BUDGETS:
        budget = np.mean([s["member_cost_us"][0] + fraction * s["member_cost_us"][2]
                          for s in seeds])
        cells = []
        for method in ("cascade", "lr → svm", "kan → svm"):
            values = [row["accuracy"] for row in rows
                      if row["budget"] == fraction and row["method"] == method]
            cells.append(_mean_std(values) if len(values) == len(seeds) else "over budget")
        lines.append(f"| {fraction:.0%} | {budget:.1f} | " + " | ".join(cells) + " |")
    fitted = [row for row in rows if row["budget"] is None]
    shares = np.mean([row["shares"] for row in fitted], axis=0)
    lines += ["", f"The cascade as fitted (`target_shares=(0.3, 0.1)`): accuracy "
              f"{_mean_std([row['accuracy'] for row in fitted])}, "
              f"{np.mean([row['cost_us'] for row in fitted]):.1f} µs per input; answered by "
              f"LR {shares[0]:.1%}, KAN {shares[1]:.1%}, SVM {shares[2]:.1%}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cascade", description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true", help="only rewrite results.md")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.json"
    if not args.render:
        import torch

        results = {"seeds": [],
                   "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, "
                              f"Python {platform.python_version()}",
                   "command": f"python -m benchmarks.cascade --seeds {args.seeds}"}
        for seed in (int(s) for s in args.seeds.split(",")):
            results["seeds"].append(one_seed(seed))
            print(f"seed {seed} done", flush=True)
            path.write_text(json.dumps(results, indent=1) + "\n")
    results = json.loads(path.read_text())
    (args.out / "results.md").write_text(render_markdown(results))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
