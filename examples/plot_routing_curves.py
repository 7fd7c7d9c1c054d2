"""
====================================================
Routing curves: KCM, MCM and the confidence cascade
====================================================

A routing curve shows the accuracy of an ensemble against the share of inputs
it sends to the large model, for every threshold at once (one pass of each
model). It compares judges independently of the epsilon each one happens to
use: the higher the curve at a given share, the better the judge knows which
inputs are hard.
"""

# %%
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_kcm import KCMEnsemble, LargeShare, MLPJudgeClassifier, RoutingCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=0)
small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
large = make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(C=10), ensemble=False))

# The large model is fitted once and frozen, so the three ensembles share it
# (a FrozenEstimator is not refitted, and teaches the small model directly).
frozen = FrozenEstimator(large.fit(X_train, y_train))
budget = dict(epsilon=LargeShare(0.2), distill=False)  # the same for all
ensembles = {
    "cascade (small's confidence)": KCMEnsemble(small, frozen, judge="small", **budget),
    "MCM (MLP judge)": KCMEnsemble(small, frozen, MLPJudgeClassifier(random_state=0), **budget),
    "KCM (KAN judge)": KCMEnsemble(small, frozen, random_state=0, **budget),
}

# %%
display = None
for name, ensemble in ensembles.items():
    ensemble.fit(X_train, y_train)
    display = RoutingCurveDisplay.from_estimator(
        ensemble, X_test, y_test, name=name, ax=None if display is None else display.ax_)
    print(f"{name:>30}: accuracy {ensemble.score(X_test, y_test):.3f} at "
          f"{ensemble.route(X_test).mean():.0%} to the large model")
_ = display.ax_.set_title("digits: o small only, ■ large only, ★ operating point")

# %%
# Reading the curves
# ------------------
# On digits the small model's own confidence is a strong judge. The default
# KAN judge learns the digits from the pixels and routes where it disagrees
# with the small model: it finds the first mistakes with fewer inputs sent,
# and ends a few test rows behind the cascade at 20% (540 test images: within
# noise). On larger tasks agreement pays clearly (MNIST: 14% of the inputs sent
# for 99% of the large model's accuracy, against 32% for the cascade): the
# :doc:`../benchmarks` page compares the judges on six tasks, the losing rows
# included.
