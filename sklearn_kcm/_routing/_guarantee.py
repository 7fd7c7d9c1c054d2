"""A routing threshold that comes with an accuracy guarantee (Learn-then-Test).

Learn-then-Test (Angelopoulos, Bates, Candès, Jordan and Lei, 2021) turns the
choice of a threshold into multiple testing. For each candidate threshold, the
null hypothesis is "routed at this threshold, the accuracy on new inputs is
below the target". A threshold whose null is rejected at level ``delta`` is
safe. Testing in a fixed sequence, from the threshold that sends the most
inputs to the large model to the one that sends the fewest, and stopping at
the first null that stands, bounds the chance that any rejected null was true
by ``delta``. The cheapest rejected threshold then holds the target with
probability at least ``1 - delta`` over the draw of the calibration rows, the
labelled rows that were not used to fit what routes (out-of-fold answers, or a
held-out set), exchangeable with the inputs to come.

The p-values:

- an absolute target ``a`` is tested with the exact binomial tail: with ``e``
  errors on ``n`` rows, ``p = P(Binomial(n, 1 - a) <= e)``;
- a target relative to the large model, ``r`` times its accuracy (unknown,
  estimated on the same rows), splits ``delta`` in two (a union bound): the
  large model's accuracy is bounded above by Clopper-Pearson at ``delta / 2``,
  and the routed accuracy tested as above against ``r`` times that bound at
  ``delta / 2``. (Hoeffding's bound on the paired losses, the textbook choice,
  certified nothing on 400 rows at ``r = 0.97``: its range is ``1 + r``.)

A promise near the large model's own accuracy needs many rows: on ``n`` rows
the binomial tail alone costs about ``sqrt(a (1 - a) / n)`` of accuracy.
"""


import numpy as np
from scipy.stats import beta, binom
from sklearn.utils.validation import check_consistent_length

from ._curves import routing_curve


def binomial_p_value(errors, n, target_accuracy):
    """P-value of "accuracy < ``target_accuracy``" after ``errors`` mistakes on ``n`` rows.

    The exact binomial tail: the probability of ``errors`` or fewer mistakes if
    the error rate were ``1 - target_accuracy``, the largest error rate the null
    allows.

    Examples
    --------
    >>> round(binomial_p_value(0, 50, 0.95), 4)  # 0.95 ** 50
    0.0769
    >>> binomial_p_value(10, 50, 0.95) > 0.5
    True
    """
    return float(binom.cdf(errors, n, 1.0 - target_accuracy))


def accuracy_upper_bound(correct, delta):
    """Clopper-Pearson upper bound of an accuracy, at level ``delta`` (one-sided).

    Examples
    --------
    >>> round(accuracy_upper_bound(np.r_[np.ones(95), np.zeros(5)].astype(bool), 0.05), 3)
    0.98
    """
    n, right = len(correct), int(np.sum(correct))
    return 1.0 if right == n else float(beta.ppf(1 - delta, right + 1, n - right))


def guaranteed_threshold(confidence, small_correct, large_correct, *, target,
                         relative_to_large=False, delta=0.1):
    """The cheapest threshold whose accuracy meets ``target`` with probability ``1 - delta``.

    Parameters
    ----------
    confidence : array-like of shape (n_samples,)
        ``C_x`` of the calibration rows; ``C <= threshold`` goes to the large model.
    small_correct, large_correct : array-like of bool, shape (n_samples,)
        Whether each model's answer to each calibration row is right.
    target : float in (0, 1]
        The accuracy to meet: absolute, or, with ``relative_to_large``, the
        fraction of the large model's accuracy.
    relative_to_large : bool, default=False
        Read ``target`` as a fraction of the large model's accuracy.
    delta : float in (0, 1)
        The chance, over the draw of the calibration rows, that the promise fails.

    Returns
    -------
    threshold : float or None
        The cheapest threshold that is certified; None when none is (not even
        sending every input to the large model meets the target with these rows).
    share : float
        The share of the calibration rows it sends to the large model (1.0 when None).
    p_values : ndarray
        The p-value of every candidate threshold, in the order of
        :func:`routing_curve` (share 0 first).

    Examples
    --------
    Two hundred rows: the small model is wrong on the 20 least confident, the
    large model is right everywhere. Sending those 20 gives an accuracy of 1
    on the calibration rows, which certifies 0.98 at delta = 0.1:

    >>> confidence = np.linspace(0, 1, 200)
    >>> small = confidence > 0.1
    >>> threshold, share, _ = guaranteed_threshold(confidence, small, np.ones(200, bool),
    ...                                            target=0.98, delta=0.1)
    >>> round(share, 2)
    0.1
    """
    check_consistent_length(confidence, small_correct, large_correct)
    if not 0 < target <= 1:
        raise ValueError(f"target={target!r} must be an accuracy in (0, 1].")
    if not 0 < delta < 1:
        raise ValueError(f"delta={delta!r} must lie in (0, 1).")
    small_correct = np.asarray(small_correct, dtype=bool)
    large_correct = np.asarray(large_correct, dtype=bool)
    thresholds, shares, accuracy = routing_curve(confidence, small_correct, large_correct)
    n = len(small_correct)
    if relative_to_large:
        target = target * accuracy_upper_bound(large_correct, delta / 2)
        delta = delta / 2
    errors = np.rint((1.0 - accuracy) * n).astype(int)
    p_values = np.array([binomial_p_value(e, n, target) for e in errors])
    # fixed sequence: from every input sent (the last point) towards none sent
    certified = None
    for point in range(len(thresholds) - 1, -1, -1):
        if p_values[point] > delta:
            break
        certified = point
    if certified is None:
        return None, 1.0, p_values
    return float(thresholds[certified]), float(shares[certified]), p_values
