"""TransformerClassifier on a tiny randomly initialised BERT built here: no downloads."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from sklearn_kcm import KCMEnsemble

transformers = pytest.importorskip("transformers")

from sklearn_kcm.text import TransformerClassifier  # noqa: E402
from sklearn_kcm.text._encoder import frozen_bottom, run_layers  # noqa: E402

WORDS = "good great fun fine bad dull weak slow film plot story the a negative positive".split()
rng = np.random.default_rng(0)
LABELS = rng.choice(["negative", "positive"], 160)
TEXTS = [" ".join([rng.choice(WORDS[:4] if label == "positive" else WORDS[4:8]),
                   *rng.choice(WORDS[8:13], 3)]) for label in LABELS]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *map(str, range(101)), "%"]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizerFast(str(path / "vocab.txt")).save_pretrained(path)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32,
                                     max_position_embeddings=64)
    transformers.BertModel(config).save_pretrained(path)
    return str(path)


def _fast(path, **params):
    return TransformerClassifier(path, **{"max_epochs": 15, "lr": 3e-3, "batch_size": 16,
                                          "random_state": 0, **params})


def test_the_frozen_bottom_and_the_top_layers_make_the_whole_encoder(tiny):
    model = transformers.AutoModel.from_pretrained(tiny).eval()
    tokens = transformers.AutoTokenizer.from_pretrained(tiny)(TEXTS[:4], ["a film"] * 4,
                                                              padding=True, return_tensors="pt")
    with torch.no_grad():
        whole = model(**tokens).last_hidden_state
        bottom = frozen_bottom(model, 1, tokens["input_ids"], tokens["attention_mask"],
                               tokens["token_type_ids"])
        top = run_layers(model.encoder.layer[1:], bottom, tokens["attention_mask"])
    mask = tokens["attention_mask"].bool()
    torch.testing.assert_close(top[mask], whole[mask], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("trainable_layers", [1, "all"])
def test_it_learns_a_text_task(tiny, trainable_layers):
    clf = _fast(tiny, trainable_layers=trainable_layers).fit(TEXTS[:120], LABELS[:120])
    assert clf.n_frozen_ == {1: 1, "all": 0}[trainable_layers]
    assert np.mean(clf.predict(TEXTS[120:]) == LABELS[120:]) > 0.9
    proba = clf.predict_proba(TEXTS[120:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.classes_) == ["negative", "positive"]


def test_only_the_top_layers_train(tiny):
    head_only = _fast(tiny, trainable_layers=0, max_epochs=1).fit(TEXTS[:40], LABELS[:40])
    assert head_only.n_frozen_ == 2 and len(head_only.net_.module_.layers) == 0
    clf = _fast(tiny, trainable_layers=1, max_epochs=2).fit(TEXTS[:40], LABELS[:40])
    encoder = transformers.AutoModel.from_pretrained(tiny)
    trained = clf.net_.module_.layers[0].state_dict()
    pretrained = encoder.encoder.layer[1].state_dict()
    assert any(not torch.equal(trained[key], pretrained[key]) for key in trained)
    # the frozen bottom is the pretrained one, shared and untouched
    shared = clf._encoder().encoder.layer[0].state_dict()
    assert all(torch.equal(shared[key], value)
               for key, value in encoder.encoder.layer[0].state_dict().items())


def test_soft_labels_and_partial_fit(tiny):
    soft = np.where((LABELS == "positive")[:, None], [0.1, 0.9], [0.9, 0.1])
    clf = _fast(tiny).fit(TEXTS[:120], soft[:120])
    assert list(clf.classes_) == [0, 1]
    assert np.mean(clf.predict(TEXTS[120:]) == (LABELS[120:] == "positive")) > 0.9
    stream = _fast(tiny)
    for _ in range(15):
        stream.partial_fit(TEXTS[:120], LABELS[:120], classes=["negative", "positive"],
                           temperature=2.0)
    assert np.mean(stream.predict(TEXTS[120:]) == LABELS[120:]) > 0.8
    with pytest.raises(ValueError, match="needs `classes`"):
        _fast(tiny).partial_fit(TEXTS, LABELS)


def test_the_hint_is_read_before_the_text(tiny):
    hint = np.where((LABELS == "positive")[:, None], [0.2, 0.8], [0.7, 0.3])
    clf = _fast(tiny).fit(TEXTS[:120], LABELS[:120], hint=hint[:120])
    assert clf.hinted_
    assert clf.predict_proba(TEXTS[120:], hint=hint[120:]).shape == (40, 2)
    with pytest.raises(ValueError, match="fitted with a hint"):
        clf.predict(TEXTS[120:])
    with pytest.raises(ValueError, match="fitted without a hint"):
        _fast(tiny, max_epochs=1).fit(TEXTS[:20], LABELS[:20]).predict(TEXTS[:2], hint=hint[:2])
    with pytest.raises(ValueError, match="class probabilities"):
        clf.predict(TEXTS[:2], hint=hint[:2] * 2)
    with pytest.raises(ValueError, match=r"= \(10, 2\), got \(9, 2\)"):
        _fast(tiny).fit(TEXTS[:10], LABELS[:10], hint=hint[:9])


def test_an_ensemble_trains_it_on_out_of_fold_hints_and_hints_only_routed_rows(tiny,
                                                                               monkeypatch):
    seen = []
    encode = TransformerClassifier._encode

    def recording(self, texts, hint):
        seen.append((len(texts), None if hint is None else hint.copy()))
        return encode(self, texts, hint)

    monkeypatch.setattr(TransformerClassifier, "_encode", recording)
    small = make_pipeline(TfidfVectorizer(), LogisticRegression())
    kcm = KCMEnsemble(small, _fast(tiny, max_epochs=3), judge="small", epsilon=0.8, cv=3,
                      distill=False).fit(TEXTS[:120], LABELS[:120])
    assert kcm.large_.hinted_
    fit_hints = [hint for n, hint in seen if n == 120]
    assert len(fit_hints) == 1 and fit_hints[0] is not None
    in_sample = kcm.small_.predict_proba(TEXTS[:120])
    assert not np.allclose(fit_hints[0], in_sample)  # out of fold, not the fitted model's
    seen.clear()
    routed = kcm.route(TEXTS[120:])
    assert 0 < routed.sum() < 40
    kcm.predict(TEXTS[120:])
    assert [n for n, _ in seen] == [routed.sum()]
    np.testing.assert_allclose(seen[0][1], kcm.small_.predict_proba(TEXTS[120:])[routed])


def test_pickle_round_trip_needs_no_download(tiny):
    clf = _fast(tiny, max_epochs=2).fit(TEXTS[:60], LABELS[:60])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(TEXTS[60:80]), clf.predict_proba(TEXTS[60:80]),
                               rtol=1e-6)


def test_bad_input_is_named(tiny):
    with pytest.raises(ValueError, match="takes texts"):
        _fast(tiny).fit([1, 2], ["a", "b"])
    with pytest.raises(ValueError, match="trainable_layers=5"):
        _fast(tiny, trainable_layers=5).fit(TEXTS[:10], LABELS[:10])
    with pytest.raises(ValueError, match="2 labels"):
        _fast(tiny).fit(TEXTS[:3], LABELS[:2])


@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params", "check_estimator_tags_renamed",
    "check_mixin_order", "check_parameters_default_constructible",
])
def test_it_follows_the_estimator_api(check):
    getattr(estimator_checks, check)(TransformerClassifier.__name__,
                                     TransformerClassifier("path/to/encoder"))
