"""Calibrating a label-scoring LM that prefers one label whatever the text."""

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_kcm import LLMClassifier
from sklearn_kcm.llm._calibration import calibrated_proba, content_free_bias, fitted_bias

rng = np.random.default_rng(0)
LABELS = rng.choice(["negative", "positive"], 200)
# every text holds a word of its own label: the evidence is in the text
WORDS = {"positive": ["good", "fun"], "negative": ["dull", "weak"]}
TEXTS = [f"a {rng.choice(WORDS[label])} film, number {i}" for i, label in enumerate(LABELS)]


class BiasedLM:
    """Scores the text's keywords, plus a fixed preference for "negative" of 1.5 nats,
    as a small LM prefers some labels whatever the text (Zhao et al., 2021)."""

    cache_key = "biased-lm-v1"

    def __init__(self):
        self.prompts = []

    def score_labels(self, prompts, labels):
        self.prompts += prompts
        rows = []
        for prompt in prompts:
            words = prompt.split("<text>\n")[-1].split("\n</text>")[0].split()
            evidence = sum(w in WORDS["positive"] for w in words) - sum(
                w in WORDS["negative"] for w in words)
            rows.append([1.5, evidence])
        return np.array(rows)


def _accuracy(clf):
    return np.mean(clf.predict(TEXTS) == LABELS)


def test_content_free_calibration_divides_out_the_models_preference():
    raw = LLMClassifier(BiasedLM()).fit(TEXTS, LABELS)
    lm = BiasedLM()
    calibrated = LLMClassifier(lm, calibration="content_free").fit(TEXTS, LABELS)
    assert len(lm.prompts) == 3  # "N/A", "" and "[MASK]": no label needed
    assert calibrated.label_bias_[1] - calibrated.label_bias_[0] == pytest.approx(1.5)
    assert np.all(raw.predict(TEXTS) == "negative")  # the bias wins over the text
    assert _accuracy(calibrated) == 1.0
    np.testing.assert_allclose(calibrated.predict_proba(TEXTS).sum(axis=1), 1.0)
    np.testing.assert_array_equal(raw.label_bias_, [0.0, 0.0])


def test_labelled_calibration_fits_the_bias_on_a_few_labelled_texts():
    lm = BiasedLM()
    clf = LLMClassifier(lm, calibration="labelled", calibration_samples=40, n_shots=2,
                        random_state=0).fit(TEXTS, LABELS)
    assert len(lm.prompts) == 40
    # no few-shot example is among the calibration texts: the model sees those answered
    examples = {text for text, _ in clf.examples_}
    assert not any(prompt.split("<text>\n")[-1].split("\n</text>")[0] in examples
                   for prompt in lm.prompts)
    assert clf.label_bias_[1] - clf.label_bias_[0] > 1.0
    assert _accuracy(clf) > _accuracy(LLMClassifier(BiasedLM()).fit(TEXTS, LABELS)) + 0.15
    # clones refit their own bias; the same seed draws the same texts
    assert np.allclose(clone(clf).fit(TEXTS, LABELS).label_bias_, clf.label_bias_)


def test_calibration_needs_label_scores_and_labelled_needs_labels():
    with pytest.raises(ValueError, match="answers with text"):
        LLMClassifier(lambda prompts: ["positive"] * len(prompts),
                      calibration="content_free").fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="give y"):
        LLMClassifier(BiasedLM(), labels=["negative", "positive"],
                      calibration="labelled").fit(TEXTS)
    LLMClassifier(BiasedLM(), labels=["negative", "positive"],
                  calibration="content_free").fit(TEXTS)  # needs no label


def test_the_bias_functions():
    scores = np.log([[0.9, 0.1], [0.8, 0.2]])
    bias = content_free_bias(scores)
    assert bias.sum() == pytest.approx(0.0)
    np.testing.assert_allclose(calibrated_proba(np.log([0.85, 0.15]), bias), [0.5, 0.5])
    # labels the raw scores get wrong for one class are put right by the fitted intercepts
    raw = np.log([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.55, 0.45]])
    truth = np.array([0, 0, 1, 1])
    fitted = fitted_bias(raw, truth)
    assert (np.argmax(raw + fitted, axis=1) == truth).all()
    # a label the model cannot produce stays impossible
    minus = np.array([[-np.inf, 0.0], [0.0, -1.0]])
    assert calibrated_proba(minus[0], fitted_bias(minus, np.array([1, 0])))[0] == 0.0
