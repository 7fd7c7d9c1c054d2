"""``predict_log_proba`` from ``predict_proba``, as scikit-learn's classifiers give it."""

import numpy as np


def log_of(proba):
    """``log(proba)``, -inf where a probability is 0 (without a warning).

    Examples
    --------
    >>> log_of(np.array([[1.0, 0.0]])).tolist()
    [[0.0, -inf]]
    """
    with np.errstate(divide="ignore"):
        return np.log(proba)
