"""KCMEnsemble: routing, cost accounting, hints, distillation, sklearn integration."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import (
    Distillation,
    Judge,
    KANClassifier,
    KANJudgeClassifier,
    KCMEnsemble,
    LargeShare,
    MLPJudgeClassifier,
)
from sklearn_kcm._ensemble._soft_fit import expand_soft_labels
from sklearn_kcm._testing import (
    CountingClassifier,
    HintedClassifier,
    RecordingClassifier,
    fast_judge,
)


def _small():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def test_no_large_call_when_every_sample_is_easy(iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), CountingClassifier(), judge="small", epsilon=0.0,
                      distill=False).fit(X, y)
    kcm.predict(X)
    assert kcm.large_.calls_ == []
    summary = kcm.ledger_.summary()
    assert summary["predict_large_calls"] == 0 and summary["predict_samples"] == len(X)


def test_one_large_call_per_batch_with_exactly_the_routed_samples(iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), CountingClassifier(), judge="small", epsilon=0.95,
                      distill=False).fit(X, y)
    routed = kcm.route(X)
    assert 0 < routed.sum() < len(X)
    kcm.ledger_.reset()
    kcm.predict_proba(X)
    kcm.predict(X[:10])
    calls = kcm.large_.calls_
    assert [c["n"] for c in calls][0] == routed.sum()
    assert len(calls) == 1 + int(routed[:10].any())
    summary = kcm.ledger_.summary()
    assert summary["predict_large_samples"] == routed.sum() + routed[:10].sum()
    assert summary["predict_large_calls"] == len(calls)
    assert summary["predict_samples"] == len(X) + 10


def test_answers_come_from_the_member_the_route_names(iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), RandomForestClassifier(random_state=0), judge="small",
                      epsilon=0.95, distill=False).fit(X, y)
    routed = kcm.route(X)
    proba = kcm.predict_proba(X)
    np.testing.assert_allclose(proba[~routed], kcm.small_.predict_proba(X[~routed]))
    np.testing.assert_allclose(proba[routed], kcm.large_.predict_proba(X[routed]))


def test_hint_auto_hands_the_small_probabilities_of_the_routed_rows(iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), HintedClassifier(), judge="small", epsilon=0.95,
                      distill=False).fit(X, y)
    routed = kcm.route(X)
    kcm.predict_proba(X)
    hint = kcm.large_.calls_[-1]["hint"]
    np.testing.assert_allclose(hint, kcm.small_.predict_proba(X)[routed])
    plain = KCMEnsemble(_small(), HintedClassifier(), judge="small", epsilon=0.95,
                        hint=None, distill=False).fit(X, y)
    plain.predict_proba(X)
    assert plain.large_.calls_[-1]["hint"] is None


def test_hint_features_trains_the_large_model_on_out_of_fold_probabilities(iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), LogisticRegression(max_iter=1000), judge="small",
                      hint="features", epsilon=0.95, distill=False, cv=3).fit(X, y)
    assert kcm.large_.n_features_in_ == X.shape[1] + 3
    cv = StratifiedKFold(3)
    oof = cross_val_predict(_small(), X, y, cv=cv, method="predict_proba")
    leak_free = LogisticRegression(max_iter=1000).fit(np.hstack([X, oof]), y)
    np.testing.assert_allclose(kcm.large_.coef_, leak_free.coef_)
    in_sample = clone(_small()).fit(X, y).predict_proba(X)
    leaky = LogisticRegression(max_iter=1000).fit(np.hstack([X, in_sample]), y)
    assert not np.allclose(kcm.large_.coef_, leaky.coef_)
    assert kcm.score(X, y) > 0.9
    with pytest.raises(ValueError, match="X must be numeric"):
        KCMEnsemble(_small(), LogisticRegression(), hint="features").fit(
            ["a text"] * 6 + ["other"] * 6, [0] * 6 + [1] * 6)


@pytest.mark.parametrize(
    "small",
    [make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
     KANClassifier(hidden_layer_sizes=(), max_epochs=20, random_state=0)],
    ids=["sample_weight-expansion", "soft-partial_fit"],
)
def test_distillation_lifts_the_small_model(small):
    # 30% of the training labels are noise; the large model's out-of-fold soft
    # outputs are cleaner targets than the labels for the samples it answers.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y,
                                                        random_state=0)
    rng = np.random.default_rng(0)
    noisy = y_train.copy()
    flip = rng.random(len(noisy)) < 0.3
    noisy[flip] = rng.integers(0, 10, flip.sum())
    large = RandomForestClassifier(n_estimators=60, min_samples_leaf=3, random_state=0)
    params = dict(judge="small", epsilon=0.9, cv=3)
    without = KCMEnsemble(small, large, distill=False, **params).fit(X_train, noisy)
    with_ = KCMEnsemble(small, large, distill=Distillation("large", threshold=0.3),
                        **params).fit(X_train, noisy)
    assert with_.distillation_[0]["teacher_samples"] > 100
    assert with_.small_.score(X_test, y_test) > without.small_.score(X_test, y_test) + 0.02


def test_soft_label_expansion_equals_soft_cross_entropy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    proba = rng.dirichlet(np.ones(3), size=40)
    classes = np.array([0, 1, 2])
    rows, labels, weights = expand_soft_labels(proba, classes)
    model = LogisticRegression().fit(X, rng.integers(0, 3, 40))
    log_q = np.log(model.predict_proba(X))
    soft_ce = -np.sum(proba * log_q)
    expanded_ce = -np.sum(weights * log_q[rows, np.searchsorted(classes, labels)])
    np.testing.assert_allclose(expanded_ce, soft_ce)
    # and the fitted models agree: fitting on the expansion minimises the soft CE
    fit = LogisticRegression(C=1e4, max_iter=5000).fit(X[rows], labels, sample_weight=weights)
    soft_grad = X.T @ (fit.predict_proba(X) - proba) / 40
    np.testing.assert_allclose(soft_grad, 0, atol=1e-3)


def test_soft_label_expansion_leaves_out_improbable_classes():
    proba = np.array([[0.9, 0.0995, 0.0005], [0.5, 0.5, 0.0]])
    rows, labels, weights = expand_soft_labels(proba, np.array([0, 1, 2]), min_proba=1e-3)
    assert rows.tolist() == [0, 0, 1, 1]
    assert labels.tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(weights, [0.9, 0.0995, 0.5, 0.5])


@pytest.mark.parametrize("mix", [0.0, 0.5, 1.0, "auto"])
def test_distill_mix_teaches_the_mean_of_the_large_and_the_small_models(mix, iris):
    X, y = iris
    large = FrozenEstimator(make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X, y))
    kcm = KCMEnsemble(RecordingClassifier(), large, judge="small", epsilon=0.9,
                      distill=Distillation("large", mix=mix, temperature=1.0),
                      cv=3).fit(X, y)
    if mix == "auto":  # every row labelled: no out-of-fold check, the paper's large model alone
        assert kcm.distill_mix_ == 0.0
        mix = 0.0
    plain = RecordingClassifier().fit(X, y)
    routed = plain.predict_proba(X).max(axis=1) <= 0.9  # the cascade at epsilon 0.9
    assert 0 < routed.sum() < len(y)
    targets = (1 - mix) * large.predict_proba(X[routed]) + mix * plain.predict_proba(X[routed])
    _, labels, weights = expand_soft_labels(targets, kcm.classes_, min_proba=1e-3)
    # the small model's refit: its labelled rows, then the teacher's expanded targets
    np.testing.assert_allclose(kcm.small_.sample_weight_[len(y):], weights, rtol=1e-6)
    np.testing.assert_array_equal(kcm.small_.y_fit_[len(y):], labels)


class _SoftRecorder(RecordingClassifier):
    """Takes soft labels through partial_fit and records the temperature of each call."""

    accepts_soft_labels = True

    def partial_fit(self, X, y, classes=None, sample_weight=None, temperature=1.0):
        self.calls_ = [*getattr(self, "calls_", []), (temperature, np.asarray(y))]
        return self


@pytest.mark.parametrize("temperature, learnt_at", [(2.0, 2.0), (0.25, 1.0), (1.0, 1.0)])
def test_soft_targets_are_learnt_at_a_temperature_above_one_and_as_they_are_below(
        temperature, learnt_at, iris):
    # Hinton's logits / T undoes a sharpening: the sharpened targets are learnt at T = 1
    X, y = iris
    large = FrozenEstimator(make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X, y))
    kcm = KCMEnsemble(_SoftRecorder(), large, judge="small", epsilon=0.9, cv=3,
                      distill=Distillation("large", temperature=temperature)).fit(X, y)
    teacher_calls = [(t, targets) for t, targets in kcm.small_.calls_
                     if not np.isin(targets, [0.0, 1.0]).all()]  # soft rows, not one-hot labels
    assert teacher_calls and {t for t, _ in teacher_calls} == {learnt_at}


def test_small_without_sample_weight_gets_hard_teacher_labels_with_a_warning(iris):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = iris
    kcm = KCMEnsemble(KNeighborsClassifier(), RandomForestClassifier(random_state=0),
                      judge="small", epsilon=0.99, cv=3,
                      distill=Distillation("large", threshold=0.5))
    with pytest.warns(UserWarning, match="hard labels"):
        kcm.fit(X, y)
    assert kcm.distillation_[0]["method"] == "hard"


def _texts():
    rng = np.random.default_rng(0)
    sport = "match goal team score win coach league player".split()
    money = "bank market stock price rate profit loan fund".split()
    shared = "today report big new week".split()
    texts, labels = [], []
    for i in range(160):
        label = i % 2
        words = rng.choice(sport if label else money, 4).tolist() + rng.choice(shared, 3).tolist()
        if rng.random() < 0.3:  # ambiguous ones borrow the other topic's words
            words += rng.choice(money if label else sport, 3).tolist()
        texts.append(" ".join(rng.permutation(words)))
        labels.append("sport" if label else "money")
    return texts, np.array(labels)


def test_text_inputs_with_pipelines():
    texts, labels = _texts()
    kcm = KCMEnsemble(
        make_pipeline(TfidfVectorizer(), LogisticRegression()),
        make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), RandomForestClassifier(random_state=0)),
        judge=Judge(make_pipeline(TfidfVectorizer(), fast_judge()), input="X"),
        epsilon=0.9, cv=3).fit(texts, labels)
    assert set(kcm.predict(texts[:20])) <= {"money", "sport"}
    assert kcm.score(texts, labels) > 0.8
    assert kcm.route(texts).shape == (len(texts),)


@pytest.mark.parametrize(
    "name, params, share, judge_type",
    [
        ("small only", dict(judge="small", epsilon=0.0, distill=False), 0.0, None),
        ("large only", dict(judge="small", epsilon=1.0, distill=False), 1.0, None),
        ("cascade", dict(judge="small", epsilon=0.9, distill="large"), None, None),
        ("MCM", dict(judge=Judge(MLPJudgeClassifier(max_epochs=5, random_state=0), target="task",
                                 fallback=False),
                     epsilon=0.9, distill=Distillation("large", threshold=0.5)), None,
         MLPJudgeClassifier),
        ("KCM, paper", dict(judge=Judge(fast_judge(), target="task", fallback=False), epsilon=0.9,
                            distill=Distillation("large", threshold=0.5)), None,
         KANJudgeClassifier),
        ("KCM", dict(judge=Judge(fast_judge(), fallback=False), epsilon=0.9, distill="large"), None,
         KANJudgeClassifier),
    ],
)
def test_ablation_ladder_by_parameters_alone(name, params, share, judge_type, iris):
    X, y = iris
    kcm = KCMEnsemble(_small(), HintedClassifier(RandomForestClassifier(random_state=0)),
                      cv=3, **params).fit(X, y)
    routed = kcm.route(X)
    if share is not None:
        assert routed.mean() == share
    # each rung is what its parameters say: who routes, who teaches, who answers
    small_top = kcm.small_.predict_proba(X).max(axis=1)
    if judge_type is None:
        assert kcm.judge_ is None and kcm.routing_by_ == "small"
        np.testing.assert_allclose(kcm.routing_confidence(X), small_top)
    else:
        assert type(kcm.judge_) is judge_type and kcm.routing_by_ == "judge"
        assert not np.allclose(kcm.routing_confidence(X), small_top)
    assert len(kcm.distillation_) == (0 if params.get("distill") is False else 1)
    proba = kcm.predict_proba(X)
    np.testing.assert_allclose(proba[~routed], kcm.small_.predict_proba(X)[~routed])
    np.testing.assert_allclose(proba[routed], kcm.large_.predict_proba(X)[routed])
    assert kcm.score(X, y) > 0.85


def test_pipeline_grid_search_clone_and_pickle(iris):
    X, y = iris
    kcm = KCMEnsemble(LogisticRegression(max_iter=1000), RandomForestClassifier(random_state=0),
                      judge=fast_judge(), cv=2)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), kcm),
        {"kcmensemble__epsilon": [0.8, 0.95],
         "kcmensemble__judge": ["small", MLPJudgeClassifier(max_epochs=3, random_state=0)]},
        cv=2, n_jobs=2,
    ).fit(X, y)
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(best.predict_proba(X), restored.predict_proba(X))
    assert best[-1].epsilon_ == search.best_params_["kcmensemble__epsilon"]
    with pytest.raises(NotFittedError):  # a clone keeps the parameters, not the fit
        clone(best).predict(X)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: KCMEnsemble(_small(), _small(), epsilon=1.5), "epsilon"),
        (lambda: KCMEnsemble(_small(), _small(), epsilon=-0.1), "epsilon"),
        (lambda: KCMEnsemble(_small(), DecisionTreeClassifier().fit([[0], [1]], [0, 1]).apply),
         "large"),
        (lambda: KCMEnsemble(object(), _small()), "small"),
        (lambda: KCMEnsemble(_small(), _small(), judge="small", distill="judge"),
         "judge as a teacher"),
    ],
)
def test_bad_parameters_are_named(make, match, iris):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_prefit_large_model_must_know_the_same_classes(iris):
    X, y = iris
    other = LogisticRegression().fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="same set of classes"):
        KCMEnsemble(_small(), FrozenEstimator(other), judge="small").fit(X, y)


def test_prefit_large_model_is_not_refitted(iris):
    X, y = iris
    large = LogisticRegression(max_iter=1000).fit(X, y)
    coef = large.coef_.copy()
    kcm = KCMEnsemble(_small(), FrozenEstimator(large), judge="small", epsilon=0.95,
                      distill=Distillation("large", threshold=0.5)).fit(X[::2], y[::2])
    np.testing.assert_array_equal(kcm.large_.estimator.coef_, coef)
    assert kcm.ledger_.summary()["fit_large_calls"] == 1  # teaches directly, no folds


def test_x_and_y_of_different_lengths(iris):
    X, y = iris
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        KCMEnsemble(_small(), _small(), judge="small").fit(X, y[:-1])


def test_sample_weight_reaches_the_members(iris):
    X, y = iris
    weight = np.where(y == 2, 5.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kcm = KCMEnsemble(LogisticRegression(max_iter=1000), LogisticRegression(max_iter=1000),
                          judge="small", distill=False).fit(X, y, sample_weight=weight)
    reference = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(kcm.small_.coef_, reference.coef_)
    np.testing.assert_allclose(kcm.large_.coef_, reference.coef_)


def test_metadata_routing_sends_sample_weight_to_the_members_that_ask(iris):
    import sklearn

    X, y = iris
    weight = np.where(y == 2, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        small = LogisticRegression(max_iter=1000).set_fit_request(sample_weight=True)
        large = LogisticRegression(max_iter=1000).set_fit_request(sample_weight=False)
        kcm = KCMEnsemble(small, large, judge="small", distill=False)
        kcm.fit(X, y, sample_weight=weight)
        # the default judge is ours: it takes the weights without the user requesting them
        default = dict(cv=3, distill=False, random_state=0, judge=Judge(fallback=False))
        judged = KCMEnsemble(small, large, **default).fit(X, y, sample_weight=weight)
        unweighted = KCMEnsemble(small, large, **default).fit(X, y)
        assert not np.allclose(judged.judge_.predict_proba(X), unweighted.judge_.predict_proba(X))
        with pytest.raises(ValueError, match="not requested|explicitly set"):
            KCMEnsemble(LogisticRegression(), LogisticRegression(), judge="small").fit(
                X, y, sample_weight=weight)
    weighted = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=weight)
    plain = LogisticRegression(max_iter=1000).fit(X, y)
    np.testing.assert_allclose(kcm.small_.coef_, weighted.coef_)
    np.testing.assert_allclose(kcm.large_.coef_, plain.coef_)


def test_metadata_routing_on_without_parameters_fits(iris):
    # scikit-learn's router answers an EmptyRequest here, which once made fit loop forever
    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        kcm = KCMEnsemble(_small(), _small(), judge="small", distill=False).fit(*iris)
    assert kcm.score(*iris) > 0.9


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(epsilon=True), "is a boolean"),
        (dict(hint="features", large=FrozenEstimator(
            DecisionTreeClassifier(random_state=0).fit(*load_iris(return_X_y=True)))),
         "FrozenEstimator large model is not refitted"),
    ],
)
def test_parameters_that_cannot_work_are_refused_up_front(params, match, iris):
    kcm = KCMEnsemble(_small(), DecisionTreeClassifier(random_state=0), judge="small", cv=2)
    with pytest.raises(ValueError, match=match):
        kcm.set_params(**params).fit(*iris)


@pytest.mark.parametrize(
    "judge, allow_nan",
    [
        (None, True),  # the default judge imputes where both members read NaN
        (KANJudgeClassifier(), False),  # a judge the user gave, refusing NaN
        ("small", True),  # no judge: the two members accept NaN
        (Judge(KANJudgeClassifier(), input="small"), True),  # it reads the small model's answer
    ],
)
def test_nan_tag_is_what_every_member_reading_x_accepts(judge, allow_nan):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.utils import get_tags

    kcm = KCMEnsemble(HistGradientBoostingClassifier(), HistGradientBoostingClassifier(),
                      judge=judge)
    assert get_tags(kcm).input_tags.allow_nan is allow_nan


def test_a_group_aware_cv_gets_the_groups(iris):
    from sklearn.model_selection import GroupKFold

    X, y = iris
    groups = np.arange(len(y)) % 10
    kcm = KCMEnsemble(_small(), RandomForestClassifier(random_state=0), cv=GroupKFold(3),
                      epsilon=LargeShare(0.2))
    with pytest.raises(ValueError, match="groups"):
        clone(kcm).fit(X, y)
    assert 0 < kcm.fit(X, y, groups=groups).route(X).mean() < 0.5
