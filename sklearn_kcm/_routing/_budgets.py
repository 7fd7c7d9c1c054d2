"""What ``epsilon`` may be besides a threshold: a budget that fits ``epsilon_`` from data.

``LargeShare(0.2)``: the share of inputs the large model may see (a quantile of
the judge's out-of-fold confidences). ``AccuracyTarget(0.99, relative_to="large")``:
an accuracy to meet with probability ``1 - delta``, at the smallest share that
certifies it (Learn-then-Test, :mod:`._guarantee`).
"""

from numbers import Real

import numpy as np

from .._compat import Interval, StrOptions
from .._utils._options import Options

# the share that epsilon="auto" sends to the large model
AUTO_SHARE = 0.2


class LargeShare(Options):
    """A budget for ``epsilon``: the share of inputs sent to the large model.

    ``epsilon_`` is fitted as the ``share`` quantile of the judge's
    out-of-fold confidences on the training rows, which is what the fitted
    judge's confidences look like on new inputs of the same distribution.

    Parameters
    ----------
    share : float in (0, 1], default=0.2
        The share of inputs the large model may see.

    Examples
    --------
    >>> from sklearn_kcm import LargeShare
    >>> LargeShare(0.1)
    LargeShare(share=0.1)
    """

    _parameter_constraints = {"share": [Interval(Real, 0, 1, closed="right")]}

    def __init__(self, share=AUTO_SHARE):
        self.share = share


class AccuracyTarget(Options):
    """A budget for ``epsilon``: an accuracy promised with probability ``1 - delta``.

    ``epsilon_`` is the threshold that sends the fewest inputs to the large
    model among those that certify the accuracy on calibration rows
    (Learn-then-Test); the fitted ensemble's ``guarantee_`` says what was
    promised and against which models.

    Parameters
    ----------
    accuracy : float in (0, 1]
        The accuracy to meet: absolute, or a fraction of the large model's.
    relative_to : {"large"} or None, default=None
        ``"large"``: ``accuracy`` is a fraction of the large model's accuracy
        (0.99: 99% of it); None: an absolute accuracy.
    delta : float in (0, 1), default=0.1
        The chance that the promise fails, over the draw of the labelled rows.
    calibration : float in (0, 1) or "oof", default=0.25
        The rows that certify it: a share of the labelled rows held out of a
        first fit and answered by that fitted ensemble (one large call); the
        judge and threshold it certifies are kept, and the members refitted on
        every labelled row, so that the promise is checked against the large
        model a user would fit on all of them. Or ``"oof"``: both members'
        answers out of fold on every labelled row (``cv`` more large fits, or
        a call per row of an LLM; the promise is the fold models', kept in
        72-95% of 200 splits).

    Examples
    --------
    >>> from sklearn_kcm import AccuracyTarget
    >>> AccuracyTarget(0.99, relative_to="large")
    AccuracyTarget(accuracy=0.99, relative_to='large')
    """

    _parameter_constraints = {
        "accuracy": [Interval(Real, 0, 1, closed="right")],
        "relative_to": [None, StrOptions({"large"})],
        "delta": [Interval(Real, 0, 1, closed="neither")],
        "calibration": [Interval(Real, 0, 1, closed="neither"), StrOptions({"oof"})],
    }

    def __init__(self, accuracy, *, relative_to=None, delta=0.1, calibration=0.25):
        self.accuracy = accuracy
        self.relative_to = relative_to
        self.delta = delta
        self.calibration = calibration

    @property
    def held_out(self):
        """Whether held-out rows certify the threshold (else out-of-fold answers)."""
        return self.calibration != "oof"


EPSILON_CONSTRAINT = [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"}), LargeShare]


def budget_of(epsilon):
    """What ``epsilon`` asks for: a float threshold, a :class:`LargeShare` or an
    :class:`AccuracyTarget` (validated; ``"auto"`` is ``LargeShare()``)."""
    if isinstance(epsilon, (bool, np.bool_)):
        raise ValueError(
            f"epsilon={epsilon!r} is a boolean; give a float threshold in [0, 1] "
            "(e.g. 0.98), or a budget: LargeShare(0.2) sends a share of the inputs to the "
            "large model.")
    if isinstance(epsilon, str):  # "auto", the only string the constraints let through
        return LargeShare()
    if isinstance(epsilon, (LargeShare, AccuracyTarget)):
        return epsilon.validated()
    return float(epsilon)


def share_of(epsilon):
    """The share a budget ``epsilon`` sends to the large model; None for a threshold."""
    budget = budget_of(epsilon)
    return budget.share if isinstance(budget, LargeShare) else None


def accuracy_target(epsilon):
    """The :class:`AccuracyTarget` that ``epsilon`` is, or None."""
    budget = budget_of(epsilon)
    return budget if isinstance(budget, AccuracyTarget) else None
