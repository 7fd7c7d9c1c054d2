"""Optional fused kernels for the KAN layer, compiled with ``torch.compile``.

The eager layer evaluates only the ``k + 1`` non-zero bases and scatters them;
each step is a separate pass over memory. Here the same quantities are written
as one elementwise expression per basis, which inductor fuses into a single
kernel: the dense bases come straight from the cardinal B-spline in closed form,
and the input gradient is one fused reduction over the feature gradient.

Compilation needs a C++ compiler (or Triton on CUDA) and takes tens of seconds
the first time a process uses it, so it is opt-in (``KANLinear(fused=True)``)
and never required; results match the eager path to float precision.
"""

import functools
import math

import torch

from ._basis import grid_coordinate, on_grid, silu_slope


def _cardinal(v, order, derivative=False):
    """Cardinal B-spline of order ``k`` at ``v`` (support ``[0, k + 1]``), or its slope.

    Uses the truncated-power form on the nearer half of the support
    (``N(v) = N(k + 1 - v)``), where it has no cancellation to speak of.
    """
    half = (order + 1) / 2
    w = torch.minimum(v, order + 1 - v)
    total = torch.zeros_like(v)
    power = order - 1 if derivative else order
    for m in range(math.ceil(half)):
        coef = (-1) ** m * math.comb(order + 1, m) / math.factorial(order)
        if derivative:
            coef *= order
        total = total + coef * torch.clamp(w - m, min=0) ** power
    if derivative:
        total = torch.where(v < half, total, -total)
    return total


def _cardinal_argument(x, grid_lo, grid_step, grid_size, spline_order):
    # v_j = s + k - j for basis j, with s the clamped grid coordinate of x.
    s = grid_coordinate(x, grid_lo, grid_step, grid_size)
    j = torch.arange(grid_size + spline_order, device=x.device, dtype=x.dtype)
    return s.unsqueeze(-1) + spline_order - j


def dense_features(x, grid_lo, grid_step, grid_size, spline_order):
    """Same as :func:`~sklearn_kcm.nn.kan_features`, as one elementwise expression."""
    v = _cardinal_argument(x, grid_lo, grid_step, grid_size, spline_order)
    bases = _cardinal(v, spline_order)
    return torch.cat((torch.nn.functional.silu(x).unsqueeze(-1), bases), dim=-1)


def dense_grad_input(grad_features, x, grid_lo, grid_step, grid_size, spline_order):
    """Gradient of the loss with respect to ``x`` given that of the features."""
    v = _cardinal_argument(x, grid_lo, grid_step, grid_size, spline_order)
    slopes = _cardinal(v, spline_order, derivative=True)
    inside = on_grid(x, grid_lo, grid_step, grid_size)
    spline = (grad_features[..., 1:] * slopes).sum(-1) * inside / grid_step
    return spline + grad_features[..., 0] * silu_slope(x)


@functools.cache
def compiled(name, grid_size, spline_order):
    """``dense_features`` or ``dense_grad_input`` compiled for one grid.

    The grid size and order are baked in as constants, so the basis loop is
    unrolled and the feature axis vectorised; only the batch axis becomes
    dynamic, after the first change of batch size (``dynamic=None``). Making
    every axis dynamic is five times slower.
    """
    function = {"features": dense_features, "grad_input": dense_grad_input}[name]

    def kernel(*tensors):
        return function(*tensors, grid_size, spline_order)

    return torch.compile(kernel, dynamic=None)
