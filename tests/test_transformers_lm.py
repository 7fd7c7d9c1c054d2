"""TransformersLM on a tiny randomly initialised GPT-2 built here: no downloads."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_kcm import LLMClassifier
from sklearn_kcm.llm._prompts import DEFAULT_HINT_PROMPT, DEFAULT_PROMPT

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from sklearn_kcm.llm import TransformersLM  # noqa: E402

LABELS = ["negative", "positive"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    words = set((DEFAULT_PROMPT + DEFAULT_HINT_PROMPT).replace("{", " ").replace("}", " ").split())
    words |= set("a good film dull plot negative positive very the label with confidence".split())
    vocab = {w: i for i, w in enumerate(["[UNK]", "[PAD]", *sorted(words)])}
    core = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                                     pad_token="[PAD]")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=256, n_embd=16,
                                     n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    path = tmp_path_factory.mktemp("tiny-lm")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return model, tokenizer, path


def _direct_score(model, tokenizer, prompt, label):
    head = tokenizer(prompt)["input_ids"]
    full = head + tokenizer(" " + label, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        log_probs = torch.log_softmax(model(torch.tensor([full])).logits[0], dim=-1)
    return sum(log_probs[t - 1, full[t]].item() for t in range(len(head), len(full)))


def test_scores_are_label_log_likelihoods(tiny):
    model, tokenizer, _ = tiny
    lm = TransformersLM(model, tokenizer)
    prompts = ["a good film", "dull plot with the label"]
    labels = ["negative", "very very positive"]  # one token, and three
    scores = lm.score_labels(prompts, labels)
    expected = [[_direct_score(model, tokenizer, p, lab) for lab in labels] for p in prompts]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_llm_classifier_gives_a_distribution_and_uses_the_hint(tiny):
    _, _, path = tiny
    clf = LLMClassifier(TransformersLM(str(path))).fit(["a good film", "dull plot"], LABELS)
    proba = clf.predict_proba(["a good film", "dull plot"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba > 0) & (proba < 1))
    hinted = clf.predict_proba(["a good film", "dull plot"], hint=np.array([[0.1, 0.9]] * 2))
    assert not np.allclose(proba, hinted)  # the hint is part of the prompt
    restored = pickle.loads(pickle.dumps(clf))  # holds only parameters: reloads from disk
    assert set(vars(restored.llm)) == set(restored.llm.get_params())
    np.testing.assert_allclose(restored.predict_proba(["a good film", "dull plot"]), proba)


def test_an_adapter_is_not_copied_by_clone_nor_changed_by_predicting(tiny):
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone

    model, tokenizer, path = tiny
    lm = TransformersLM(model, tokenizer)
    assert clone(lm).model is model  # shared by reference, not deep-copied
    clf = LLMClassifier(TransformersLM(str(path)), labels=LABELS).fit(["a good film"], None)
    before = dict(vars(clf.llm))
    with ThreadPoolExecutor(4) as pool:  # threads asking at once share one load
        pairs = list(pool.map(lambda _: clone(clf.llm)._loaded(), range(4)))
    assert all(p[0] is pairs[0][0] and p[1] is pairs[0][1] for p in pairs)
    clf.predict_proba(["a good film", "dull plot"])
    assert vars(clf.llm) == before
