"""Pure functions: what the judge reads, what it learns, and whether it beats the cascade.

The judge of the paper reads only ``x``. The small model's answer on ``x`` is
the best single signal of whether that answer is wrong, and it is numeric
whatever ``x`` is (text, dicts, images), so the judge may also read it:

- ``"X"``: the inputs (the paper's ``F_j(x)``; numeric X only);
- ``"small"``: the small model's class probabilities, as log-probabilities,
  plus three summaries of them (log of one minus the top probability, the
  log-margin between the two most likely classes and the entropy). Logs
  spread the values that crowd near 0 and 1, where the routing decisions lie;
- ``"both"``: the two side by side.

And what it learns (``C_x`` is high where the small model should answer):

- ``"task"``: the task labels; ``C_x`` is the judge's top probability (the paper);
- ``"agreement"``: the task labels too, but ``C_x`` is the probability of the
  small model's answer under the product of the two models' class
  distributions (normalised): high where a second opinion, learnt apart from
  the small model, agrees with its answer. Disagreement of two models is a
  far better sign of a mistake than either model's own top probability
  (query by committee); it needs a judge that reads X;
- ``"small_correct"``: whether the small model is right; ``C_x = P(right)``;
- ``"gain"``: whether routing would *not* help, i.e. not (large right and small
  wrong); ``C_x = 1 - P(the large model fixes the small one's mistake)``.

In ``fit`` the small (and large) model answers that the judge learns from are
out of fold: a model's answers on its own training rows are overconfident and
would teach the judge that the small model is always right.
"""

import numpy as np
import scipy.sparse as sp

from ._curves import accuracy_at_share, routing_curve, top_probability

JUDGE_INPUTS = ("X", "small", "both", "preprocessed")
# what a judge reading these sees is X itself ("preprocessed": as the small model's own
# preprocessing turned it into numbers, before it reaches the judge)
READS_X = ("X", "preprocessed")
JUDGE_TARGETS = ("task", "agreement", "small_correct", "gain")
TASK_TARGETS = ("task", "agreement")  # targets for which the judge learns the task labels
# the judge's weights tried against the small model's top probability (0: the cascade)
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
_LOG_FLOOR = 1e-6


def probability_features(proba):
    """Features of the small model's answer: log-probabilities and their summaries.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    ndarray of shape (n_samples, n_classes + 3)
        ``log(p)`` per class, ``log(1 - top)``, ``log(top) - log(second)``
        and the entropy, logs floored at 1e-6.

    Examples
    --------
    >>> import numpy as np
    >>> probability_features(np.array([[0.5, 0.5], [0.9, 0.1]])).shape
    (2, 5)
    """
    proba = np.asarray(proba, dtype=np.float64)
    log_proba = np.log(np.clip(proba, _LOG_FLOOR, 1.0))
    ordered = np.sort(log_proba, axis=1)
    top = top_probability(proba)
    entropy = -np.sum(proba * np.log(np.clip(proba, 1e-12, 1.0)), axis=1)
    return np.column_stack([
        log_proba,
        np.log(np.clip(1.0 - top, _LOG_FLOOR, 1.0)),
        ordered[:, -1] - ordered[:, -2],
        entropy,
    ])


def judge_features(X, small_proba, judge_input):
    """The judge's input matrix for ``judge_input`` in :data:`JUDGE_INPUTS` (X already
    preprocessed for ``"preprocessed"``)."""
    if judge_input in READS_X:
        return X
    answer = probability_features(small_proba)
    if judge_input == "small":
        return answer
    if sp.issparse(X):
        return sp.hstack([X, sp.csr_matrix(answer)], format="csr")
    if hasattr(X, "iloc"):  # pandas' missing values (pd.NA) become NaN
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.hstack([np.asarray(X, dtype=np.float64), answer])


def judge_labels(target, y, small_correct=None, large_correct=None):
    """What the judge learns: the task labels, or booleans (True: the small model may answer)."""
    if target in TASK_TARGETS:
        return y
    if target == "small_correct":
        return np.asarray(small_correct, dtype=bool)
    return ~(np.asarray(large_correct, dtype=bool) & ~np.asarray(small_correct, dtype=bool))


def confidence_from_proba(judge_proba, judge_classes, target, small_proba=None, classes=None):
    """``C_x`` from the judge's probabilities.

    Parameters
    ----------
    judge_proba : ndarray of shape (n_samples, n_judge_classes)
    judge_classes : ndarray of shape (n_judge_classes,)
        The judge's classes (the task's, or booleans).
    target : str
        One of :data:`JUDGE_TARGETS`.
    small_proba : ndarray of shape (n_samples, n_classes), default=None
        The small model's probabilities (``"agreement"`` only).
    classes : ndarray of shape (n_classes,), default=None
        The small model's classes, the columns of ``small_proba``.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> small = np.array([[0.6, 0.4], [0.6, 0.4]])
    >>> judge = np.array([[0.9, 0.1], [0.1, 0.9]])  # agrees, then disagrees
    >>> confidence_from_proba(judge, np.array([0, 1]), "agreement", small, np.array([0, 1]))
    array([0.93103448, 0.14285714])
    """
    if target == "task":
        return top_probability(judge_proba)
    if target == "agreement":
        return _agreement(judge_proba, judge_classes, small_proba, classes)
    # a judge that only ever saw one outcome is sure of it
    true = np.flatnonzero(np.equal(judge_classes, True))  # numpy bools: `is` would not do
    if true.size:
        return judge_proba[:, true[0]]
    return np.zeros(len(judge_proba))


def _agreement(judge_proba, judge_classes, small_proba, classes):
    """Probability of the small model's answer under the product of both distributions."""
    aligned = np.zeros_like(small_proba, dtype=np.float64)
    known = np.isin(judge_classes, classes)  # a class the judge never saw has probability 0
    aligned[:, np.searchsorted(classes, judge_classes[known])] = judge_proba[:, known]
    joint = np.asarray(small_proba, dtype=np.float64) * aligned + 1e-12
    answer = np.argmax(small_proba, axis=1)
    return joint[np.arange(len(joint)), answer] / joint.sum(axis=1)


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
