"""The main job: ``python -m sklearn_kcm demo``.

Trains a small model, a large model, the classic confidence cascade, MCM (MLP
judge) and KCM (KAN judge) on a dataset bundled with scikit-learn, and prints
what each costs and what it saves.
"""

import argparse
import sys
import time

from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from . import KCMEnsemble, MLPJudgeClassifier, RoutingCurveDisplay
from ._routing._curves import accuracy_at_share

BUDGET = 0.15
LARGE, KCM = "large (calibrated RBF SVM)", "KCM (KAN judge)"
EQUAL_SHARES = (0.05, 0.10, 0.20)
DATASETS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
}


def make_models(random_state=0):
    """The ladder of the paper's tables, from the small model to KCM."""
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    large = make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(C=10), ensemble=False))
    # every routing method at the same budget, so that accuracies compare at equal cost
    budget = dict(epsilon="auto", target_large_share=BUDGET)
    # the defaults: every training row is labelled, so nothing is distilled (distill="auto")
    # and the large model is fitted once
    kcm = dict(budget, random_state=random_state)
    return {
        "small (logistic regression)": small,
        LARGE: large,
        "cascade (small's confidence)": KCMEnsemble(small, large, judge="small", distill=False,
                                                    **budget),
        "MCM (MLP judge)": KCMEnsemble(small, large, MLPJudgeClassifier(random_state=random_state),
                                       **kcm),
        KCM: KCMEnsemble(small, large, **kcm),
    }


def demo(dataset="digits", random_state=0, figure="kcm_routing_curves.png", out=sys.stdout):
    """Fit every model of the ladder on ``dataset``, print a table, draw the routing curves."""
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    print(f"{dataset}: {len(X_train)} training and {len(X_test)} test samples, "
          f"{X.shape[1]} features, {len(set(y))} classes", file=out)
    header = (f"{'model':<30} {'accuracy':>8} {'to large':>9} {'calls saved':>12} "
              f"{'fit s':>7} {'predict s':>10}")
    rows = {}
    models = make_models(random_state)
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
            share = 1.0 if name == LARGE else 0.0
        rows[name] = dict(accuracy=accuracy, large_share=share, fit_seconds=fit_seconds,
                          predict_seconds=predict_seconds)
    print("\n" + header, file=out)
    for name, row in rows.items():
        share = row["large_share"]
        saved = f"{1 - share:11.0%}" if share < 1 else f"{'-':>11}"
        print(f"{name:<30} {row['accuracy']:8.3f} {share:9.0%} {saved:>12} "
              f"{row['fit_seconds']:7.2f} {row['predict_seconds']:10.3f}", file=out)
    kcm = rows[KCM]
    print(f"\nKCM answers {1 - kcm['large_share']:.0%} of the test inputs with the small model "
          f"and reaches {kcm['accuracy'] / rows[LARGE]['accuracy']:.1%} of the large model's "
          "accuracy.", file=out)
    curves = {name: model.routing_curve(X_test, y_test) for name, model in models.items()
              if isinstance(model, KCMEnsemble)}
    _print_equal_shares(curves, models[KCM], out)
    if figure:
        _draw_curves(models, curves, dataset, figure, out)
    return rows


def _accuracy_at(curve, share):
    _, large_share, accuracy = curve
    return accuracy_at_share(large_share, accuracy, share)


def _print_equal_shares(curves, kcm, out):
    """Accuracy of each routing method at equal shares sent to the large model."""
    print(f"\n{'at equal share sent to large':<30}"
          + "".join(f"{share:>9.0%}" for share in EQUAL_SHARES), file=out)
    for name, curve in curves.items():
        print(f"{name:<30}" + "".join(f"{_accuracy_at(curve, share):9.3f}"
                                      for share in EQUAL_SHARES), file=out)
    cascade, mine = curves["cascade (small's confidence)"], curves[KCM]
    gains = [_accuracy_at(mine, share) - _accuracy_at(cascade, share) for share in EQUAL_SHARES]
    routed_by = {
        "judge": "its KAN judge",
        "blend": f"its KAN judge blended with the small model's confidence "
                 f"(judge ** {kcm.routing_weight_} * top ** {1 - kcm.routing_weight_:g}, "
                 "the best blend out of fold)",
        "small": "the small model's confidence (its judge routed worse out of fold)",
    }[kcm.routing_by_]
    print("KCM minus cascade: " + ", ".join(f"{gain:+.3f} at {share:.0%}"
                                            for gain, share in zip(gains, EQUAL_SHARES))
          + f"; KCM routes by {routed_by}.", file=out)


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
    run = commands.add_parser("demo", help="train the KCM ladder on bundled data")
    run.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    run.add_argument("--random-state", type=int, default=0)
    run.add_argument("--figure", default="kcm_routing_curves.png",
                     help="where to write the routing-curve PNG ('' for none)")
    commands.add_parser("build-kernel", help="compile the C++ kernel of the cubic KAN layer "
                                             "(once per machine and torch version)")
    args = parser.parse_args(argv)
    if args.command == "build-kernel":
        return build_kernel()
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
