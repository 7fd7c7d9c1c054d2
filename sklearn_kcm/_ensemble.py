"""KCMEnsemble: a judge routes each input to a small or a large classifier."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, indexable

from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._distill import Distiller, teacher_sources
from ._ensemble_params import check_params_together, needs_small_oof, resolve_judge_input
from ._judge_signals import (
    JUDGE_INPUTS,
    JUDGE_TARGETS,
    confidence_from_proba,
    judge_features,
    judge_labels,
)
from ._judging import fit_judge
from ._kan_classifier import KANJudgeClassifier
from ._large import ask_large, large_input
from ._ledger import CostLedger
from ._metadata import fit_router, route_fit_params
from ._routing import (
    check_same_classes,
    route_to_large,
    routing_curve,
    threshold_for_budget,
    top_probability,
)
from ._teachers import LargeTeachers
from ._validation import (
    check_known_labels,
    check_targets,
    final_estimator,
)


def _small_learns_incrementally(ensemble):
    return hasattr(final_estimator(ensemble.small), "partial_fit")


class KCMEnsemble(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """KAN-judged collaboration of a small and a large classifier (KCM).

    A judge scores every input with a confidence ``C_x``. Inputs with
    ``C_x > epsilon`` are answered by the cheap ``small`` model; the others go
    to the expensive ``large`` model, in one call per batch, together with the
    small model's answer as a hint. During ``fit`` the large model's confident
    soft outputs on the hard training inputs (and, optionally, the judge's
    confident outputs on the easy ones) are distilled into the small model, so
    that it improves where it was weak.

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
    judge : classifier, "small" or None, default=None
        Scores the inputs. None means ``KANJudgeClassifier()`` (KCM);
        an :class:`MLPJudgeClassifier` gives the paper's MCM; ``"small"``
        uses the small model's own top probability (the classic confidence
        cascade, no separate judge).
    epsilon : float in [0, 1] or "auto", default=0.98
        Inputs with ``C_x > epsilon`` are answered by the small model.
        ``"auto"`` fits ``epsilon_`` so that a share ``target_large_share`` of
        inputs goes to the large model (see Notes).
    target_large_share : float in (0, 1] or None, default=None
        With ``epsilon="auto"``: the share of inputs the large model may see.
    judge_input : {"auto", "X", "small", "both"}, default="auto"
        What the judge reads: the inputs (``"X"``, the paper's ``F_j(x)``),
        the small model's answer (``"small"``: its log-probabilities, the
        log-margin of its two top classes and its entropy; out of fold in
        ``fit``), or both. ``"auto"`` is ``"both"`` for numeric X and
        ``"small"`` for anything else (text, dicts...), so the default judge
        works whatever the small model reads.
    judge_target : {"small_correct", "gain", "task"}, default="small_correct"
        What the judge learns, from out-of-fold answers: whether the small
        model is right (``C_x = P(right)``: a learned deferral rule), whether
        routing would not help (``"gain"``: ``C_x = 1 - P(the large model is
        right where the small one is wrong)``; needs out-of-fold answers of the
        large model on every training row, so ``cv`` more large fits, or one
        call on the training data for a prefit or LLM large model), or the task
        labels (the paper; ``C_x`` is the judge's top probability).
    judge_fallback : bool, default=True
        Compare, on out-of-fold scores of the training data, the routing of the
        judge with the small model's own top probability (the cascade); when
        the judge routes worse, route by the small model's confidence instead
        (``routing_by_ == "small"``). Costs ``cv`` more judge fits.
    hint : {"auto", "features"} or None, default="auto"
        How the small model's answer reaches the large model. ``"auto"``:
        passed as ``hint=`` (its probability matrix) to a large model whose
        ``predict_proba`` requests ``hint`` through metadata routing;
        ``"features"``: appended to the large model's input columns (it is
        trained on out-of-fold small probabilities, so nothing leaks; needs
        numeric X); None: no hint.
    distill : {"large", "judge", "both"} or bool, default="large"
        Which teachers update the small model: the large model's soft outputs
        on the hard training inputs where its confidence exceeds
        ``distill_threshold`` (the paper's ``L_ls``), the judge's outputs on
        the easy inputs (``L_js``, needs ``judge_target="task"``), or both.
        True means ``"large"``; False turns distillation off.
    distill_threshold : float in [0, 1] or None, default=None
        Minimum confidence of the large model for its output to be used as a
        teacher; None means ``epsilon``, as in the paper.
    distill_rounds : int, default=1
        Rounds of the training loop (route, ask the large model, distil).
    distill_weight : float, default=1.0
        Weight of a teacher sample relative to a labelled one.
    distill_epochs : int, default=10
        ``partial_fit`` passes per round for small models that take soft
        labels (ours); others are refitted once per round.
    temperature : float, default=1.0
        Temperature applied to teacher probabilities before distillation.
    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold predictions that keep training signals
        honest: the large model's teacher outputs (when the ensemble fits the
        large model itself), the small probabilities the judge reads and
        learns from and that ``hint="features"`` appends, and the judge
        confidences of ``epsilon="auto"`` and ``judge_fallback``.
    random_state : int, RandomState instance or None, default=None
        Seeds the default judge.
    verbose : int, default=0
        Print the progress of the distillation rounds.

    Attributes
    ----------
    small_, large_ : classifier
        The fitted members.
    judge_ : classifier or None
        The fitted judge (None when ``judge="small"``).
    judge_input_ : str
        What the judge reads: ``"X"``, ``"small"`` or ``"both"``.
    routing_by_ : {"judge", "small"}
        What ``C_x`` is at predict time: the judge's confidence, or the small
        model's top probability (``judge="small"``, or the judge routed worse
        out of fold and ``judge_fallback`` fell back).
    routing_quality_ : dict or None
        With ``judge_fallback`` and a judge: the mean out-of-fold accuracy over
        shares sent to the large model in [0, 0.5] of ``"judge"`` and of
        ``"small"`` (the cascade). Where the large model's out-of-fold answers
        are unknown, it is taken to be right on every row.
    classes_ : ndarray of shape (n_classes,)
    epsilon_ : float
        The threshold in use: ``epsilon``, or the one fitted for
        ``target_large_share``.
    ledger_ : CostLedger
        Samples, calls and seconds per member in fit and predict;
        ``ledger_.summary()``, ``ledger_.reset()``.
    distillation_ : list of dict
        Per round: samples routed to the large model, teacher samples used,
        and the distillation method.
    n_features_in_ : int
        From the small model, when it defines it.

    See Also
    --------
    RoutingCurveDisplay : Accuracy against the share sent to the large model.
    KANJudgeClassifier : The default judge.
    sklearn.model_selection.FixedThresholdClassifier : Thresholding, binary only.

    Notes
    -----
    With ``epsilon="auto"``, ``epsilon_`` is the ``target_large_share``
    quantile of the judge's *out-of-fold* confidences on the training data
    (``cv`` folds, each scored by a judge that did not see it), which is what
    the fitted judge's confidences look like on new data from the same
    distribution. The share drifts when the inputs drift (a harder mix of
    inputs sends more to the large model), and, with ``judge="small"``, when
    distillation makes the small model surer of itself; check
    ``ledger_.summary()["predict_large_share"]`` in production.

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
        "judge": [None, StrOptions({"small"}), HasMethods(["fit", "predict_proba"])],
        "epsilon": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "target_large_share": [None, Interval(Real, 0, 1, closed="right")],
        "judge_input": [StrOptions({"auto", *JUDGE_INPUTS})],
        "judge_target": [StrOptions(set(JUDGE_TARGETS))],
        "judge_fallback": ["boolean"],
        "hint": [None, StrOptions({"auto", "features"})],
        "distill": ["boolean", StrOptions({"large", "judge", "both"})],
        "distill_threshold": [None, Interval(Real, 0, 1, closed="both")],
        "distill_rounds": [Interval(Integral, 1, None, closed="left")],
        "distill_weight": [Interval(Real, 0, None, closed="neither")],
        "distill_epochs": [Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        small,
        large,
        judge=None,
        *,
        epsilon=0.98,
        target_large_share=None,
        judge_input="auto",
        judge_target="small_correct",
        judge_fallback=True,
        hint="auto",
        distill="large",
        distill_threshold=None,
        distill_rounds=1,
        distill_weight=1.0,
        distill_epochs=10,
        temperature=1.0,
        cv=5,
        random_state=None,
        verbose=0,
    ):
        self.small = small
        self.large = large
        self.judge = judge
        self.epsilon = epsilon
        self.target_large_share = target_large_share
        self.judge_input = judge_input
        self.judge_target = judge_target
        self.judge_fallback = judge_fallback
        self.hint = hint
        self.distill = distill
        self.distill_threshold = distill_threshold
        self.distill_rounds = distill_rounds
        self.distill_weight = distill_weight
        self.distill_epochs = distill_epochs
        self.temperature = temperature
        self.cv = cv
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

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
        X, sample_weight = indexable(X, sample_weight)
        y = check_targets(X, y, "KCMEnsemble")
        params = self.get_params(deep=False)
        check_params_together(params, X)
        metadata = route_fit_params(
            self, {"small": self.small, "large": self.large, "judge": self._judge_template()},
            sample_weight, fit_params)
        self.classes_ = unique_labels(y)
        self.ledger_ = ledger = CostLedger()
        cv = check_cv(self.cv, y, classifier=True)
        splits = list(cv.split(X, y, groups))  # the folds of the members' out-of-fold answers
        self.judge_input_ = resolve_judge_input(self.judge_input, X)
        small_oof = (
            cross_val_predict(clone(self.small), X, y, cv=splits, method="predict_proba",
                              params=metadata.small.fit)
            if needs_small_oof(params, self.judge_input_) else None
        )

        self.small_ = clone(self.small)
        with ledger.timer("fit_small"):
            self.small_.fit(X, y, **metadata.small.fit)
        check_same_classes(self.classes_, self.small_, "small")

        self.large_ = clone(self.large)
        with ledger.timer("fit_large"):
            self.large_.fit(large_input(X, small_oof, self.hint), y, **metadata.large.fit)
        check_same_classes(self.classes_, self.large_, "large")

        # honest large-model answers on the training rows, fitted on first use
        # (by the "gain" judge target or by distillation)
        large_teachers = LargeTeachers.for_training(
            self.large, self.large_, X, y, splits=splits, small_oof=small_oof,
            fit_params=metadata.large.fit, hint=self.hint, n_classes=len(self.classes_),
            ledger=ledger)

        small_correct = (None if small_oof is None
                         else self.classes_[np.argmax(small_oof, axis=1)] == y)
        large_correct = None
        if self.judge_target == "gain" and self.judge != "small":
            large_oof = large_teachers.answer(X, np.arange(len(y)), small_oof)
            large_correct = self.classes_[np.argmax(large_oof, axis=1)] == y
        judging = fit_judge(
            self._judge_template(), X, y, small_oof=small_oof, small_correct=small_correct,
            large_correct=large_correct, judge_input=self.judge_input_,
            judge_target=self.judge_target, cv=cv, groups=groups, fallback=self.judge_fallback,
            need_confidence=self.epsilon == "auto",
            fit_params=metadata.judge.fit if "judge" in metadata else {},
            ledger=ledger, verbose=self.verbose,
        )
        self.judge_, self.routing_by_ = judging.judge, judging.routing_by
        self.routing_quality_ = judging.quality
        self.epsilon_ = (
            threshold_for_budget(judging.oof_confidence, self.target_large_share)
            if self.epsilon == "auto" else float(self.epsilon)
        )

        self.distillation_ = []
        distiller = self._distiller()
        for _ in range(self.distill_rounds if self.distill else 0):
            self._distillation_round(distiller, X, y, large_teachers,
                                     sample_weight=sample_weight, epochs=self.distill_epochs)
        return self

    def _distiller(self):
        threshold = self.epsilon_ if self.distill_threshold is None else self.distill_threshold
        return Distiller(self.classes_, threshold=threshold, temperature=self.temperature,
                         weight=self.distill_weight, ledger=self.ledger_)

    def _distillation_round(self, distiller, X, y, large_teachers, *, sample_weight, epochs,
                            incremental=False):
        """Route X, let the teachers in ``distill`` teach the small model; the small answers."""
        small_proba = self.small_.predict_proba(X)
        routed = route_to_large(self._confidence(X, small_proba), self.epsilon_)
        sources = teacher_sources(self.distill)
        record = distiller.teach(
            self.small_, X, y, routed, small_proba,
            large=large_teachers if "large" in sources else None,
            judge=self._judge_proba if "judge" in sources else None,
            sample_weight=sample_weight, epochs=epochs, incremental=incremental,
        )
        self.distillation_.append({"round": len(self.distillation_), **record})
        if self.verbose and not incremental:
            print(f"[KCMEnsemble] round {len(self.distillation_)}/{self.distill_rounds}: "
                  f"{record['large_samples']} hard samples, "
                  f"{record['teacher_samples']} teacher samples, {record['method']}")
        return small_proba

    @available_if(_small_learns_incrementally)
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Improve the small model and the judge from one more batch of a stream.

        The distillation loop applied to the batch: route it, ask the large
        model (fitted before; the batch is new to it, so its outputs are
        honest teachers) about the hard rows, and update the small model with
        ``partial_fit`` on the labels plus the confident teacher outputs; the
        judge is updated with ``partial_fit`` when it has one. On an unfitted
        ensemble the first call fits it on the batch, which must then hold
        every class (or fit on an initial labelled sample first). Available
        when the small model (the last step of a Pipeline) has ``partial_fit``.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,)
            True labels.
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
            y_checked = check_targets(X, y, "KCMEnsemble")
            if classes is not None and not np.array_equal(np.unique(classes),
                                                          unique_labels(y_checked)):
                raise ValueError(
                    "The first batch given to KCMEnsemble.partial_fit must hold every class "
                    f"of `classes` ({list(np.unique(classes))[:10]}); it holds "
                    f"{list(unique_labels(y_checked))[:10]}. Fit on an initial labelled sample "
                    "holding them all first."
                )
            return self.fit(X, y, sample_weight=sample_weight)
        X, sample_weight = indexable(X, sample_weight)
        y = check_targets(X, y, "KCMEnsemble")
        check_known_labels(y, self.classes_, "The ensemble was fitted on `classes_`: refit it "
                           "on data holding every class of the stream.")
        # the batch is new to the fitted large model: it teaches directly
        large_teachers = LargeTeachers.unseen(self.large_, len(y), hint=self.hint,
                                              n_classes=len(self.classes_), ledger=self.ledger_)
        small_proba = self._distillation_round(
            self._distiller(), X, y, large_teachers, sample_weight=sample_weight, epochs=1,
            incremental=True)
        if self.judge_ is not None and hasattr(self.judge_, "partial_fit"):
            # the small model's answers on the batch are honest (it had not seen
            # it); the large model's are known only where it was asked, so the
            # "gain" judge takes it to be right, and learns where the small one is
            small_correct = self.classes_[np.argmax(small_proba, axis=1)] == y
            labels = judge_labels(self.judge_target, y, small_correct,
                                  np.ones_like(small_correct))
            weight = {} if sample_weight is None else {"sample_weight": sample_weight}
            with self.ledger_.timer("fit_judge"):
                self.judge_.partial_fit(judge_features(X, small_proba, self.judge_input_),
                                        labels, **weight)
        return self

    def _confidence(self, X, small_proba):
        """``C_x`` for every row of X, given the small model's probabilities on it."""
        if self.routing_by_ == "small":
            return top_probability(small_proba)
        with self.ledger_.timer("predict_judge"):
            judge_proba = self._judge_proba(X, small_proba)
        return confidence_from_proba(judge_proba, self.judge_.classes_, self.judge_target)

    def _judge_proba(self, X, small_proba):
        return self.judge_.predict_proba(judge_features(X, small_proba, self.judge_input_))

    def _ask_large(self, X, rows, small_proba):
        """The fitted large model's probabilities on ``rows`` of X, one counted call."""
        return ask_large(self.large_, X, rows, small_proba, hint=self.hint,
                         n_classes=len(self.classes_), ledger=self.ledger_, phase="predict")

    def confidence(self, X):
        """Judge confidence ``C_x`` of each input (high: easy, small model answers).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``C_x`` of each input.
        """
        return self._score(X)[2]

    def _score(self, X):
        """Indexable X, the small model's probabilities and ``C_x``."""
        check_is_fitted(self)
        (X,) = indexable(X)
        with self.ledger_.timer("predict_small"):
            small_proba = self.small_.predict_proba(X)
        return X, small_proba, self._confidence(X, small_proba)

    def route(self, X):
        """Which inputs go to the large model: ``confidence(X) <= epsilon_``.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
            True where the input goes to the large model.
        """
        return route_to_large(self.confidence(X), self.epsilon_)

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
        X, small_proba, confidence = self._score(X)
        routed = route_to_large(confidence, self.epsilon_)
        hard = np.flatnonzero(routed)
        proba = np.array(small_proba, dtype=np.float64)
        if hard.size:
            proba[hard] = self._ask_large(X, hard, small_proba)
        self.ledger_.add(predict_samples=len(proba))
        return proba, routed

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

    def routing_curve(self, X, y):
        """Accuracy of the ensemble against the share sent to the large model.

        One pass of each member over X (the large model is called once, on
        all of X, with the small model's hint); every threshold is then
        evaluated without further calls.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,)
            True labels.

        Returns
        -------
        thresholds, large_share, accuracy : ndarray
            See :func:`sklearn_kcm._routing.routing_curve`; the current
            ``epsilon_`` corresponds to the point with the largest threshold
            that is ``<= epsilon_``.
        """
        X, small_proba, confidence = self._score(X)
        y = column_or_1d(y)
        large_proba = self._ask_large(X, np.arange(len(y)), small_proba)
        self.ledger_.add(predict_samples=len(y))
        small_correct = self.classes_[np.argmax(small_proba, axis=1)] == y
        large_correct = self.classes_[np.argmax(large_proba, axis=1)] == y
        return routing_curve(confidence, small_correct, large_correct)

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
        if self.judge is None:  # the default judge is ours: it takes the weights it is given
            judge.set_fit_request(sample_weight=True)
        return fit_router(self, {"small": self.small, "large": self.large, "judge": judge})

    def _judge_template(self):
        """An unfitted judge: a clone of ``judge``, the default KAN judge, or None."""
        if isinstance(self.judge, str):  # "small": the cascade needs no judge
            return None
        if self.judge is None:
            return KANJudgeClassifier(random_state=self.random_state)
        return clone(self.judge)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        small_tags = get_tags(self.small)
        tags.input_tags.sparse = small_tags.input_tags.sparse
        tags.input_tags.string = small_tags.input_tags.string
        # every member reads X: the ensemble accepts NaN only where all of them do
        readers = [self.small, self.large]
        if self.judge_input != "small":  # "auto" reads X too where X is numeric
            readers.append(self._judge_template())
        tags.input_tags.allow_nan = all(
            get_tags(member).input_tags.allow_nan for member in readers if member is not None)
        return tags
