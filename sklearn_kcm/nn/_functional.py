"""The KAN layer as one matmul, with an analytic backward.

For each input feature the layer builds the feature block
``[silu(x) | B_0(x) ... B_{G+k-1}(x)]`` of width ``K = G + k + 1``; the blocks of
all inputs side by side form a row of width ``in * K`` that is multiplied once by
the weight of shape ``(out, in * K)``. Only ``k + 1`` of the bases in a block are
non-zero, so the block is filled by one scatter.

The autograd function keeps only ``x`` (and the weight) for backward and
recomputes the features there: they are ``K`` times larger than ``x`` and cheap
to rebuild. The gradient with respect to ``x`` needs only the ``k + 1`` non-zero
basis slopes, gathered from the feature gradient.
"""

import torch
from torch.autograd.function import once_differentiable

from ._basis import grid_position, local_bases


def _silu_slope(x):
    sig = torch.sigmoid(x)
    return sig * (1 + x * (1 - sig))


def _spline_index(interval, spline_order):
    # Position of local basis r in the feature block: slot 0 is silu(x).
    offsets = torch.arange(1, spline_order + 2, device=interval.device)
    return interval.unsqueeze(-1) + offsets


def kan_features(x, grid_lo, grid_step, grid_size, spline_order):
    """Feature blocks ``[silu(x) | B(x)]`` of shape (batch, in_features, G + k + 1).

    Parameters
    ----------
    x : torch.Tensor of shape (batch, in_features)
    grid_lo, grid_step : torch.Tensor of shape (in_features,)
    grid_size, spline_order : int

    Returns
    -------
    features : torch.Tensor of shape (batch, in_features, G + k + 1)
    """
    interval, offset, _ = grid_position(x, grid_lo, grid_step, grid_size)
    values, _ = local_bases(offset, spline_order)
    index = _spline_index(interval, spline_order)
    return _assemble(x, index, values, grid_size + spline_order + 1)


def _assemble(x, index, values, width):
    features = x.new_zeros(*x.shape, width)
    features.scatter_(-1, index, values)
    features[..., 0] = torch.nn.functional.silu(x)
    return features


class KANLinearFunction(torch.autograd.Function):
    """``y = [silu(x) | B(x)] @ weight.T + bias`` with a recomputing backward.

    Saves ``x`` only (plus the parameters), so the memory kept for backward is
    that of an MLP layer, not ``G + k + 1`` times more.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, grid_lo, grid_step, grid_size, spline_order):
        features = kan_features(x, grid_lo, grid_step, grid_size, spline_order)
        flat = features.view(x.shape[0], -1)
        weight2d = weight.view(weight.shape[0], -1)
        out = flat @ weight2d.T if bias is None else torch.addmm(bias, flat, weight2d.T)
        ctx.save_for_backward(x, weight, bias, grid_lo, grid_step)
        ctx.grid = (grid_size, spline_order)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, weight, bias, grid_lo, grid_step = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grid_size, spline_order = ctx.grid
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        interval, offset, inside = grid_position(x, grid_lo, grid_step, grid_size)
        index = _spline_index(interval, spline_order)
        values, slopes = local_bases(offset, spline_order, derivative=need_x)
        if need_w:
            features = _assemble(x, index, values, weight.shape[-1])
            grad_w = (grad_out.T @ features.view(x.shape[0], -1)).view_as(weight)
        if need_x:
            grad_features = (grad_out @ weight.view(weight.shape[0], -1)).view(
                *x.shape, -1
            )
            spline_part = (grad_features.gather(-1, index) * slopes).sum(-1)
            spline_part = spline_part.mul_(inside).div_(grid_step)
            grad_x = grad_features[..., 0] * _silu_slope(x) + spline_part
        if bias is not None and need_b:
            grad_b = grad_out.sum(0)
        return grad_x, grad_w, grad_b, None, None, None, None


def kan_linear(x, weight, bias, grid_lo, grid_step, grid_size, spline_order):
    """Apply a KAN layer to ``x`` of shape (..., in_features).

    Parameters
    ----------
    x : torch.Tensor of shape (..., in_features)
    weight : torch.Tensor of shape (out_features, in_features, G + k + 1)
        Per input, the SiLU weight (slot 0) and the spline coefficients.
    bias : torch.Tensor of shape (out_features,) or None
    grid_lo, grid_step : torch.Tensor of shape (in_features,)
    grid_size, spline_order : int

    Returns
    -------
    torch.Tensor of shape (..., out_features)
    """
    lead = x.shape[:-1]
    out = KANLinearFunction.apply(
        x.reshape(-1, x.shape[-1]), weight, bias, grid_lo, grid_step,
        grid_size, spline_order,
    )
    return out.view(*lead, weight.shape[0])
