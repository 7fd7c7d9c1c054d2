"""The main job: ``python -m sklearn_kcm demo``.

Trains a small model, a large model, the classic confidence cascade, MCM (MLP
judge) and KCM (KAN judge), every router at the same budget, and prints what
each answers, what it saves and what it costs. The default data set is the one
KCM is for: the small model is well below the large one and its mistakes lie
in regions of the inputs, which a judge that reads them can learn; on
scikit-learn's bundled sets the small model is nearly as good as the large one
and the routers tie, which the demo says too.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from . import KCMEnsemble, LargeShare, MLPJudgeClassifier, RoutingCurveDisplay, show_versions
from ._routing._curves import accuracy_at_share

BUDGET = 0.2
EQUAL_SHARES = (0.10, 0.20, 0.30)
SMALL, CASCADE, KCM = "small (logistic regression)", "cascade (small's confidence)", \
    "KCM (KAN judge)"


def load_clusters(return_X_y=True):
    """Two classes of four clusters each (a linear model cannot follow them)."""
    return make_classification(6000, 20, n_informative=8, n_redundant=4,
                               n_clusters_per_class=4, flip_y=0.01, random_state=0)


DATASETS = {
    "clusters": (load_clusters, "synthetic tabular data (6,000 rows, 20 features, two "
                                "classes of four clusters)"),
    "digits": (load_digits, "scikit-learn's 8x8 digits"),
    "breast_cancer": (load_breast_cancer, "scikit-learn's breast cancer set"),
    "wine": (load_wine, "scikit-learn's wine set"),
    "iris": (load_iris, "scikit-learn's iris"),
}


def make_models(dataset="clusters", random_state=0):
    """The ladder of the paper's tables, from the small model to KCM."""
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    if dataset == "clusters":
        large_name = "large (gradient boosting)"
        large = HistGradientBoostingClassifier(random_state=random_state)
    else:
        large_name = "large (calibrated RBF SVM)"
        large = make_pipeline(StandardScaler(),
                              CalibratedClassifierCV(SVC(C=10), ensemble=False))
    # every routing method at the same budget, so that accuracies compare at equal cost;
    # every training row is labelled, so nothing is distilled (distill="auto")
    budget = dict(epsilon=LargeShare(BUDGET))
    return {
        SMALL: small,
        large_name: large,
        CASCADE: KCMEnsemble(small, large, judge="small", distill=False, **budget),
        "MCM (MLP judge)": KCMEnsemble(small, large, MLPJudgeClassifier(random_state=random_state),
                                       random_state=random_state, **budget),
        KCM: KCMEnsemble(small, large, random_state=random_state, **budget),
    }


def demo(dataset="clusters", random_state=0, figure="kcm_routing_curves.png", out=sys.stdout):
    """Fit every model of the ladder on ``dataset``, print the tables, draw the routing curves."""
    load, description = DATASETS[dataset]
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=random_state
    )
    print(f"{dataset}: {description}; {len(X_train):,} training and {len(X_test):,} test "
          "rows", file=out)
    rows = {}
    models = make_models(dataset, random_state)
    for name, model in models.items():
        print(f"  fitting {name} ...", file=out, flush=True)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        accuracy = model.score(X_test, y_test)
        predict_seconds = time.perf_counter() - start
        if isinstance(model, KCMEnsemble):
            share = model.route(X_test).mean()
        else:
            share = 0.0 if name == SMALL else 1.0
        rows[name] = dict(accuracy=accuracy, large_share=share, fit_seconds=fit_seconds,
                          predict_seconds=predict_seconds)
    large_name = list(models)[1]
    print(f"\n{'model':<30} {'accuracy':>8} {'to large':>9} {'calls saved':>12}", file=out)
    for name, row in rows.items():
        share = row["large_share"]
        saved = f"{1 - share:11.0%}" if share < 1 else f"{'-':>11}"
        print(f"{name:<30} {row['accuracy']:8.3f} {share:9.0%} {saved:>12}", file=out)
    large_accuracy = rows[large_name]["accuracy"]
    print(f"\nKCM answers {1 - rows[KCM]['large_share']:.0%} of the test inputs with the small "
          f"model and keeps {rows[KCM]['accuracy'] / large_accuracy:.1%} of the large model's "
          f"accuracy; the cascade, at the same budget, "
          f"{rows[CASCADE]['accuracy'] / large_accuracy:.1%}.", file=out)
    curves = {name: model.routing_curve(X_test, y_test) for name, model in models.items()
              if isinstance(model, KCMEnsemble)}
    _print_equal_shares(curves, models[KCM], len(y_test), out)
    print(f"\n{'seconds (vary from run to run)':<30} {'fit':>8} {'predict':>9}", file=out)
    for name, row in rows.items():
        print(f"{name:<30} {row['fit_seconds']:8.2f} {row['predict_seconds']:9.3f}", file=out)
    if figure:
        _draw_curves(models, curves, dataset, figure, out)
    return rows


def _accuracy_at(curve, share):
    _, large_share, accuracy = curve
    return accuracy_at_share(large_share, accuracy, share)


def _print_equal_shares(curves, kcm, n_test, out):
    """Accuracy of each routing method at equal shares sent to the large model, and whether
    KCM's lead over the cascade is more than the test set's noise."""
    print(f"\n{'at equal share sent to large':<30}"
          + "".join(f"{share:>9.0%}" for share in EQUAL_SHARES), file=out)
    for name, curve in curves.items():
        print(f"{name:<30}" + "".join(f"{_accuracy_at(curve, share):9.3f}"
                                      for share in EQUAL_SHARES), file=out)
    cascade, mine = curves[CASCADE], curves[KCM]
    gains = np.array([_accuracy_at(mine, share) - _accuracy_at(cascade, share)
                      for share in EQUAL_SHARES])
    # the standard error of a difference of two accuracies near a on n rows (an upper
    # bound: the two routers agree on most rows, which makes it smaller)
    accuracy = _accuracy_at(cascade, EQUAL_SHARES[-1])
    noise = float(np.sqrt(2 * accuracy * (1 - accuracy) / n_test))
    routed_by = {
        "judge": "its KAN judge",
        "blend": f"its KAN judge blended with the small model's confidence "
                 f"(judge ** {kcm.routing_weight_} * top ** {1 - kcm.routing_weight_:g}, "
                 "the best blend out of fold)",
        "small": "the small model's confidence (its judge routed worse out of fold)",
    }[kcm.routing_by_]
    print("KCM minus cascade: " + ", ".join(f"{gain:+.3f} at {share:.0%}"
                                            for gain, share in zip(gains, EQUAL_SHARES))
          + f" (noise: about {noise:.3f} on {n_test:,} test rows); KCM routes by {routed_by}.",
          file=out)
    if np.all(np.abs(gains) <= 2 * noise):
        print("Here the routers tie within noise: a judge pays where the small model's "
              "mistakes lie in regions of the inputs, and the small model is well below the "
              "large one (the default data set).", file=out)
    else:
        print("On data where the small model is nearly as good as the large one (try "
              "--dataset digits), the routers tie within noise.", file=out)


def _draw_curves(models, curves, dataset, path, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("(no figure: pip install 'sklearn_kcm[plot]' for the routing curves)", file=out)
        return
    display = None
    for name, (thresholds, large_share, accuracy) in curves.items():
        display = RoutingCurveDisplay(
            thresholds=thresholds, large_share=large_share, accuracy=accuracy, name=name,
            epsilon=models[name].epsilon_,
        ).plot(ax=None if display is None else display.ax_)
    display.ax_.set_title(f"{dataset}: accuracy vs share sent to the large model\n"
                          "o small only, ■ large only, ★ operating point")
    display.figure_.tight_layout()
    display.figure_.savefig(path, dpi=120)
    print(f"Routing curves written to {path}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklearn_kcm")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="train the KCM ladder on generated or bundled data")
    run.add_argument("--dataset", choices=sorted(DATASETS), default="clusters")
    run.add_argument("--random-state", type=int, default=0)
    run.add_argument("--figure", default="kcm_routing_curves.png",
                     help="where to write the routing-curve PNG ('' for none)")
    commands.add_parser("build-kernel", help="compile the C++ kernel of the cubic KAN layer "
                                             "(once per machine and torch version)")
    commands.add_parser("show-versions", help="print the versions, threads, kernel and GPU, "
                                              "for a bug report")
    args = parser.parse_args(argv)
    if args.command == "build-kernel":
        return build_kernel()
    if args.command == "show-versions":
        show_versions()
        return 0
    demo(args.dataset, args.random_state, args.figure)
    return 0


def build_kernel(out=sys.stdout):
    """Compile the KAN layer's C++ kernel; without a compiler the layer runs in plain torch."""
    from .nn import _cpp

    start = time.perf_counter()
    try:
        _cpp.build()
    except Exception as error:  # noqa: BLE001 - any build failure leaves the torch path
        print(f"The KAN kernel was not built ({type(error).__name__}: {error}); KANLinear "
              "runs in plain torch, with the same results, about 1.3x slower on CPU.",
              file=out)
        return 0
    print(f"Built the KAN kernel in {_cpp.build_directory()} "
          f"({time.perf_counter() - start:.0f} s).", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
