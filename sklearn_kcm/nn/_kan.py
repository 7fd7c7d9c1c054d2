"""KAN modules: :class:`KANLinear` and the stack :class:`KAN`."""

import math

import torch
from torch import nn

from ._basis import bspline_basis
from ._functional import kan_features, kan_linear
from ._widths import layer_pairs


class KANLinear(nn.Module):
    """A Kolmogorov–Arnold layer: a learnable function on every edge.

    Each edge ``i -> o`` carries ``phi_oi(x) = w_oi * silu(x) + sum_j c_oij B_j(x)``
    where ``B_j`` are the ``G + k`` B-splines of order ``k`` on a uniform grid of
    ``G`` intervals over feature ``i``'s range. Output ``o`` is the sum of its
    incoming edges, plus a bias. The whole layer is computed as one matmul of
    ``[silu(x) | B(x)]`` (width ``in * (G + k + 1)``) by :attr:`weight`, with a
    backward that keeps only ``x``.

    Parameters
    ----------
    in_features, out_features : int
        Widths of the layer.
    grid_size : int, default=5
        Number of grid intervals ``G``.
    spline_order : int, default=3
        Order ``k`` of the B-splines (3: cubic, evaluated in closed form).
    grid_range : tuple of float, default=(-1.0, 1.0)
        Initial grid of every feature; :meth:`update_grid` refits it from data.
    bias : bool, default=True
        Whether to learn an additive bias per output.
    spline_scale : float, default=0.1
        Standard deviation of the initial spline coefficients, divided by
        ``sqrt(in_features)``.
    fused : bool, default=False
        Build the features and the input gradient with kernels fused by
        ``torch.compile`` (needs a C++ compiler, or Triton on CUDA; the first
        call compiles for tens of seconds). Faster for large batches, same
        results as the eager path.
    device, dtype : optional
        Where and how to allocate parameters.
    generator : torch.Generator, optional
        Draws the initial parameters; None: torch's global generator.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (out_features, in_features, G + k + 1)
        Slot 0 is the SiLU weight of each edge, slots ``1:`` its spline
        coefficients.
    bias : torch.nn.Parameter of shape (out_features,) or None
    grid_lo, grid_step : torch.Tensor of shape (in_features,)
        Buffers: left end and interval width of each feature's grid.

    Notes
    -----
    Outside its grid a feature's spline keeps the value it has at the nearest
    end of the grid (constant extension, zero slope), while the SiLU term keeps
    following ``x``: inputs far outside the grid give finite outputs and never
    vanish. Refit the grid with :meth:`update_grid` when data drift out of it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import KANLinear
    >>> layer = KANLinear(4, 2)
    >>> layer(torch.randn(8, 4)).shape
    torch.Size([8, 2])
    """

    def __init__(
        self,
        in_features,
        out_features,
        grid_size=5,
        spline_order=3,
        grid_range=(-1.0, 1.0),
        bias=True,
        spline_scale=0.1,
        fused=False,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        if grid_size < 1 or spline_order < 1:
            raise ValueError(
                f"grid_size and spline_order must be >= 1, got grid_size={grid_size}, "
                f"spline_order={spline_order}."
            )
        lo, hi = grid_range
        if not hi > lo:
            raise ValueError(f"grid_range must be (low, high) with low < high, got {grid_range}.")
        factory = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.out_features = out_features
        self.grid_size = grid_size
        self.spline_order = spline_order
        self.fused = fused
        self.weight = nn.Parameter(
            torch.empty(out_features, in_features, grid_size + spline_order + 1, **factory)
        )
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.register_buffer("grid_lo", torch.full((in_features,), float(lo), **factory))
        self.register_buffer(
            "grid_step", torch.full((in_features,), (hi - lo) / grid_size, **factory)
        )
        self.reset_parameters(spline_scale, generator=generator)

    def reset_parameters(self, spline_scale=0.1, generator=None):
        """Initialise like ``nn.Linear`` for the SiLU part, small noise for splines.

        Parameters
        ----------
        spline_scale : float, default=0.1
            Standard deviation of the spline coefficients, relative to the
            SiLU weights' bound.
        generator : torch.Generator, default=None
            Draws the values; None: torch's global generator.
        """
        bound = 1 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.weight[..., 0].uniform_(-bound, bound, generator=generator)
            self.weight[..., 1:].normal_(0.0, spline_scale * bound, generator=generator)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound, generator=generator)

    @property
    def base_weight(self):
        """SiLU weight of each edge, shape (out_features, in_features)."""
        return self.weight[..., 0]

    @property
    def spline_weight(self):
        """Spline coefficients, shape (out_features, in_features, G + k)."""
        return self.weight[..., 1:]

    def forward(self, x):
        """Apply the layer: ``sum_i phi_oi(x_i)`` for every output ``o``.

        Parameters
        ----------
        x : torch.Tensor of shape (..., in_features)
            Inputs.

        Returns
        -------
        torch.Tensor of shape (..., out_features)
            Outputs.
        """
        return kan_linear(
            x, self.weight, self.bias, self.grid_lo, self.grid_step,
            self.grid_size, self.spline_order, self.fused,
        )

    def features(self, x):
        """Compute the blocks ``[silu(x) | B(x)]`` the layer multiplies by its weights.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Inputs of the layer.

        Returns
        -------
        torch.Tensor of shape (n_samples, in_features, G + k + 1)
            SiLU value and B-spline bases of each input.
        """
        return kan_features(
            x.reshape(-1, self.in_features), self.grid_lo, self.grid_step,
            self.grid_size, self.spline_order,
        )

    @torch.no_grad()
    def update_grid(self, x, margin=0.01, ridge=1e-6, bounds=None):
        """Move each feature's grid onto the range of ``x``, keeping the function.

        The new grid spans ``[min, max]`` of each feature in ``x`` (or
        ``bounds``), widened by
        ``margin`` times that span. The spline coefficients are then refitted by
        least squares so that each edge function is unchanged on ``x`` (as far
        as the new grid can represent it), which is pykan's "update grid from
        samples" without any per-edge tensor: only per-input Gram matrices.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Inputs of the layer.
        margin : float, default=0.01
            Fraction of each feature's span added beyond both ends.
        ridge : float, default=1e-6
            Relative Tikhonov term that keeps bases without data at zero.
        bounds : tuple of two torch.Tensor of shape (in_features,), default=None
            Each feature's ``(min, max)``, when ``x`` is a sample of larger
            data whose range the grid must span.

        Returns
        -------
        self : KANLinear
            The layer, updated in place.
        """
        x = x.reshape(-1, self.in_features).to(self.weight)
        grid_size, order = self.grid_size, self.spline_order
        old = bspline_basis(x, self.grid_lo, self.grid_step, grid_size, order)
        lo, hi = (x.min(0).values, x.max(0).values) if bounds is None else (
            bound.reshape(-1).to(x) for bound in bounds)
        span = hi - lo
        flat = span <= 1e-12 * (1 + hi.abs())
        span = torch.where(flat, torch.full_like(span, 2.0), span) * (1 + 2 * margin)
        new_lo = (lo + hi) / 2 - span / 2
        new_step = span / grid_size
        new = bspline_basis(x, new_lo, new_step, grid_size, order)
        gram = torch.einsum("nib,nic->ibc", new, new)
        cross = torch.einsum("nib,nic->ibc", new, old)
        eye = torch.eye(gram.shape[-1], device=x.device, dtype=x.dtype)
        scale = gram.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
        gram = gram + ridge * scale[:, None, None] * eye
        coef = self.weight[..., 1:].permute(1, 2, 0)  # (in, G + k, out)
        self.weight[..., 1:] = torch.linalg.solve(gram, cross @ coef).permute(2, 0, 1)
        self.grid_lo.copy_(new_lo)
        self.grid_step.copy_(new_step)
        return self

    def edge_scale(self, x):
        """Root-mean-square value of every edge function on ``x``.

        Computed from each input's Gram matrix of features, so no
        (batch, in, out) tensor is formed. Differentiable in :attr:`weight`.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Inputs of the layer.

        Returns
        -------
        torch.Tensor of shape (out_features, in_features)
            RMS of ``phi_oi`` over the rows of ``x``.
        """
        features = self.features(x.detach())
        gram = torch.einsum("nik,nil->ikl", features, features) / features.shape[0]
        energy = torch.einsum("oik,ikl,oil->oi", self.weight, gram, self.weight)
        return energy.clamp_min(1e-12).sqrt()

    def regularization_loss(self, x, l1=1.0, entropy=1.0):
        """Compute pykan's sparsity penalty: L1 of the edge scales plus their entropy.

        Both terms push towards few, strong edges.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, in_features)
            Inputs of the layer.
        l1 : float, default=1.0
            Weight of the sum of edge scales (:meth:`edge_scale`).
        entropy : float, default=1.0
            Weight of the entropy of how each output spreads over its inputs
            and each input over its outputs.

        Returns
        -------
        torch.Tensor
            The penalty, a differentiable scalar.
        """
        scale = self.edge_scale(x)
        loss = l1 * scale.sum()
        if entropy:
            for dim in (0, 1):
                p = scale / scale.sum(dim, keepdim=True)
                loss = loss - entropy * (p * p.log()).sum()
        return loss

    @torch.no_grad()
    def edge_functions(self, n_points=100, extend=0.1):
        """Sample every edge function on its feature's grid.

        Parameters
        ----------
        n_points : int, default=100
            Points per edge.
        extend : float, default=0.1
            Also sample this fraction of the grid's span beyond each end.

        Returns
        -------
        x : torch.Tensor of shape (n_points, in_features)
            Where each input's edges are sampled.
        phi : torch.Tensor of shape (n_points, in_features, out_features)
            ``phi[:, i, o]`` is edge ``i -> o`` evaluated at ``x[:, i]``.
        """
        span = self.grid_step * self.grid_size
        ramp = torch.linspace(-extend, 1 + extend, n_points, device=span.device, dtype=span.dtype)
        x = self.grid_lo + ramp[:, None] * span
        phi = torch.einsum("nik,oik->nio", self.features(x), self.weight)
        return x, phi

    def extra_repr(self):
        """Describe the layer's shape and grid in its repr."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"grid_size={self.grid_size}, spline_order={self.spline_order}, "
            f"bias={self.bias is not None}, fused={self.fused}"
        )


class SeededDropout(nn.Module):
    """``nn.Dropout`` that draws its masks from a generator of its own.

    Seeded from ``generator`` when given, so that a seeded fit is reproducible
    without touching torch's global generator, which threads share (None: the
    global one, as ``nn.Dropout``). One generator per device, made on first
    use; a pickled module restarts its stream from the seed.
    """

    def __init__(self, p, generator=None):
        super().__init__()
        self.p = p
        self.seed = (None if generator is None
                     else int(torch.randint(2**62, (), generator=generator)))
        self._generators = {}

    def forward(self, x):
        """Zero each value with probability ``p`` in training, scale the rest by
        ``1 / (1 - p)``; the identity in eval mode."""
        if not self.training or not self.p:
            return x
        if self.seed is None:
            return nn.functional.dropout(x, self.p, training=True)
        if x.device not in self._generators:
            self._generators[x.device] = torch.Generator(x.device).manual_seed(self.seed)
        keep = torch.rand(x.shape, generator=self._generators[x.device], device=x.device,
                          dtype=x.dtype) >= self.p
        return x * keep / (1.0 - self.p)

    def __getstate__(self):
        state = super().__getstate__().copy()
        state["_generators"] = {}  # generators do not pickle
        return state

    def extra_repr(self):
        """The drop probability in the repr."""
        return f"p={self.p}"


class KAN(nn.Module):
    """A stack of :class:`KANLinear` layers.

    Parameters
    ----------
    layers : sequence of int
        Widths ``[in, h1, ..., out]``; at least two.
    grid_size : int, default=5
        Grid intervals per edge.
    spline_order : int, default=3
        B-spline order.
    grid_range : tuple of float, default=(-1.0, 1.0)
        Initial grid of every input, before :meth:`update_grid`.
    bias : bool, default=True
        Add a bias to every layer's outputs.
    spline_scale : float, default=0.1
        Scale of the initial spline coefficients.
    fused : bool, default=False
        Use the ``torch.compile`` fused kernels.
    layer_norm : bool, default=False
        Normalise each hidden layer's outputs (a ``LayerNorm`` without
        learnable scale, as FastKAN does) before the next layer reads them, so
        that they stay inside that layer's grid as training moves them; the
        first layer reads the inputs as they come (standardise them).
    dropout : float in [0, 1), default=0.0
        Share of each hidden layer's outputs zeroed at random in training (the
        others scaled by ``1 / (1 - dropout)``), before the next layer's norm;
        none in eval mode or in :meth:`update_grid`. Whole hidden units are
        dropped, not single edges, so the layer stays one matmul.
    device : torch.device, default=None
        Where to allocate parameters.
    dtype : torch.dtype, default=None
        Type of the parameters.
    generator : torch.Generator, default=None
        Draws the initial parameters and seeds the dropout masks; None:
        torch's global generator.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kcm.nn import KAN
    >>> net = KAN([4, 8, 3])
    >>> net(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        layers,
        grid_size=5,
        spline_order=3,
        grid_range=(-1.0, 1.0),
        bias=True,
        spline_scale=0.1,
        fused=False,
        layer_norm=False,
        dropout=0.0,
        device=None,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout={dropout!r} must lie in [0, 1).")
        pairs = layer_pairs(layers)
        self.layers = nn.ModuleList(
            KANLinear(
                a, b, grid_size=grid_size, spline_order=spline_order,
                grid_range=grid_range, bias=bias, spline_scale=spline_scale,
                fused=fused, device=device, dtype=dtype, generator=generator,
            )
            for a, b in pairs
        )
        # before every layer but the first: identity, or a LayerNorm of its inputs
        self.norms = nn.ModuleList(
            nn.LayerNorm(a, elementwise_affine=False, device=device, dtype=dtype)
            if layer_norm and index else nn.Identity()
            for index, (a, _) in enumerate(pairs)
        )
        self.dropout = SeededDropout(dropout, generator) if dropout else nn.Identity()

    def forward(self, x):
        """Apply the layers in turn.

        Parameters
        ----------
        x : torch.Tensor of shape (..., layers[0])
            Inputs.

        Returns
        -------
        torch.Tensor of shape (..., layers[-1])
            Outputs (logits for a classifier).
        """
        for index, (norm, layer) in enumerate(zip(self.norms, self.layers)):
            x = layer(norm(self.dropout(x) if index else x))
        return x

    @torch.no_grad()
    def update_grid(self, x, margin=0.01, bounds=None):
        """Refit every layer's grid on the activations ``x`` produces, in order.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, layers[0])
            Inputs of the network.
        margin : float, default=0.01
            See :meth:`KANLinear.update_grid`.
        bounds : tuple of two torch.Tensor of shape (layers[0],), default=None
            The inputs' ``(min, max)``, when ``x`` is a sample of larger data
            (the first layer's grid spans them).

        Returns
        -------
        self : KAN
            The network, updated in place.
        """
        for norm, layer in zip(self.norms, self.layers):
            x = norm(x)
            layer.update_grid(x, margin=margin, bounds=bounds)
            x, bounds = layer(x), None
        return self

    def regularization_loss(self, x, l1=1.0, entropy=1.0):
        """Sum :meth:`KANLinear.regularization_loss` over the layers.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, layers[0])
            Inputs of the network.
        l1 : float, default=1.0
            Weight of the edge scales' sum.
        entropy : float, default=1.0
            Weight of their entropy.

        Returns
        -------
        torch.Tensor
            The penalty, a differentiable scalar.
        """
        loss = 0.0
        for norm, layer in zip(self.norms, self.layers):
            x = norm(x)
            loss = loss + layer.regularization_loss(x, l1=l1, entropy=entropy)
            with torch.no_grad():
                x = layer(x)
        return loss
