"""KCMEnsemble: a judge routes each input to a small or a large classifier."""

import functools
from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import column_or_1d, indexable

from .._compat import (
    HasMethods,
    StrOptions,
    _fit_context,
    _num_samples,
    _routing_enabled,
    _safe_indexing,
)
from .._routing._base import BaseRouter
from .._routing._budgets import EPSILON_CONSTRAINT, AccuracyTarget, accuracy_target, budget_of
from .._routing._curves import top_probability
from .._routing._guarantee import fit_guarantee
from .._routing._judge import Judge, judge_spec
from .._routing._judging import default_judge, update_judge
from .._routing._signals import confidence_from_proba, judge_features
from .._utils._interrupts import restores_on_interrupt
from .._utils._log_proba import log_of
from .._utils._metadata import fit_router, route_fit_params
from .._utils._threads import threads_per_job, torch_threads
from .._utils._validation import check_known_labels
from ._calibration import (
    calibration_split,
    guaranteed_threshold,
    held_out_answers,
    refit_statement,
    subset_fit_data,
)
from ._distillation import Classroom, teach_batch, teach_in_fit
from ._distiller import TEACHERS, Distillation, distillation_of
from ._first_stage import fit_members_cached
from ._labels import check_first_batch, check_targets, split_labelled
from ._large_calls import add_usage, ask_large, bills_its_calls
from ._plan import distill_plan, plan_fit, warn_if_routing_wastes
from ._recent import RecentAnswers


class KCMEnsemble(ClassifierMixin, BaseRouter):
    """KAN-judged collaboration of a small and a large classifier (KCM).

    A judge scores every input with a confidence ``C_x``. Inputs with
    ``C_x > epsilon`` are answered by the cheap ``small`` model; the others go
    to the expensive ``large`` model, in one call per batch, together with the
    small model's answer as a hint. During ``fit`` the large model's confident
    soft outputs on the hard training inputs (and, optionally, the judge's
    confident outputs on the easy ones) are distilled into the small model, so
    that it improves where it was weak; rows of ``y`` marked -1 have no label,
    and the large model's answers on them teach it too (see
    ``unlabelled_label``), as do its answers on a stream (:meth:`partial_fit`).

    Parameters
    ----------
    small : classifier
        Cheap model with ``fit`` and ``predict_proba``; a clone is fitted.
    large : classifier
        Expensive model with ``fit`` and ``predict_proba``. A clone is fitted
        on the training data, unless it is a
        :class:`~sklearn.frozen.FrozenEstimator` (already fitted; its ``fit``
        does nothing) or a model that learns nothing in ``fit`` such as an
        ``LLMClassifier``.
    judge : classifier, Judge, "small" or None, default=None
        Scores the inputs. None means ``KANJudgeClassifier()`` where the judge
        reads X (it projects X wider than 64 columns and makes its other
        data-dependent choices in its own ``fit``), and a judge of 16 cubic
        units where it reads the small model's answer (text, or
        ``Judge(input="small")``); an :class:`MLPJudgeClassifier` gives the
        paper's MCM;
        a :class:`Judge` says what the judge reads and learns (its ``input``
        and ``target``) and whether the cascade may replace it (``fallback``);
        ``"small"`` uses the small model's own top probability (the classic
        confidence cascade, no separate judge).
    epsilon : float in [0, 1], LargeShare, AccuracyTarget or "auto", \
            default=0.98
        Inputs with ``C_x > epsilon`` are answered by the small model. A
        budget fits ``epsilon_`` from data: :class:`LargeShare` sends its
        share of the inputs to the large model, :class:`AccuracyTarget` the
        fewest that meet an accuracy with probability ``1 - delta``
        (Learn-then-Test on calibration rows, see Notes; ``guarantee_`` says
        what was promised). ``"auto"`` is ``LargeShare()`` (20%).
    hint : {"auto", "features"} or None, default="auto"
        How the small model's answer reaches the large model: ``"auto"``, as
        ``hint=`` (its probabilities) to a large model whose ``predict_proba``
        (and ``fit``, out of fold) requests it through metadata routing;
        ``"features"``, as columns appended to numeric X (the large model is
        trained on out-of-fold small probabilities); None, not at all.
    distill : {"auto", "large", "judge", "both"}, bool or Distillation, \
            default="auto"
        Which teachers update the small model: the large model's soft outputs
        on the hard training inputs (``"large"``, the paper's ``L_ls``), the
        judge's on the easy ones (``"judge"``, ``L_js``), or both.
        ``"auto"``: the large model teaches the rows without a label only (see
        ``unlabelled_label``; in :meth:`partial_fit`, the routed ones): a fit
        on labelled rows alone asks it nothing. True means ``"large"``; False:
        no teacher. A :class:`Distillation` names the teachers and sets the
        large model's confidence threshold, the mix with the small model's own
        answer and the temperature.
    unlabelled_label : int, str or None, default=None
        The label that marks a row of ``y`` without a label, e.g. -1 (as
        scikit-learn's ``SelfTrainingClassifier``). Such rows train no member:
        the large model's answers on them teach the small model, where that
        helps out of fold. None: every row is labelled (-1 may be a class).
    cv : int, cross-validation generator or iterable, default=5
        Folds of the out-of-fold answers that keep training signals honest
        (the large model's as a teacher, the small model's that the judge and
        ``hint="features"`` read, the judge's that set ``epsilon_``).
    memory : str, joblib.Memory or None, default=None
        A folder (or an object with joblib's ``cache`` method) where the
        member, judge and out-of-fold fits are cached, as
        ``Pipeline(memory=...)`` caches its transformers: a fit that differs
        only in the threshold, the budget's values or the distillation's
        settings loads them, so that ``GridSearchCV`` over ``epsilon`` fits
        the members once per split. None: with an integer ``random_state``,
        the first stages of the last 8 fits (256 MB at most) are kept in
        memory for the same purpose, within one process; unseeded fits are
        fitted anew. The members must pickle.
    n_jobs : int or None, default=None
        Jobs that fit the out-of-fold models in parallel (the small model's,
        the judges', the large teachers'), through joblib: None means 1 unless
        in a :func:`joblib.parallel_backend` context (``"dask"`` spreads them
        over a cluster), -1 every core. Torch members then train on
        ``cores // n_jobs`` threads each, so that the jobs do not oversubscribe
        the machine; the caller's torch setting is restored after ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the default judge.
    verbose : int, default=0
        Print every member fit (small, large, out-of-fold teachers, judge),
        with its seconds, and the distillation.

    Attributes
    ----------
    small_, large_ : classifier
        The fitted members.
    judge_ : classifier or None
        The fitted judge (None when ``judge="small"``).
    judge_input_ : str
        What the judge reads: ``"X"``, ``"small"``, ``"both"`` or
        ``"preprocessed"`` (X through the small model's fitted preprocessing,
        kept as it was fitted on the labelled rows).
    judge_target_ : str
        What the judge learns (:class:`Judge`'s ``target`` with "auto" resolved).
    routing_by_ : {"judge", "blend", "small"}
        What ``C_x`` is at predict time: the judge's confidence, a blend of it
        with the small model's top probability, or that alone (``judge="small"``,
        or the judge's ``fallback`` found it routes best out of fold).
    routing_weight_ : float
        The judge's weight ``w`` in ``C_x = judge ** w * top ** (1 - w)``:
        1.0 for "judge", 0.0 for "small".
    routing_quality_ : dict or None
        With a judge and its ``fallback``: the mean out-of-fold accuracy over
        shares sent to the large model in [0, 0.5] of ``"judge"``, of
        ``"small"`` (the cascade) and of the best ``"blend"`` in between.
    oof_confidence_ : ndarray of shape (n_samples,) or None
        ``C_x`` of each training row out of fold (NaN where none was
        computed: unlabelled rows, rows beyond those the judge's out-of-fold
        fits score); None where none were, and after a fit certified on
        held-out rows.
    classes_ : ndarray of shape (n_classes,)
    epsilon_ : float
        The threshold in use: ``epsilon``, or the one fitted to its budget.
    guarantee_ : dict or None
        With an :class:`AccuracyTarget`: the ``promise`` in words, ``compares`` (which
        two models, fitted on how many rows, certified on which, at what
        share), ``certified``, ``delta``, ``calibration`` and ``n_rows`` (the
        rows it rests on), ``fitted_on`` (the labelled rows the members in use
        learnt from), ``large_share`` (the share of the calibration rows sent)
        and their ``calibration_accuracy`` and ``large_accuracy``; see
        :func:`~sklearn_kcm._routing._guarantee.fit_guarantee`.
    ledger_ : CostLedger
        Samples, calls and seconds per member in fit and predict;
        ``ledger_.summary()``, ``ledger_.reset()``. An LLM large model's own
        bill, ``large_.usage_``, also holds the calls its out-of-fold clones
        made in ``fit``.
    distillation_ : list of dict
        One record for ``fit`` and one per batch of :meth:`partial_fit`:
        samples routed to the large model, teacher samples used, the method
        (``"refused"`` where a batch's out-of-fold check found that its
        teacher rows would harm the small model, with the counts in ``check``).
    unlabelled_teacher_ : dict or None
        With unlabelled rows: the out-of-fold check of distilling from them
        (``used``, ``mix``, answers ``fixed`` and ``broken``, ``p_value`` and
        the accuracies); None otherwise.
    distill_mix_ : float
        The share of the small model's own answer in the large model's targets
        (:class:`Distillation`'s ``mix``, with "auto" resolved).
    n_features_in_ : int
        From the small model, when it defines it.

    See Also
    --------
    RoutingCurveDisplay : Accuracy against the share sent to the large model.
    KANJudgeClassifier : The default judge.
    sklearn.model_selection.FixedThresholdClassifier : Thresholding, binary only.

    Notes
    -----
    With ``epsilon=LargeShare(share)``, ``epsilon_`` is the ``share``
    quantile of the judge's *out-of-fold* confidences on the training data
    (``cv`` folds, each scored by a judge that did not see it), which is what
    the fitted judge's confidences look like on new data from the same
    distribution. The share drifts when the inputs drift (a harder mix of
    inputs sends more to the large model), and, with ``judge="small"``, when
    distillation makes the small model surer of itself; check
    ``ledger_.summary()["predict_large_share"]`` in production.

    With an :class:`AccuracyTarget`, ``epsilon_`` is chosen by Learn-then-Test
    (Angelopoulos et al., 2021): thresholds are tested from the one that sends
    every row to the large model down, each by the exact binomial tail of its
    errors on the calibration rows (a relative target ``r``: the paired
    differences ``routed right - r * large right`` by a betting martingale),
    and the cheapest one before the first that fails is kept. Held out
    (its ``calibration``), those rows are answered by an ensemble fitted on
    the others; its judge and threshold are kept and its members refitted on
    every labelled row, the models a user compares with. Learn-then-Test's
    guarantee is for the ensemble fitted on fewer rows; for the refitted one
    it is measured (``benchmarks/guarantee.py``, against a large model fitted
    on every labelled row; see the benchmarks page).
    :meth:`partial_fit` changes the small model after it. Near the large
    model's own accuracy it needs many labels: on ``n`` rows the tail alone
    costs about ``sqrt(a (1 - a) / n)`` of accuracy ``a``.

    References
    ----------
    KCM: KAN-Based Collaboration Models Enhance Pretrained Large Models.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_kcm import KCMEnsemble
    >>> X, y = load_iris(return_X_y=True)
    >>> kcm = KCMEnsemble(LogisticRegression(), RandomForestClassifier(random_state=0),
    ...                   judge="small", epsilon=0.9).fit(X, y)
    >>> kcm.predict(X[:3]).tolist()
    [0, 0, 0]
    >>> bool(kcm.route(X).mean() < 0.5)
    True
    """

    _parameter_constraints = {
        "small": [HasMethods(["fit", "predict_proba"])],
        "large": [HasMethods(["fit", "predict_proba"])],
        "judge": [None, StrOptions({"small"}), Judge, HasMethods(["fit", "predict_proba"])],
        "epsilon": [*EPSILON_CONSTRAINT, AccuracyTarget],
        "hint": [None, StrOptions({"auto", "features"})],
        "distill": ["boolean", StrOptions(set(TEACHERS)), Distillation],
        "unlabelled_label": [None, Integral, str],
        "cv": ["cv_object"],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, small, large, judge=None, *, epsilon=0.98, hint="auto", distill="auto",
                 unlabelled_label=None, cv=5, memory=None, n_jobs=None, random_state=None,
                 verbose=0):
        self.small = small
        self.large = large
        self.judge = judge
        self.epsilon = epsilon
        self.hint = hint
        self.distill = distill
        self.unlabelled_label = unlabelled_label
        self.cv = cv
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    @restores_on_interrupt()
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, sample_weight=None, groups=None, **fit_params):
        """Fit judge, small and large models, then distil the large into the small.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Whatever the members accept; KCMEnsemble only indexes rows.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every member whose ``fit`` takes it (with metadata
            routing enabled, to those that request it) and used in
            distillation.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` (e.g.
            :class:`~sklearn.model_selection.GroupKFold`): the out-of-fold
            signals then never come from a model that saw the row's group.
        **fit_params : dict
            With metadata routing enabled, routed to the members that
            request them.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        with torch_threads(threads_per_job(self.n_jobs)):
            return self._fit(X, y, sample_weight, groups, fit_params)

    def _fit(self, X, y, sample_weight, groups, fit_params):
        X, sample_weight = indexable(X, sample_weight)
        y = check_targets(X, y, "KCMEnsemble", self.unlabelled_label)
        target = accuracy_target(self.epsilon)
        if target is None or not target.held_out:
            return self._fit_rows(X, y, sample_weight, groups, fit_params)
        return self._fit_and_certify(target, X, y, sample_weight, groups, fit_params)

    def _fit_and_certify(self, target, X, y, sample_weight, groups, fit_params):
        """Fit on the labelled rows not held out, certify ``target`` on the others, then refit
        the members on every labelled row, keeping the judge and threshold certified."""
        labelled = split_labelled(y, self.unlabelled_label)[0]
        fit_rows, held_out = calibration_split(y, labelled, groups, target.calibration,
                                               self.random_state)
        self._fit_rows(*subset_fit_data(X, y, sample_weight, groups, fit_params, fit_rows))
        answers = held_out_answers(self, _safe_indexing(X, held_out), y[held_out])
        self.epsilon_, promise = fit_guarantee(
            *answers, target=target.accuracy, relative_to=target.relative_to,
            delta=target.delta, calibration="held out")
        # the user deploys, and compares with, members fitted on every labelled row: a
        # certificate against the weaker large model of the fit rows fails against that one
        self._fit_rows(X, y, sample_weight, groups, fit_params, members_only=True)
        self.oof_confidence_ = None  # those of the first fit's rows, not of X's
        self.guarantee_ = {**promise, **refit_statement(promise, len(labelled))}
        return self

    def _fit_rows(self, X, y, sample_weight, groups, fit_params, *, members_only=False):
        """The fit on X, y (all of it, or the rows not held out to certify the threshold).

        ``members_only``: refit the members (and distil) on X, y, keeping the
        fitted judge and threshold (the last step of a certified fit)."""
        # members, judge and threshold learn from the labelled rows; the others only teach
        labelled, unlabelled = split_labelled(y, self.unlabelled_label)
        plan = plan_fit(self.get_params(deep=False), X, has_unlabelled=unlabelled.size > 0,
                        judge_for=self._judge_template,
                        members_only=members_only)
        metadata = route_fit_params(
            self, {"small": self.small, "large": self.large, "judge": plan.members.judge},
            sample_weight, fit_params)
        members = fit_members_cached(self.memory)(
            plan.members, X, y, labelled=labelled, unlabelled=unlabelled, groups=groups,
            metadata=metadata, verbose=self.verbose)
        if members_only:  # what the certified fit cost stays in the bill
            members.ledger.absorb(self.ledger_)
            add_usage(members.large, [self.large_])
        self.classes_, self.ledger_ = members.classes, members.ledger
        self.ledger_.verbose = self.verbose  # a cached ledger keeps the verbosity of its fit
        self.small_, self.large_, self._refit_set = members.small, members.large, members.refit_set
        # a stream's batch that was predicted before does not pay the LLM again
        self._recent_answers = RecentAnswers() if bills_its_calls(self.large_) else None
        if not members_only:
            self._set_fitted_routing(plan, members, labelled, len(y))
        self.distillation_, self.unlabelled_teacher_, self.distill_mix_ = teach_in_fit(
            self._classroom(), plan.distill, members, self.small, X, y, labelled=labelled,
            unlabelled=unlabelled, sample_weight=sample_weight,
            small_fit_params=metadata.small.fit)
        add_usage(self.large_, members.teachers.fitted())
        return self

    # what a batch changes in place; the ledger keeps counting what was paid
    @restores_on_interrupt("small_", "judge_", "distillation_", copied=("_refit_set",))
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Improve the small model and the judge from one more batch of a stream.

        The distillation loop on the batch: route it, ask the fitted large
        model (to which the batch is new) about the routed rows, counted in
        ``ledger_`` as fit calls (not again for rows :meth:`predict` sent to an
        LLM), and train the small model on the batch's labels plus those
        answers; rows without a label (``y`` None, or marked
        ``unlabelled_label``) learn from the answers alone. A small model
        without ``partial_fit`` is refitted on its ``fit`` rows plus the
        stream's teacher rows, unless out of fold they break more of its
        answers than they fix (the batch is refused, with a warning). The
        judge, when it has ``partial_fit``, learns whether the small model is
        right. Ctrl-C leaves the ensemble as it was. On an unfitted ensemble
        the first call fits it on the batch (every class in it).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,), default=None
            True labels, ``unlabelled_label`` for rows without one; None: no
            row has a label.
        classes : array-like, default=None
            Every class of the stream; checked against the batch on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the batch's samples, for the small model and the judge.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        if not hasattr(self, "small_"):
            y = check_targets(X, y, "KCMEnsemble", self.unlabelled_label)
            check_first_batch(y, classes, self.unlabelled_label)
            return self.fit(X, y, sample_weight=sample_weight)
        X, sample_weight = indexable(X, sample_weight)
        n_samples = _num_samples(X)
        if y is None:
            y = np.full(n_samples, self.unlabelled_label, dtype=object)
            labelled, unlabelled = np.empty(0, dtype=int), np.arange(n_samples)
        else:
            y = check_targets(X, y, "KCMEnsemble", self.unlabelled_label)
            labelled, unlabelled = split_labelled(y, self.unlabelled_label, batch=True)
        check_known_labels(y[labelled], self.classes_, "The ensemble was fitted on `classes_`: "
                           "refit it on data holding every class of the stream.")
        plan = distill_plan(distillation_of(self.distill), has_unlabelled=True)
        record, small_proba, large_answers = teach_batch(
            self._classroom(), plan, self.distill_mix_, X, y, unlabelled=unlabelled,
            sample_weight=sample_weight)
        self.distillation_.append({"round": len(self.distillation_), **record})
        if self.judge_ is not None and hasattr(self.judge_, "partial_fit"):
            update_judge(self.judge_, self._judge_view(X), y, labelled=labelled,
                         small_proba=small_proba, large_answers=large_answers,
                         classes=self.classes_, judge_input=self.judge_input_,
                         judge_target=self.judge_target_, sample_weight=sample_weight,
                         ledger=self.ledger_)
        return self

    def _classroom(self):
        """What distillation reads of this fitted ensemble (see :mod:`._distillation`)."""
        return Classroom(self.small_, self.large_, self.classes_, self.epsilon_, self.hint,
                         self.ledger_, self._refit_set,
                         confidence=functools.partial(self._confidence, phase="fit"),
                         judge_proba=self._judge_proba, recent=self._recent_answers,
                         verbose=self.verbose)

    def _set_fitted_routing(self, plan, members, labelled, n_rows):
        """What the judge reads and learns, the judge, the threshold and the routing."""
        self.judge_input_, self.judge_target_ = plan.members.judge_input, plan.members.judge_target
        self._judge_preprocessing = members.judge_preprocessing
        epsilon, self.guarantee_ = guaranteed_threshold(accuracy_target(self.epsilon), members)
        self._set_routing(members.judging, epsilon)
        # C_x out of fold of each training row, which a KCMCascade reads to set thresholds
        judging = members.judging
        self.oof_confidence_ = None
        if judging.oof_confidence is not None:
            self.oof_confidence_ = np.full(n_rows, np.nan)
            self.oof_confidence_[labelled[judging.oof_rows]] = judging.oof_confidence
        warn_if_routing_wastes(budget_of(self.epsilon), self.epsilon_, judging.oof_confidence,
                               members.small_correct, members.large_correct)

    def _small_answer(self, X):
        return self.small_.predict_proba(X)

    def _own_confidence(self, small_proba):
        return top_probability(small_proba)

    def _judge_confidence(self, X, small_proba):
        return confidence_from_proba(self._judge_proba(X, small_proba), self.judge_.classes_,
                                     self.judge_target_, small_proba, self.classes_)

    def _judge_view(self, X):
        """X as the judge reads it: through the small model's preprocessing for
        ``judge_input_="preprocessed"``."""
        preprocessing = self._judge_preprocessing
        return X if preprocessing is None else preprocessing.transform(X)

    def _judge_proba(self, X, small_proba):
        return self.judge_.predict_proba(judge_features(self._judge_view(X), small_proba,
                                                        self.judge_input_))

    def _ask_large(self, X, rows, small_proba):
        """The fitted large model's probabilities on ``rows`` of X, one counted call."""
        return ask_large(self.large_, X, rows, small_proba, hint=self.hint,
                         n_classes=len(self.classes_), ledger=self.ledger_, phase="predict",
                         recent=self._recent_answers)

    def _answers_right(self, small_proba, large_proba, y):
        y = column_or_1d(y)
        return tuple(self.classes_[np.argmax(proba, axis=1)] == y
                     for proba in (small_proba, large_proba))

    def predict_proba(self, X):
        """Class probabilities: the small model's on easy inputs, the large model's on hard ones.

        The large model is called once for all hard inputs of X, with the
        small model's probabilities as hint, and not at all when there are
        none.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return self._predict_proba_and_route(X)[0]

    def _predict_proba_and_route(self, X):
        """:meth:`predict_proba` and :meth:`route` from one pass of the small model and judge."""
        small_proba, routed, large_proba = self._routed_answers(X)
        proba = np.array(small_proba, dtype=np.float64)
        if large_proba is not None:
            proba[routed] = large_proba
        return proba, routed

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (-inf where a probability is 0).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, as :meth:`predict_proba` takes them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return log_of(self.predict_proba(X))

    def predict(self, X):
        """Class of highest probability (see :meth:`predict_proba`).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def n_features_in_(self):
        """Number of features seen by the small model (when it defines it)."""
        return self.small_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the small model (when it defines them)."""
        return self.small_.feature_names_in_

    def get_metadata_routing(self):
        """Routing of ``fit`` metadata to the small, large and judge models.

        Returns
        -------
        MetadataRouter
            The routing of ``fit``'s metadata to each member.
        """
        judge = self._judge_template()
        if self._judge_is_default() and _routing_enabled():  # the default judge is ours: it takes
            judge.set_fit_request(sample_weight=True)  # the weights it is given
        return fit_router(self, {"small": self.small, "large": self.large, "judge": judge})

    def _judge_template(self, judge_input="X"):
        """An unfitted judge: a clone of the judge's estimator, the default judge for what it
        reads, or None."""
        judging = judge_spec(self.judge)
        if judging == "small":  # the cascade needs no judge
            return None
        if judging.estimator is None:
            # a preprocessing may pass missing values on (to a gradient-boosting model)
            impute = judge_input == "preprocessed" or self._members_read_missing_values()
            return default_judge(self.random_state, judge_input, impute=impute)
        return clone(judging.estimator)

    def _members_read_missing_values(self):
        return all(get_tags(member).input_tags.allow_nan for member in (self.small, self.large))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        small_tags = get_tags(self.small)
        tags.input_tags.sparse = small_tags.input_tags.sparse
        tags.input_tags.string = small_tags.input_tags.string
        # every member reads X: the ensemble accepts NaN only where all of them do
        # (the default judge imputes where both members read NaN)
        judging = judge_spec(self.judge)
        judge = None if judging == "small" or judging.input == "small" else judging.estimator
        tags.input_tags.allow_nan = self._members_read_missing_values() and (
            judge is None or get_tags(judge).input_tags.allow_nan)
        return tags

    def _judge_is_default(self):
        judging = judge_spec(self.judge)
        return judging != "small" and judging.estimator is None
