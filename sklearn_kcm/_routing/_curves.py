"""Pure functions of routing: confidence, masks, thresholds, and members' class alignment."""


import numpy as np
from sklearn.utils.validation import check_consistent_length

from .._compat import validate_params
from .._utils._warnings import warn


def top_probability(proba):
    """Confidence ``C`` of each row of class probabilities: its largest entry."""
    return np.max(proba, axis=1)


def route_to_large(confidence, epsilon):
    """Boolean mask of the samples the large model answers: ``C <= epsilon``.

    A confidence that is not a number (NaN) is "not sure": the large model answers.

    Examples
    --------
    >>> route_to_large(np.array([0.99, 0.5, np.nan]), 0.9).tolist()
    [False, True, True]
    """
    return ~(np.asarray(confidence) > epsilon)


def threshold_for_share(confidence, share):
    """The ``epsilon`` that sends a fraction ``share`` of these samples to the large model.

    Samples with ``C <= epsilon`` go to the large model. Without ties epsilon
    is the ``ceil(share * n)``-th smallest confidence. When confidences tie at
    that value, every threshold routes either all of the tied samples or none
    of them: the one whose share is nearer ``share`` is returned (ties go to
    the smaller share, so a budget is not overspent on a tie).

    Examples
    --------
    >>> threshold_for_share(np.array([0.2, 0.9, 0.5, 0.7]), 0.5)
    0.5
    >>> threshold_for_share(np.array([1.0, 1.0, 1.0, 0.4]), 0.5)  # 1.0 would send all
    0.4
    """
    ordered = np.sort(np.asarray(confidence, dtype=np.float64))
    n = len(ordered)
    count = int(np.ceil(share * n))
    if count == 0:
        return float(np.nextafter(ordered[0], -np.inf))
    value = ordered[count - 1]
    below = int(np.searchsorted(ordered, value, side="left"))  # routed without the ties
    with_ties = int(np.searchsorted(ordered, value, side="right"))
    if with_ties - count < count - below:
        return float(value)
    return float(ordered[below - 1]) if below else float(np.nextafter(value, -np.inf))


def threshold_for_budget(confidence, target):
    """:func:`threshold_for_share`, warning when ties keep the share far from ``target``."""
    epsilon = threshold_for_share(confidence, target)
    share = float(np.mean(route_to_large(confidence, epsilon)))
    if abs(share - target) > 0.02 + 0.25 * target:
        warn(
            f"epsilon=LargeShare({target:g}) cannot be met: the "
            f"{len(confidence)} out-of-fold confidences take only "
            f"{np.unique(confidence).size} distinct values, so the nearest threshold "
            f"sends {share:.0%} of the training rows to the large model. The routing is "
            "too sure of itself (e.g. the small model is right on every training row) or "
            "the rows are too few: give a float epsilon, more data, or another judge.")
    return epsilon


@validate_params(
    {"confidence": ["array-like"], "small_correct": ["array-like"],
     "large_correct": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def routing_curve(confidence, small_correct, large_correct):
    """Accuracy against the share sent to the large model, for every threshold.

    Parameters
    ----------
    confidence : array-like of shape (n_samples,)
        ``C_x`` of each sample (high: the small model answers).
    small_correct, large_correct : array-like of bool, shape (n_samples,)
        Whether each model's answer to the sample is right.

    Returns
    -------
    thresholds : ndarray
        Every distinct routing, from none routed (below the smallest
        confidence) to all routed (the largest confidence).
    large_share : ndarray
        Share of samples with ``C <= threshold``.
    accuracy : ndarray
        Accuracy when those go to the large model and the rest to the small.

    See Also
    --------
    RoutingCurveDisplay : Draws the curve.
    KCMEnsemble.routing_curve : The curve of a fitted ensemble on (X, y).

    Examples
    --------
    >>> from sklearn_kcm import routing_curve
    >>> t, share, acc = routing_curve([0.9, 0.4], [True, False], [True, True])
    >>> share.tolist(), acc.tolist()
    ([0.0, 0.5, 1.0], [0.5, 1.0, 1.0])
    """
    check_consistent_length(confidence, small_correct, large_correct)
    confidence = np.asarray(confidence, dtype=np.float64)
    order = np.argsort(confidence, kind="stable")
    ordered = confidence[order]
    small = np.asarray(small_correct, dtype=np.float64)[order]
    large = np.asarray(large_correct, dtype=np.float64)[order]
    n = len(ordered)
    # routing the k least confident: large right on those, small right on the rest
    routed = np.arange(n + 1)
    correct = np.concatenate([[0.0], np.cumsum(large)]) + small.sum() - np.concatenate(
        [[0.0], np.cumsum(small)]
    )
    # keep one point per distinct threshold: the end of each run of ties
    ends = np.concatenate([[True], ordered[1:] != ordered[:-1], [True]])[1:]
    keep = np.concatenate([[0], routed[1:][ends]])
    thresholds = np.concatenate([[np.nextafter(ordered[0], -np.inf)], ordered[keep[1:] - 1]])
    return thresholds, keep / n, correct[keep] / n


def accuracy_at_share(large_share, accuracy, share):
    """Accuracy of a routing curve when at most ``share`` of the samples go to the large model.

    ``share`` may be a number or an array of them; the curve is the one of
    :func:`routing_curve` (its shares start at 0 and increase).

    Examples
    --------
    >>> accuracy_at_share(np.array([0.0, 0.5, 1.0]), np.array([0.5, 1.0, 1.0]), [0.4, 0.5])
    array([0.5, 1. ])
    """
    return np.asarray(accuracy)[np.searchsorted(large_share, share, side="right") - 1]


def oracle_routing_curve(small_correct, large_correct):
    """Compute the routing curve of an oracle judge, the best any judge can reach.

    It sends first the samples that the large model gets right and the small
    model wrong, then those the two get alike, last those only the small model
    gets right: at every share, no routing is more accurate.

    Parameters
    ----------
    small_correct, large_correct : array-like of bool, shape (n_samples,)
        Whether each model's answer to each sample is right.

    Returns
    -------
    thresholds, large_share, accuracy : ndarray
        As :func:`routing_curve` gives them.

    Examples
    --------
    >>> _, share, acc = oracle_routing_curve([True, False, True], [True, True, False])
    >>> share.round(2).tolist(), acc.round(2).tolist()
    ([0.0, 0.33, 0.67, 1.0], [0.67, 1.0, 1.0, 0.67])
    """
    benefit = np.asarray(large_correct, dtype=int) - np.asarray(small_correct, dtype=int)
    # distinct confidences (ties broken by position): a point per sample, so that any
    # share of a group can be read, as the oracle may send any subset of it
    return routing_curve(np.linspace(0.0, 0.5, len(benefit)) - benefit, small_correct,
                         large_correct)


def gap_recovered(large_share, accuracy, levels=(0.5, 0.8)):
    """Summarise a routing curve as RouteLLM does: APGR and CPT.

    The performance gap recovered at a share is ``(accuracy - small) / (large -
    small)``, where ``small`` and ``large`` are the accuracies of the curve's ends
    (no sample routed, every sample routed). APGR is its area over the share
    axis (the trapezoid rule: linear between the curve's points); CPT(x) is the
    smallest share that recovers ``x`` of the gap, read by linear interpolation on
    the curve made non-decreasing (its running maximum).

    Parameters
    ----------
    large_share, accuracy : array-like
        A routing curve (see :func:`routing_curve`): shares from 0 to 1.
    levels : sequence of float, default=(0.5, 0.8)
        The shares of the gap that CPT is read at.

    Returns
    -------
    dict
        ``apgr`` and ``cpt`` (a dict level -> share), NaN where the large model
        is not more accurate than the small one (there is no gap to recover).

    Examples
    --------
    >>> metrics = gap_recovered([0.0, 0.5, 1.0], [0.6, 0.9, 1.0])
    >>> round(metrics["apgr"], 3), {k: round(v, 3) for k, v in metrics["cpt"].items()}
    (0.625, {0.5: 0.333, 0.8: 0.6})
    """
    share = np.asarray(large_share, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    gap = accuracy[-1] - accuracy[0]
    if not gap > 0:
        return {"apgr": float("nan"), "cpt": {level: float("nan") for level in levels}}
    recovered = (accuracy - accuracy[0]) / gap
    apgr = float(np.sum(np.diff(share) * (recovered[1:] + recovered[:-1]) / 2))
    rising = np.maximum.accumulate(recovered)
    cpt = {}
    for level in levels:
        after = int(np.argmax(rising >= level))  # the first point at or above the level
        if after == 0:
            cpt[level] = float(share[0])
            continue
        lo, hi = rising[after - 1], rising[after]
        cpt[level] = float(share[after - 1] + (level - lo) / (hi - lo)
                           * (share[after] - share[after - 1]))
    return {"apgr": apgr, "cpt": cpt}
