"""One query pipeline for text LLMs and label-scoring adapters: distinct prompts, cache,
batches, checks, retries and counts."""

import threading

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_kcm import Judge, KCMEnsemble, LLMClassifier
from sklearn_kcm._testing import ChatServer, keyword_answer
from sklearn_kcm.llm import LLMOutputError, OpenAIChat, TransientLLMError

TEXTS = ["a good film", "dull and slow", "brilliant and fun", "a mess", "moving story",
         "weak ending"]
LABELS = np.array(["positive", "negative", "positive", "negative", "positive", "negative"])


class ScoringLM:
    """A label-scoring adapter that scores by keywords and records every call."""

    cache_key = "scoring-lm-v1"

    def __init__(self, answer=None, fail_first=0):
        self.answer = answer  # None: keyword scores; else a function (prompts, labels) -> array
        self.fail_first = fail_first
        self.calls = []
        self._lock = threading.Lock()

    def score_labels(self, prompts, labels):
        with self._lock:
            self.calls.append(list(prompts))
            if self.fail_first:
                self.fail_first -= 1
                raise TransientLLMError("busy")
        if self.answer is not None:
            return self.answer(prompts, labels)
        return np.array([[0.0 if keyword_answer(p) == label else -2.0 for label in labels]
                         for p in prompts])


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("KCM_TEST_KEY", "sk-test")


def _chat(server):
    return OpenAIChat("m", base_url=server.base_url, api_key_env="KCM_TEST_KEY", timeout=5)


def test_identical_prompts_are_sent_once(key):
    with ChatServer() as server:
        chat = _chat(server)
        clf = LLMClassifier(chat, backoff=0.0).fit(TEXTS, LABELS)
        assert list(clf.predict(["a good film"] * 50)) == ["positive"] * 50
        assert len(server.prompts) == 1
    assert clf.usage_.summary()["calls"] == 1 and clf.usage_.summary()["cache_hits"] == 49


def test_a_batch_size_sends_that_many_prompts_per_call():
    sizes = []

    def ask(prompts):
        sizes.append(len(prompts))
        return [keyword_answer(p) for p in prompts]

    texts = [f"good film {i}" for i in range(10)]
    clf = LLMClassifier(ask, batch_size=4, max_concurrency=2).fit(TEXTS, LABELS)
    assert list(clf.predict(texts)) == ["positive"] * 10
    assert sorted(sizes) == [2, 4, 4] and clf.usage_.summary()["calls"] == 3


def test_a_plain_callable_gets_batches_and_the_openai_client_one_prompt_a_request():
    sizes = []

    def ask(prompts):
        sizes.append(len(prompts))
        return [keyword_answer(p) for p in prompts]

    texts = [f"good film {i}" for i in range(70)]
    clf = LLMClassifier(ask, max_concurrency=1).fit(TEXTS, LABELS)
    clf.predict(texts)
    assert sizes == [32, 32, 6]  # batch_size=None: 32 prompts a call of a plain callable
    assert OpenAIChat("m").batch_size == 1  # a request a prompt, max_concurrency in flight


def test_a_scoring_adapter_goes_through_the_cache_the_batches_and_the_counts(tmp_path):
    lm = ScoringLM(fail_first=1)
    clf = LLMClassifier(lm, batch_size=4, backoff=0.0, cache=tmp_path).fit(TEXTS, LABELS)
    texts = TEXTS + TEXTS[:2]  # two repeated prompts: asked once
    proba = clf.predict_proba(texts)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], np.r_[LABELS, LABELS[:2]])
    assert sorted(len(batch) for batch in lm.calls[1:]) == [2, 4]  # after the failed call
    usage = clf.usage_.summary()
    assert usage["retries"] == 1 and usage["calls"] == 3 and usage["cache_hits"] == 2
    again = LLMClassifier(lm, cache=tmp_path).fit(TEXTS, LABELS)
    np.testing.assert_allclose(again.predict_proba(texts), proba)
    assert len(lm.calls) == 3 and again.usage_.summary()["cache_hits"] == len(texts)
    # other labels are another question: not answered from the same entries
    LLMClassifier(lm, labels=["negative", "neutral", "positive"], cache=tmp_path).fit(
        TEXTS).predict_proba(TEXTS[:1])
    assert len(lm.calls) == 4


def test_scores_of_the_wrong_shape_are_named():
    lm = ScoringLM(answer=lambda prompts, labels: np.zeros((len(prompts), 3)))
    clf = LLMClassifier(lm).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match=r"score_labels returned an array of shape \(1, 3\)"):
        clf.predict_proba(TEXTS[:1])
    short = LLMClassifier(ScoringLM(answer=lambda p, labels: np.zeros((len(p) - 1, 2))))
    with pytest.raises(ValueError, match="one row per prompt"):
        short.fit(TEXTS, LABELS).predict_proba(TEXTS[:3])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_scores_that_make_no_distribution_follow_on_error(bad):
    def answer(prompts, labels):  # bad scores for the first text only
        scores = np.zeros((len(prompts), len(labels)))
        scores[[TEXTS[0] in prompt for prompt in prompts], 0] = bad
        return scores

    with pytest.raises(LLMOutputError, match="label scores"):
        LLMClassifier(ScoringLM(answer)).fit(TEXTS, LABELS).predict_proba(TEXTS[:2])
    clf = LLMClassifier(ScoringLM(answer), on_error="uniform").fit(TEXTS, LABELS)
    proba = clf.predict_proba(TEXTS[:2])
    np.testing.assert_allclose(proba, [[0.5, 0.5], [0.5, 0.5]])
    assert clf.usage_.summary()["parse_errors"] == 1
    # -inf is a label the model cannot produce: still a distribution
    minus = LLMClassifier(ScoringLM(lambda p, labels: np.array([[-np.inf, 0.0]] * len(p))))
    np.testing.assert_allclose(minus.fit(TEXTS, LABELS).predict_proba(TEXTS[:1]), [[0, 1]])


def test_an_ensemble_counts_the_calls_of_its_out_of_fold_llm_clones(key):
    with ChatServer() as server:
        chat = _chat(server)
        texts = [f"{word} film number {i}" for i, word in
                 enumerate(["good", "dull", "great", "weak", "fun", "slow"] * 10)]
        labels = np.array(["positive", "negative"] * 30)
        kcm = KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression()),
                          LLMClassifier(chat, backoff=0.0), cv=3,
                          distill=False, random_state=0, judge=Judge(target="gain")).fit(texts,
                                                                                         labels)
        assert kcm.large_.usage_.summary()["calls"] == len(server.prompts) > 0
        kcm.predict(texts[:6])
        assert kcm.large_.usage_.summary()["calls"] == len(server.prompts)
