"""A reference KAN layer in the style of efficient-kan, written for comparison.

Cox–de Boor recursion over all ``G + k`` bases with plain autograd, and separate
matmuls for the SiLU base and the spline part. This is the formulation most
published "efficient" KANs use; the benchmark measures ours against it and the
tests check our closed-form bases against :func:`cox_de_boor`.
"""

import math

import torch
from torch import nn


def uniform_knots(lo, hi, grid_size, spline_order, dtype=torch.float32):
    """Knot vector of shape (G + 2k + 1,) for a uniform grid on ``[lo, hi]``."""
    step = (hi - lo) / grid_size
    j = torch.arange(-spline_order, grid_size + spline_order + 1, dtype=dtype)
    return lo + j * step


def cox_de_boor(x, knots, spline_order):
    """All B-spline bases at ``x`` (shape (...,)) by the recursion: (..., G + k)."""
    x = x.unsqueeze(-1)
    bases = ((x >= knots[:-1]) & (x < knots[1:])).to(x.dtype)
    for p in range(1, spline_order + 1):
        left = (x - knots[: -(p + 1)]) / (knots[p:-1] - knots[: -(p + 1)])
        right = (knots[p + 1:] - x) / (knots[p + 1:] - knots[1:-p])
        bases = left * bases[..., :-1] + right * bases[..., 1:]
    return bases


class ReferenceKANLinear(nn.Module):
    """efficient-kan-style layer: ``silu(x) @ Wb.T + B(x).flatten() @ Ws.T``."""

    def __init__(self, in_features, out_features, grid_size=5, spline_order=3):
        super().__init__()
        self.spline_order = spline_order
        self.register_buffer("knots", uniform_knots(-1.0, 1.0, grid_size, spline_order))
        bound = 1 / math.sqrt(in_features)
        self.base_weight = nn.Parameter(
            torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.spline_weight = nn.Parameter(
            torch.randn(out_features, in_features * (grid_size + spline_order)) * 0.1 * bound
        )

    def forward(self, x):
        bases = cox_de_boor(x, self.knots, self.spline_order)
        base = nn.functional.linear(nn.functional.silu(x), self.base_weight)
        spline = nn.functional.linear(bases.reshape(x.shape[0], -1), self.spline_weight)
        return base + spline
