"""The package's import graph: arrows one way between its parts, no cycle between modules.

Read from the source with ``ast`` (imports inside functions count too), so a
new arrow that breaks the layering fails here before anyone has to untangle it.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_kcm"

# part -> the parts it may import (besides itself); "" is the package root
ALLOWED = {
    "nn": set(),  # torch only: no scikit-learn, nothing of ours
    "_compat": set(),
    "_utils": {"_compat"},
    "llm": {"_utils", "_compat"},  # knows nothing of routing
    "_torch": {"nn", "_utils", "_compat"},
    "text": {"_torch", "_utils", "_compat"},
    "_routing": {"_torch", "_utils", "_compat"},  # _torch: the default judge, on first use
    "_ensemble": {"_routing", "_utils", "_compat"},
    "retrieval": {"_routing", "_utils", "_compat"},
    "_model_selection": {"_routing", "_utils", "_compat"},
    "_testing": {"_torch", "_utils", "_compat"},
    "_show_versions": {"nn", "_utils", "_compat"},  # reports on the machine, a leaf
}
ROOT_MODULES = {"__init__", "__main__", "_compat", "_show_versions"}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, modules):
    """The sklearn_kcm modules that ``path`` imports, resolved to dotted names (``from . import
    x`` imports module ``x`` where there is one, else the package)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "sklearn_kcm":
                for alias in node.names:
                    yield (f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules
                           else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sklearn_kcm":
                    yield alias.name


def _graph():
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {target for target in _imports(path, modules) if target in modules}
            for name, path in modules.items()}


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_each_part_imports_only_the_parts_below_it():
    wrong = []
    for module, targets in _graph().items():
        part = _part(module)
        if part in ("", "__main__"):  # the root re-exports and the demo may use anything
            continue
        wrong += [f"{module} -> {target}" for target in targets
                  if _part(target) not in ALLOWED[part] | {part}]
    assert not wrong, "arrows against the layering:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_back():
    graph = _graph()
    state, cycles = {}, []

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_a_handful_of_modules_at_the_root_and_none_over_600_lines():
    assert {path.stem for path in PACKAGE.glob("*.py")} == ROOT_MODULES
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 600}
    assert not long


@pytest.mark.parametrize("statement", [
    "from sklearn_kcm import KCMEnsemble, LLMClassifier, RoutingCurveDisplay, tune_epsilon",
    "from sklearn_kcm.retrieval import KCMRetriever, TfidfRetriever",
    "from sklearn_kcm.llm import LLMClassifier, OpenAIChat",
])
def test_importing_what_needs_no_torch_does_not_import_torch(statement):
    code = f"import sys; {statement}; print('torch' in sys.modules, 'skorch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_torch_estimator_loads_torch_on_first_use():
    code = ("import sys, sklearn_kcm; before = 'torch' in sys.modules; "
            "judge = sklearn_kcm.KANJudgeClassifier(); "
            "print(before, 'torch' in sys.modules, 'KANJudgeClassifier' in dir(sklearn_kcm))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "True", "True"]


def test_private_scikit_learn_helpers_are_imported_in_compat_alone():
    private = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                names = [alias.name for alias in node.names if alias.name.startswith("_")]
                if names or any(part.startswith("_") for part in node.module.split(".")):
                    private.append(f"{path.relative_to(PACKAGE)}: {node.module} {names}")
    assert not private, "\n".join(private)
