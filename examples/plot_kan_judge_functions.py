"""
============================================
Looking at a KAN judge's learned functions
============================================

A KAN learns a function on every edge instead of a weight. After fitting, each
edge function ``phi(x)`` of the first layer can be drawn against the original
input feature, which tells how the judge's confidence depends on it.
"""

# %%
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from sklearn_kcm import KANJudgeClassifier

data = load_breast_cancer()
X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, stratify=data.target,
                                                    random_state=0)
# A regularised one-layer-deep judge: few, smooth edge functions.
judge = KANJudgeClassifier(hidden_layer_sizes=(4,), regularization=1e-3, max_epochs=60,
                           random_state=0).fit(X_train, y_train)
print(f"judge accuracy: {judge.score(X_test, y_test):.3f}")
confidence = judge.confidence(X_test)
print(f"confidence C_x: min {confidence.min():.2f}, median {np.median(confidence):.2f}")

# %%
# Edge functions of the first layer
# ---------------------------------
# Rows are hidden nodes, columns input features (in their original units).
features = [0, 1, 7, 20, 27]
axes = judge.plot_activations(layer=0, inputs=features, outputs=range(4))
for ax, name in zip(axes[0], data.feature_names[features]):
    ax.set_title(name, fontsize=8)
axes[0, 0].figure.set_size_inches(9, 6)
axes[0, 0].figure.tight_layout()

# %%
# Edge functions of the output layer
# ----------------------------------
axes = judge.plot_activations(layer=1)
axes[0, 0].figure.tight_layout()
