"""LLMClassifier(OpenAIChat(...)) against a real OpenAI-compatible server: llama.cpp's,
serving SmolLM2-135M-Instruct on one thread, counted by a proxy in front of it."""

import threading
import time

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_kcm import KCMEnsemble, LargeShare
from sklearn_kcm._testing._llama_server import LlamaServer
from sklearn_kcm.llm import LLMClassifier, OpenAIChat, TransientLLMError

CHAT = "/v1/chat/completions"


def _classifier(base_url, **params):
    return LLMClassifier(OpenAIChat("smollm2", base_url=base_url, timeout=60), **params)


def test_it_fits_and_answers_every_snippet_with_a_known_label(proxy, snippets):
    texts, labels = snippets
    llm = _classifier(proxy.base_url, max_concurrency=2).fit(texts[:20], labels[:20])
    assert proxy.requests[CHAT] == 0  # fit learns the labels' names, asks nothing
    predicted = llm.predict(texts[:20])
    assert set(predicted) <= {"positive", "negative"}
    assert proxy.requests[CHAT] == len(set(texts[:20]))  # one request a distinct snippet
    assert llm.usage_.summary()["parse_errors"] == 0  # an instruct model names a label


def test_the_hint_is_a_different_prompt_and_its_answer_a_known_label(proxy, snippets):
    texts, labels = snippets
    llm = _classifier(proxy.base_url, max_concurrency=2).fit(texts[:12], labels[:12])
    plain = llm.predict_proba(texts[:12])
    hint = np.tile([0.05, 0.95], (12, 1))  # the small model says "positive", surely
    hinted = llm.predict_proba(texts[:12], hint=hint)
    assert proxy.requests[CHAT] == 24  # the hinted prompts are new ones
    assert plain.shape == hinted.shape == (12, 2)
    assert np.allclose(hinted.sum(axis=1), 1.0)


def test_a_kcm_ensemble_sends_only_its_hard_inputs_to_the_server(proxy, snippets):
    texts, labels = snippets
    small = make_pipeline(TfidfVectorizer(), LogisticRegression(C=5.0))
    kcm = KCMEnsemble(small, _classifier(proxy.base_url, max_concurrency=2), judge="small",
                      epsilon=LargeShare(0.3), random_state=0)
    kcm.fit(texts[:300], labels[:300])
    fit_requests = proxy.requests[CHAT]
    assert fit_requests == 0  # no training row needs the LLM under this plan
    test = texts[300:340]
    routed = kcm.route(test)
    predicted = kcm.predict(test)
    asked = proxy.requests[CHAT]
    assert 0 < asked == len(set(test[routed])) < len(test)
    assert kcm.ledger_.summary()["predict_large_samples"] == routed.sum()
    assert set(predicted) <= {"positive", "negative"}


def test_a_second_run_over_the_cache_sends_no_request(proxy, snippets, tmp_path):
    texts, labels = snippets
    first = _classifier(proxy.base_url, cache=tmp_path).fit(texts[:16], labels[:16])
    answers = first.predict_proba(texts[:16])
    assert proxy.requests[CHAT] == len(set(texts[:16]))
    proxy.reset()
    again = _classifier(proxy.base_url, cache=tmp_path).fit(texts[:16], labels[:16])
    assert np.array_equal(again.predict_proba(texts[:16]), answers)
    assert proxy.requests[CHAT] == 0 and again.usage_.summary()["calls"] == 0
    assert again.usage_.summary()["cache_hits"] == len(texts[:16])


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_requests_in_flight_never_exceed_max_concurrency(proxy, snippets, max_concurrency):
    texts, labels = snippets
    llm = _classifier(proxy.base_url, max_concurrency=max_concurrency)
    llm.fit(texts[:12], labels[:12]).predict(texts[:12])
    assert proxy.requests[CHAT] == 12
    assert 1 <= proxy.max_in_flight <= max_concurrency


def test_the_token_counts_are_the_servers(proxy, snippets):
    texts, labels = snippets
    llm = _classifier(proxy.base_url).fit(texts[:10], labels[:10])
    llm.predict(texts[:10])
    usage = llm.usage_.summary()
    assert usage["prompt_tokens"] == proxy.usage["prompt_tokens"] > 10 * 20
    assert usage["completion_tokens"] == proxy.usage["completion_tokens"] > 0


def test_a_server_killed_mid_run_fails_fast_and_the_answers_so_far_are_kept(
        model_path, snippets, tmp_path):
    texts, labels = snippets
    texts = texts[:40]
    with LlamaServer(model_path) as server:
        llm = _classifier(server.base_url, max_concurrency=1, cache=tmp_path, max_retries=2,
                          backoff=0.1).fit(texts, labels[:40])
        outcome = {}

        def run():
            try:
                llm.predict(texts)
            except Exception as error:  # what the user sees
                outcome["error"] = error
            outcome["ended"] = time.monotonic()

        worker = threading.Thread(target=run)
        worker.start()
        while len(list(tmp_path.rglob("*.json"))) < 5:  # some answers are in
            time.sleep(0.05)
        server.kill()
        killed = time.monotonic()
        worker.join(timeout=60)
        port = server.port
    assert isinstance(outcome.get("error"), TransientLLMError)
    assert outcome["ended"] - killed < 15  # two quick retries, not one per prompt
    kept = len(list(tmp_path.rglob("*.json")))
    assert 5 <= kept < len(set(texts))
    # the same server again: only the prompts not answered before are sent
    with LlamaServer(model_path, port=port) as server:
        again = _classifier(server.base_url, cache=tmp_path).fit(texts, labels[:40])
        assert set(again.predict(texts)) <= {"positive", "negative"}
        assert again.usage_.summary()["calls"] == len(set(texts)) - kept


# ------------------------------------------------------------ LlamaCppLM: llama.cpp in process

def test_llama_cpp_label_scores_make_a_classifier_without_text_to_parse(model_path, snippets):
    from sklearn_kcm.llm import LlamaCppLM

    texts, labels = snippets
    llm = LLMClassifier(LlamaCppLM(model_path)).fit(texts[:12], labels[:12])
    proba = llm.predict_proba(texts[:12])
    assert proba.shape == (12, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert llm.usage_.summary()["parse_errors"] == 0
    # the hint is part of the prompt: the scores move
    hinted = llm.predict_proba(texts[:12], hint=np.tile([0.05, 0.95], (12, 1)))
    assert not np.allclose(hinted, proba)


def test_llama_cpp_and_transformers_score_the_same_gguf_alike(model_path):
    pytest.importorskip("gguf", reason="transformers reads a GGUF file with the gguf package")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sklearn_kcm.llm import LlamaCppLM, TransformersLM

    kwargs = dict(gguf_file=model_path.name, local_files_only=True)
    reference = TransformersLM(AutoModelForCausalLM.from_pretrained(str(model_path.parent),
                                                                     **kwargs),
                               AutoTokenizer.from_pretrained(str(model_path.parent), **kwargs))
    prompts = ["The film was a delight. Its sentiment is", "A dull, tedious mess. Verdict:"]
    labels = ["positive", "negative", "very good"]  # a label of two tokens too
    ours = LlamaCppLM(model_path).score_labels(prompts, labels)
    theirs = reference.score_labels(prompts, labels)
    # the same weights, quantised (llama.cpp) or de-quantised (transformers)
    assert np.array_equal(ours.argmax(axis=1), theirs.argmax(axis=1))
    assert np.allclose(ours, theirs, atol=0.5)
