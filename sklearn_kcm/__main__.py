"""The main job: ``python -m sklearn_kcm demo``."""

import argparse
import sys
import time

from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import KANClassifier, KANJudgeClassifier

DATASETS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
}


def demo(dataset="digits", random_state=0):
    """Train a KAN classifier and a KAN judge on bundled data and print a table."""
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=random_state
    )
    models = {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        "KAN judge (16 hidden)": KANJudgeClassifier(random_state=random_state),
        "KAN classifier (64 hidden)": KANClassifier(max_epochs=30, random_state=random_state),
    }
    print(f"{dataset}: {len(X_train)} training and {len(X_test)} test samples, "
          f"{X.shape[1]} features, {len(set(y))} classes\n")
    print(f"{'model':<28} {'accuracy':>9} {'fit s':>7} {'predict s':>10}")
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted = time.perf_counter()
        score = model.score(X_test, y_test)
        print(f"{name:<28} {score:9.3f} {fitted - start:7.2f} {time.perf_counter() - fitted:10.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklearn_kcm")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="train on bundled data and print what it gives")
    run.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    run.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    demo(args.dataset, args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
