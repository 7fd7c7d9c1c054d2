"""Errors that name the problem and the fix, for mistakes a user makes."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import KANClassifier, KCMEnsemble, LLMClassifier
from sklearn_kcm.llm import TransformersLM
from sklearn_kcm.nn import KANLinear

X = np.random.default_rng(0).normal(size=(60, 4))
y = (X[:, 0] > 0).astype(int)


def test_a_kan_fitted_dense_refuses_sparse_input_with_the_fix():
    clf = KANClassifier(max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on dense X.*X.toarray\(\)"):
        clf.predict(sp.csr_matrix(X))
    assert clf.predict(X).shape == (60,)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without CUDA")
def test_cuda_on_a_torch_without_it_is_refused_before_training():
    with pytest.raises(ValueError, match="Install a CUDA build of torch.*device='cpu'"):
        KANClassifier(device="cuda", max_epochs=1).fit(X, y)


@pytest.mark.parametrize("prompt", ['Answer as JSON {"label": ...}: {text} ({labels})',
                                    "Classify {text} among {labels} }"])
def test_a_prompt_with_literal_braces_says_to_double_them(prompt):
    with pytest.raises(ValueError, match=r"double it: \{\{ and \}\}"):
        LLMClassifier(str.upper, prompt=prompt).fit(["a", "b"], ["x", "y"])
    doubled = prompt.replace('{"label": ...}', '{{"label": ...}}').replace(" }", " }}")
    LLMClassifier(str.upper, prompt=doubled).fit(["a", "b"], ["x", "y"])


@pytest.mark.parametrize("hint", [[[np.nan, 0.5]], [[5.0, 0.5]], [[-0.5, 1.5]], [[0.2, 0.2]]])
def test_a_hint_that_is_not_probabilities_is_refused(hint):
    sent = []
    clf = LLMClassifier(lambda prompts: sent.extend(prompts) or ["x"] * len(prompts))
    clf.fit(["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match=r"hint must hold the small model's class probab"):
        clf.predict_proba(["a"], hint=np.array(hint))
    assert sent == []  # nothing was paid for


def test_kan_linear_gives_nan_for_nan_input_instead_of_an_index_error():
    layer = KANLinear(4, 2)
    out = layer(torch.tensor([[float("nan"), 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    assert torch.isnan(out[0]).all() and torch.isfinite(out[1]).all()


def test_transformers_lm_without_transformers_says_what_to_install(monkeypatch):

    monkeypatch.setitem(sys.modules, "transformers", None)  # as if not installed
    clf = LLMClassifier(TransformersLM("/no/such/model")).fit(["a", "b"], ["x", "y"])
    with pytest.raises(ImportError, match=r"pip install 'sklearn_kcm\[transformers\]'"):
        clf.predict_proba(["a"])


@pytest.mark.parametrize("param", [{"judge_target": "small_correct"}, {"judge_input": "X"}])
def test_judge_settings_without_a_judge_are_refused(param):
    with pytest.raises(ValueError, match="judge='small' routes by the small model's own"):
        KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), judge="small",
                    **param).fit(X, y)
