"""BaseRouter: what KCMEnsemble and KCMRetriever share, written once.

A router scores each input with ``C_x`` (the judge's confidence, the small
member's own, or a blend of the two), answers with the small member where
``C_x > epsilon_`` and asks the large member about the rest, in one call. The
subclasses say what the members' answers are and how to ask for them; the
threshold, the routing, the curve and the fitted routing attributes live here,
as ``BaseThresholdClassifier`` serves scikit-learn's two threshold classifiers.
"""

from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils.validation import check_is_fitted, indexable

from ._budgets import share_of
from ._curves import route_to_large, routing_curve, threshold_for_budget
from ._fallback import blend_confidence


class BaseRouter(MetaEstimatorMixin, BaseEstimator, metaclass=ABCMeta):
    """Routes each input to a small or a large member by a confidence ``C_x``.

    Subclasses define the members' answers (:meth:`_small_answer`,
    :meth:`_ask_large`), the small member's own confidence (the cascade's
    ``C_x``), the judge's, and whether answers are right; they fit
    ``judge_``, ``routing_by_``, ``routing_weight_``, ``routing_quality_``,
    ``epsilon_`` and ``ledger_`` through :meth:`_set_routing`.
    """

    @abstractmethod
    def _small_answer(self, X):
        """The small member's answer on every row of X (probabilities, or scores)."""

    @abstractmethod
    def _own_confidence(self, small):
        """The small member's own confidence in its answer ``small`` (the cascade's ``C_x``)."""

    @abstractmethod
    def _judge_confidence(self, X, small):
        """The fitted judge's ``C_x`` on X, given the small member's answer on it."""

    @abstractmethod
    def _ask_large(self, X, rows, small):
        """The large member's answer on ``rows`` of X, in one counted call."""

    @abstractmethod
    def _answers_right(self, small, large, y):
        """Whether each row's small and large answers are right, against ``y``."""

    def _set_routing(self, judging, epsilon=None):
        """The fitted routing attributes, from :func:`~._judging.fit_judge`'s result.

        ``epsilon``: the threshold, where the subclass fitted it; None reads
        ``epsilon`` (a threshold, or a :class:`~._budgets.LargeShare` to fit one)."""
        self.judge_, self.routing_by_ = judging.judge, judging.routing_by
        self.routing_weight_, self.routing_quality_ = judging.routing_weight, judging.quality
        if epsilon is None:
            share = share_of(self.epsilon)
            epsilon = (float(self.epsilon) if share is None
                       else threshold_for_budget(judging.oof_confidence, share))
        self.epsilon_ = epsilon

    def _confidence(self, X, small, phase="predict"):
        """``C_x`` of every row of X, given the small member's answer on it."""
        own = self._own_confidence(small)
        if self.routing_by_ == "small":
            return own
        with self.ledger_.timer(f"{phase}_judge"):
            judge = self._judge_confidence(X, small)
        return blend_confidence(judge, own, self.routing_weight_)

    def _routed_answers(self, X):
        """The routing loop, written once: score every row of X, answer it with the small
        member, and ask the large member about the rows ``C_x <= epsilon_`` sends it, in one
        call (none when no row goes). ``(small, routed, large)``; ``large`` is None when no
        row was sent, else the large member's answer on the routed rows."""
        X, small, routed = self._score_and_route(X)
        hard = np.flatnonzero(routed)
        large = self._ask_large(X, hard, small) if hard.size else None
        self.ledger_.add(predict_samples=len(routed))
        return small, routed, large

    def _score_and_route(self, X):
        X, small, confidence = self._score(X)
        return X, small, route_to_large(confidence, self.epsilon_)

    def small_answers(self, X):
        """The small member's answer on every row of X, and which rows go to the large member.

        One pass of the small member and the judge; the large member is not
        called. With :meth:`ask_large`, the two steps of a prediction, for a
        caller that sends the routed rows elsewhere (``KCMCascade`` sends them
        to its next member).

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list
            Inputs, in whatever form the members accept.

        Returns
        -------
        small : ndarray
            The small member's answer on each row (probabilities, or scores).
        routed : ndarray of bool, shape (n_samples,)
            True where the row goes to the large member.
        """
        return self._score_and_route(X)[1:]

    def ask_large(self, X, rows, small):
        """The large member's answer on ``rows`` of X, in one counted call, with the hint.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list
            Inputs, in whatever form the members accept.
        rows : ndarray of int
            The rows of X to ask about.
        small : ndarray
            The small member's answer on every row of X (:meth:`small_answers`).

        Returns
        -------
        object
            The large member's answer on those rows (probabilities, or scores).
        """
        check_is_fitted(self)
        (X,) = indexable(X)
        return self._ask_large(X, np.asarray(rows, dtype=int), small)

    def with_threshold(self, epsilon):
        """Route by another threshold from now on, without refitting.

        Parameters
        ----------
        epsilon : float
            The new ``epsilon_``: inputs with ``C_x <= epsilon`` go to the
            large member (:meth:`routing_curve` shows what each threshold does).

        Returns
        -------
        self : object
            The router, with ``epsilon_`` set.
        """
        check_is_fitted(self)
        self.epsilon_ = float(epsilon)
        return self

    def _score(self, X):
        """Indexable X, the small member's answer and ``C_x``."""
        check_is_fitted(self)
        (X,) = indexable(X)
        with self.ledger_.timer("predict_small"):
            small = self._small_answer(X)
        return X, small, self._confidence(X, small)

    def routing_confidence(self, X):
        """``C_x`` of each input, the score that routes (high: the small member answers).

        The judge's confidence, the small member's own, or the blend of the
        two that ``routing_by_`` and ``routing_weight_`` name.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``C_x`` of each input.
        """
        return self._score(X)[2]

    def route(self, X):
        """Which inputs go to the large member: ``routing_confidence(X) <= epsilon_``.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list
            Inputs, in whatever form the members accept.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
            True where the input goes to the large member.
        """
        return route_to_large(self.routing_confidence(X), self.epsilon_)

    def routing_curve(self, X, y):
        """Quality of the answers against the share of inputs sent to the large member.

        One pass of each member over X (the large one is called once, on all
        of X, with the small member's hint); every threshold is then evaluated
        without further calls.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,)
            The true answers.

        Returns
        -------
        thresholds, large_share, quality : ndarray
            See :func:`sklearn_kcm.routing_curve`; the current ``epsilon_``
            corresponds to the point with the largest threshold that is
            ``<= epsilon_``.
        """
        return routing_curve(*self._routing_answers(X, y))

    def _routing_answers(self, X, y):
        """``C_x`` of every row of X and whether each member is right on it, against ``y``
        (one pass of each member, the large one called once with the small one's hint)."""
        X, small, confidence = self._score(X)
        large = self._ask_large(X, np.arange(len(confidence)), small)
        self.ledger_.add(predict_samples=len(confidence))
        return (confidence, *self._answers_right(small, large, y))
