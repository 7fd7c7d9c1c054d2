"""
=======================================
Text classification with pipelines
=======================================

:class:`~sklearn_kcm.KCMEnsemble` never converts its input: it only selects
rows, so X can be a list of texts when every member is a text pipeline. The
task here, built offline from installed packages: which library does a
docstring's first paragraph come from, NumPy, SciPy, scikit-learn or torch?
"""

# %%
# Real texts, no download
# -----------------------
import inspect
import warnings

import numpy as np
import scipy

# the submodules whose docstrings are read must be imported
import scipy.linalg
import scipy.optimize
import scipy.stats
import sklearn
import sklearn.metrics
import sklearn.preprocessing
import sklearn.utils
import torch


def paragraphs(package, limit=400):
    """First paragraphs of the public docstrings found in ``package``'s modules."""
    texts = []
    seen = set()
    modules = [package] + [getattr(package, name) for name in dir(package)
                           if inspect.ismodule(getattr(package, name, None))]
    for module in modules:
        for name in dir(module):
            with warnings.catch_warnings():  # deprecated aliases warn when touched
                warnings.simplefilter("ignore")
                obj = getattr(module, name, None)
            doc = inspect.getdoc(obj) if (inspect.isfunction(obj) or inspect.isclass(obj)
                                          or inspect.isbuiltin(obj)) else None
            if not doc or name.startswith("_") or id(obj) in seen:
                continue
            seen.add(id(obj))
            first = " ".join(doc.split("\n\n")[0].split())
            if len(first) > 20 and not first.startswith(name + "("):  # skip signatures
                texts.append(first)
    return texts[:limit]


texts, labels = [], []
for package in (np, scipy, sklearn, torch):
    found = paragraphs(package)
    texts += found
    labels += [package.__name__] * len(found)
texts, labels = np.array(texts, dtype=object), np.array(labels)
print({str(name): int((labels == name).sum()) for name in np.unique(labels)})
print(texts[0])

# %%
# Small and large: two text pipelines, and the default judge
# ----------------------------------------------------------
# The small model sees single words through a strongly regularised logistic
# regression; the large one words and word pairs through a calibrated linear
# SVM. The default KAN judge needs no pipeline of its own: on text it reads the
# small model's answer (log-probabilities, margin, entropy), which is numeric
# whatever X is, and learns out of fold where that answer is wrong.
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from sklearn_kcm import Distillation, KCMEnsemble, LargeShare

X_train, X_test, y_train, y_test = train_test_split(texts, labels, test_size=0.3,
                                                    stratify=labels, random_state=0)
small = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(C=1, max_iter=1000))
large = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
    CalibratedClassifierCV(LinearSVC(C=1), ensemble=False),
)
kcm = KCMEnsemble(small, large, epsilon=LargeShare(0.3), cv=3,
                  random_state=0, distill=Distillation(threshold=0.5)).fit(X_train, y_train)

for name, model in [("small", small), ("large", large)]:
    print(f"{name:>5}: {model.fit(X_train, y_train).score(X_test, y_test):.3f}")
print(f"  KCM: {kcm.score(X_test, y_test):.3f} with {kcm.route(X_test).mean():.0%} "
      f"sent to the large model (judge reads {kcm.judge_input_!r}, routes by "
      f"{kcm.routing_by_!r})")

# %%
# Where does the judge send the texts?
# ------------------------------------
import matplotlib.pyplot as plt

routed = kcm.route(X_test)
names = np.unique(labels)
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(names, [routed[y_test == name].mean() for name in names])
ax.set_ylabel("share sent to the large model")
ax.set_title("hard inputs per library")
plt.show()
