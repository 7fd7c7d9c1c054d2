"""KCMCascade: a chain of models, each step's judge answering or passing the input up.

A cascade of ``k`` members is ``k - 1`` nested KCMEnsembles: the first member is
the small model of the outer one, whose large model is the ensemble of the rest.
``fit`` fits the outer ensemble, which fits the inner ones as its large model,
so every step's judge, hint and distillation is the two-model machinery's;
the cascade only sets the thresholds of a budget and walks the steps at
predict time, asking each member once per batch about the rows that reach it.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import Bunch, get_tags
from sklearn.utils.validation import check_is_fitted, indexable

from .._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _BaseComposition,
    _fit_context,
    _num_samples,
    _safe_indexing,
)
from .._routing._budgets import LargeShare
from .._routing._curves import threshold_for_share
from .._routing._judge import Judge
from .._utils._interrupts import restores_on_interrupt
from .._utils._log_proba import log_of
from ._ensemble import KCMEnsemble


class KCMCascade(ClassifierMixin, MetaEstimatorMixin, _BaseComposition):
    """A cascade of classifiers, from the cheapest to the most expensive, each judged.

    Every member but the last has a judge (fitted as in
    :class:`KCMEnsemble`, whose machinery each step is). An input goes to the
    first member; where that step's routing confidence ``C_x`` exceeds its
    threshold the member answers, otherwise the input goes up to the next
    member, with the answer of the member below as the hint of a member that
    takes one. Each member is called once per batch, on the inputs that reach
    it, and not at all when none does. The ensemble of the members above a step
    teaches that step's member where distillation is on (``distill``).

    Parameters
    ----------
    estimators : list of (str, classifier)
        The members, cheapest first; each needs ``fit`` and ``predict_proba``.
    judge : classifier, Judge, "small" or None, default=None
        The judge of every step (cloned per step): None is
        :class:`KCMEnsemble`'s default judge, a :class:`Judge` says what it
        reads and learns, ``"small"`` the member's own top probability (a
        confidence cascade).
    epsilon : float, sequence of float or "auto", default=0.98
        The threshold of each step (one float for all, or one per step, the
        first member's first); ``"auto"`` fits them to ``target_shares``.
    target_shares : sequence of float or None, default=None
        With ``epsilon="auto"``: the share of inputs that may reach each member
        above the first (non-increasing), e.g. ``(0.3, 0.1)`` for three
        members: 30% go past the first, 10% reach the last. The thresholds are
        read from the steps' out-of-fold confidences on the training rows, each
        among the rows that reach it.
    hint : {"auto", "features"} or None, default="auto"
        See :class:`KCMEnsemble`; each member gets the answer of the one below.
    distill : {"auto", "large", "judge", "both"} or bool, default="auto"
        See :class:`KCMEnsemble`; the members above a step teach its member.
    unlabelled_label : int, str or None, default=None
        See :class:`KCMEnsemble`.
    cv : int, cross-validation generator or iterable, default=5
        See :class:`KCMEnsemble`.
    n_jobs : int or None, default=None
        See :class:`KCMEnsemble`.
    random_state : int, RandomState instance or None, default=None
        Seeds the default judges.
    verbose : int, default=0
        Print every member fit, step by step.

    Attributes
    ----------
    steps_ : list of KCMEnsemble
        The fitted steps, the first member's first; ``steps_[i].small_`` is
        member ``i``, ``steps_[-1].large_`` the last member, ``steps_[i].large_``
        is ``steps_[i + 1]``.
    named_estimators_ : Bunch
        The fitted members by name.
    epsilons_ : ndarray
        The threshold of each step.
    classes_ : ndarray of shape (n_classes,)

    See Also
    --------
    KCMEnsemble : One step: a small and a large model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn_kcm import KCMCascade
    >>> X, y = load_digits(return_X_y=True)
    >>> cascade = KCMCascade([("nb", GaussianNB()), ("lr", LogisticRegression(max_iter=500)),
    ...                       ("forest", RandomForestClassifier(random_state=0))],
    ...                      judge="small", epsilon=(0.99, 0.9)).fit(X, y)
    >>> np.bincount(cascade.route(X), minlength=3).tolist()  # inputs each member answers
    [1664, 131, 2]
    >>> len(cascade.steps_)  # two KCMEnsembles, one inside the other
    2
    """

    _parameter_constraints = {
        "estimators": [list],
        "judge": [None, StrOptions({"small"}), Judge, HasMethods(["fit", "predict_proba"])],
        "epsilon": [Interval(Real, 0, 1, closed="both"), "array-like", StrOptions({"auto"})],
        "target_shares": [None, "array-like"],
        "hint": [None, StrOptions({"auto", "features"})],
        "distill": ["boolean", StrOptions({"auto", "large", "judge", "both"})],
        "unlabelled_label": [None, Integral, str],
        "cv": ["cv_object"],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, estimators, judge=None, *, epsilon=0.98, target_shares=None, hint="auto",
                 distill="auto", unlabelled_label=None, cv=5, n_jobs=None, random_state=None,
                 verbose=0):
        self.estimators = estimators
        self.judge = judge
        self.epsilon = epsilon
        self.target_shares = target_shares
        self.hint = hint
        self.distill = distill
        self.unlabelled_label = unlabelled_label
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep=True):
        """Get the parameters of the cascade and, with ``deep``, of its members.

        A member's parameters are named after it (``lr__C``), as
        :class:`~sklearn.ensemble.StackingClassifier` names them.

        Parameters
        ----------
        deep : bool, default=True
            Include the members' parameters.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set the cascade's parameters, or a member's (``lr__C``), or a member by name.

        Parameters
        ----------
        **params : dict
            Cascade parameters, ``<member>__<parameter>`` or ``<member>``.

        Returns
        -------
        self : KCMCascade
            The cascade.
        """
        self._set_params("estimators", **params)
        return self

    @restores_on_interrupt()
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit every step: members, judges and, where on, distillation; then the thresholds.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Whatever the members accept.
        y : array-like of shape (n_samples,)
            Class labels (``unlabelled_label`` for rows without one).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every step.

        Returns
        -------
        self : KCMCascade
            The fitted cascade.
        """
        names, members = self._members()
        epsilons, shares = self._budget(len(members) - 1)
        X, sample_weight = indexable(X, sample_weight)
        chain = members[-1]
        for member, epsilon, share in reversed(list(zip(members[:-1], epsilons, shares))):
            chain = KCMEnsemble(
                member, chain, judge=self._step_judge(),
                epsilon=epsilon if share is None else LargeShare(share),
                hint=self.hint, distill=self.distill,
                unlabelled_label=self.unlabelled_label, cv=self.cv, n_jobs=self.n_jobs,
                random_state=self.random_state, verbose=self.verbose)
        outer = chain.fit(X, y, sample_weight=sample_weight)
        self.steps_ = [outer]
        while isinstance(self.steps_[-1].large_, KCMEnsemble) and len(self.steps_) < len(names) - 1:
            self.steps_.append(self.steps_[-1].large_)
        if self.epsilon == "auto":
            self._fit_thresholds(np.asarray(self.target_shares, dtype=float), _num_samples(X))
        self.epsilons_ = np.array([step.epsilon_ for step in self.steps_])
        fitted = [step.small_ for step in self.steps_] + [self.steps_[-1].large_]
        self.named_estimators_ = Bunch(**dict(zip(names, fitted)))
        self.member_names_ = np.array(names, dtype=object)
        self.classes_ = outer.classes_
        return self

    def _step_judge(self):
        """A judge for one step: a clone of ``judge``, or None / "small" as given."""
        return self.judge if self.judge is None or isinstance(self.judge, str) else clone(
            self.judge)

    def _members(self):
        if len(self.estimators) < 2 or not all(
                isinstance(pair, tuple) and len(pair) == 2 for pair in self.estimators):
            raise ValueError(
                f"estimators={self.estimators!r} must be a list of at least two (name, "
                "classifier) pairs, cheapest first, e.g. [('lr', LogisticRegression()), "
                "('forest', RandomForestClassifier())].")
        names, members = zip(*self.estimators)
        self._validate_names(names)
        for name, member in zip(names, members):
            if not (hasattr(member, "fit") and hasattr(member, "predict_proba")):
                raise ValueError(
                    f"The member {name!r} of estimators is {member!r}; every member of a "
                    "cascade must be a classifier with fit and predict_proba (a cascade "
                    f"cannot skip one, as 'drop' does in a StackingClassifier): remove the "
                    f"pair ({name!r}, {member!r}) from the list.")
        return list(names), list(members)

    def _budget(self, n_steps):
        """One threshold (or "auto") and one placeholder share per step."""
        if self.epsilon == "auto":
            if self.target_shares is None or len(self.target_shares) != n_steps:
                raise ValueError(
                    f"epsilon='auto' needs target_shares, the share of inputs that may reach "
                    f"each of the {n_steps} members above the first (e.g. "
                    f"{tuple(round(0.3 / 3 ** i, 3) for i in range(n_steps))}); got "
                    f"{self.target_shares!r}.")
            shares = np.asarray(self.target_shares, dtype=float)
            if np.any(shares <= 0) or np.any(shares > 1) or np.any(np.diff(shares) > 0):
                raise ValueError(
                    f"target_shares={self.target_shares!r} must lie in (0, 1] and not "
                    "increase: an input reaches a member only through those below it.")
            # the steps fit their thresholds to these placeholders, then _fit_thresholds
            # reads each among the rows that reach it
            return ["auto"] * n_steps, list(shares)
        if self.target_shares is not None:
            raise ValueError(
                f"target_shares={self.target_shares!r} fits the thresholds, but epsilon="
                f"{self.epsilon!r} gives them: use epsilon='auto' with target_shares, or "
                "target_shares=None.")
        epsilons = np.broadcast_to(np.asarray(self.epsilon, dtype=float), (n_steps,)) if (
            np.ndim(self.epsilon) == 0) else np.asarray(self.epsilon, dtype=float)
        if epsilons.shape != (n_steps,) or np.any((epsilons < 0) | (epsilons > 1)):
            raise ValueError(
                f"epsilon={self.epsilon!r} must be one threshold in [0, 1] or one for each "
                f"of the {n_steps} steps (every member but the last).")
        return [float(epsilon) for epsilon in epsilons], [None] * n_steps

    def _fit_thresholds(self, shares, n_samples):
        """Each step's threshold: the quantile of its out-of-fold ``C_x`` among the
        training rows that reach it, so that a share ``shares[i]`` of all rows goes past
        member ``i``."""
        confidence = np.full((len(self.steps_), n_samples), np.nan)
        for level, step in enumerate(self.steps_):
            confidence[level, :len(step.oof_confidence_)] = step.oof_confidence_
        known = ~np.isnan(confidence).any(axis=0)  # rows every step scored out of fold
        reaching = known.copy()
        for level, (step, share) in enumerate(zip(self.steps_, shares)):
            here = confidence[level, reaching]
            passing = min(1.0, share * known.sum() / max(len(here), 1))
            step.with_threshold(threshold_for_share(here, passing) if len(here) else 1.0)
            reaching &= ~(confidence[level] > step.epsilon_)

    def _walk(self, X):
        """Probabilities and the answering member of every row: each step scores the rows
        that reach it, answers those it is sure of and passes the rest up."""
        check_is_fitted(self)
        (X,) = indexable(X)
        n = _num_samples(X)
        proba, member = np.zeros((n, len(self.classes_))), np.zeros(n, dtype=int)
        rows = np.arange(n)
        for level, step in enumerate(self.steps_):
            X_here = _safe_indexing(X, rows)
            small, up = step.small_answers(X_here)
            proba[rows[~up]] = small[~up]
            step.ledger_.add(predict_samples=len(rows))
            if level == len(self.steps_) - 1 and up.any():  # the last member, with its hint
                proba[rows[up]] = step.ask_large(X_here, np.flatnonzero(up), small)
            elif up.any():
                step.ledger_.add(predict_large_samples=int(up.sum()), predict_large_calls=1)
            rows = rows[up]
            member[rows] = level + 1
            if not rows.size:
                break
        return proba, member

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

    def predict_proba(self, X):
        """Class probabilities, each row's from the member that answers it.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return self._walk(X)[0]

    def predict(self, X):
        """The class of highest probability (see :meth:`predict_proba`).

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

    def route(self, X):
        """Give the position of the member that answers each input.

        ``member_names_[route(X)]`` names them. Every member but the last is
        asked about the rows that reach it.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of int, shape (n_samples,)
            0 for the first member, up to ``len(estimators) - 1``.
        """
        check_is_fitted(self)
        (X,) = indexable(X)
        member = np.zeros(_num_samples(X), dtype=int)
        rows = np.arange(len(member))
        for level, step in enumerate(self.steps_):
            rows = rows[step.route(_safe_indexing(X, rows))]
            member[rows] = level + 1
            if not rows.size:
                break
        return member

    def member_summary(self):
        """Count what each member did at predict time since ``fit``.

        The inputs it saw, the calls it got from the member below, its share of
        all inputs.

        Returns
        -------
        dict
            ``{name: {"samples": int, "calls": int, "share": float}}``; the first
            member's calls are not counted (it sees every batch).
        """
        check_is_fitted(self)
        counts = [step.ledger_.counts() for step in self.steps_]
        total = counts[0]["predict_samples"]
        samples = [c["predict_samples"] for c in counts] + [counts[-1]["predict_large_samples"]]
        calls = [None] + [c["predict_large_calls"] for c in counts]
        return {name: {"samples": n, "calls": call, "share": n / total if total else 0.0}
                for name, n, call in zip(self.member_names_, samples, calls)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        members = [member for _, member in self.estimators
                   if hasattr(member, "fit") and hasattr(member, "predict_proba")]
        if members:  # every member reads X, as in KCMEnsemble; the first one reads it all
            member_tags = [get_tags(member).input_tags for member in members]
            tags.input_tags.sparse = all(t.sparse for t in member_tags)
            tags.input_tags.allow_nan = all(t.allow_nan for t in member_tags)
            tags.input_tags.string = member_tags[0].string
        return tags

    @property
    def n_features_in_(self):
        """Number of features seen by the first member (when it defines it)."""
        return self.steps_[0].n_features_in_
