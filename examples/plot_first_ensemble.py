"""
==========================================
A first KCM ensemble on handwritten digits
==========================================

A logistic regression is the cheap *small* model, a calibrated RBF support
vector machine the expensive *large* one. :class:`~sklearn_kcm.KCMEnsemble`
trains a KAN judge that decides, input by input, which of the two answers, and
distils the large model's confident outputs into the small one.
"""

# %%
# Data and the two members
# ------------------------
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_kcm import Distillation, KCMEnsemble, LargeShare

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=0)
small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
large = make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(C=10), ensemble=False))

# %%
# The ensemble
# ------------
# ``epsilon="auto"`` picks the judge's threshold so that about a fifth of new
# inputs go to the large model; the judge is a
# :class:`~sklearn_kcm.KANJudgeClassifier` by default.
kcm = KCMEnsemble(small, large, epsilon=LargeShare(0.2), random_state=0,
                  distill=Distillation(threshold=0.5))
kcm.fit(X_train, y_train)

small_alone = small.fit(X_train, y_train).score(X_test, y_test)
large_alone = large.fit(X_train, y_train).score(X_test, y_test)
print(f"small alone: {small_alone:.3f}   large alone: {large_alone:.3f}")
print(f"KCM: {kcm.score(X_test, y_test):.3f}, sending {kcm.route(X_test).mean():.0%} "
      f"of the inputs to the large model (epsilon_ = {kcm.epsilon_:.3f})")

# %%
# What it cost
# ------------
# The ledger counts samples, calls and seconds per member; predicting updates
# it in place.
for key, value in kcm.ledger_.summary().items():
    if key.startswith("predict"):
        print(f"{key:>24}: {value}")

# %%
# Which inputs are hard?
# ----------------------
# The routed inputs are the ones the judge is least sure of.
import matplotlib.pyplot as plt
import numpy as np

confidence = kcm.routing_confidence(X_test)
hardest = np.argsort(confidence)[:8]
fig, axes = plt.subplots(1, 8, figsize=(8, 1.6))
for ax, row in zip(axes, hardest):
    ax.imshow(X_test[row].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_test[row]}: {confidence[row]:.2f}", fontsize=8)
    ax.axis("off")
fig.suptitle("the eight least confident test digits (label: C_x)", fontsize=9)
plt.show()
