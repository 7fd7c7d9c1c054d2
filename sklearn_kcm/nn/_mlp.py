"""A plain multilayer perceptron, the MLP counterpart of :class:`KAN`."""

from itertools import pairwise

from torch import nn


class MLP(nn.Sequential):
    """Linear layers with SiLU activations between them (none after the last).

    Parameters
    ----------
    layers : sequence of int
        Widths ``[in, h1, ..., out]``; at least two.
    device : torch.device, default=None
        Where to allocate parameters.
    dtype : torch.dtype, default=None
        Type of the parameters.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import MLP
    >>> MLP([4, 8, 3])(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, layers, device=None, dtype=None):
        widths = [int(w) for w in layers]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(
                f"layers must list at least an input and an output width, all >= 1; "
                f"got {list(layers)}."
            )
        modules = []
        for a, b in pairwise(widths):
            modules += [nn.Linear(a, b, device=device, dtype=dtype), nn.SiLU()]
        super().__init__(*modules[:-1])
