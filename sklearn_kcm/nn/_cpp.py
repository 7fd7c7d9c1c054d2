"""The C++ kernel of the KAN layer (cubic and linear splines): built once per machine,
loaded when built.

The eager layer's non-matmul work is a dozen small elementwise passes (grid
position, cubic pieces, scatter, gather) that eager torch cannot fuse; the
kernel in ``_kernel.cpp`` does each of its two passes in one loop. ``python -m
sklearn_kcm build-kernel`` (run by ``make install``) compiles it with torch's C++
extension tooling (a C++ compiler, and ninja: extra ``kernel``; ~40 s) into a folder keyed by the
source and the torch version, ``~/.cache/sklearn_kcm`` or ``$SKLEARN_KCM_KERNEL_DIR``.
Once built, a process loads it in milliseconds and ``KANLinear`` uses it on CPU
for cubic and linear splines in float32 and float64; without it the layer runs the same
arithmetic in plain torch. Nothing compiles behind the user's back.
"""

import contextlib
import functools
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("_kernel.cpp")
DIRECTORY_VARIABLE = "SKLEARN_KCM_KERNEL_DIR"
_switch = {"on": True}
KERNEL_ORDERS = (1, 3)  # the spline orders the kernel computes


def _name():
    digest = hashlib.sha256(SOURCE.read_bytes() + torch.__version__.encode()).hexdigest()
    return f"sklearn_kcm_kan_{digest[:12]}"


def build_directory():
    """Where the kernel of this source and this torch version is built."""
    root = os.environ.get(DIRECTORY_VARIABLE) or Path.home() / ".cache" / "sklearn_kcm"
    return Path(root) / _name()


def build(verbose=False):
    """Compile the kernel (a no-op when it is built already) and return its module.

    Raises whatever torch's extension builder raises without a C++ compiler or ninja.
    """
    from torch.utils.cpp_extension import load

    folder = build_directory()
    folder.mkdir(parents=True, exist_ok=True)
    # torch looks for ninja on PATH; the one pip installs (extra `kernel`) sits beside python
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), path])
    try:
        module = load(name=_name(), sources=[str(SOURCE)], build_directory=str(folder),
                      extra_cflags=["-O3", "-fopenmp"], extra_ldflags=["-fopenmp"],
                      verbose=verbose)
    finally:
        os.environ["PATH"] = path
    _built.cache_clear()
    return module


@functools.cache
def _built():
    library = build_directory() / f"{_name()}.so"
    if not library.exists():
        return None
    spec = importlib.util.spec_from_file_location(_name(), library)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:  # built against another torch or libc: the torch path runs instead
        return None
    return module


def kernel(x, spline_order, grid=None):
    """The built kernel module where it applies to ``x`` (and its ``grid`` tensor), else None."""
    if not (_switch["on"] and spline_order in KERNEL_ORDERS and x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64)
            and (grid is None or grid.dtype == x.dtype)):
        return None
    return _built()


@contextlib.contextmanager
def disabled():
    """Run KAN layers in plain torch inside the block (for benchmarks and tests)."""
    before = _switch["on"]
    _switch["on"] = False
    try:
        yield
    finally:
        _switch["on"] = before
