"""Every public class and function has a numpydoc docstring that numpydoc validates.

The doctests themselves run in the suite through ``--doctest-modules``
(pyproject.toml); this checks the docstrings' structure, as scikit-learn's own
``test_docstrings.py`` does.
"""

import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import sklearn_kcm
from sklearn_kcm import llm, nn, retrieval, text

# Checks left out, as in scikit-learn: summaries may run past one line, sections
# "See Also" and "Returns" of trivial methods, and parameter descriptions may
# end without a period after a code literal.
IGNORED = {"GL01", "GL02", "SA01", "ES01", "RT02", "PR09", "RT05"}
# Classes and functions need an Examples section; methods and properties need
# only what is checked above.
PUBLIC = [(sklearn_kcm, name) for name in sklearn_kcm.__all__] + [
    (nn, name) for name in nn.__all__] + [(text, name) for name in text.__all__] + [
    (llm, name) for name in llm.__all__ if not name.startswith("DEFAULT")] + [
    (retrieval, name) for name in retrieval.__all__]


# torch.nn.Module's protocol methods, documented by torch
TORCH_PROTOCOL = {"extra_repr"}


def _members(cls):
    """Public methods and properties written in this project, inherited or not.

    Walks ``dir(cls)`` as scikit-learn's ``test_docstrings.py`` does, so methods
    of our bases and ``available_if`` methods are checked too; what comes from
    scikit-learn or torch is theirs to document.
    """
    for name in dir(cls):
        if name.startswith("_") or name in TORCH_PROTOCOL:
            continue
        member = inspect.getattr_static(cls, name)
        function = member.fget if isinstance(member, property) else getattr(cls, name)
        if isinstance(member, classmethod):
            function = member.__func__
        if not callable(function) or inspect.isclass(function):
            continue
        if getattr(function, "__module__", "").startswith("sklearn_kcm"):
            yield name


def _paths():
    seen = set()
    for module, name in PUBLIC:
        obj = getattr(module, name)
        if id(obj) in seen:  # LLMClassifier, KCMRetriever: public in sklearn_kcm and a subpackage
            continue
        seen.add(id(obj))
        path = f"{module.__name__}.{name}"
        yield pytest.param(path, True, id=path)
        if inspect.isclass(obj):
            for member in _members(obj):
                yield pytest.param(f"{path}.{member}", False, id=f"{path}.{member}")


@pytest.mark.parametrize(("path", "needs_examples"), list(_paths()))
def test_docstring(path, needs_examples):
    result = numpydoc_validate.validate(path)
    ignored = IGNORED if needs_examples else IGNORED | {"EX01"}
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code not in ignored]
    assert not errors, f"{path}:\n" + "\n".join(errors)
