"""B-spline bases on a uniform grid, in closed form, with their derivatives.

A KAN layer evaluates, for every input feature, the ``G + k`` B-spline bases of
order ``k`` on a uniform grid of ``G`` intervals. On a uniform grid each basis is
a shifted copy of one cardinal B-spline, and at any point only ``k + 1`` of them
are non-zero. So instead of running the Cox–de Boor recursion over all bases, we
find the interval ``i`` a point falls in and its offset ``t`` in ``[0, 1]``, and
evaluate the ``k + 1`` local polynomials of ``t`` directly. Local basis ``r``
(``r = 0..k``) is the global basis ``i + r``.

Everything here is plain torch on tensors of any leading shape.
"""

import torch


def grid_coordinate(x, grid_lo, grid_step, grid_size):
    """Position of ``x`` on its feature's grid in units of intervals, clamped to ``[0, G]``."""
    return ((x - grid_lo) / grid_step).clamp(0, grid_size)


def silu_slope(x):
    """Derivative of ``silu(x)``, the base branch beside the splines of every KAN edge."""
    sig = torch.sigmoid(x)
    return sig * (1 + x * (1 - sig))


def grid_position(x, grid_lo, grid_step, grid_size):
    """Locate ``x`` on the uniform grid of each feature.

    Parameters
    ----------
    x : torch.Tensor of shape (..., in_features)
        Raw inputs.
    grid_lo, grid_step : torch.Tensor of shape (in_features,)
        Left end and interval width of each feature's grid.
    grid_size : int
        Number of grid intervals ``G``.

    Returns
    -------
    interval : torch.Tensor of shape (..., in_features)
        Interval index ``i`` in ``[0, G - 1]``, as floats.
    offset : torch.Tensor of shape (..., in_features)
        Position ``t`` inside the interval, in ``[0, 1]``. Outside the grid the
        position is clamped to the nearest end, so the spline continues as a
        constant there (see :func:`on_grid`). NaN where ``x`` is NaN.
    """
    s = grid_coordinate(x, grid_lo, grid_step, grid_size)
    # a NaN input gets interval 0 and a NaN offset: NaN out, as nn.Linear gives,
    # rather than an index of -2**63
    interval = s.floor().clamp_(max=grid_size - 1).nan_to_num_(nan=0.0)
    return interval, s.sub_(interval)


def on_grid(x, grid_lo, grid_step, grid_size):
    """Where ``x`` lies on its feature's grid; elsewhere the spline's slope is 0."""
    return (x >= grid_lo) & (x <= grid_lo + grid_size * grid_step)


def _cubic_pieces(t, derivative):
    # The four cubic pieces of the cardinal B-spline, local basis r = 0..3.
    # Pieces sum to 1 (and slopes to 0), which saves computing one of each.
    t2 = t * t
    u = 1 - t
    u2 = u * u
    v0 = (u2 * u).div_(6)
    v3 = (t2 * t).div_(6)
    v1 = (v3 * 3).sub_(t2).add_(2 / 3)
    v2 = 1 - v0 - v1 - v3
    values = torch.stack((v0, v1, v2, v3), dim=-1)
    if not derivative:
        return values, None
    s0 = u2.mul_(-0.5)
    s3 = t2.mul_(0.5)
    s1 = (s3 * 3).sub_(t, alpha=2)
    s2 = -(s0 + s1 + s3)
    return values, torch.stack((s0, s1, s2, s3), dim=-1)


def _recursive_pieces(t, order, derivative):
    # Cox–de Boor on the cardinal spline, restricted to the k + 1 non-zero
    # pieces: piece m holds N_p(t + m). Reversed at the end so that local basis
    # r = k - m.
    pieces = [torch.ones_like(t)]
    lower = pieces
    for p in range(1, order + 1):
        lower = pieces
        zero = torch.zeros_like(t)
        pieces = [
            ((t + m) * (lower[m] if m < p else zero)
             + (p + 1 - t - m) * (lower[m - 1] if m > 0 else zero)) / p
            for m in range(p + 1)
        ]
    values = torch.stack(pieces[::-1], dim=-1)
    if not derivative:
        return values, None
    if order == 0:
        return values, torch.zeros_like(values)
    # N_k'(v) = N_{k-1}(v) - N_{k-1}(v - 1)
    zero = torch.zeros_like(t)
    slopes = [
        (lower[m] if m < order else zero) - (lower[m - 1] if m > 0 else zero)
        for m in range(order + 1)
    ]
    return values, torch.stack(slopes[::-1], dim=-1)


def local_bases(offset, spline_order, derivative=False):
    """Values (and slopes) of the ``k + 1`` bases that are non-zero at ``offset``.

    Parameters
    ----------
    offset : torch.Tensor of shape (...)
        Position ``t`` in ``[0, 1]`` inside the interval.
    spline_order : int
        Order ``k`` of the B-splines. Cubic splines (``k = 3``) use a closed
        form; other orders use the recursion on the non-zero pieces only.
    derivative : bool, default=False
        Also return the derivatives with respect to ``t``.

    Returns
    -------
    values : torch.Tensor of shape (..., k + 1)
    slopes : torch.Tensor of shape (..., k + 1) or None
    """
    if spline_order == 3:
        return _cubic_pieces(offset, derivative)
    return _recursive_pieces(offset, spline_order, derivative)


def bspline_basis(x, grid_lo, grid_step, grid_size, spline_order):
    """Compute the dense B-spline bases of every feature.

    Outside a feature's grid the bases keep their value at the nearest end of
    the grid (see :func:`grid_position`).

    Parameters
    ----------
    x : torch.Tensor of shape (..., in_features)
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
    torch.Tensor of shape (..., in_features, G + k)
        The ``G + k`` bases of each feature; each row sums to one inside the grid.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import bspline_basis
    >>> x = torch.linspace(-1, 1, 6).reshape(3, 2)
    >>> lo, step = torch.full((2,), -1.0), torch.full((2,), 0.4)
    >>> bspline_basis(x, lo, step, 5, 3).shape
    torch.Size([3, 2, 8])
    """
    interval, offset = grid_position(x, grid_lo, grid_step, grid_size)
    values, _ = local_bases(offset, spline_order)
    dense = x.new_zeros(*x.shape, grid_size + spline_order)
    index = interval.long().unsqueeze(-1) + torch.arange(spline_order + 1, device=x.device)
    return dense.scatter_(-1, index, values)
