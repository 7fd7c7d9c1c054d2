"""``Judge``: the judge of a ``KCMEnsemble`` with what it reads and learns, in one parameter.

``KCMEnsemble(judge=KANJudgeClassifier())`` takes a classifier and lets
``"auto"`` decide what it reads and learns; ``Judge(estimator, input=...,
target=...)`` says it. The choices live with the judge they configure, not as
flags of the ensemble.
"""

from .._compat import HasMethods, StrOptions
from .._utils._options import Options
from ._signals import JUDGE_INPUTS, JUDGE_TARGETS


class Judge(Options):
    """The judge of :class:`~sklearn_kcm.KCMEnsemble`: a classifier, what it reads and learns.

    Parameters
    ----------
    estimator : classifier or None, default=None
        The judge's classifier; None is the default KAN judge
        (:class:`~sklearn_kcm.KANJudgeClassifier`, fitted to what it reads).
    input : {"auto", "X", "small", "both", "preprocessed"}, default="auto"
        What the judge reads: the inputs (the paper's ``F_j(x)``), the small
        model's out-of-fold answer, both, or X through the small model
        Pipeline's preprocessing. ``"auto"``: ``"X"`` on numeric X (or for an
        ``estimator`` Pipeline), ``"preprocessed"`` on a DataFrame of text or
        category columns with the default judge and a small model Pipeline,
        ``"small"`` for anything else (text, dicts...). See the method guide.
    target : {"auto", "agreement", "task", "small_correct", "gain"}, \
            default="auto"
        What the judge learns, and what its ``C_x`` means (high: the small
        model answers): the task labels, ``C_x`` the probability of the small
        model's answer under the product of the two models' distributions
        (``"agreement"``) or the judge's top probability (``"task"``, the
        paper); whether the small model's out-of-fold answer is right
        (``"small_correct"``); whether routing would not help (``"gain"``,
        needs the large model's out-of-fold answers). ``"auto"``:
        ``"agreement"`` where the judge reads X alone, else ``"small_correct"``.
    fallback : bool, default=True
        Compare out of fold the judge's routing with the small model's top
        probability (the cascade) and their geometric blends
        ``judge ** w * top ** (1 - w)``, ``w`` in 0, 0.25, ..., 1, and route by
        the best (``routing_by_``, ``routing_weight_``). False: the judge alone.
    refit : bool, default=True
        Fit the judge on every training row after its out-of-fold fits. False:
        the average of the out-of-fold judges (cross-fitting), one fit fewer.

    Examples
    --------
    >>> from sklearn_kcm import Judge
    >>> Judge(input="small", target="small_correct")
    Judge(input='small', target='small_correct')
    """

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict_proba"])],
        "input": [StrOptions({"auto", *JUDGE_INPUTS})],
        "target": [StrOptions({"auto", *JUDGE_TARGETS})],
        "fallback": ["boolean"],
        "refit": ["boolean"],
    }

    def __init__(self, estimator=None, *, input="auto", target="auto", fallback=True,
                 refit=True):
        self.estimator = estimator
        self.input = input
        self.target = target
        self.fallback = fallback
        self.refit = refit


def judge_spec(judge):
    """``judge`` (None, "small", a classifier or a :class:`Judge`) as a validated Judge;
    ``"small"`` (the cascade: no judge) stays ``"small"``."""
    if isinstance(judge, str):
        return judge
    if isinstance(judge, Judge):
        return judge.validated()
    return Judge(judge)
