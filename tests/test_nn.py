"""The torch KAN: bases, gradients, grid handling, regularisation, memory."""

import contextlib

import pytest
import torch

from sklearn_kcm._testing import cox_de_boor, uniform_knots
from sklearn_kcm.nn import KAN, KANLinear, _cpp, bspline_basis, kan_linear


def _grid(lo, hi, grid_size, dtype):
    return (torch.tensor([lo], dtype=dtype), torch.tensor([(hi - lo) / grid_size], dtype=dtype))


@pytest.mark.parametrize("spline_order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("grid_size", [1, 5, 20])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_closed_form_basis_matches_cox_de_boor(spline_order, grid_size, dtype):
    lo, hi = -1.5, 2.5
    x = torch.linspace(lo, hi, 2001, dtype=dtype)[:-1]  # Cox–de Boor is half-open at hi
    reference = cox_de_boor(
        x.double(), uniform_knots(lo, hi, grid_size, spline_order, torch.float64), spline_order
    )
    ours = bspline_basis(x[:, None], *_grid(lo, hi, grid_size, dtype), grid_size, spline_order)
    assert ours.shape == (2000, 1, grid_size + spline_order)
    torch.testing.assert_close(ours[:, 0].double(), reference, atol=1e-5, rtol=0)


def test_basis_is_a_partition_of_unity_and_continuous_at_the_right_end():
    x = torch.tensor([[-1.0], [0.3], [1.0]], dtype=torch.float64)
    bases = bspline_basis(x, *_grid(-1.0, 1.0, 5, torch.float64), 5, 3)
    torch.testing.assert_close(bases.sum(-1), torch.ones(3, 1, dtype=torch.float64))


@pytest.mark.parametrize("spline_order", [2, 3])
def test_gradcheck_input_and_weights(spline_order):
    torch.manual_seed(0)
    layer = KANLinear(3, 2, grid_size=4, spline_order=spline_order).double()
    x = (torch.rand(6, 3, dtype=torch.float64) * 1.8 - 0.9).requires_grad_()

    def f(x, weight, bias):
        return kan_linear(x, weight, bias, layer.grid_lo, layer.grid_step, 4, spline_order)

    assert torch.autograd.gradcheck(f, (x, layer.weight, layer.bias))


def test_gradient_is_zero_for_spline_outside_grid_but_silu_flows():
    layer = KANLinear(1, 1).double()
    x = torch.tensor([[5.0]], dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    sig = torch.sigmoid(x.detach())
    expected = layer.base_weight.detach() * sig * (1 + x.detach() * (1 - sig))
    torch.testing.assert_close(x.grad, expected.reshape(1, 1))


@pytest.mark.parametrize("value", [1e6, -1e6, 1e30])
def test_far_outside_grid_outputs_are_finite_and_do_not_vanish(value):
    torch.manual_seed(0)
    layer = KANLinear(4, 3)
    x = torch.full((2, 4), value)
    out = layer(x)
    assert torch.isfinite(out).all()
    spline_only = out - torch.nn.functional.silu(x) @ layer.base_weight.detach().T - layer.bias
    assert torch.isfinite(spline_only).all()
    assert spline_only.abs().sum() > 0  # spline held at its boundary value, not zeroed


def test_inputs_and_leading_dimensions():
    layer = KANLinear(4, 3)
    assert layer(torch.randn(2, 5, 4)).shape == (2, 5, 3)


def test_one_matmul_keeps_only_input_for_backward():
    layer = KANLinear(16, 8, grid_size=10)
    x = torch.randn(256, 16, requires_grad=True)
    params = {p.untyped_storage().data_ptr() for p in layer.parameters()}
    params |= {b.untyped_storage().data_ptr() for b in layer.buffers()}
    saved = []

    def pack(tensor):
        if tensor.untyped_storage().data_ptr() not in params:
            saved.append(tensor.numel() * tensor.element_size())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x)
    assert sum(saved) == x.numel() * x.element_size()


def test_grid_refit_keeps_the_function_on_the_data():
    torch.manual_seed(0)
    layer = KANLinear(5, 4, grid_size=8)
    with torch.no_grad():  # smooth edge functions: sines sampled at the bases' centres
        centres = layer.grid_lo[0] + layer.grid_step[0] * (torch.arange(8 + 3) - 1)
        freq, phase = torch.rand(4, 5, 1) * 3 + 0.5, torch.rand(4, 5, 1) * 6
        layer.weight[..., 1:] = torch.sin(freq * centres + phase)
    x = torch.rand(2000, 5) * 2.2 - 1.1  # partly outside the initial grid [-1, 1]
    before = layer(x).detach()
    layer.update_grid(x)
    after = layer(x).detach()
    assert torch.linalg.norm(after - before) / torch.linalg.norm(before) < 0.01
    spread = x.max(0).values - x.min(0).values
    torch.testing.assert_close(layer.grid_lo, x.min(0).values - 0.01 * spread)


def test_grid_refit_of_a_constant_feature_is_finite():
    layer = KANLinear(2, 2)
    x = torch.stack([torch.linspace(-3, 3, 50), torch.full((50,), 7.0)], 1)
    layer.update_grid(x)
    assert torch.isfinite(layer.weight).all() and (layer.grid_step > 0).all()


def test_kan_update_grid_covers_each_layers_inputs():
    torch.manual_seed(0)
    net = KAN([3, 6, 2])
    x = torch.randn(500, 3) * 4
    net.update_grid(x)
    hidden = net.layers[0](x).detach()
    for layer, inputs in zip(net.layers, (x, hidden)):
        hi = layer.grid_lo + layer.grid_step * layer.grid_size
        assert (inputs.min(0).values >= layer.grid_lo).all()
        assert (inputs.max(0).values <= hi).all()


def test_layer_norm_feeds_each_hidden_layer_normalised_rows_inside_its_grid():
    torch.manual_seed(0)
    net = KAN([3, 6, 2], layer_norm=True)
    x = torch.randn(500, 3)
    with torch.no_grad():  # a trained layer's outputs drift far from its initial scale
        net.layers[0].weight.mul_(50.0)
    net.update_grid(x)
    hidden = net.norms[1](net.layers[0](x)).detach()
    torch.testing.assert_close(hidden.mean(1), torch.zeros(500), atol=1e-5, rtol=0)
    torch.testing.assert_close(hidden.var(1, unbiased=False), torch.ones(500), atol=1e-3, rtol=0)
    layer = net.layers[1]
    assert (hidden.min(0).values >= layer.grid_lo).all()
    assert (hidden.max(0).values <= layer.grid_lo + layer.grid_step * layer.grid_size).all()
    torch.testing.assert_close(net(x), layer(hidden))
    assert isinstance(net.norms[0], torch.nn.Identity)  # the inputs come as they are


def test_dropout_drops_whole_hidden_units_in_training_only():
    torch.manual_seed(0)
    net = KAN([3, 8, 2], dropout=0.5)
    x = torch.randn(4, 3)
    net.eval()
    torch.testing.assert_close(net(x), net.layers[1](net.layers[0](x)))  # eval: none
    net.train()
    seen = []
    net.layers[1].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    net(x)
    hidden, full = seen[0], net.layers[0](x)
    dropped = hidden == 0
    assert 0 < dropped.float().mean() < 1
    torch.testing.assert_close(hidden[~dropped], 2 * full[~dropped])  # kept: scaled by 1/(1-p)
    net.update_grid(x)  # the grids read every unit: the hook saw no zeros from a draw
    torch.testing.assert_close(seen[-1], net.layers[0](x))


def test_dropout_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="dropout=1.0 must lie in"):
        KAN([3, 4, 2], dropout=1.0)


def test_regularization_loss_is_differentiable_and_pushes_edges_to_zero():
    torch.manual_seed(0)
    net = KAN([4, 5, 2])
    x = torch.randn(128, 4)
    scale = net.layers[0].edge_scale(x).detach()
    assert scale.shape == (5, 4) and (scale > 0).all()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    first = None
    for _ in range(20):
        optimizer.zero_grad()
        loss = net.regularization_loss(x, l1=1.0, entropy=0.0)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.8 * first


def test_edge_scale_equals_rms_of_the_edge_function():
    torch.manual_seed(0)
    layer = KANLinear(3, 2).double()
    x = torch.randn(400, 3, dtype=torch.float64)
    features = layer.features(x)
    phi = torch.einsum("nik,oik->nio", features, layer.weight.detach())
    rms = phi.pow(2).mean(0).sqrt().T
    torch.testing.assert_close(layer.edge_scale(x).detach(), rms)


def test_edge_functions_sample_each_edge():
    layer = KANLinear(3, 2)
    x, phi = layer.edge_functions(n_points=50)
    assert x.shape == (50, 3) and phi.shape == (50, 3, 2)
    out = layer(x[:1]).detach()
    torch.testing.assert_close(phi[0].sum(0) + layer.bias.detach(), out[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"grid_size": 0}, "grid_size"),
        ({"spline_order": 0}, "spline_order"),
        ({"grid_range": (1.0, -1.0)}, "grid_range"),
    ],
)
def test_bad_layer_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KANLinear(2, 2, **kwargs)


def test_kan_needs_two_widths():
    with pytest.raises(ValueError, match="at least an input and an output"):
        KAN([4])


@pytest.mark.cuda
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    layer = KANLinear(8, 4).double()
    x = torch.randn(64, 8, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    gpu = KANLinear(8, 4).double().cuda()
    gpu.load_state_dict(layer.state_dict())
    xg = x.detach().cuda().requires_grad_()
    out = gpu(xg)
    out.sum().backward()
    torch.testing.assert_close(out.cpu(), layer(x).detach())
    torch.testing.assert_close(xg.grad.cpu(), x.grad)
    torch.testing.assert_close(gpu.weight.grad.cpu(), layer.weight.grad)


@pytest.mark.parametrize("spline_order", [3, 2])
def test_fused_kernels_match_the_eager_layer(spline_order):
    torch.manual_seed(0)
    eager = KANLinear(6, 4, grid_size=7, spline_order=spline_order)
    fused = KANLinear(6, 4, grid_size=7, spline_order=spline_order, fused=True)
    fused.load_state_dict(eager.state_dict())
    for batch in (32, 17):  # a second batch size makes the batch axis dynamic
        x = (torch.randn(batch, 6) * 1.5).requires_grad_()
        xf = x.detach().clone().requires_grad_()
        eager.zero_grad(), fused.zero_grad()
        out, out_fused = eager(x), fused(xf)
        out.pow(2).sum().backward()
        out_fused.pow(2).sum().backward()
        torch.testing.assert_close(out_fused, out)
        torch.testing.assert_close(xf.grad, x.grad)
        torch.testing.assert_close(fused.weight.grad, eager.weight.grad)


KERNEL_BUILT = _cpp.kernel(torch.zeros(1, 1), 3) is not None


@pytest.mark.skipif(not KERNEL_BUILT, reason="the C++ kernel is not built here "
                                              "(python -m sklearn_kcm build-kernel)")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("spline_order", [3, 1])
def test_cpp_kernel_matches_the_torch_layer(dtype, contiguous, spline_order):
    torch.manual_seed(0)
    layer = KANLinear(6, 4, grid_size=7, spline_order=spline_order).to(dtype)
    x = torch.randn(6, 41, dtype=dtype).T * 2  # beyond the grid too
    x = x.contiguous() if contiguous else x
    lo, step = layer.grid_lo, layer.grid_step
    x[0, 0], x[1, 1], x[2, 2] = float("nan"), lo[1], lo[2] + 7 * step[2]  # NaN, both ends
    results = []
    for context in (contextlib.nullcontext(), _cpp.disabled()):
        layer.zero_grad()
        xi = x.detach().clone().requires_grad_()
        with context:
            assert (_cpp.kernel(xi, spline_order) is not None) == isinstance(
                context, contextlib.nullcontext)
            out = layer(xi)
        out.pow(2).nansum().backward()  # backward outside: it runs as forward did
        results.append((out.detach(), xi.grad, layer.weight.grad.clone()))
    for kernel, torch_only in zip(*results):
        torch.testing.assert_close(kernel, torch_only, equal_nan=True)


@pytest.mark.parametrize("x, spline_order", [
    (torch.zeros(2, 3, dtype=torch.bfloat16), 3),
    (torch.zeros(2, 3), 2),
])
def test_cpp_kernel_applies_to_cubic_and_linear_float_cpu_only(x, spline_order):
    assert _cpp.kernel(x, spline_order) is None


@pytest.mark.parametrize("fails", [True, False])
def test_build_kernel_command_says_what_happened(monkeypatch, fails):
    import io

    from sklearn_kcm.__main__ import build_kernel

    def build(verbose=False):
        if fails:
            raise OSError("no compiler")

    monkeypatch.setattr(_cpp, "build", build)
    out = io.StringIO()
    assert build_kernel(out) == 0
    assert ("not built (OSError: no compiler)" in out.getvalue()) == fails
    assert ("Built the KAN kernel in" in out.getvalue()) != fails
