"""Budgets (epsilon="auto"), routing curves, RoutingCurveDisplay and the scorers."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kcm import (
    Judge,
    KANJudgeClassifier,
    KCMEnsemble,
    LargeShare,
    MLPJudgeClassifier,
    RoutingCurveDisplay,
    make_budget_scorer,
    make_cost_scorer,
    neg_large_share,
)
from sklearn_kcm._testing import CountingClassifier

matplotlib.use("Agg")


def _small():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def _split(load):
    X, y = load(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.mark.parametrize(
    "load, judge",
    [
        (load_digits, "small"),
        (load_breast_cancer, "small"),
        (load_digits, KANJudgeClassifier(random_state=0)),
    ],
    ids=["digits-cascade", "breast_cancer-cascade", "digits-KAN"],
)
def test_target_large_share_holds_on_held_out_data(load, judge):
    X_train, X_test, y_train, _ = _split(load)
    kcm = KCMEnsemble(_small(), RandomForestClassifier(random_state=0), judge=judge,
                      epsilon=LargeShare(0.2), distill=False).fit(X_train, y_train)
    assert 0 < kcm.epsilon_ < 1
    assert abs(kcm.route(X_test).mean() - 0.2) <= 0.05


@pytest.mark.parametrize("seed", [1, 3])
def test_budget_holds_for_a_judge_reading_the_small_models_answer(seed):
    # the threshold is a quantile of fold judges' confidences, applied to the final
    # judge's: with a constant learning rate each fit ended on its own scale and these
    # seeds routed 53% and 41% of held-out rows for a 25% budget
    X, y = make_classification(3000, 20, n_informative=5, flip_y=0.1, random_state=seed)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    kcm = KCMEnsemble(LogisticRegression(), LogisticRegression(),
                      Judge(KANJudgeClassifier(random_state=0), input="small",
                            target="small_correct", fallback=False),
                      epsilon=LargeShare(0.25), distill=False).fit(X_train, y_train)
    assert abs(kcm.route(X_test).mean() - 0.25) <= 0.05


def test_float_epsilon_is_used_as_is():
    X, y = load_iris(return_X_y=True)
    kcm = KCMEnsemble(_small(), _small(), judge="small", epsilon=0.7, distill=False).fit(X, y)
    assert kcm.epsilon_ == 0.7


def test_auto_epsilon_is_the_default_share_budget():
    X, y = load_iris(return_X_y=True)
    auto = KCMEnsemble(_small(), _small(), judge="small", epsilon="auto", distill=False)
    share = KCMEnsemble(_small(), _small(), judge="small", epsilon=LargeShare(0.2),
                        distill=False)
    assert auto.fit(X, y).epsilon_ == share.fit(X, y).epsilon_ < 1


@pytest.mark.parametrize("epsilon, match", [
    (LargeShare(1.5), "'share' parameter of LargeShare"),
    (LargeShare(0.0), "'share' parameter of LargeShare"),
    (True, "epsilon=True is a boolean.*LargeShare"),
])
def test_a_budget_out_of_range_is_refused_naming_its_field(epsilon, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        KCMEnsemble(_small(), _small(), judge="small", epsilon=epsilon).fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    X_train, X_test, y_train, y_test = _split(load_digits)
    kcm = KCMEnsemble(_small(), CountingClassifier(RandomForestClassifier(random_state=0)),
                      judge=Judge(KANJudgeClassifier(random_state=0), fallback=False), cv=3,
                      distill=False)
    return kcm.fit(X_train, y_train), X_test, y_test


def test_routing_curve_matches_predictions_at_each_threshold(fitted):
    kcm, X, y = fitted
    thresholds, share, accuracy = kcm.routing_curve(X, y)
    assert share[0] == 0 and share[-1] == 1
    assert np.all(np.diff(share) > 0) and np.all(np.diff(thresholds) > 0)
    operating = kcm.epsilon_
    try:
        for i in np.linspace(0, len(thresholds) - 1, 12).astype(int):
            kcm.epsilon_ = thresholds[i]  # same fitted members, another threshold
            assert kcm.route(X).mean() == pytest.approx(share[i])
            assert kcm.score(X, y) == pytest.approx(accuracy[i])
    finally:
        kcm.epsilon_ = operating


def test_display_calls_the_large_model_once_and_draws(fitted):
    kcm, X, y = fitted
    calls = len(kcm.large_.calls_)
    display = RoutingCurveDisplay.from_estimator(kcm, X, y, name="KCM")
    assert len(kcm.large_.calls_) == calls + 1
    assert kcm.large_.calls_[-1]["n"] == len(X)
    for attribute in ("thresholds", "large_share", "accuracy", "ax_", "figure_", "line_"):
        assert hasattr(display, attribute)
    np.testing.assert_allclose(display.line_.get_xdata(), display.large_share)
    small_pred = kcm.small_.predict(X)
    large_pred = kcm.large_.predict_proba(X).argmax(1)
    other = RoutingCurveDisplay.from_predictions(
        y, small_pred=small_pred, large_pred=large_pred,
        confidence=kcm.small_.predict_proba(X).max(1), name="cascade", ax=display.ax_)
    assert other.ax_ is display.ax_
    labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert labels == ["KCM", "cascade"]
    # endpoints: small only and large only
    assert other.accuracy[0] == pytest.approx(np.mean(small_pred == y))
    assert other.accuracy[-1] == pytest.approx(np.mean(large_pred == y))


def test_scorers_in_grid_search():
    X, y = load_iris(return_X_y=True)
    kcm = KCMEnsemble(_small(), RandomForestClassifier(random_state=0), judge="small",
                      distill=False)
    search = GridSearchCV(
        kcm, {"epsilon": [0.5, 0.9, 0.99]}, cv=3, refit="cost",
        scoring={"cost": make_cost_scorer(small_cost=0.0, large_cost=0.5, error_cost=1.0),
                 "share": neg_large_share, "budget": make_budget_scorer(0.1)},
    ).fit(X, y)
    shares = -search.cv_results_["mean_test_share"]
    assert shares[0] <= shares[1] <= shares[2]  # a higher epsilon sends more
    budget = search.cv_results_["mean_test_budget"]
    np.testing.assert_allclose(budget, budget[0])  # the curve does not depend on epsilon


def test_budget_scorer_reads_the_curve(fitted):
    kcm, X, y = fitted
    _, share, accuracy = kcm.routing_curve(X, y)
    assert make_budget_scorer(0.25)(kcm, X, y) == accuracy[share <= 0.25].max()
    with pytest.raises(ValueError, match="max_large_share"):
        make_budget_scorer(1.5)


def test_cost_scorer_adds_up(fitted):
    kcm, X, y = fitted
    share = kcm.route(X).mean()
    error = 1 - kcm.score(X, y)
    scorer = make_cost_scorer(small_cost=0.01, large_cost=0.2, error_cost=2.0)
    assert scorer(kcm, X, y) == pytest.approx(-(0.01 + 0.2 * share + 2.0 * error))


def test_cost_scorer_runs_the_small_model_once(fitted, monkeypatch):
    kcm, X, y = fitted
    calls = []
    predict_proba = kcm.small_.predict_proba
    monkeypatch.setattr(kcm.small_, "predict_proba",
                        lambda X_: calls.append(len(X_)) or predict_proba(X_))
    make_cost_scorer(small_cost=0.01, large_cost=0.2)(kcm, X, y)
    assert calls == [len(X)]


def test_mcm_and_kcm_curves_overlay_on_one_axes(fitted):
    kcm, X, y = fitted
    X_train, _, y_train, _ = _split(load_digits)
    mcm = KCMEnsemble(_small(), RandomForestClassifier(random_state=0),
                      judge=Judge(MLPJudgeClassifier(random_state=0), fallback=False), cv=3,
                      distill=False).fit(X_train, y_train)
    first = RoutingCurveDisplay.from_estimator(kcm, X, y, name="KCM")
    RoutingCurveDisplay.from_estimator(mcm, X, y, name="MCM", ax=first.ax_)
    assert len(first.ax_.get_legend().get_texts()) == 2


def test_gap_recovered_follows_routellms_definitions_on_a_constructed_curve():
    from sklearn_kcm import gap_recovered

    # small 0.6, large 1.0: the gap is 0.4; a dip below the small model at 25% sent
    share = np.array([0.0, 0.25, 0.5, 1.0])
    accuracy = np.array([0.6, 0.5, 0.9, 1.0])
    recovered = (accuracy - 0.6) / 0.4  # 0, -0.25, 0.75, 1
    by_hand = 0.25 * (0 - 0.25) / 2 + 0.25 * (-0.25 + 0.75) / 2 + 0.5 * (0.75 + 1) / 2
    metrics = gap_recovered(share, accuracy, levels=(0.5, 0.8, 1.0))
    assert metrics["apgr"] == pytest.approx(by_hand)
    # on the running maximum (0, 0, 0.75, 1): 0.5 is reached between 25% and 50% sent
    assert metrics["cpt"][0.5] == pytest.approx(0.25 + 0.5 / 0.75 * 0.25)
    assert metrics["cpt"][0.8] == pytest.approx(0.5 + 0.05 / 0.25 * 0.5)
    assert metrics["cpt"][1.0] == pytest.approx(1.0)
    assert recovered[1] < 0  # the dip counts in the area, not in CPT


def test_no_gap_to_recover_gives_nan():
    from sklearn_kcm import gap_recovered

    metrics = gap_recovered([0.0, 1.0], [0.9, 0.8])
    assert np.isnan(metrics["apgr"]) and np.isnan(metrics["cpt"][0.5])


def test_the_oracle_curve_is_at_or_above_every_routing():
    from sklearn_kcm import oracle_routing_curve, routing_curve

    rng = np.random.default_rng(0)
    small, large = rng.random(300) < 0.7, rng.random(300) < 0.85
    _, oracle_share, oracle_accuracy = oracle_routing_curve(small, large)
    for _ in range(5):
        _, share, accuracy = routing_curve(rng.random(300), small, large)
        best = np.interp(share, oracle_share, oracle_accuracy)
        assert np.all(accuracy <= best + 1e-12)
    # it first fixes every mistake the large model can fix
    fixable = np.mean(large & ~small)
    assert np.interp(fixable, oracle_share, oracle_accuracy) == pytest.approx(
        np.mean(small | large))


def test_the_routing_curve_display_reports_routellms_apgr_and_cpt():
    import matplotlib

    matplotlib.use("Agg")
    display = RoutingCurveDisplay(thresholds=np.array([0.0, 0.5, 1.0]),
                                  large_share=np.array([0.0, 0.5, 1.0]),
                                  accuracy=np.array([0.6, 0.9, 1.0]), name="toy").plot()
    # the gap recovered is 0, 0.75, 1 at shares 0, 0.5, 1: trapezoids 0.1875 + 0.4375
    assert display.apgr == pytest.approx(0.625)
    assert display.cpt[0.5] == pytest.approx(1 / 3)  # 0.5 of the gap, on the first segment
    assert display.line_.get_label() == "toy (APGR 0.62)"
