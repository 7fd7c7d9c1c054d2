"""What the judge reads and learns: out-of-fold signals, targets, fallback, budgets."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import Judge, KANJudgeClassifier, KCMEnsemble, LargeShare, LLMClassifier
from sklearn_kcm._routing._curves import threshold_for_share
from sklearn_kcm._routing._fallback import choose_routing, routing_quality
from sklearn_kcm._routing._signals import probability_features
from sklearn_kcm._testing import RecordingClassifier, fast_judge


class ShuffledJudge(RecordingClassifier):
    """A judge that learns nothing: its labels are shuffled before fitting."""

    def fit(self, X, y):
        return super().fit(X, np.random.default_rng(0).permutation(y))


def _clusters(n=1200, seed=0):
    # several clusters per class: a linear small model fails in regions of X
    return make_classification(n, 8, n_informative=6, n_redundant=0, n_clusters_per_class=3,
                               random_state=seed)


def test_the_judge_reads_and_learns_from_out_of_fold_answers():
    X, y = _clusters(600)
    small = DecisionTreeClassifier(random_state=0)  # sure and right on its own training rows
    kcm = KCMEnsemble(small, HistGradientBoostingClassifier(max_iter=20),
                      Judge(RecordingClassifier(), target="small_correct"),
                      cv=3, distill=False).fit(X, y)
    oof = cross_val_predict(small, X, y, cv=StratifiedKFold(3), method="predict_proba")
    seen = kcm.judge_.X_fit_
    np.testing.assert_allclose(seen[:, :X.shape[1]], X)  # judge_input="auto": X and the answer
    np.testing.assert_allclose(seen[:, X.shape[1]:], probability_features(oof))
    np.testing.assert_array_equal(kcm.judge_.y_fit_, oof.argmax(axis=1) == y)
    # in-sample answers would be one-hot and always right: nothing for the judge to learn
    in_sample = clone(small).fit(X, y).predict_proba(X)
    assert not np.allclose(seen[:, X.shape[1]:], probability_features(in_sample))
    assert 0 < kcm.judge_.y_fit_.mean() < 1


@pytest.mark.parametrize("target", ["small_correct", "gain", "task", "agreement"])
def test_each_target_gives_c_x_its_meaning(target):
    X, y = _clusters(600)
    small, large = LogisticRegression(), HistGradientBoostingClassifier(max_iter=30)
    kcm = KCMEnsemble(small, large, Judge(RecordingClassifier(), target=target, fallback=False),
                      cv=3, distill=False).fit(X, y)
    cv = StratifiedKFold(3)
    small_right = cross_val_predict(small, X, y, cv=cv).astype(int) == y
    if target == "small_correct":
        expected = small_right
    elif target == "gain":  # True: sending the row to the large model would not help
        large_right = cross_val_predict(large, X, y, cv=cv) == y
        expected = ~(large_right & ~small_right)
        assert not expected.all() and kcm.ledger_.summary()["fit_large_samples"] == len(y)
    else:  # the task targets read X alone: a second opinion must not see the first
        expected = y
    np.testing.assert_array_equal(kcm.judge_.y_fit_, expected)
    small_proba = kcm.small_.predict_proba(X)
    if target in ("task", "agreement"):
        assert kcm.judge_input_ == "X"
        judge_proba = kcm.judge_.predict_proba(X)
    else:
        assert kcm.judge_input_ == "both"
        judge_proba = kcm.judge_.predict_proba(np.hstack([X, probability_features(small_proba)]))
    if target == "task":
        meaning = judge_proba.max(axis=1)
    elif target == "agreement":  # P(small's answer) under the product of both distributions
        joint = small_proba * judge_proba
        meaning = joint[np.arange(len(X)), small_proba.argmax(axis=1)] / joint.sum(axis=1)
    else:
        meaning = judge_proba[:, 1]  # P(True)
    np.testing.assert_allclose(kcm.routing_confidence(X), meaning, rtol=1e-6)


def test_the_default_judge_learns_the_task_on_numeric_x_and_routes_by_agreement():
    X, y = _clusters(600)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(),
                      HistGradientBoostingClassifier(max_iter=30), cv=3, distill=False).fit(X, y)
    assert (kcm.judge_input_, kcm.judge_target_) == ("X", "agreement")
    assert kcm.judge_.n_features_in_ == X.shape[1]
    # disagreement routes: where the judge says another class than the small model,
    # C_x is low whatever the small model's own confidence
    small_pred = kcm.small_.predict(X)
    disagree = kcm.judge_.predict(X) != small_pred
    assert disagree.any()
    confidence = kcm.routing_confidence(X)
    assert np.median(confidence[disagree]) < np.median(confidence[~disagree])


def test_the_default_judge_projects_wide_input_and_keeps_sparse_input_sparse():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 100))
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), cv=3, distill=False,
                      random_state=0).fit(X, y, sample_weight=np.ones(300))
    assert isinstance(kcm.judge_.projection_, PCA)
    assert kcm.judge_.projection_.n_components_ == 32 and kcm.judge_.n_features_in_ == 100
    rows = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), cv=3, distill=False,
                       random_state=0).fit(X.tolist(), y)  # a list of rows is as wide
    assert isinstance(rows.judge_.projection_, PCA)
    narrow = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), cv=3, distill=False,
                         random_state=0).fit(X[:, :10], y)
    assert narrow.judge_.projection_ is None
    sparse = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), cv=3, distill=False,
                         random_state=0).fit(sp.csr_matrix(X), y)
    assert isinstance(sparse.judge_.projection_, TruncatedSVD)
    assert sparse.predict(sp.csr_matrix(X[:5])).shape == (5,)


def test_the_default_judge_is_the_kan_judge_a_user_builds_and_tunes():
    X, y = _clusters(600)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(random_state=0), cv=3,
                      distill=False).fit(X, y)
    assert type(kcm.judge_) is KANJudgeClassifier
    assert kcm.judge_.get_params() == KANJudgeClassifier().get_params()
    # tuning "the judge" tunes the judge in use: the same fit, given explicitly
    given = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(random_state=0), cv=3,
                        distill=False, judge=KANJudgeClassifier(random_state=0),
                        random_state=0).fit(X, y)
    default = clone(given).set_params(judge=None).fit(X, y)
    np.testing.assert_allclose(given.routing_confidence(X), default.routing_confidence(X))
    search = GridSearchCV(given, {"judge__grid_size": [2, 3]}, cv=2).fit(X, y)
    assert search.best_estimator_.judge_.grid_size in (2, 3)


def test_sample_weights_reach_the_final_step_of_pipeline_members():
    X, y = _clusters(300)
    weight = np.r_[np.zeros(150), np.ones(150)]
    kcm = KCMEnsemble(make_pipeline(StandardScaler(), RecordingClassifier()),
                      DecisionTreeClassifier(), judge="small", epsilon=0.9, cv=3,
                      distill=False).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(kcm.small_[-1].sample_weight_, weight)


def test_a_judge_that_routes_worse_falls_back_to_the_small_models_confidence():
    X, y = _clusters()
    common = dict(epsilon=0.8, cv=3, distill=False)
    kcm = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(max_iter=30),
                      ShuffledJudge(), **common).fit(X, y)
    assert kcm.routing_by_ == "small"
    assert kcm.routing_quality_["judge"] < kcm.routing_quality_["small"]
    cascade = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(max_iter=30),
                          judge="small", **common).fit(X, y)
    np.testing.assert_array_equal(kcm.route(X), cascade.route(X))
    np.testing.assert_allclose(kcm.routing_confidence(X), kcm.small_.predict_proba(X).max(axis=1))
    kept = clone(kcm).set_params(judge=Judge(ShuffledJudge(), fallback=False)).fit(X, y)
    assert kept.routing_by_ == "judge" and kept.routing_quality_ is None


def test_a_blend_routes_best_where_judge_and_small_model_each_miss_one_mistake():
    # two wrong answers among twelve: the judge doubts only the first, the small model only
    # the second; their product doubts both
    small_right = np.r_[False, False, np.ones(10, dtype=bool)]
    judge = np.r_[0.1, 0.6, np.full(10, 0.5)]
    small_top = np.r_[0.95, 0.55, np.full(10, 0.7)]
    proba = np.column_stack([small_top, 1 - small_top])
    weight, quality, confidence = choose_routing(judge, proba, small_right)
    assert weight == 0.5
    assert quality["blend"] > max(quality["judge"], quality["small"])
    np.testing.assert_allclose(confidence, np.sqrt(judge * small_top))
    assert confidence[:2].max() < confidence[2:].min()  # both mistakes go to the large model first


def test_the_fitted_blend_is_what_routes_at_predict_time():
    X, y = _clusters(600)
    kcm = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(max_iter=30),
                      RecordingClassifier(), epsilon=0.8, cv=3, distill=False).fit(X, y)
    # the judge wins this fallback; a weight the fit did not choose shows that predict
    # reads the fitted attributes (the choice itself: test_a_blend_routes_best_...)
    assert (kcm.routing_by_, kcm.routing_weight_) == ("judge", 1.0)
    kcm.routing_by_, kcm.routing_weight_ = "blend", 0.25
    small_proba = kcm.small_.predict_proba(X)
    judged = clone(kcm).set_params(judge=Judge(RecordingClassifier(), fallback=False)).fit(
        X, y).routing_confidence(X)
    np.testing.assert_allclose(
        kcm.routing_confidence(X), judged ** 0.25 * small_proba.max(axis=1) ** 0.75)
    np.testing.assert_array_equal(kcm.route(X), kcm.routing_confidence(X) <= 0.8)


def test_the_fallback_counts_the_large_models_out_of_fold_answers_where_they_are_fitted():
    X, y = _clusters(600)
    small, useless_large = LogisticRegression(), DummyClassifier()  # always the same class
    small_accuracy = np.mean(cross_val_predict(small, X, y, cv=StratifiedKFold(3)) == y)
    # distillation on the labelled rows fits the out-of-fold teachers: the fallback reads them
    kcm = KCMEnsemble(small, useless_large, fast_judge(), epsilon=0.8, cv=3, distill="large",
                      random_state=0).fit(X, y)
    # routing to a large model that is right half the time cannot beat the small model much
    assert kcm.routing_quality_["small"] < small_accuracy + 0.02
    assert kcm.ledger_.counts()["fit_large_samples"] >= len(y)  # each row, out of fold
    # by default no large-model work beyond its own fit: it is taken to be right everywhere
    default = KCMEnsemble(small, useless_large, fast_judge(), epsilon=0.8, cv=3,
                          random_state=0).fit(X, y)
    assert default.ledger_.counts()["fit_large_samples"] == 0
    assert "seconds_fit_teachers" not in default.ledger_.summary()
    right = np.ones(len(y), dtype=bool)
    assert routing_quality(cross_val_predict(small, X, y, cv=StratifiedKFold(3),
                                             method="predict_proba").max(axis=1),
                           cross_val_predict(small, X, y, cv=StratifiedKFold(3)) == y,
                           right) > small_accuracy + 0.05
    assert default.routing_quality_["small"] > small_accuracy + 0.05


def test_a_judge_that_reads_x_beats_the_cascade_where_the_small_model_fails_by_region():
    X, y = _clusters(3000)
    X_train, X_test, y_train, y_test = X[:2000], X[2000:], y[:2000], y[2000:]
    kcm = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(),
                      KANJudgeClassifier(random_state=0), epsilon=LargeShare(0.3),
                      cv=3, distill=False).fit(X_train, y_train)
    assert kcm.routing_by_ == "judge"
    small_right = kcm.small_.predict(X_test) == y_test
    large_right = kcm.large_.predict(X_test) == y_test
    judge = routing_quality(kcm.routing_confidence(X_test), small_right, large_right)
    cascade = routing_quality(kcm.small_.predict_proba(X_test).max(axis=1), small_right,
                              large_right)
    assert judge > cascade + 0.01


def test_the_default_judge_works_on_text_with_an_llm_large_model():
    rng = np.random.default_rng(0)
    words = {"positive": "good great fine fun".split(), "negative": "bad dull weak slow".split()}
    labels = rng.choice(["negative", "positive"], 120)
    texts = [" ".join(rng.choice(words[label], 2)) + " " +
             " ".join(rng.choice(words["positive"] + words["negative"], 2)) for label in labels]

    def llm(prompts):  # a keyword reader, better than the bag of words on mixed texts
        out = []
        for prompt in prompts:
            text = prompt.split("<text>\n")[1].split("\n</text>")[0].split()
            score = sum(w in words["positive"] for w in text[:2])
            out.append("positive" if score >= 1 else "negative")
        return out

    kcm = KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression()),
                      LLMClassifier(llm), epsilon=LargeShare(0.3), cv=3,
                      random_state=0).fit(texts, labels)
    assert kcm.judge_input_ == "small" and isinstance(kcm.judge_, KANJudgeClassifier)
    assert kcm.judge_.n_features_in_ == 2 + 3  # log-probabilities and three summaries
    assert 0 < kcm.route(texts).mean() < 1
    assert set(kcm.predict(texts)) <= {"negative", "positive"}
    # its calls are paid: distillation asks about the routed training rows, the fallback
    # does not ask about the others (it takes the large model to be right)
    assert kcm.ledger_.counts()["fit_large_samples"] < 0.6 * len(texts)


def test_judge_input_both_refuses_text_with_the_fix():
    with pytest.raises(ValueError, match=r"Judge\(input='small'\)"):
        KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression()), LogisticRegression(),
                    judge=Judge(input="both")).fit(["a b", "c d"] * 5, [0, 1] * 5)


def test_budget_out_of_reach_warns_and_does_not_send_everything():
    X, y = make_blobs(300, centers=[[-10, 0], [10, 0]], random_state=0)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(),
                      Judge(DecisionTreeClassifier(random_state=0), input="X", target="task",
                            fallback=False), epsilon=LargeShare(0.2),
                      cv=3, distill=False)
    with pytest.warns(UserWarning, match=r"LargeShare\(0.2\) cannot be met"):
        kcm.fit(X, y)  # a tree is sure of every row: its confidences all tie at 1
    assert kcm.route(X).mean() == 0


def test_a_judge_with_one_outcome_to_learn_leaves_routing_to_the_small_model():
    X, y = make_blobs(300, centers=[[-10, 0], [10, 0]], random_state=0)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(),
                      Judge(fast_judge(), target="small_correct"), epsilon=LargeShare(0.2),
                      cv=3, distill=False)
    with pytest.warns(UserWarning, match="The judge has nothing to learn"):
        kcm.fit(X, y)  # the small model is right on every row
    assert kcm.routing_by_ == "small" and kcm.judge_ is None
    # the budget is met by the small model's out-of-fold confidences (the fitted model is
    # surer of its own training rows)
    assert 0 < kcm.route(X).mean() <= 0.2


def test_a_reachable_budget_does_not_warn():
    X, y = _clusters(600)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), RecordingClassifier(),
                    epsilon=LargeShare(0.2), cv=3, distill=False).fit(X, y)


@pytest.mark.parametrize(
    "confidence, share, expected",
    [
        ([0.2, 0.9, 0.5, 0.7], 0.5, 0.5),
        ([1.0, 1.0, 1.0, 0.4], 0.5, 0.4),  # routing the tie would send all
        ([0.1, 0.5, 0.5, 0.5, 0.9], 0.7, 0.5),  # the tie is nearer the target
        ([1.0, 1.0], 0.5, np.nextafter(1.0, 0)),  # nothing can be split: route none
    ],
)
def test_threshold_for_share_takes_the_nearest_side_of_a_tie(confidence, share, expected):
    assert threshold_for_share(np.array(confidence), share) == expected


class NaNJudge(RecordingClassifier):
    """A judge that is not sure of anything: its probabilities are NaN."""

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


class NaNLarge(NaNJudge):
    """A large model whose probabilities are NaN."""


def test_a_nan_confidence_is_not_sure_and_goes_to_the_large_model():
    X, y = _clusters(300)
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(random_state=0),
                      Judge(NaNJudge(), fallback=False),
                      epsilon=0.5, cv=3, distill=False).fit(X, y)
    assert np.isnan(kcm.routing_confidence(X)).all() and kcm.route(X).all()
    np.testing.assert_array_equal(kcm.predict(X), kcm.large_.predict(X))


def test_a_large_model_that_answers_nan_is_named():
    X, y = _clusters(300)
    kcm = KCMEnsemble(LogisticRegression(), NaNLarge(), judge="small", epsilon=0.99, cv=3,
                      distill=False).fit(X, y)  # fit never asks the large model here
    with pytest.raises(ValueError, match="The large model's predict_proba returned rows"):
        kcm.predict(X)


def test_values_beyond_float32_are_refused_not_answered_nan():
    X, y = _clusters(300)
    judge = fast_judge().fit(X, y)
    X_big = X.copy()
    X_big[0, 0] = 1e39
    with pytest.raises(ValueError, match="computes in float32"):
        judge.predict_proba(X_big)


class IncrementalJudge(RecordingClassifier):
    """A judge that records the weights each partial_fit receives."""

    def partial_fit(self, X, y, sample_weight=None):
        self.weights_ = getattr(self, "weights_", []) + [sample_weight]
        return self


def test_partial_fit_checks_its_parameters_and_weights_the_judge():
    from sklearn.linear_model import SGDClassifier

    X, y = _clusters(600)
    kcm = KCMEnsemble(SGDClassifier(loss="log_loss", random_state=0), DecisionTreeClassifier(),
                      Judge(IncrementalJudge(), fallback=False), epsilon=0.9, cv=3)
    kcm.fit(X[:400], y[:400])
    weight = np.linspace(0.5, 2.0, 200)
    kcm.partial_fit(X[400:], y[400:], sample_weight=weight)
    np.testing.assert_array_equal(kcm.judge_.weights_[-1], weight)
    with pytest.raises(ValueError, match="epsilon"):  # validated on the first call, as SGD's
        clone(kcm).set_params(epsilon=2.0).partial_fit(X[:400], y[:400])


def test_the_default_judge_of_a_wide_x_normalises_its_hidden_layer():
    # principal components of a wide X: a LayerNorm before the KAN's hidden layer and
    # batches of 128 (the recipe study: MNIST 0.916 -> 0.945 on the task); narrow X: no
    # norm (there it did harm), and dropout on few rows (long-tailed digits 0.887 -> 0.895)
    wide = make_classification(300, 100, n_informative=10, random_state=0)
    narrow = make_classification(300, 20, n_informative=10, random_state=0)
    judges = [KCMEnsemble(LogisticRegression(), LogisticRegression(), cv=3, distill=False,
                          random_state=0).fit(*data).judge_ for data in (wide, narrow)]
    projected, narrow_judge = judges
    assert projected.settings_ == dict(layer_norm=True, max_epochs=40, batch_size=128,
                                       dropout=0.0)
    assert projected.net_.batch_size == 128 and projected.net_.max_epochs == 40
    assert narrow_judge.settings_ == dict(layer_norm=False, max_epochs=20, batch_size="auto",
                                          dropout=0.3)
    # a KAN of the same width: the norm adds no parameters
    assert ([p.shape for p in projected.net_.module_.parameters()][1:]
            == [p.shape for p in narrow_judge.net_.module_.parameters()][1:])


def test_the_default_judge_drops_hidden_units_only_when_it_learns_from_few_rows():
    from sklearn_kcm._routing._judging import default_judge
    from sklearn_kcm._torch._judges import FEW_ROWS

    X, y = make_classification(FEW_ROWS, 20, random_state=0)
    few = KANJudgeClassifier(max_epochs=1).fit(X[:-1], y[:-1])
    assert few.settings_["dropout"] == 0.3
    # on more rows it underfits in 20 epochs
    assert KANJudgeClassifier(max_epochs=1).fit(X, y).settings_["dropout"] == 0.0
    assert KANJudgeClassifier(max_epochs=1, dropout=0.1).fit(X[:10], y[:10]).settings_[
        "dropout"] == 0.1  # a value given is kept
    assert default_judge(0, judge_input="small").dropout == 0.0  # reads the answer


