"""Pure functions: what routes at predict time, the judge, the cascade or a blend of the two.

The judge is the method; the small model's own top probability (the classic
confidence cascade) is the fallback. Both are scored on out-of-fold signals of
the training rows, over the shares sent to the large model where budgets lie,
and the best routes.
"""

import numpy as np

from ._curves import accuracy_at_share, routing_curve, top_probability

# the judge's weights tried against the small model's top probability (0: the cascade)
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def routing_quality(confidence, small_correct, large_correct, max_share=0.5):
    """Mean accuracy of the routing over shares sent to the large model in [0, max_share].

    The area under the routing curve where budgets lie, divided by its width:
    two confidences are compared by it on the same samples (higher is better).

    Examples
    --------
    >>> import numpy as np
    >>> small_right, large_right = np.array([1, 1, 0, 0]), np.array([1, 1, 1, 1])
    >>> good, bad = np.array([0.9, 0.8, 0.2, 0.1]), np.array([0.1, 0.2, 0.8, 0.9])
    >>> bool(routing_quality(good, small_right, large_right)
    ...      > routing_quality(bad, small_right, large_right))
    True
    """
    _, share, accuracy = routing_curve(confidence, small_correct, large_correct)
    return float(np.mean(accuracy_at_share(share, accuracy, np.linspace(0.0, max_share, 51))))


def blend_confidence(judge_confidence, small_confidence, weight):
    """``C_x`` of the judge and the small model's top probability, blended geometrically.

    ``judge_confidence ** weight * small_confidence ** (1 - weight)``: 1 routes
    by the judge alone, 0 by the small model alone (the cascade). In between,
    a row is sent to the large model when the judge doubts the small model's
    answer *and* the small model is not sure of it itself.

    Examples
    --------
    >>> import numpy as np
    >>> blend_confidence(np.array([0.25, 1.0]), np.array([1.0, 0.25]), 0.5)
    array([0.5, 0.5])
    """
    if weight == 1.0:
        return np.asarray(judge_confidence, dtype=np.float64)
    if weight == 0.0:
        return np.asarray(small_confidence, dtype=np.float64)
    judge_confidence = np.clip(judge_confidence, 0.0, 1.0)
    return judge_confidence ** weight * np.clip(small_confidence, 0.0, 1.0) ** (1.0 - weight)


def choose_routing(judge_confidence, small_proba, small_correct, large_correct=None,
                   weights=BLEND_WEIGHTS, small_confidence=None):
    """The blend of the judge and the small model's top probability that routes best.

    Each weight of ``weights`` (see :func:`blend_confidence`) is scored by
    :func:`routing_quality` on out-of-fold signals; the best wins, the larger
    weight on a tie (the judge is the method, the cascade the fallback).

    Parameters
    ----------
    judge_confidence : ndarray of shape (n_samples,)
        The judge's out-of-fold ``C_x``.
    small_proba : ndarray of shape (n_samples, n_classes)
        The small model's out-of-fold probabilities.
    small_correct : ndarray of bool, shape (n_samples,)
        Whether those are right.
    large_correct : ndarray of bool, shape (n_samples,), default=None
        Whether the large model's out-of-fold answers are right; None counts
        it right everywhere (its answers are not known).
    weights : sequence of float in [0, 1], default=BLEND_WEIGHTS
        The candidates; must hold 0 and 1.
    small_confidence : ndarray of shape (n_samples,), default=None
        The small model's own confidence in [0, 1]; None means the top
        probability of ``small_proba``.

    Returns
    -------
    weight : float
        The judge's weight in the chosen blend.
    quality : dict
        :func:`routing_quality` of ``"small"`` (weight 0), ``"judge"``
        (weight 1) and ``"blend"`` (the best weight strictly in between,
        or None if ``weights`` holds none).
    confidence : ndarray of shape (n_samples,)
        The out-of-fold ``C_x`` of the chosen blend.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2], [0.7, 0.3]])
    >>> right = np.array([True, True, False, True])
    >>> choose_routing(np.array([0.9, 0.8, 0.1, 0.7]), proba, right)[0]
    1.0
    """
    if large_correct is None:
        large_correct = np.ones(len(small_correct), dtype=bool)
    if small_confidence is None:
        small_confidence = top_probability(small_proba)
    scored = {}
    for weight in sorted(weights, reverse=True):  # a tie keeps the larger weight
        confidence = blend_confidence(judge_confidence, small_confidence, float(weight))
        scored[float(weight)] = (routing_quality(confidence, small_correct, large_correct),
                                 confidence)
    best = max(scored, key=lambda weight: scored[weight][0])
    inner = [weight for weight in scored if 0.0 < weight < 1.0]
    best_inner = max(inner, key=lambda weight: scored[weight][0]) if inner else None
    quality = {"small": scored[0.0][0], "judge": scored[1.0][0],
               "blend": None if best_inner is None else scored[best_inner][0]}
    return best, quality, scored[best][1]


def routing_name(weight):
    """What routes for a blend weight: ``"judge"`` (1), ``"small"`` (0) or ``"blend"``."""
    return {1.0: "judge", 0.0: "small"}.get(float(weight), "blend")
