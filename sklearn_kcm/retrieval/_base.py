"""What every retriever shares: documents as classes, top-k, Recall@k, and its scorer."""

from functools import partial

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._scores import recall_at_k, top_candidates


def check_relevant(y, n_docs):
    """``y`` as an integer array of document indices in ``[0, n_docs)``, or a clear error."""
    y = column_or_1d(y, warn=True)
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.mod(y, 1) == 0):
            raise ValueError(
                f"y must hold the index of each query's relevant document in the corpus "
                f"(integers), got values of dtype {y.dtype} such as {y[:3].tolist()}."
            )
        y = y.astype(np.int64)
    bad = (y < 0) | (y >= n_docs)
    if bad.any():
        raise ValueError(
            f"y holds {y[bad][0]}, but the corpus has {n_docs} documents: y is the index "
            f"of each query's relevant document, between 0 and {n_docs - 1}."
        )
    return y


class RetrieverMixin:
    """Retrieval as classification over the documents of a corpus.

    A retriever's classes are its documents (``classes_ = arange(n_docs)``),
    ``decision_function(queries)`` scores each document for each query,
    ``predict`` is the best one and ``score`` is Recall@1. Retrievers are not
    scikit-learn classifiers (their "classes" are seen once each, which
    stratified splits cannot handle), so model selection splits them with
    plain ``KFold``.

    A subclass defines ``fit`` (setting ``classes_``) and
    ``decision_function(queries, candidates=None)``.
    """

    def predict(self, queries):
        """Index of the best document for each query.

        Parameters
        ----------
        queries : array-like or list
            Queries, in the form the retrievers read.

        Returns
        -------
        ndarray of int, shape (n_queries,)
            The document ranked first for each query.
        """
        return np.argmax(self.decision_function(queries), axis=1)

    def top_k(self, queries, k=10):
        """Return the ``k`` best documents for each query, best first.

        Parameters
        ----------
        queries : array-like or list
            Queries, in the form the retrievers read.
        k : int, default=10
            How many documents to return.

        Returns
        -------
        ndarray of int, shape (n_queries, min(k, n_docs))
            Document indices, best first.
        """
        return top_candidates(self.decision_function(queries), k)

    def score(self, queries, y, sample_weight=None):
        """Recall@1: the share of queries whose relevant document ``y`` comes first.

        Parameters
        ----------
        queries : array-like or list
            Queries, in the form the retrievers read.
        y : array-like of int, shape (n_queries,)
            Index of each query's relevant document.
        sample_weight : array-like of shape (n_queries,), default=None
            Weight of each query.

        Returns
        -------
        float
            Recall@1.
        """
        check_is_fitted(self)
        right = self.predict(queries) == check_relevant(y, len(self.classes_))
        return float(np.average(right, weights=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _recall_score(estimator, queries, y, *, k):
    scores = estimator.decision_function(queries)
    return recall_at_k(check_relevant(y, scores.shape[1]), scores, k)


def make_recall_scorer(k=1):
    """A scorer of Recall@k for ``GridSearchCV``, ``cross_validate``, ``scoring=``.

    Parameters
    ----------
    k : int, default=1
        The relevant document counts when it is among the ``k`` best.

    Returns
    -------
    callable
        ``scorer(retriever, queries, y) -> float``, picklable.

    See Also
    --------
    recall_at_k : The metric on a score matrix.

    Examples
    --------
    >>> from sklearn_kcm.retrieval import TfidfRetriever, make_recall_scorer
    >>> docs = ["red apples", "green pears", "blue sky"]
    >>> retriever = TfidfRetriever(docs).fit(["apples"], [0])
    >>> make_recall_scorer(k=2)(retriever, ["pears", "sky"], [1, 2])
    1.0
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    return partial(_recall_score, k=int(k))
