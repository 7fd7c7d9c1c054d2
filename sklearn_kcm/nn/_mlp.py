"""A plain multilayer perceptron, the MLP counterpart of :class:`KAN`."""

import math

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
    generator : torch.Generator, default=None
        Draws the initial parameters (as ``nn.Linear`` does); None: torch's
        global generator.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import MLP
    >>> MLP([4, 8, 3])(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, layers, device=None, dtype=None, generator=None):
        modules = []
        for a, b in layer_pairs(layers):
            modules += [nn.Linear(a, b, device=device, dtype=dtype), nn.SiLU()]
        super().__init__(*modules[:-1])
        if generator is not None:  # nn.Linear's own initialisation, drawn from `generator`
            for linear in (m for m in self if isinstance(m, nn.Linear)):
                nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(linear.in_features)
                nn.init.uniform_(linear.bias, -bound, bound, generator=generator)
