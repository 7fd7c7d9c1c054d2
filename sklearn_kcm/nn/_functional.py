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

For cubic and linear splines on CPU the two spline passes run in a C++ kernel once it is
built (:mod:`._cpp`, ``python -m sklearn_kcm build-kernel``); the torch code
here is the reference it is tested against and the path everywhere else.
"""

import torch
from torch.autograd.function import once_differentiable

from . import _cpp, _fused
from ._basis import grid_position, local_bases, on_grid, silu_slope


def _spline_index(interval, spline_order):
    # Position of local basis r in the feature block: slot 0 is silu(x).
    offsets = torch.arange(1, spline_order + 2, device=interval.device)
    return interval.long().unsqueeze(-1) + offsets


def kan_features(x, grid_lo, grid_step, grid_size, spline_order):
    """Compute the feature blocks ``[silu(x) | B(x)]`` a KAN layer multiplies.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, in_features)
        Inputs.
    grid_lo : torch.Tensor of shape (in_features,)
        Left end of each feature's grid.
    grid_step : torch.Tensor of shape (in_features,)
        Width of each feature's grid intervals.
    grid_size : int
        Grid intervals ``G``.
    spline_order : int
        B-spline order ``k``.

    Returns
    -------
    features : torch.Tensor of shape (batch, in_features, G + k + 1)
        SiLU value (slot 0) and B-spline bases of each input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import kan_features
    >>> x = torch.linspace(-1, 1, 6).reshape(3, 2)
    >>> lo, step = torch.full((2,), -1.0), torch.full((2,), 0.4)
    >>> kan_features(x, lo, step, 5, 3).shape
    torch.Size([3, 2, 9])
    """
    interval, offset = grid_position(x, grid_lo, grid_step, grid_size)
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
    def forward(ctx, x, weight, bias, grid_lo, grid_step, grid_size, spline_order, fused):
        kernel = None if fused else _cpp.kernel(x, spline_order, grid_lo)
        if fused:
            features = _fused.compiled("features", grid_size, spline_order)(x, grid_lo, grid_step)
        elif kernel is not None:
            features = kernel.features(x, torch.nn.functional.silu(x), grid_lo, grid_step,
                                       grid_size, spline_order)
        else:
            features = kan_features(x, grid_lo, grid_step, grid_size, spline_order)
        flat = features.view(x.shape[0], -1)
        weight2d = weight.view(weight.shape[0], -1)
        out = flat @ weight2d.T if bias is None else torch.addmm(bias, flat, weight2d.T)
        ctx.save_for_backward(x, weight, bias, grid_lo, grid_step)
        ctx.grid = (grid_size, spline_order, fused, kernel)  # backward runs as forward did
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, weight, bias, grid_lo, grid_step = ctx.saved_tensors
        grid_size, spline_order, fused, kernel = ctx.grid
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_out = grad_out.contiguous()
        if fused:
            features = _fused.compiled("features", grid_size, spline_order)(x, grid_lo, grid_step)
        elif kernel is not None:
            features = kernel.features(x, torch.nn.functional.silu(x), grid_lo, grid_step,
                                       grid_size, spline_order)
        else:
            interval, offset = grid_position(x, grid_lo, grid_step, grid_size)
            index = _spline_index(interval, spline_order)
            values, slopes = local_bases(offset, spline_order, derivative=need_x)
            features = _assemble(x, index, values, weight.shape[-1])
        # One buffer of width in * K serves twice: the recomputed features for
        # the weight gradient, then the gradient of those features.
        flat = features.view(x.shape[0], -1)
        grad_w = (grad_out.T @ flat).view_as(weight) if need_w else None
        grad_x = None
        if need_x:
            weight2d = weight.view(weight.shape[0], -1)
            grad_features = torch.mm(grad_out, weight2d, out=flat).view_as(features)
            if fused:
                grad_input = _fused.compiled("grad_input", grid_size, spline_order)
                grad_x = grad_input(grad_features, x, grid_lo, grid_step)
            else:
                if kernel is not None:
                    spline_part = kernel.grad_spline(grad_features, x, grid_lo, grid_step,
                                                     grid_size, spline_order)
                else:
                    spline_part = (grad_features.gather(-1, index) * slopes).sum(-1)
                    spline_part.mul_(on_grid(x, grid_lo, grid_step, grid_size)).div_(grid_step)
                grad_x = spline_part.addcmul_(grad_features[..., 0], silu_slope(x))
        grad_b = grad_out.sum(0) if bias is not None and need_b else None
        return grad_x, grad_w, grad_b, None, None, None, None, None


def kan_linear(x, weight, bias, grid_lo, grid_step, grid_size, spline_order, fused=False):
    """Apply a KAN layer to ``x`` of shape (..., in_features).

    Parameters
    ----------
    x : torch.Tensor of shape (..., in_features)
        Inputs.
    weight : torch.Tensor of shape (out_features, in_features, G + k + 1)
        Per input, the SiLU weight (slot 0) and the spline coefficients.
    bias : torch.Tensor of shape (out_features,) or None
        Added to the outputs.
    grid_lo : torch.Tensor of shape (in_features,)
        Left end of each feature's grid.
    grid_step : torch.Tensor of shape (in_features,)
        Width of each feature's grid intervals.
    grid_size : int
        Grid intervals ``G``.
    spline_order : int
        B-spline order ``k``.
    fused : bool, default=False
        Use the ``torch.compile``-d kernels of :mod:`sklearn_kcm.nn._fused`.

    Returns
    -------
    torch.Tensor of shape (..., out_features)
        Outputs; differentiable in ``x``, ``weight`` and ``bias``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import kan_linear
    >>> x = torch.linspace(-1, 1, 6).reshape(3, 2)
    >>> lo, step = torch.full((2,), -1.0), torch.full((2,), 0.4)
    >>> kan_linear(x, torch.randn(4, 2, 9), None, lo, step, 5, 3).shape
    torch.Size([3, 4])
    """
    lead = x.shape[:-1]
    out = KANLinearFunction.apply(
        x.reshape(-1, x.shape[-1]), weight, bias, grid_lo, grid_step,
        grid_size, spline_order, fused,
    )
    return out.view(*lead, weight.shape[0])
