"""Displays of routing: accuracy against the share sent to the large model
(RoutingCurveDisplay), and the share each member of a cascade answers
(MemberShareDisplay)."""

import numpy as np

from .._routing._curves import gap_recovered, routing_curve
from .._utils._plotting import pyplot


class RoutingCurveDisplay:
    """Accuracy against the share of inputs sent to the large model.

    Every threshold of the judge's confidence gives one point: routing the
    inputs with ``C_x <= threshold`` to the large model and the rest to the
    small one. Computed from one pass of each model; build it with
    :meth:`from_estimator` or :meth:`from_predictions`, draw several on one
    axes to compare KCM, MCM and the confidence cascade.

    Parameters
    ----------
    thresholds, large_share, accuracy : ndarray
        The curve (see :meth:`KCMEnsemble.routing_curve`).
    name : str, default=None
        Label of the curve in the legend.
    epsilon : float, default=None
        The operating threshold, marked on the curve when given.

    Attributes
    ----------
    apgr : float
        RouteLLM's average performance gap recovered: the area under the
        share of the small-to-large accuracy gap recovered, over the share axis
        (see :func:`~sklearn_kcm.gap_recovered`); NaN without a gap.
    cpt : dict
        RouteLLM's CPT(50%) and CPT(80%): the share sent that recovers half,
        and 80%, of the gap.
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_kcm import RoutingCurveDisplay
    >>> display = RoutingCurveDisplay.from_predictions(
    ...     [0, 1, 1], small_pred=[0, 0, 1], large_pred=[0, 1, 1],
    ...     confidence=[0.9, 0.6, 0.8], name="toy")
    >>> display.large_share.tolist(), display.accuracy.tolist()
    ([0.0, 0.3333333333333333, 0.6666666666666666, 1.0], [0.6666666666666666, 1.0, 1.0, 1.0])
    """

    def __init__(self, *, thresholds, large_share, accuracy, name=None, epsilon=None):
        self.thresholds = thresholds
        self.large_share = large_share
        self.accuracy = accuracy
        self.name = name
        self.epsilon = epsilon
        metrics = gap_recovered(large_share, accuracy)
        self.apgr, self.cpt = metrics["apgr"], metrics["cpt"]

    @classmethod
    def from_estimator(cls, estimator, X, y, *, name=None, ax=None, **kwargs):
        """Compute and draw the curve of a fitted :class:`KCMEnsemble` on (X, y).

        The large model is called once, on all of X.

        Parameters
        ----------
        estimator : KCMEnsemble
            A fitted ensemble (or anything with ``routing_curve`` and
            ``epsilon_``).
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,)
            True labels.
        name : str, default=None
            Label of the curve; the estimator's class name when None.
        ax : matplotlib Axes, default=None
            Pass ``other_display.ax_`` to overlay curves.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : RoutingCurveDisplay
            The display, drawn.
        """
        thresholds, large_share, accuracy = estimator.routing_curve(X, y)
        display = cls(thresholds=thresholds, large_share=large_share, accuracy=accuracy,
                      name=name or type(estimator).__name__, epsilon=estimator.epsilon_)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_predictions(cls, y_true, *, small_pred, large_pred, confidence, name=None,
                         epsilon=None, ax=None, **kwargs):
        """Compute and draw the curve from the two models' predictions and ``C_x``.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        small_pred, large_pred : array-like of shape (n_samples,)
            Each model's predicted labels.
        confidence : array-like of shape (n_samples,)
            The judge's ``C_x`` of each sample.
        name : str, default=None
            Label of the curve in the legend.
        epsilon : float, default=None
            The operating threshold, marked on the curve when given.
        ax : matplotlib Axes, default=None
            Pass ``other_display.ax_`` to overlay curves.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : RoutingCurveDisplay
            The display, drawn.
        """
        y_true = np.asarray(y_true)
        thresholds, large_share, accuracy = routing_curve(
            confidence, np.asarray(small_pred) == y_true, np.asarray(large_pred) == y_true
        )
        display = cls(thresholds=thresholds, large_share=large_share, accuracy=accuracy,
                      name=name, epsilon=epsilon)
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, name=None, show_endpoints=True, show_apgr=True, **kwargs):
        """Draw the curve (on ``ax``, or a new figure).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Pass ``other_display.ax_`` to overlay curves.
        name : str, default=None
            Overrides the legend label.
        show_endpoints : bool, default=True
            Mark the small-only (share 0) and large-only (share 1) points.
        show_apgr : bool, default=True
            Add the APGR to the legend label.
        **kwargs : dict
            Passed to ``ax.plot``.

        Returns
        -------
        display : RoutingCurveDisplay
            This display, with ``line_``, ``ax_`` and ``figure_`` set.
        """
        if ax is None:
            _, ax = pyplot().subplots(figsize=(6, 4))
        label = name or self.name
        if label and show_apgr and not np.isnan(self.apgr):
            label = f"{label} (APGR {self.apgr:.2f})"
        (self.line_,) = ax.step(self.large_share, self.accuracy, where="post", label=label,
                                **kwargs)
        color = self.line_.get_color()
        if show_endpoints:
            ax.plot([self.large_share[0]], [self.accuracy[0]], "o", color=color, mfc="white")
            ax.plot([self.large_share[-1]], [self.accuracy[-1]], "s", color=color)
        if self.epsilon is not None:
            at = max(np.searchsorted(self.thresholds, self.epsilon, side="right") - 1, 0)
            ax.plot([self.large_share[at]], [self.accuracy[at]], "*", color=color, ms=11)
        ax.set_xlabel("share of inputs sent to the large model")
        ax.set_ylabel("accuracy")
        ax.set_xlim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
        if label:
            ax.legend(loc="lower right")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class MemberShareDisplay:
    """The share of inputs each member of a :class:`~sklearn_kcm.KCMCascade` answers.

    One bar per member, cheapest first; with true labels, each bar is annotated
    with the member's accuracy on the inputs it answered.

    Parameters
    ----------
    names : sequence of str
        The members, cheapest first.
    shares : ndarray
        The share of inputs each answers.
    accuracy : ndarray or None, default=None
        Each member's accuracy on its inputs (NaN where it answered none).

    Attributes
    ----------
    bars_ : matplotlib BarContainer
    ax_, figure_ : matplotlib Axes and Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_kcm import MemberShareDisplay
    >>> display = MemberShareDisplay(names=["lr", "svm"], shares=[0.8, 0.2]).plot()
    >>> [round(float(bar.get_height()), 1) for bar in display.bars_]
    [0.8, 0.2]
    """

    def __init__(self, *, names, shares, accuracy=None):
        self.names = list(names)
        self.shares = np.asarray(shares, dtype=np.float64)
        self.accuracy = None if accuracy is None else np.asarray(accuracy, dtype=np.float64)

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, ax=None):
        """Route X through a fitted cascade and draw the share each member answers.

        Without ``y`` the last member is not called.

        Parameters
        ----------
        estimator : KCMCascade
            A fitted cascade.
        X : array-like, sparse matrix, DataFrame or list of str
            Inputs, in whatever form the members accept.
        y : array-like of shape (n_samples,), default=None
            True labels: with them, each member's accuracy (this predicts X, one
            call per member).
        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure when None.

        Returns
        -------
        display : MemberShareDisplay
            The display, drawn.
        """
        names = list(estimator.member_names_)
        if y is None:
            member = estimator.route(X)
            accuracy = None
        else:
            proba, member = estimator._walk(X)
            right = estimator.classes_[np.argmax(proba, axis=1)] == np.asarray(y)
            accuracy = [right[member == i].mean() if np.any(member == i) else np.nan
                        for i in range(len(names))]
        shares = np.bincount(member, minlength=len(names)) / max(len(member), 1)
        return cls(names=names, shares=shares, accuracy=accuracy).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the bars (on ``ax``, or a new figure).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure when None.

        Returns
        -------
        display : MemberShareDisplay
            This display, with ``bars_``, ``ax_`` and ``figure_`` set.
        """
        if ax is None:
            _, ax = pyplot().subplots(figsize=(1.5 + 1.2 * len(self.names), 3.5))
        self.bars_ = ax.bar(self.names, self.shares, color="#4c72b0")
        if self.accuracy is not None:
            for bar, accuracy in zip(self.bars_, self.accuracy):
                if not np.isnan(accuracy):
                    ax.annotate(f"acc {accuracy:.3f}", (bar.get_x() + bar.get_width() / 2,
                                                        bar.get_height()),
                                ha="center", va="bottom", fontsize=9)
        ax.set_ylabel("share of inputs answered")
        ax.set_ylim(0, 1.1)
        self.ax_, self.figure_ = ax, ax.figure
        return self
