"""KANClassifier: a classifier whose network is a Kolmogorov-Arnold Network."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval
from ..nn import KAN
from ._base import TorchClassifier, layer_widths

GRID_SAMPLE_ROWS = 10_000
GRID_SAMPLE_VALUES = 2**23  # 32 MB of float32 bases


class KANClassifier(TorchClassifier):
    """Classifier whose network is a Kolmogorov–Arnold Network.

    Every edge of the network learns its own function, a B-spline on a grid
    plus a SiLU term (see :class:`sklearn_kcm.nn.KANLinear`). Inputs are
    standardised, then each layer's grid is fitted to the range of its inputs
    on the training data. Training runs through :class:`skorch.NeuralNet` with
    Adam on the soft-target cross-entropy, so ``fit`` and ``partial_fit`` take
    hard labels or soft labels (teacher probabilities) alike.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(64,)
        Widths of the hidden KAN layers; ``()`` gives a single layer.
    grid_size : int, default=5
        Grid intervals ``G`` per edge.
    spline_order : int, default=3
        B-spline order ``k`` (3, cubic, has a closed-form fast path).
    regularization : float, default=0.0
        Weight of pykan's sparsity penalty (L1 of edge scales plus twice their
        entropy) added to the loss.
    fused : bool, default=False
        Run the KAN layers with kernels fused by ``torch.compile`` (see
        :class:`sklearn_kcm.nn.KANLinear`): about 1.7 times faster on large
        batches, after tens of seconds of compilation in each new process.
    layer_norm : bool, default=False
        Normalise each hidden layer's outputs before the next layer reads them
        (see :class:`sklearn_kcm.nn.KAN`), which keeps them inside its grid.
    dropout : float in [0, 1), default=0.0
        Share of each hidden layer's units zeroed at random in training
        (see :class:`sklearn_kcm.nn.KAN`).
    max_epochs : int, default=50
        Epochs of ``fit``. ``partial_fit`` runs one epoch per call.
    lr : float, default=1e-2
        Adam learning rate.
    lr_schedule : {"constant", "linear"}, default="constant"
        ``"linear"``: in ``fit`` the rate falls in a straight line from ``lr``
        to ``lr / 50`` at the last batch, which settles the outputs, so that
        two fits on similar rows give confidences on the same scale (what a
        threshold chosen out of fold needs); ``partial_fit`` trains at ``lr``.
    batch_size : int, default=128
        Samples per mini-batch.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    device : str or torch.device, default="cpu"
        Where to train, e.g. ``"cuda"``. A model trained on a GPU unpickles on
        a machine without one (on the CPU, with a warning from skorch).
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (early stopping, learning-rate schedules...);
        copied at each ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and shuffling; the global torch random
        state is left untouched.
    verbose : int, default=0
        Print skorch's per-epoch log when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``0..n_classes-1`` after ``fit`` on soft labels).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X had string column names.
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the :class:`~sklearn_kcm.nn.KAN`
        and ``net_.history`` its training log.

    See Also
    --------
    KANJudgeClassifier : A small KAN that scores how hard each input is.
    sklearn.neural_network.MLPClassifier : The MLP analogue in scikit-learn.

    Notes
    -----
    ``sample_weight`` multiplies each sample's loss; weights are rescaled to a
    mean of 1 so that ``lr`` keeps its meaning. Soft labels of width
    ``n_classes`` whose rows sum to 1 train on the cross-entropy to them, which
    equals the KL divergence up to a constant: this is how a teacher's
    probabilities are distilled.

    Ctrl-C (``KeyboardInterrupt``) during ``fit`` or ``partial_fit`` stops
    training and propagates, as it does in scikit-learn's estimators (skorch
    alone would return as if training had ended, after the epochs that ran),
    and the estimator is left as it was before the call: unfitted after a
    first ``fit``, with its previous network otherwise.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_kcm import KANClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KANClassifier(hidden_layer_sizes=(), max_epochs=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "grid_size": [Interval(Integral, 1, None, closed="left")],
        "spline_order": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "fused": ["boolean"],
        "layer_norm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        *,
        grid_size=5,
        spline_order=3,
        regularization=0.0,
        fused=False,
        layer_norm=False,
        dropout=0.0,
        max_epochs=50,
        lr=1e-2,
        lr_schedule="constant",
        batch_size=128,
        weight_decay=0.0,
        device="cpu",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.grid_size = grid_size
        self.spline_order = spline_order
        self.regularization = regularization
        self.fused = fused
        self.layer_norm = layer_norm
        self.dropout = dropout
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
        return KAN(
            layer_widths(n_features, self.hidden_layer_sizes, n_classes),
            grid_size=self.grid_size,
            spline_order=self.spline_order,
            fused=self.fused,
            layer_norm=self._setting("layer_norm"),
            dropout=self._setting("dropout"),
            generator=generator,
        )

    def _prepare_module(self, module, X):
        # The grid spans every training row; its coefficients are refitted on a
        # sample small enough to expand into B-spline bases (rows x features x
        # (G + k) floats): on 4,000 x 4,000 TF-IDF all rows took 2.7 GB.
        lo, hi = X.min(axis=0), X.max(axis=0)
        if sp.issparse(X):
            lo, hi = lo.toarray(), hi.toarray()
        bounds = self._standardise(np.vstack([lo, hi]))  # it keeps each feature's order
        per_row = X.shape[1] * (self.grid_size + self.spline_order)
        sample = self._standardise(
            X[: max(1, min(GRID_SAMPLE_ROWS, GRID_SAMPLE_VALUES // per_row))])
        sample = sample.toarray() if sp.issparse(sample) else sample
        module.update_grid(torch.as_tensor(sample),
                           bounds=(torch.as_tensor(bounds[0]), torch.as_tensor(bounds[1])))

    def _net_kwargs(self):
        return {"regularization": self.regularization}

    def _values_per_row(self):
        # each input the network reads expands into silu(x) and G + k B-spline bases
        return self._scaler.n_features_in_ * (self.grid_size + self.spline_order + 1)

    def edge_functions(self, layer=0, n_points=100):
        """Sample the learned edge functions ``phi_oi`` of one KAN layer.

        Parameters
        ----------
        layer : int, default=0
            Which layer (negative counts from the last).
        n_points : int, default=100
            Points per function, spread over each input's grid.

        Returns
        -------
        x : ndarray of shape (n_points, n_inputs)
            Where each input's functions are sampled; for the first layer in
            the units of the original features, else in the layer's own.
        phi : ndarray of shape (n_points, n_inputs, n_outputs)
            ``phi[:, i, o]`` is the function on the edge from input ``i`` to
            output ``o``.
        """
        check_is_fitted(self)
        layers = self.net_.module_.layers
        if not -len(layers) <= layer < len(layers):
            raise ValueError(f"layer={layer} is out of range: the network has "
                             f"{len(layers)} layers.")
        x, phi = (t.cpu().numpy() for t in layers[layer].edge_functions(n_points))
        if layer in (0, -len(layers)):  # back to the units of the original features
            x = self._scaler.inverse_transform(x)
        return x, phi

    def plot_activations(self, layer=0, inputs=None, outputs=None, n_points=100, ax=None):
        """Plot the learned edge functions of one KAN layer (see :meth:`edge_functions`).

        Needs matplotlib (``pip install sklearn_kcm[plot]``). For the first
        layer the x axis is in the units of the original features.

        Parameters
        ----------
        layer : int, default=0
            Which layer.
        inputs, outputs : list of int, default=None
            Which input and output nodes to show (default: up to 8 of each).
        n_points : int, default=100
            Points per curve.
        ax : matplotlib Axes or array of Axes, default=None
            A grid of ``len(outputs)`` rows and ``len(inputs)`` columns; made
            when None.

        Returns
        -------
        axes : ndarray of matplotlib Axes
            The grid the curves were drawn on.
        """
        from ._plot import plot_edge_functions  # matplotlib is optional

        x, phi = self.edge_functions(layer, n_points)
        return plot_edge_functions(x, phi, inputs, outputs, ax)
