"""A plain multilayer perceptron, the MLP counterpart of :class:`KAN`."""

from torch import nn

from ._widths import layer_pairs


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
        modules = []
        for a, b in layer_pairs(layers):
            modules += [nn.Linear(a, b, device=device, dtype=dtype), nn.SiLU()]
        super().__init__(*modules[:-1])
