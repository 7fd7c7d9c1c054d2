"""Pure functions: what the judge reads, what it learns, and what its ``C_x`` means.

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

from ._curves import top_probability

JUDGE_INPUTS = ("X", "small", "both", "preprocessed")
# what a judge reading these sees is X itself ("preprocessed": as the small model's own
# preprocessing turned it into numbers, before it reaches the judge)
READS_X = ("X", "preprocessed")
JUDGE_TARGETS = ("task", "agreement", "small_correct", "gain")
TASK_TARGETS = ("task", "agreement")  # targets for which the judge learns the task labels
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


