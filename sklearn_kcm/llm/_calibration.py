"""Correcting a language model's bias toward some labels, as one additive bias on its scores.

A label-scoring LM prefers some labels whatever the text (a 270M model on a
two-class sentiment task may answer one label for most snippets). Two fixes,
both a bias ``b`` added to the log-scores before the softmax, so that
``p(label | text) ∝ p_LM(label | text) · exp(b_label)``:

- ``content_free`` (Zhao et al., 2021, "Calibrate before use"): the model's
  mean label probabilities ``p_cf`` on prompts whose text says nothing
  ("N/A", "", "[MASK]") measure its bias; ``b = -log p_cf`` divides it out.
  Needs no label, three calls.
- ``labelled``: ``b`` fitted by maximum likelihood on a few labelled texts
  (a multinomial logistic regression with the scores as fixed offsets and
  only intercepts free), which also corrects a prior that differs from the
  model's.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

CALIBRATIONS = ("content_free", "labelled")
CONTENT_FREE_TEXTS = ("N/A", "", "[MASK]")
_RIDGE = 1e-3  # softmax ignores a common shift of b; the ridge picks the smallest b


def content_free_bias(scores):
    """``-log`` of the mean label probabilities on content-free prompts.

    Parameters
    ----------
    scores : ndarray of shape (n_prompts, n_labels)
        Valid label scores (log-probabilities up to a constant per row).

    Returns
    -------
    ndarray of shape (n_labels,)

    Examples
    --------
    >>> import numpy as np
    >>> bias = content_free_bias(np.log([[0.8, 0.2], [0.6, 0.4]]))
    >>> np.round(softmax(np.log([0.7, 0.3]) + bias), 3).tolist()  # the mean bias, divided out
    [0.5, 0.5]
    """
    mean = softmax(np.asarray(scores, dtype=np.float64), axis=1).mean(axis=0)
    bias = -np.log(np.clip(mean, 1e-12, None))
    return bias - bias.mean()


def fitted_bias(scores, label_index):
    """The additive bias that maximises the likelihood of the labels given the scores.

    Parameters
    ----------
    scores : ndarray of shape (n_texts, n_labels)
        Valid label scores; ``-inf`` allowed for labels the model cannot produce.
    label_index : ndarray of int, shape (n_texts,)
        The true label of each text, as a column of ``scores``.

    Returns
    -------
    ndarray of shape (n_labels,)

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.log([[0.9, 0.1], [0.7, 0.3], [0.6, 0.4], [0.95, 0.05]])
    >>> bias = fitted_bias(scores, np.array([0, 1, 1, 0]))
    >>> (softmax(scores + bias, axis=1).argmax(axis=1) == [0, 1, 1, 0]).all()
    np.True_
    """
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.where(np.isfinite(scores), scores, -1e30)  # keeps -inf labels impossible
    rows = np.arange(len(finite))

    def loss(bias):
        log_p = log_softmax(finite + bias, axis=1)
        gradient = softmax(finite + bias, axis=1)
        gradient[rows, label_index] -= 1
        return (-log_p[rows, label_index].mean() + _RIDGE * bias @ bias,
                gradient.mean(axis=0) + 2 * _RIDGE * bias)

    return minimize(loss, np.zeros(scores.shape[1]), jac=True, method="L-BFGS-B").x


def calibrated_proba(scores, bias):
    """``softmax(scores + bias)`` of one row of label scores."""
    return softmax(np.asarray(scores, dtype=np.float64) + bias)
