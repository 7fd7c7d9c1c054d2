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
    interval : torch.LongTensor of shape (..., in_features)
        Interval index ``i`` in ``[0, G - 1]``.
    offset : torch.Tensor of shape (..., in_features)
        Position ``t`` inside the interval, in ``[0, 1]``.
    inside : torch.BoolTensor of shape (..., in_features)
        Where ``x`` lies on the grid. Outside it the position is clamped to the
        nearest end, so the spline continues as a constant and its derivative
        with respect to ``x`` is zero there.
    """
    s = (x - grid_lo) / grid_step
    inside = (s >= 0) & (s <= grid_size)
    s = s.clamp(0, grid_size)
    interval = s.floor().clamp_(max=grid_size - 1)
    offset = s - interval
    return interval.long(), offset, inside


def _cubic_pieces(t, derivative):
    # The four cubic pieces of the cardinal B-spline, local basis r = 0..3.
    t2 = t * t
    t3 = t2 * t
    u = 1 - t
    u2 = u * u
    values = torch.stack(
        (u2 * u, 3 * t3 - 6 * t2 + 4, -3 * t3 + 3 * t2 + 3 * t + 1, t3), dim=-1
    ).div_(6)
    if not derivative:
        return values, None
    slopes = torch.stack(
        (-u2, 3 * t2 - 4 * t, -3 * t2 + 2 * t + 1, t2), dim=-1
    ).div_(2)
    return values, slopes


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
    """Dense B-spline bases of every feature, shape (..., in_features, G + k).

    Outside a feature's grid the bases keep their value at the nearest end of
    the grid (see :func:`grid_position`).
    """
    interval, offset, _ = grid_position(x, grid_lo, grid_step, grid_size)
    values, _ = local_bases(offset, spline_order)
    dense = x.new_zeros(*x.shape, grid_size + spline_order)
    index = interval.unsqueeze(-1) + torch.arange(spline_order + 1, device=x.device)
    return dense.scatter_(-1, index, values)
