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
  measured on the same rows), is tested on the paired differences
  ``d = routed right - r * large right``, in ``[-r, 1]``: "the mean of ``d`` is
  below 0", by a betting martingale (Waudby-Smith and Ramdas, 2023, the test
  the Learn-then-Test paper recommends). The two answers agree on most rows,
  so ``d`` varies little and the test is tight where a union of two bounds,
  one on each accuracy, certified nothing at ``r = 0.99`` on 4,000 MNIST
  rows (Hoeffding's bound on ``d``, the textbook choice, nothing at
  ``r = 0.97`` on 400 rows).

A promise near the large model's own accuracy needs many rows: on ``n`` rows
the binomial tail alone costs about ``sqrt(a (1 - a) / n)`` of accuracy.
"""


import numpy as np
from scipy.stats import beta, binom
from sklearn.utils.validation import check_consistent_length

from .._utils._warnings import warn
from ._curves import route_to_large, routing_curve


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


def betting_p_value(z, mean, delta, *, seed=0):
    """P-value of "the mean of ``z`` is at most ``mean``", for ``z`` in [0, 1], by betting.

    The wealth of a gambler who bets ``lambda_t`` on each ``z_t - mean``, in a
    fixed random order, ``K_t = prod(1 + lambda_t (z_t - mean))``, is a
    supermartingale under the null; by Ville's inequality ``1 / max K_t`` is a
    valid p-value. Each bet reads only the rows before it (the predictable
    plug-in of Waudby-Smith and Ramdas, 2023: the larger the variance so far,
    the smaller the bet, at most half of what ruins the gambler).

    Examples
    --------
    >>> betting_p_value(np.ones(30), 0.5, 0.1) < 0.01  # always above the mean
    True
    >>> betting_p_value(np.full(30, 0.4), 0.5, 0.1)  # never: nothing won
    1.0
    """
    z = np.random.default_rng(seed).permutation(np.asarray(z, dtype=np.float64))
    n = len(z)
    seen = np.arange(1, n + 1)
    mean_so_far = (0.5 + np.cumsum(z)) / (seen + 1)
    variance_so_far = (0.25 + np.cumsum((z - mean_so_far) ** 2)) / (seen + 1)
    before = np.r_[0.25, variance_so_far[:-1]]  # what each bet may read
    bets = np.minimum(np.sqrt(2 * np.log(1 / delta) / (n * before)), 0.5 / mean)
    log_wealth = np.cumsum(np.log1p(bets * (z - mean)))
    return float(min(1.0, np.exp(-max(0.0, log_wealth.max()))))


def accuracy_lower_bound(correct, delta):
    """Clopper-Pearson lower bound of an accuracy, at level ``delta`` (one-sided).

    Examples
    --------
    >>> round(accuracy_lower_bound(np.r_[np.ones(95), np.zeros(5)].astype(bool), 0.05), 3)
    0.898
    """
    n, right = len(correct), int(np.sum(correct))
    return 0.0 if right == 0 else float(beta.ppf(delta, right, n - right + 1))


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
        :func:`routing_curve` (share 0 first); NaN for those the fixed
        sequence stopped before.

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

    def p_value(point):
        if not relative_to_large:
            errors = int(np.rint((1.0 - accuracy[point]) * n))
            return binomial_p_value(errors, n, target)
        routed = route_to_large(confidence, thresholds[point])
        d = np.where(routed, large_correct, small_correct) - target * large_correct
        return betting_p_value((d + target) / (1 + target), target / (1 + target), delta)

    # fixed sequence: from every input sent (the last point) towards none sent; the
    # points after the first that fails are not tested (NaN)
    p_values = np.full(len(thresholds), np.nan)
    certified = None
    for point in range(len(thresholds) - 1, -1, -1):
        p_values[point] = p_value(point)
        if p_values[point] > delta:
            break
        certified = point
    if certified is None:
        return None, 1.0, p_values
    return float(thresholds[certified]), float(shares[certified]), p_values


def fit_guarantee(confidence, small_correct, large_correct, *, target, relative_to, delta,
                  calibration="held out"):
    """The threshold of ``KCMEnsemble(epsilon=AccuracyTarget(...))`` and the promise it makes.

    :func:`guaranteed_threshold` on the calibration rows (``calibration``:
    "held out" or "out of fold", as the promise says). Where no
    threshold is certified, every input goes to the large model (the most
    accurate routing there is, though not certified) and a warning says what to
    change.

    Returns
    -------
    epsilon : float
        The threshold (``inf`` where none is certified: every input is sent).
    promise : dict
        ``promise``, in words; ``target``, ``relative_to`` and ``delta`` as
        asked; ``certified``; ``calibration`` and ``n_rows``, the
        calibration rows; ``large_share``, the share of them the threshold
        sends to the large model; ``calibration_accuracy`` and
        ``large_accuracy``, the routed and the large model's accuracy on them.
    """
    small_correct = np.asarray(small_correct, dtype=bool)
    large_correct = np.asarray(large_correct, dtype=bool)
    relative = relative_to == "large"
    threshold, share, _ = guaranteed_threshold(confidence, small_correct, large_correct,
                                               target=target, relative_to_large=relative,
                                               delta=delta)
    n = len(small_correct)
    asked = f"{target:g} x the large model's" if relative else f"{target:g}"
    promise = {"promise": f"accuracy >= {asked}, with probability {1 - delta:g}",
               "target": target, "relative_to": relative_to, "delta": delta,
               "certified": threshold is not None, "calibration": calibration, "n_rows": n,
               "large_share": share,
               "large_accuracy": float(np.mean(large_correct))}
    if threshold is None:
        if relative:
            why = ("the large model is certified against itself only with more rows, "
                   f"at a target further below 1 than {target:g}")
        else:
            best = accuracy_lower_bound(large_correct, delta)
            why = (f"even the large model alone, right on {promise['large_accuracy']:.1%} "
                   f"of them, is certified only above {best:.1%} at that probability")
        warn(
            f"No threshold certifies an accuracy >= {asked} with probability {1 - delta:g} "
            f"on the {n} labelled rows {calibration}: {why}. Every input goes to the large "
            "model (epsilon_=inf, guarantee_['certified'] False). Label more rows, lower "
            "the AccuracyTarget's accuracy, or raise its delta.")
        threshold = np.inf
    routed = route_to_large(confidence, threshold)
    promise["calibration_accuracy"] = float(np.mean(np.where(routed, large_correct,
                                                             small_correct)))
    return float(threshold), promise
