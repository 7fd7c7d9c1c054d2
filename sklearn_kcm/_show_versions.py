"""``show_versions()``: what a bug report needs to know about this machine."""

import importlib.metadata
import os
import platform
import sys

DEPENDENCIES = ("numpy", "scipy", "scikit-learn", "torch", "skorch", "joblib")
OPTIONAL = ("pandas", "matplotlib", "openai", "tqdm", "transformers", "dask", "distributed",
            "llama_cpp_python", "sentence-transformers", "ninja")


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _machine():
    """Threads, the KAN kernel and the GPU (importing torch)."""
    import torch
    from threadpoolctl import threadpool_info

    from .nn import _cpp

    blas = ", ".join(f"{pool['internal_api']} ({pool['num_threads']} threads)"
                     for pool in threadpool_info()) or "none found"
    kernel = _cpp._built()
    gpu = (f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
           if torch.cuda.is_available() else "none seen by torch")
    return {
        "CPU cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "BLAS": blas,
        "KAN kernel": (f"built in {_cpp.build_directory()}" if kernel is not None else
                       "not built (python -m sklearn_kcm build-kernel; the layer runs in "
                       "plain torch without it)"),
        "GPU": gpu,
    }


def show_versions(file=None):
    """Print the versions of Python, this package and its dependencies, and the machine.

    Threads (torch's and the BLAS libraries'), whether the KAN layer's C++ kernel
    is built, and the GPU torch sees: what a bug report needs.

    Parameters
    ----------
    file : file-like, default=None
        Where to print; None means ``sys.stdout``.

    Examples
    --------
    >>> from sklearn_kcm import show_versions
    >>> show_versions()  # doctest: +ELLIPSIS
    <BLANKLINE>
    System:
    ...
    """
    file = sys.stdout if file is None else file
    sections = {
        "System": {"python": sys.version.replace("\n", " "), "executable": sys.executable,
                   "machine": platform.platform()},
        "Python dependencies": {"sklearn_kcm": _version("sklearn_kcm") or "not installed",
                                **{name: _version(name) or "not installed"
                                   for name in DEPENDENCIES}},
        "Optional": {name: version for name in OPTIONAL if (version := _version(name))},
        "Machine": _machine(),
    }
    for title, entries in sections.items():
        print(f"\n{title}:", file=file)
        for name, value in entries.items():
            print(f"{name:>22}: {value}", file=file)
