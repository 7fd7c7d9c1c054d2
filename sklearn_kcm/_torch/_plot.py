"""The learned edge functions of a KAN estimator, drawn with matplotlib (optional)."""

import numpy as np

from .._utils._plotting import pyplot


def plot_edge_functions(x, phi, inputs=None, outputs=None, ax=None):
    """Draw sampled edge functions on a grid of axes, one row per output.

    Parameters
    ----------
    x : ndarray of shape (n_points, n_inputs)
    phi : ndarray of shape (n_points, n_inputs, n_outputs)
        As returned by :meth:`KANClassifier.edge_functions`.
    inputs, outputs : list of int, default=None
        Which to draw (default: up to 8 of each).
    ax : matplotlib Axes or array of Axes, default=None

    Returns
    -------
    ndarray of matplotlib Axes
    """
    _, n_inputs, n_outputs = phi.shape
    inputs = list(range(min(8, n_inputs))) if inputs is None else list(inputs)
    outputs = list(range(min(8, n_outputs))) if outputs is None else list(outputs)
    if ax is None:
        plt = pyplot()
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
