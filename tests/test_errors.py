"""Errors that name the problem and the fix, for mistakes a user makes."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import Judge, KANClassifier, KCMEnsemble, LLMClassifier
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


@pytest.mark.parametrize("judge, match", [
    (Judge(input="pixels"), "'input' parameter of Judge"),
    (Judge(target="right"), "'target' parameter of Judge"),
    (Judge("small"), "'estimator' parameter of Judge"),  # the cascade is judge="small"
])
def test_judge_settings_out_of_range_are_refused_naming_the_field(judge, match):
    with pytest.raises(ValueError, match=match):
        KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), judge=judge).fit(X, y)


@pytest.mark.parametrize("sizes", [(8.5,), (0,), (True,), ("8",)])
def test_hidden_layer_sizes_that_are_not_positive_integers_are_refused(sizes):
    with pytest.raises(ValueError, match="positive integer, e.g. \\(64,\\)"):
        KANClassifier(hidden_layer_sizes=sizes, max_epochs=1).fit(X, y)


def test_one_int_is_one_hidden_layer_as_mlpclassifier_takes_it():
    clf = KANClassifier(hidden_layer_sizes=8, max_epochs=1, random_state=0).fit(X, y)
    assert clf.net_.module_.layers[0].bias.shape == (8,)


def test_a_device_torch_does_not_know_is_refused_with_the_devices_it_does():
    with pytest.raises(ValueError, match="device='gpu' is not a torch device.*'cpu', 'cuda'"):
        KANClassifier(device="gpu", max_epochs=1).fit(X, y)


def test_llm_labels_that_read_the_same_in_an_answer_are_refused_at_fit():
    with pytest.raises(ValueError, match="'Positive' and 'positive ' read the same.*merge"):
        LLMClassifier(str.upper).fit(["a", "b", "c"], ["Positive", "positive ", "negative"])


@pytest.mark.parametrize("on_error", ["hint", "uniform"])
def test_an_llm_whose_answers_do_not_parse_warns_with_the_count(on_error):
    clf = LLMClassifier(lambda prompts: ["no idea"] * len(prompts), on_error=on_error)
    clf.fit(["a", "b"], ["negative", "positive"])
    with pytest.warns(UserWarning, match=r"5 of the LLM's 5 answers named no single label.*"
                                         r"on_error='raise'"):
        proba = clf.predict_proba(["t"] * 5, hint=np.tile([0.8, 0.2], (5, 1)))
    expected = [0.8, 0.2] if on_error == "hint" else [0.5, 0.5]
    np.testing.assert_allclose(proba, np.tile(expected, (5, 1)))
    assert clf.usage_.summary()["parse_errors"] == 5
