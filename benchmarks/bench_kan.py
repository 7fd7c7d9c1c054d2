"""KAN layer speed and memory against the matmul floor and an efficient-kan-style layer.

Run ``python benchmarks/bench_kan.py`` (``--device cuda`` on a GPU). All
variants of one shape are timed interleaved, several repeats, forward+backward
with gradients for the input and the weights; the table gives min and median
milliseconds and the ratios the targets are stated in. Memory is what autograd
keeps for backward beyond the parameters, counted with
``torch.autograd.graph.saved_tensors_hooks``. Exits 1 when a target is missed.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn_kcm._testing import ReferenceKANLinear
from sklearn_kcm.nn import KANLinear, _cpp

SHAPES = [  # batch, in, out, grid_size, spline_order
    (4096, 64, 64, 5, 3),
    (1024, 784, 64, 5, 3),
    (4096, 64, 64, 20, 3),
    (4096, 64, 64, 5, 2),
    (4096, 64, 64, 2, 1),  # the default judge's linear splines, in the kernel too
]
TARGET_SHAPE = SHAPES[0]
# The default (eager) layer: its spline passes in the C++ kernel once built
# (`python -m sklearn_kcm build-kernel`); "ours, torch" is the same layer in plain
# torch, "ours fused" the torch.compile path.
TARGETS = {"eager / floor": 2.0, "reference / eager": 2.5, "memory eager / reference": 0.2,
           "fused / floor": 2.0, "reference / fused": 2.5, "memory fused / reference": 0.2}


class MatmulFloor(nn.Module):
    """The matmul a KAN layer reduces to: features of width in * (G + k + 1)."""

    def __init__(self, in_features, out_features, grid_size, spline_order):
        super().__init__()
        self.linear = nn.Linear(in_features * (grid_size + spline_order + 1), out_features)

    def forward(self, features):
        return self.linear(features)


class LinearSiLU(nn.Module):
    def __init__(self, in_features, out_features, grid_size, spline_order):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return nn.functional.silu(self.linear(x))


class TorchOnly(nn.Module):
    """A KAN layer run in plain torch, without the C++ kernel (its backward follows)."""

    def __init__(self, in_features, out_features, grid_size, spline_order):
        super().__init__()
        self.layer = KANLinear(in_features, out_features, grid_size, spline_order)

    def forward(self, x):
        with _cpp.disabled():
            return self.layer(x)


def _make_cases(batch, n_in, n_out, grid, order, device):
    width = n_in * (grid + order + 1)
    x = torch.rand(batch, n_in, device=device) * 2 - 1
    features = torch.randn(batch, width, device=device)
    return {
        "ours": (KANLinear(n_in, n_out, grid, order).to(device), x),
        "ours, torch": (TorchOnly(n_in, n_out, grid, order).to(device), x),
        "ours fused": (KANLinear(n_in, n_out, grid, order, fused=True).to(device), x),
        "floor": (MatmulFloor(n_in, n_out, grid, order).to(device), features),
        "linear+silu": (LinearSiLU(n_in, n_out, grid, order).to(device), x),
        "reference": (ReferenceKANLinear(n_in, n_out, grid, order).to(device), x),
    }


def _step(module, inputs):
    inputs = inputs.detach().requires_grad_()
    module(inputs).sum().backward()


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_cases(cases, device, repeats):
    """Interleaved timing: each repeat runs every case once. Returns ms lists."""
    times = {name: [] for name in cases}
    for module, inputs in cases.values():  # warm-up
        _step(module, inputs)
    for _ in range(repeats):
        for name, (module, inputs) in cases.items():
            module.zero_grad(set_to_none=True)
            _sync(device)
            start = time.perf_counter()
            _step(module, inputs)
            _sync(device)
            times[name].append(1e3 * (time.perf_counter() - start))
    return times


def saved_bytes(module, inputs):
    """Bytes autograd keeps for backward, parameters excluded."""
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    inputs = inputs.detach().requires_grad_()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(inputs)
    del out
    return sum(storages.values())


def largest_batch(n_in, n_out, grid, order, device, start=4096, limit=2**24):
    """Double the batch until a forward+backward of our layer runs out of memory."""
    layer = KANLinear(n_in, n_out, grid, order).to(device)
    batch, best = start, None
    while batch <= limit:
        try:
            _step(layer, torch.rand(batch, n_in, device=device) * 2 - 1)
            _sync(device)
            best = batch
            batch *= 2
        except torch.OutOfMemoryError:
            break
        finally:
            layer.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"{args.repeats} interleaved repeats, forward+backward, ms; the C++ kernel is "
          + ("built" if _cpp.kernel(torch.zeros(1, 1), 3) is not None else
             "NOT built (python -m sklearn_kcm build-kernel): 'ours' runs in plain torch"))
    header = (f"{'batch,in,out,G,k':>20} {'variant':>12} {'min':>8} {'median':>8} "
              f"{'x floor':>8} {'x lin+silu':>10} {'saved MiB':>10}")
    print(header)
    ratios = {}
    for shape in SHAPES:
        cases = _make_cases(*shape, device)
        times = time_cases(cases, device, args.repeats)
        best = {name: min(ms) for name, ms in times.items()}
        memory = {name: saved_bytes(*case) for name, case in cases.items()}
        for name, ms in times.items():
            print(f"{','.join(map(str, shape)):>20} {name:>12} {best[name]:8.2f} "
                  f"{statistics.median(ms):8.2f} {best[name] / best['floor']:8.2f} "
                  f"{best[name] / best['linear+silu']:10.2f} {memory[name] / 2**20:10.2f}")
        summary = {}
        for variant, short in (("ours", "eager"), ("ours, torch", "torch"),
                               ("ours fused", "fused")):
            summary[f"{short} / floor"] = best[variant] / best["floor"]
            summary[f"reference / {short}"] = best["reference"] / best[variant]
            summary[f"memory {short} / reference"] = memory[variant] / memory["reference"]
        print(f"{'':>20} " + ", ".join(f"{k} = {v:.2f}" for k, v in summary.items()))
        if shape == TARGET_SHAPE:
            ratios = summary
    if device.type == "cuda":
        print("largest batch for (in 64, out 64, G 5, k 3):",
              largest_batch(64, 64, 5, 3, device))
    missed = []
    for name, limit in TARGETS.items():
        at_least = name.startswith("reference")  # a speed-up; the others are slow-downs
        if ratios[name] < limit if at_least else ratios[name] > limit:
            missed.append(f"{name} = {ratios[name]:.2f} (target {'>=' if at_least else '<='} "
                          f"{limit})")
    print(f"targets at {TARGET_SHAPE}: "
          + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
