"""The judges: KAN and MLP classifiers whose confidence routes inputs."""

from ..nn import MLP
from ._base import TorchClassifier, layer_widths
from ._kan import KANClassifier


class _JudgeMixin:
    """Adds the judge's confidence ``C_x`` to a probabilistic classifier."""

    def confidence(self, X):
        """Judge confidence ``C_x``: the largest class probability.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Values in ``[1 / n_classes, 1]``; high means an easy input.
        """
        return self.predict_proba(X).max(axis=1)


class KANJudgeClassifier(_JudgeMixin, KANClassifier):
    """The KCM judge: a small, fast KAN whose confidence routes inputs.

    A :class:`KANClassifier` with judge defaults (one hidden layer of 16,
    20 epochs in batches of ``n_samples // 16`` clipped to [32, 1024], the
    learning rate falling linearly to ``lr / 50``) and
    :meth:`confidence`, the largest softmax probability ``C_x``. In
    :class:`KCMEnsemble`, inputs with ``C_x > epsilon`` are answered by the
    small model and the rest by the large one; there, on numeric X, the judge
    learns the task and ``C_x`` is its agreement with the small model's answer
    (see :class:`~sklearn_kcm.Judge`'s ``input`` and ``target``).

    The defaults were chosen on the benchmark suite (``python -m
    benchmarks.judges``): 20 epochs route as well as 30 (mean accuracy over
    routed shares within 0.003 on every task) and train faster; the batch
    size follows the data, because on the 417 rows of the long-tailed digits
    a fixed batch of 256 gives 40 optimiser steps in all, and the judge learns
    the task worse than the small model does (0.836 against 0.850; 0.860 in
    batches of 32).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(16,)
        Widths of the hidden KAN layers.
    grid_size : int, default=5
        Grid intervals ``G`` per edge.
    spline_order : int, default=3
        B-spline order ``k``.
    regularization : float, default=0.0
        Weight of the sparsity penalty on the edge scales.
    fused : bool, default=False
        Run the KAN layers with kernels fused by ``torch.compile``.
    layer_norm : bool, default=False
        Normalise each hidden layer's outputs before the next layer reads them.
    dropout : float in [0, 1), default=0.0
        Share of each hidden layer's units zeroed at random in training.
    max_epochs : int, default=20
        Epochs of ``fit``; ``partial_fit`` runs one epoch per call.
    lr : float, default=1e-2
        Adam learning rate.
    lr_schedule : {"constant", "linear"}, default="linear"
        ``"linear"``: in ``fit`` the rate falls in a straight line from ``lr``
        to ``lr / 50`` at the last batch, which settles the outputs, so that
        two fits on similar rows give confidences on the same scale (what a
        threshold chosen out of fold needs); ``partial_fit`` trains at ``lr``.
    batch_size : int or "auto", default="auto"
        Samples per mini-batch; ``"auto"``: ``n_samples // 16`` clipped to
        [32, 1024] (``n_samples`` of the first fit or ``partial_fit`` call).
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    device : str or torch.device, default="cpu"
        Where to train, e.g. ``"cuda"``.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, copied at each ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and shuffling.
    verbose : int, default=0
        Print skorch's per-epoch log when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X had string column names.
    net_ : skorch.NeuralNet
        The trained net.

    See Also
    --------
    MLPJudgeClassifier : The same judge on an MLP (the paper's MCM ablation).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_kcm import KANJudgeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> judge = KANJudgeClassifier(random_state=0).fit(X, y)
    >>> judge.confidence(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        hidden_layer_sizes=(16,),
        *,
        grid_size=5,
        spline_order=3,
        regularization=0.0,
        fused=False,
        layer_norm=False,
        dropout=0.0,
        max_epochs=20,
        lr=1e-2,
        lr_schedule="linear",
        batch_size="auto",
        weight_decay=0.0,
        device="cpu",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            hidden_layer_sizes,
            grid_size=grid_size,
            spline_order=spline_order,
            regularization=regularization,
            fused=fused,
            layer_norm=layer_norm,
            dropout=dropout,
            max_epochs=max_epochs,
            lr=lr,
            lr_schedule=lr_schedule,
            batch_size=batch_size,
            weight_decay=weight_decay,
            device=device,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )


class MLPJudgeClassifier(_JudgeMixin, TorchClassifier):
    """The judge on a plain MLP: the paper's MCM ablation of KCM.

    Same estimator API, training machinery and :meth:`confidence` as
    :class:`KANJudgeClassifier`, with SiLU-activated linear layers instead of
    KAN layers.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(32,)
        Widths of the hidden layers.
    max_epochs : int, default=30
        Epochs of ``fit``; ``partial_fit`` runs one epoch per call.
    lr : float, default=1e-2
        Adam learning rate.
    lr_schedule : {"constant", "linear"}, default="linear"
        ``"linear"``: in ``fit`` the rate falls in a straight line from ``lr``
        to ``lr / 50`` at the last batch, which settles the outputs, so that
        two fits on similar rows give confidences on the same scale (what a
        threshold chosen out of fold needs); ``partial_fit`` trains at ``lr``.
    batch_size : int, default=128
        Samples per mini-batch.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    device : str or torch.device, default="cpu"
        Where to train, e.g. ``"cuda"``.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, copied at each ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and shuffling.
    verbose : int, default=0
        Print skorch's per-epoch log when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X had string column names.
    net_ : skorch.NeuralNet
        The trained net.

    See Also
    --------
    KANJudgeClassifier : The KAN judge of KCM.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_kcm import MLPJudgeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> judge = MLPJudgeClassifier(random_state=0).fit(X, y)
    >>> judge.confidence(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        max_epochs=30,
        lr=1e-2,
        lr_schedule="linear",
        batch_size=128,
        weight_decay=0.0,
        device="cpu",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_epochs = max_epochs
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def _build_module(self, n_features, n_classes, generator):
        widths = layer_widths(n_features, self.hidden_layer_sizes, n_classes)
        return MLP(widths, generator=generator)
