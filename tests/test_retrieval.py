"""Retrieval: retrievers over a corpus, and KCMRetriever routing queries between two."""

import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import top_k_accuracy_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from sklearn_kcm import (
    Judge,
    KANJudgeClassifier,
    LargeShare,
    MLPJudgeClassifier,
    RoutingCurveDisplay,
)
from sklearn_kcm._testing import fast_judge
from sklearn_kcm.retrieval import (
    EncoderRetriever,
    KCMRetriever,
    TfidfRetriever,
    make_recall_scorer,
    recall_at_k,
)
from sklearn_kcm.retrieval._scores import fuse, standardise, top_candidates

N_DOCS = 60


class CountingRetriever(EncoderRetriever):
    """A large retriever that records every call: queries scored, candidates per query."""

    def fit(self, queries, y):
        super().fit(queries, y)
        self.calls_ = []
        return self

    def decision_function(self, queries, candidates=None):
        scores = super().decision_function(queries, candidates)
        self.calls_.append(scores.shape)
        return scores


class LearningRetriever(EncoderRetriever):
    """A retriever said to learn from its training queries: fitted once per fold."""

    learns_from_queries = True
    fits = []

    def fit(self, queries, y):
        LearningRetriever.fits.append(len(y))
        return super().fit(queries, y)


@pytest.fixture(scope="module")
def data():
    """A corpus of 60 vectors; each document asked by two noisy queries (fit, test)."""
    rng = np.random.RandomState(0)
    corpus = rng.normal(size=(N_DOCS, 12))
    y = np.arange(N_DOCS)
    fit = corpus + rng.normal(scale=0.9, size=corpus.shape)
    test = corpus + rng.normal(scale=0.9, size=corpus.shape)
    return corpus, fit, test, y


def _members(corpus):
    small = EncoderRetriever(corpus, PCA(3, random_state=0))
    large = CountingRetriever(corpus, FunctionTransformer())
    return small, large


def _kcm(corpus, **params):
    small, large = _members(corpus)
    return KCMRetriever(small, large, **{"judge": "small", "n_candidates": 5, **params})


# retrievers and the metric


@pytest.mark.parametrize("k", [1, 3, 10])
def test_recall_at_k_is_top_k_accuracy(k):
    rng = np.random.RandomState(1)
    scores = rng.normal(size=(50, 20))
    y = rng.randint(20, size=50)
    assert recall_at_k(y, scores, k) == top_k_accuracy_score(y, scores, k=k,
                                                             labels=np.arange(20))


@pytest.mark.parametrize("k", [1, 3, 9, 12])
def test_top_candidates_is_a_stable_sort_cut_at_k(k):
    scores = np.random.RandomState(2).randint(0, 4, size=(40, 12)).astype(float)  # many ties
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    assert top_candidates(scores, k).tolist() == expected.tolist()


def test_recall_breaks_ties_as_predict_does():
    scores = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    assert recall_at_k([0, 1], scores, 1) == 0.5  # predict says 0 for both rows


def test_encoder_retriever_scores_candidates_as_the_whole_corpus(data):
    corpus, fit, test, y = data
    retriever = EncoderRetriever(corpus, PCA(5, random_state=0)).fit(fit, y)
    full = retriever.decision_function(test)
    candidates = top_candidates(-full, 7)  # any columns, here the worst
    np.testing.assert_allclose(retriever.decision_function(test, candidates=candidates),
                               np.take_along_axis(full, candidates, axis=1))
    assert retriever.predict(test).tolist() == np.argmax(full, axis=1).tolist()
    assert retriever.score(test, y) == recall_at_k(y, full, 1)
    assert retriever.top_k(test, 4).shape == (N_DOCS, 4)
    assert retriever.classes_.tolist() == list(range(N_DOCS))


def test_tfidf_retriever_ranks_texts_and_scores_candidates_sparse():
    docs = ["a cat sat on the mat", "dogs chase the cat", "the stock market fell",
            "rain falls on the plain"]
    retriever = TfidfRetriever(docs).fit(["cat mat"], [0])
    assert retriever.predict(["the market fell", "dogs", "plain rain"]).tolist() == [2, 1, 3]
    full = retriever.decision_function(["the cat"])
    np.testing.assert_allclose(retriever.decision_function(["the cat"], candidates=[[3, 1]]),
                               full[:, [3, 1]])


def test_a_pretrained_encoder_is_used_as_given(data):
    corpus, fit, test, y = data
    pca = PCA(4, random_state=0).fit(fit)  # fitted on the queries, not on the corpus
    retriever = EncoderRetriever(corpus, FrozenEstimator(pca)).fit(fit, y)
    np.testing.assert_allclose(retriever.query_encoder_.transform(test), pca.transform(test))
    # not frozen: a clone is fitted on the corpus, alone as inside KCMRetriever (which clones)
    refitted = EncoderRetriever(corpus, pca).fit(fit, y).query_encoder_
    assert refitted is not pca
    np.testing.assert_allclose(refitted.mean_, corpus.mean(axis=0))


def test_two_towers_and_callables(data):
    corpus, fit, test, y = data
    retriever = EncoderRetriever(corpus, lambda q: np.asarray(q)[:, :6],
                                 lambda d: np.asarray(d)[:, :6], similarity="dot").fit(fit, y)
    np.testing.assert_allclose(retriever.decision_function(test), test[:, :6] @ corpus[:, :6].T)


@pytest.mark.parametrize("kwargs, y, match", [
    (dict(query_encoder=PCA(2), doc_encoder=PCA(2)), None, "not fitted.*FrozenEstimator"),
    (dict(query_encoder=PCA(2)), np.full(N_DOCS, N_DOCS), "y holds 60, but the corpus has 60"),
    (dict(query_encoder=PCA(2)), np.full(N_DOCS, 0.5), "index of each query's relevant"),
    (dict(query_encoder=lambda q: np.ones((len(q), 3)),
          doc_encoder=lambda d: np.ones((len(d), 4))), None, "same space"),
    (dict(query_encoder=lambda q: np.ones(3)), None, "one vector per item"),
])
def test_retriever_errors_name_the_fix(data, kwargs, y, match):
    corpus, fit, test, _ = data
    retriever = EncoderRetriever(corpus, **kwargs)
    with pytest.raises(ValueError, match=match):
        retriever.fit(fit, np.arange(N_DOCS) if y is None else y).decision_function(test)


@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_estimator_tags_renamed",
    "check_do_not_raise_errors_in_init_or_set_params", "check_mixin_order",
])
@pytest.mark.parametrize("make", [
    lambda c: EncoderRetriever(c, PCA(3)), lambda c: TfidfRetriever(["a b", "c d"]),
    lambda c: KCMRetriever(*_members(c)),
], ids=["encoder", "tfidf", "kcm"])
def test_retrievers_follow_the_estimator_api(data, make, check):
    # retrievers read a fixed corpus, so the checks that fit on generated data do not apply
    estimator = make(data[0])
    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


# KCMRetriever


def test_large_retriever_scores_only_routed_queries_and_their_shortlists(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=LargeShare(0.3)).fit(fit, y)
    routed = kcm.route(test)
    kcm.ledger_.reset()
    kcm.large_.calls_.clear()
    kcm.decision_function(test)
    assert 0 < routed.sum() < N_DOCS
    assert kcm.large_.calls_ == [(routed.sum(), 5)]  # one call, routed queries, 5 candidates
    summary = kcm.ledger_.summary()
    assert summary["predict_large_samples"] == routed.sum()
    assert summary["predict_large_documents"] == 5 * routed.sum()
    assert summary["predict_large_calls"] == 1


def test_no_call_when_no_query_is_routed_and_the_corpus_without_hint(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=0.0, fusion=1.0).fit(fit, y)
    kcm.large_.calls_.clear()
    scores = kcm.decision_function(test)
    assert kcm.large_.calls_ == []
    np.testing.assert_allclose(scores, standardise(kcm.small_.decision_function(test)))
    every = _kcm(corpus, epsilon=1.0, hint=None, fusion=1.0).fit(fit, y)
    every.large_.calls_.clear()
    assert every.predict(test).tolist() == every.large_.predict(test).tolist()
    assert every.large_.calls_ == [(N_DOCS, N_DOCS), (N_DOCS, N_DOCS)]


def test_routed_queries_rank_the_fused_shortlist_first(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=1.0, fusion=0.5).fit(fit, y)
    scores = kcm.decision_function(test)
    small = standardise(kcm.small_.decision_function(test))
    candidates = top_candidates(small, 5)
    fused = fuse(np.take_along_axis(small, candidates, axis=1),
                 kcm.large_.decision_function(test, candidates=candidates), 0.5)
    expected = np.take_along_axis(candidates, np.argsort(-fused, axis=1, kind="stable"), axis=1)
    assert top_candidates(scores, 5).tolist() == expected.tolist()


def test_the_shortlist_hint_and_routing_beat_the_small_retriever(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=LargeShare(0.5)).fit(fit, y)
    small, large = kcm.small_.score(test, y), kcm.large_.score(test, y)
    assert small < large
    assert kcm.score(test, y) > small
    assert kcm.fusion_weight_ in np.round(np.linspace(0, 1, 11), 2)
    assert set(kcm.fusion_mrr_) == set(np.round(np.linspace(0, 1, 11), 2))
    assert 0 < kcm.shortlist_recall_ <= 1


def test_epsilon_auto_meets_the_budget_out_of_fold(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=LargeShare(0.25)).fit(fit, y)
    assert kcm.route(fit).mean() == pytest.approx(0.25, abs=0.02)  # small: nothing learnt
    assert abs(kcm.route(test).mean() - 0.25) < 0.15


def test_judges_learn_whether_the_small_top1_is_right(data):
    corpus, fit, test, y = data
    small, large = _members(corpus)
    kcm = KCMRetriever(small, large, judge=Judge(fast_judge(), fallback=False),
                       n_candidates=5).fit(fit, y)
    assert isinstance(kcm.judge_, KANJudgeClassifier)
    assert kcm.judge_.classes_.tolist() == [False, True]
    assert kcm.routing_by_ == "judge"
    confidence = kcm.routing_confidence(test)
    assert confidence.shape == (N_DOCS,) and np.all((0 <= confidence) & (confidence <= 1))
    mcm = KCMRetriever(small, large, judge=MLPJudgeClassifier(max_epochs=5, random_state=0),
                       n_candidates=5, cv=3).fit(fit, y)
    assert mcm.routing_by_ in ("judge", "blend", "small")
    assert set(mcm.routing_quality_) == {"judge", "small", "blend"}


def test_default_judge_is_the_kan_judge_and_predictions_survive_pickle(data):
    corpus, fit, test, y = data
    small, large = _members(corpus)
    kcm = KCMRetriever(small, large, n_candidates=5, epsilon=0.6, random_state=0).fit(fit, y)
    assert isinstance(kcm.judge_, KANJudgeClassifier)
    loaded = pickle.loads(pickle.dumps(kcm))
    np.testing.assert_array_equal(loaded.decision_function(test), kcm.decision_function(test))
    refit = KCMRetriever(small, large, n_candidates=5, epsilon=0.6, random_state=0).fit(fit, y)
    np.testing.assert_array_equal(refit.routing_confidence(test), kcm.routing_confidence(test))


def test_predict_does_not_change_the_estimator(data):
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=0.7).fit(fit, y)
    before = {key: value for key, value in vars(kcm).items() if key != "ledger_"}
    kcm.predict(test)
    kcm.routing_curve(test, y)
    assert before.keys() == {k for k in vars(kcm) if k != "ledger_"}
    assert all(vars(kcm)[key] is value for key, value in before.items())


def test_a_retriever_that_learns_from_queries_answers_out_of_fold(data):
    corpus, fit, _, y = data
    LearningRetriever.fits.clear()
    small = LearningRetriever(corpus, PCA(3, random_state=0))
    KCMRetriever(small, CountingRetriever(corpus, FunctionTransformer()), judge="small",
                 n_candidates=5, cv=3).fit(fit, y)
    assert LearningRetriever.fits == [N_DOCS, 40, 40, 40]  # the fit, then one per fold


def test_routing_curve_and_display(data):
    pytest.importorskip("matplotlib")
    corpus, fit, test, y = data
    kcm = _kcm(corpus, epsilon=0.7).fit(fit, y)
    thresholds, share, recall = kcm.routing_curve(test, y)
    assert share[0] == 0 and share[-1] == 1
    assert recall[0] == pytest.approx(kcm.small_.score(test, y))
    display = RoutingCurveDisplay.from_estimator(kcm, test, y)
    assert display.epsilon == kcm.epsilon_


def test_grid_search_over_epsilon_with_a_recall_scorer(data):
    corpus, fit, _, y = data
    search = GridSearchCV(_kcm(corpus), {"epsilon": [0.2, 0.9]}, cv=KFold(3),
                          scoring=make_recall_scorer(k=5)).fit(fit, y)
    assert search.best_params_["epsilon"] in (0.2, 0.9)
    assert 0 < search.best_score_ <= 1


@pytest.mark.parametrize("params, match", [
    (dict(epsilon=LargeShare(1.5)), "'share' parameter of LargeShare"),
    (dict(n_candidates=61), "n_candidates=61 exceeds the 60 documents"),
    (dict(large=EncoderRetriever(np.ones((80, 12)), FunctionTransformer())),
     "60 documents and the large one's 80"),
])
def test_kcm_errors_name_the_fix(data, params, match):
    corpus, fit, _, y = data
    with pytest.raises(ValueError, match=match):
        _kcm(corpus).set_params(**params).fit(fit, y)


def test_shortlist_needs_a_large_retriever_that_takes_candidates(data):
    corpus, fit, _, y = data

    class Plain(EncoderRetriever):
        def decision_function(self, queries):
            return super().decision_function(queries)

    plain = Plain(corpus, FunctionTransformer())
    with pytest.raises(ValueError, match="no `candidates` argument.*hint=None"):
        KCMRetriever(_members(corpus)[0], plain, judge="small").fit(fit, y)
    KCMRetriever(_members(corpus)[0], plain, judge="small", hint=None).fit(fit, y)


def test_texts_route_between_tfidf_and_a_word_count_retriever():
    docs = ["the cat sat on the warm mat", "dogs chase cats in the park",
            "the stock market fell sharply", "rain falls on the plain in spain",
            "a recipe for apple pie", "the football match ended in a draw"] * 2
    queries = ["cat on a mat", "dogs in a park", "stock market", "rain in spain",
               "apple pie", "football draw"] * 2
    y = np.arange(12)
    large = EncoderRetriever(docs, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)))
    kcm = KCMRetriever(TfidfRetriever(docs), large, judge="small", n_candidates=4, cv=2,
                       epsilon=0.5).fit(queries, y)
    assert np.isin(kcm.predict(queries) % 6, y % 6).all()
    assert kcm.score(queries, y) >= 0.4  # each text is in the corpus twice
