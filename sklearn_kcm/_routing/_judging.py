"""Fitting the judge on out-of-fold signals, and choosing what routes.

The judge learns from answers the small (and large) model gave on rows they
had not seen (see :mod:`._signals`). Its own confidences on the training
rows are taken out of fold too, for a budget (``LargeShare``) and for the fallback,
which blends the judge with the small model's confidence, or routes by that
alone, when the judge alone routes worse.
"""


import numpy as np
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if

from .._compat import _num_samples, _routing_enabled, _safe_indexing
from .._utils._warnings import warn
from ._curves import top_probability
from ._fallback import choose_routing, routing_name
from ._folds import aligned_proba, out_of_fold_proba
from ._signals import TASK_TARGETS, confidence_from_proba, judge_features, judge_labels

# The judge's out-of-fold confidences (a LargeShare budget, the fallback) come from the
# first folds that hold this many rows: a share of 20% measured on 4,000 rows has a
# standard error of 0.6 point, and on 20,000 rows one fold judge is fitted instead
# of five.
MIN_OOF_ROWS = 4000
# Each judge (the fold judges and the one refitted) learns from at most this many rows, a
# sample stratified by what it learns: its 20 epochs over every row were 85% of a fit at a
# million rows. On 200,000 rows of the clusters task (benchmarks/bench_judge_rows.py) 50,000
# route as every row does for 99% of the large model (13.3% sent) at 2.3x less fit time;
# at the 20% budget the judge of every row is still 0.5 point ahead (0.927 against 0.922),
# and 20,000 rows cost 0.8 point of share. The judge benchmark's tasks all have fewer rows.
MAX_JUDGE_ROWS = 50_000


def default_judge(random_state, judge_input="X", impute=False):
    """The judge of ``judge=None``: ``KANJudgeClassifier()``, which resolves its data-dependent
    choices (a projection of wide X, dropout on few rows) in its own ``fit``; reading the small
    model's answer, ``KANJudgeClassifier(**SMALL_ANSWER_JUDGE)``.

    ``impute``: the members read missing values (both accept NaN), so X may hold
    them; a judge reading X then fills them with the column means first."""
    from .._torch._judges import SMALL_ANSWER_JUDGE, KANJudgeClassifier  # torch loads here

    reads_small = judge_input == "small"
    judge = KANJudgeClassifier(random_state=random_state,
                               **(SMALL_ANSWER_JUDGE if reads_small else {}))
    if not impute or reads_small:
        return judge
    if _routing_enabled():
        judge.set_fit_request(sample_weight=True)
    return make_pipeline(SimpleImputer(keep_empty_features=True), judge)


def fit_judge(judge, X, y, *, small_oof, small_correct, large_correct, judge_input,
              judge_target, cv, groups, fallback, need_confidence, fit_params, ledger, verbose=0,
              small_confidence=None, n_jobs=None, refit=True):
    """Fit ``judge`` (a clone) on out-of-fold signals; what routes and its out-of-fold ``C_x``.

    Parameters
    ----------
    judge : classifier or None
        The unfitted judge; None routes by the small model's confidence.
    X, y : the training data.
    small_oof : ndarray of shape (n_samples, n_classes) or None
        The small model's out-of-fold probabilities.
    small_correct, large_correct : ndarray of bool or None
        Whether the members' out-of-fold answers are right (large: None where
        unknown; the fallback then counts the large model right everywhere).
    judge_input, judge_target : str
        What the judge reads and learns.
    cv : cross-validation generator
        Splits the judge's own out-of-fold fits (stratified on its labels).
    groups : array-like or None
        Group labels for a group-aware ``cv``.
    fallback : bool
        Compare blends of the judge and the small model's confidence out of
        fold (:func:`choose_routing`).
    need_confidence : bool
        Compute out-of-fold confidences even without ``fallback`` (for
        a ``LargeShare`` budget).
    fit_params : dict
        For the judge's ``fit``.
    ledger : CostLedger
    verbose : int
    small_confidence : ndarray of shape (n_samples,) or None
        The small model's own out-of-fold confidence, that the fallback and
        routing without a judge use; None: the top probability of ``small_oof``.
    n_jobs : int or None, default=None
        Fit the out-of-fold judges in parallel (joblib).
    refit : bool, default=True
        Fit the judge on every row. False, where the out-of-fold judges are
        fitted (``fallback`` or ``need_confidence``): the judge is their
        average (:class:`FoldAverage`, cross-fitting), one fit fewer.

    Returns
    -------
    Bunch
        ``judge`` (fitted, or None), ``routing_by`` ("judge", "small" or
        "blend"), ``routing_weight`` (the judge's weight against the small
        model's top probability, see :func:`choose_routing`), ``quality``
        (None, or the dict of :func:`choose_routing`), ``oof_confidence``, the
        out-of-fold ``C_x`` of the rows ``oof_rows`` (both None when neither
        the fallback nor ``need_confidence`` asks for them; see
        :func:`fold_judge_proba`).
    """
    if small_confidence is None and small_oof is not None:
        small_confidence = top_probability(small_oof)

    def by_small():
        return Bunch(judge=None, routing_by="small", routing_weight=0.0, quality=None,
                     oof_confidence=small_confidence,
                     oof_rows=None if small_confidence is None else np.arange(len(y)))

    if judge is None:
        return by_small()
    features = judge_features(X, small_oof, judge_input)
    labels = judge_labels(judge_target, y, small_correct, large_correct)
    if np.unique(labels).size < 2:
        warn(
            f"The judge has nothing to learn: its target {judge_target!r} gives one outcome "
            f"({labels[0]!r}) on every training row out of fold, so the small model's "
            "confidence routes instead (routing_by_='small'). Give more varied data, or "
            "Judge(estimator, target='task').")
        return by_small()
    result = Bunch(judge=None, routing_by="judge", routing_weight=1.0, quality=None,
                   oof_confidence=None, oof_rows=None)
    if need_confidence or fallback:
        rows, judge_oof, fold_judges = fold_judge_proba(
            judge, features, labels, cv=cv, groups=groups, fit_params=fit_params,
            n_jobs=n_jobs, ledger=ledger)
        result.oof_rows = rows
        classes = np.unique(y)  # the columns of small_oof, and of judge_oof for the task targets
        small_oof = None if small_oof is None else small_oof[rows]
        result.oof_confidence = confidence_from_proba(judge_oof, np.unique(labels),
                                                      judge_target, small_oof, classes)
        if not refit:
            result.judge = FoldAverage(fold_judges, np.unique(labels))
    if result.judge is None:
        result.judge = clone(judge)
        sample = bounded_rows(np.arange(len(labels)), labels)
        if len(sample) < len(labels):  # a sample; all rows are used as they are
            features, labels = _safe_indexing(features, sample), labels[sample]
            fit_params = {key: _safe_indexing(value, sample)
                          for key, value in fit_params.items()}
        with ledger.timer("fit_judge"):
            result.judge.fit(features, labels, **fit_params)
    if fallback:
        result.routing_weight, result.quality, result.oof_confidence = choose_routing(
            result.oof_confidence, small_oof, small_correct[rows],
            None if large_correct is None else large_correct[rows],
            small_confidence=small_confidence[rows])
        result.routing_by = routing_name(result.routing_weight)
        if verbose and result.routing_by != "judge":
            print(f"[{ledger.owner}] out of fold, the judge alone routes worse than "
                  f"{result.routing_by} ({result.quality}); the judge's weight against the "
                  f"small model's confidence is {result.routing_weight}")
    return result


def bounded_rows(rows, labels, limit=None):
    """At most ``limit`` (:data:`MAX_JUDGE_ROWS`) of ``rows``, sorted, drawn stratified by
    ``labels[rows]`` with a fixed seed; all of them when they are fewer.

    Examples
    --------
    >>> labels = np.r_[np.zeros(30_000, int), np.ones(10_000, int)]
    >>> rows = bounded_rows(np.arange(40_000), labels, limit=20_000)
    >>> len(rows), float(labels[rows].mean())
    (20000, 0.25)
    """
    limit = MAX_JUDGE_ROWS if limit is None else limit
    if len(rows) <= limit:
        return rows
    _, counts = np.unique(labels[rows], return_counts=True)
    kept, _ = train_test_split(rows, train_size=limit, random_state=0,
                               stratify=labels[rows] if counts.min() >= 2 else None)
    return np.sort(kept)


def fold_judge_proba(judge, X, labels, *, cv, groups, fit_params, n_jobs, ledger):
    """Out-of-fold probabilities of clones of ``judge``, on the first folds of ``cv`` that
    hold :data:`MIN_OOF_ROWS` rows together (every fold, below ``cv`` times that), each
    judge fitted on at most :data:`MAX_JUDGE_ROWS` of its training rows.

    Returns the rows scored, the probabilities (see :func:`~._folds.out_of_fold_proba`)
    and the fold judges.
    """
    splits = list(cv.split(X, labels, groups))
    held_out = np.cumsum([len(test) for _, test in splits])
    splits = [(bounded_rows(train, labels), test)
              for train, test in splits[:int(np.searchsorted(held_out, MIN_OOF_ROWS)) + 1]]
    return out_of_fold_proba(judge, X, labels, splits, fit_params=fit_params, n_jobs=n_jobs,
                             ledger=ledger, key="fit_judge_oof", name="fold judge")


class FoldAverage:
    """A cross-fitted judge: the mean of the probabilities of judges fitted on folds.

    What ``judge_refit=False`` keeps instead of a judge refitted on every row:
    the fold judges were fitted anyway, for the out-of-fold confidences.

    Parameters
    ----------
    judges : list of fitted classifiers
    classes : ndarray
        The classes of the labels they learnt (a fold may lack some).
    """

    def __init__(self, judges, classes):
        self.judges = judges
        self.classes_ = classes

    def predict_proba(self, X):
        """The mean of the fold judges' probabilities, one column per class of ``classes_``."""
        proba = np.zeros((_num_samples(X), len(self.classes_)))
        for judge in self.judges:
            proba += aligned_proba(judge.predict_proba(X), judge.classes_, self.classes_)
        return proba / len(self.judges)

    def predict(self, X):
        """The class of highest mean probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @available_if(lambda self: all(hasattr(judge, "partial_fit") for judge in self.judges))
    def partial_fit(self, X, y, **fit_params):
        """Teach every fold judge the batch (``KCMEnsemble.partial_fit`` keeps them learning)."""
        for judge in self.judges:
            judge.partial_fit(X, y, **fit_params)
        return self


def update_judge(judge, X, y, *, labelled, small_proba, large_answers, classes, judge_input,
                 judge_target, sample_weight, ledger):
    """Teach a fitted judge with ``partial_fit`` on a batch: what its target asks.

    For the yes/no targets, whether the small model is right: labelled rows say
    it; on rows without a label, whether the small model agrees with the large
    one where that answered (``large_answers``, a tuple ``(rows, proba)`` or
    None). The large model's correctness is known only where it was asked, so
    the "gain" judge takes it to be right, and learns where the small model is.
    The task targets ("task", "agreement") need true labels, so they learn from
    the labelled rows only.
    """
    small_pred = classes[np.argmax(small_proba, axis=1)]
    rows, small_correct = labelled, small_pred[labelled] == y[labelled]
    if large_answers is not None and judge_target not in TASK_TARGETS:
        asked, large_proba = large_answers
        unlabelled = ~np.isin(asked, labelled)
        agree = small_pred[asked] == classes[np.argmax(large_proba, axis=1)]
        rows = np.concatenate([rows, asked[unlabelled]])
        small_correct = np.concatenate([small_correct, agree[unlabelled]])
    if not rows.size:
        return
    labels = judge_labels(judge_target, y[rows], small_correct, np.ones_like(small_correct))
    weight = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)[rows]}
    with ledger.timer("fit_judge"):
        judge.partial_fit(judge_features(_safe_indexing(X, rows), small_proba[rows], judge_input),
                          labels, **weight)
