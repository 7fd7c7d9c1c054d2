"""
===========================================================
Retrieval: route queries between a cheap and a costly index
===========================================================

:class:`~sklearn_kcm.KCMRetriever` applies KCM to retrieval. A query is
answered by the cheap retriever, which ranks the whole corpus; a judge reads
that ranking (the best scores, the margin between the first two, their spread)
and sends the queries whose first document is likely wrong to the costly
retriever, which reranks only the cheap one's shortlist, its scores fused with
the cheap one's.

The task: find the clean original of a noisy scan among 600 handwritten
digits. The cheap index keeps 8 principal components of each image, the costly
one 32 (both fitted on the corpus in ``fit``).
"""

# %%
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_kcm import KCMRetriever, LargeShare, RoutingCurveDisplay
from sklearn_kcm.retrieval import EncoderRetriever, make_recall_scorer

X, _ = load_digits(return_X_y=True)
rng = np.random.RandomState(0)
corpus = X[rng.permutation(len(X))[:600]]
scans = corpus + rng.normal(scale=6.0, size=corpus.shape)  # query i is a scan of image i
relevant = np.arange(len(corpus))
fit, test = relevant[::2], relevant[1::2]  # queries to fit the judge on, and held out

small = EncoderRetriever(corpus, PCA(8, random_state=0))
large = EncoderRetriever(corpus, PCA(32, random_state=0))

# %%
# The two retrievers alone, and KCM with a budget of 30% of the queries.
recall_5 = make_recall_scorer(k=5)
for name, retriever in [("cheap", small), ("costly", large)]:
    retriever.fit(scans[fit], relevant[fit])
    print(f"{name:>7}: Recall@1 {retriever.score(scans[test], relevant[test]):.3f}, "
          f"Recall@5 {recall_5(retriever, scans[test], relevant[test]):.3f}")

kcm = KCMRetriever(small, large, epsilon=LargeShare(0.3), random_state=0)
kcm.fit(scans[fit], relevant[fit])
print(f"    KCM: Recall@1 {kcm.score(scans[test], relevant[test]):.3f}, "
      f"{kcm.route(scans[test]).mean():.0%} of the queries to the costly retriever "
      f"(routed by {kcm.routing_by_}, fusion weight {kcm.fusion_weight_:g})")

# %%
# What the costly retriever did: it scored 20 candidates per routed query,
# not the 600 documents of the corpus.
summary = kcm.ledger_.summary()
print({key: summary[key] for key in ("predict_samples", "predict_large_samples",
                                      "predict_large_documents")})

# %%
# The routing curve: Recall@1 for every share of queries sent, from one pass
# of each retriever. The cascade routes by the margin rule alone.
cascade = KCMRetriever(small, large, judge="small", epsilon=LargeShare(0.3))
cascade.fit(scans[fit], relevant[fit])
display = RoutingCurveDisplay.from_estimator(kcm, scans[test], relevant[test],
                                             name="KCM (KAN judge)")
RoutingCurveDisplay.from_estimator(cascade, scans[test], relevant[test],
                                   name="cascade (margin rule)", ax=display.ax_)
_ = display.ax_.set(ylabel="Recall@1", title="noisy digit scans: find the original")
