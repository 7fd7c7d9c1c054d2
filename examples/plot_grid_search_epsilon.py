"""
================================================
Grid search over epsilon inside a Pipeline
================================================

``epsilon`` trades accuracy against calls to the large model. Inside a
:class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn_kcm.KCMEnsemble` is a
step like any other, and :func:`~sklearn_kcm.make_cost_scorer` turns the
trade-off into one number that :class:`~sklearn.model_selection.GridSearchCV`
can maximise.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kcm import KCMEnsemble, make_cost_scorer, neg_large_share

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# The cascade judge (the small model's own confidence) keeps this example fast;
# any judge works the same way.
pipeline = make_pipeline(
    StandardScaler(),
    KCMEnsemble(LogisticRegression(C=0.1), RandomForestClassifier(random_state=0),
                judge="small", distill=False),
)

# %%
# A large-model call costs 1, an error 20, the small model nothing.
scoring = {
    "cost": make_cost_scorer(small_cost=0.0, large_cost=1.0, error_cost=20.0),
    "accuracy": "accuracy",
    "neg_large_share": neg_large_share,
}
search = GridSearchCV(pipeline, {"kcmensemble__epsilon": [0.6, 0.8, 0.9, 0.95, 0.99, 1.0]},
                      scoring=scoring, refit="cost", cv=5)
search.fit(X_train, y_train)
results = pd.DataFrame(search.cv_results_)[
    ["param_kcmensemble__epsilon", "mean_test_cost", "mean_test_accuracy",
     "mean_test_neg_large_share"]]
print(results.to_string(index=False))
print("best epsilon:", search.best_params_["kcmensemble__epsilon"])
print(f"test accuracy of the chosen ensemble: {search.best_estimator_.score(X_test, y_test):.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(-results.mean_test_neg_large_share, results.mean_test_accuracy, "o-")
for _, row in results.iterrows():
    ax.annotate(f"{row.param_kcmensemble__epsilon}",
                (-row.mean_test_neg_large_share, row.mean_test_accuracy), fontsize=8)
ax.set_xlabel("share sent to the large model (cross-validated)")
ax.set_ylabel("accuracy")
ax.set_title("each point is one epsilon")
plt.show()

# %%
# Every threshold from one fit per split
# --------------------------------------
# The grid above refits the ensemble for each of its six values. The cost
# scorer only needs the routing curve, which scores every threshold at once:
# :func:`~sklearn_kcm.tune_epsilon` fits the ensemble once per split and picks
# the threshold of lowest mean cost among all of them, as scikit-learn's
# ``TunedThresholdClassifierCV`` does for a decision threshold.
from sklearn_kcm import tune_epsilon

tuned = tune_epsilon(pipeline, X_train, y_train, large_cost=1.0, error_cost=20.0, cv=5)
print(f"tuned epsilon: {tuned.epsilon:.3f}, mean cost {tuned.expected_cost:.3f} per input "
      f"({tuned.thresholds.size} thresholds scored from 5 fits)")
pipeline.set_params(kcmensemble__epsilon=tuned.epsilon).fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(tuned.thresholds, tuned.expected_cost_curve)
ax.axvline(tuned.epsilon, color="k", linestyle=":")
ax.set_xlabel("epsilon")
ax.set_ylabel("mean cost per input (cross-validated)")
plt.show()
