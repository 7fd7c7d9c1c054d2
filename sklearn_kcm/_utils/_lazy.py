"""Public names whose module loads on first use (PEP 562), for names that need torch.

torch takes seconds to import. A user whose members are scikit-learn
estimators and an LLM should not pay them for ``from sklearn_kcm import
KCMEnsemble``: the torch estimators' modules load when one of their names is
first looked up (or an estimator is unpickled, which imports its module).
"""

import importlib


def lazy_names(package, modules):
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``modules[name]``
    (relative to ``package``) when ``name`` is first looked up."""
    def __getattr__(name):
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name], package), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__():
        return sorted({*importlib.import_module(package).__dict__, *modules})

    return __getattr__, __dir__
