"""Plots: the learned edge functions of a KAN estimator."""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sklearn_kcm[plot]'."
        ) from error
    return plt


def plot_kan_activations(estimator, layer=0, inputs=None, outputs=None, n_points=100, ax=None):
    """Draw edge functions ``phi_oi`` of layer ``layer`` of a fitted KAN estimator.

    See :meth:`KANClassifier.plot_activations`.
    """
    check_is_fitted(estimator)
    layers = estimator.net_.module_.layers
    if not -len(layers) <= layer < len(layers):
        raise ValueError(f"layer={layer} is out of range: the network has {len(layers)} layers.")
    kan_layer = layers[layer]
    inputs = list(range(min(8, kan_layer.in_features))) if inputs is None else list(inputs)
    outputs = list(range(min(8, kan_layer.out_features))) if outputs is None else list(outputs)
    x, phi = (t.cpu().numpy() for t in kan_layer.edge_functions(n_points))
    if layer in (0, -len(layers)):  # back to the units of the original features
        scaler = estimator._scaler
        x = x * scaler.scale_ + (scaler.mean_ if scaler.with_mean else 0.0)
    if ax is None:
        plt = _pyplot()
        _, ax = plt.subplots(
            len(outputs), len(inputs), squeeze=False,
            figsize=(1.6 * len(inputs) + 1, 1.2 * len(outputs) + 1),
            sharey="row",
        )
    axes = np.asarray(ax).reshape(len(outputs), len(inputs))
    for r, o in enumerate(outputs):
        for c, i in enumerate(inputs):
            axes[r, c].plot(x[:, i], phi[:, i, o], lw=1.2)
            axes[r, c].tick_params(labelsize=6)
            if r == len(outputs) - 1:
                axes[r, c].set_xlabel(f"in {i}", fontsize=7)
            if c == 0:
                axes[r, c].set_ylabel(f"out {o}", fontsize=7)
    return axes
