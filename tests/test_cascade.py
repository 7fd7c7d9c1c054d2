"""KCMCascade: each member asked once per batch about the rows that reach it, budgets per
member, the two-model machinery underneath, and the scikit-learn contract."""

import ast
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import GaussianNB

from sklearn_kcm import KCMCascade, KCMEnsemble, LargeShare
from sklearn_kcm._testing import CountingClassifier, HintedClassifier, fast_judge


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(1500, 10, n_informative=6, n_redundant=0, n_classes=3,
                               n_clusters_per_class=2, random_state=0)
    return train_test_split(X, y, test_size=0.4, random_state=0)


def _members():
    return [("nb", GaussianNB()),
            ("lr", CountingClassifier(LogisticRegression(max_iter=500))),
            ("forest", HintedClassifier(RandomForestClassifier(n_estimators=30,
                                                               random_state=0)))]


def test_each_member_is_called_once_on_the_rows_that_reach_it(data):
    X_train, X_test, y_train, _ = data
    cascade = KCMCascade(_members(), judge="small", epsilon=(0.9, 0.8)).fit(X_train, y_train)
    lr, forest = cascade.named_estimators_["lr"], cascade.named_estimators_["forest"]
    lr.calls_, forest.calls_ = [], []
    member = cascade.route(X_test)
    assert forest.calls_ == []  # routing asks every member but the last
    lr.calls_ = []
    proba = cascade.predict_proba(X_test)
    counts = np.bincount(member, minlength=3)
    assert counts.min() > 0  # the test means something: every member answers some rows
    assert [call["n"] for call in lr.calls_] == [counts[1] + counts[2]]
    assert [call["n"] for call in forest.calls_] == [counts[2]]
    # the last member reads the hint of the one below: its probabilities on those rows
    top = member == 2
    np.testing.assert_allclose(forest.calls_[0]["hint"], lr.predict_proba(X_test[top]))
    np.testing.assert_allclose(proba[top], forest.predict_proba(X_test[top]))
    np.testing.assert_allclose(proba[member == 0],
                               cascade.named_estimators_["nb"].predict_proba(
                                   X_test[member == 0]))
    summary = cascade.member_summary()
    assert [summary[name]["samples"] for name in ("nb", "lr", "forest")] == [
        len(X_test), counts[1] + counts[2], counts[2]]
    assert summary["forest"]["calls"] == summary["lr"]["calls"] == 1


def test_no_member_above_is_called_when_the_first_is_sure_of_every_row(data):
    X_train, X_test, y_train, _ = data
    cascade = KCMCascade(_members(), judge="small", epsilon=0.0).fit(X_train, y_train)
    lr, forest = cascade.named_estimators_["lr"], cascade.named_estimators_["forest"]
    lr.calls_, forest.calls_ = [], []
    cascade.predict(X_test)
    assert lr.calls_ == [] and forest.calls_ == []
    assert (cascade.route(X_test) == 0).all()


def test_target_shares_are_the_shares_that_reach_each_member(data):
    X_train, X_test, y_train, _ = data
    cascade = KCMCascade(_members(), judge=fast_judge(), epsilon="auto",
                         target_shares=(0.4, 0.15), random_state=0).fit(X_train, y_train)
    member = cascade.route(X_test)
    assert np.mean(member >= 1) == pytest.approx(0.4, abs=0.07)
    assert np.mean(member == 2) == pytest.approx(0.15, abs=0.06)
    # every step is a KCMEnsemble, the next step its large model
    assert isinstance(cascade.steps_[0], KCMEnsemble)
    assert cascade.steps_[0].large_ is cascade.steps_[1]
    assert cascade.steps_[1].large_ is cascade.named_estimators_["forest"]


def test_the_members_above_teach_the_first(data):
    # distill="large": the out-of-fold ensembles of the members above answer the training
    # rows the first member routes up, and their confident answers teach it
    X_train, _, y_train, _ = data
    cascade = KCMCascade([("lr", LogisticRegression(max_iter=500)),
                          ("nb", GaussianNB()), ("forest", RandomForestClassifier(random_state=0))],
                         judge="small", epsilon=0.7, distill="large", cv=3).fit(X_train, y_train)
    record = cascade.steps_[0].distillation_[0]
    assert record["large_samples"] > 0 and record["teacher_samples"] > 0


def test_clone_pickle_and_a_grid_over_the_thresholds(data):
    X_train, X_test, y_train, y_test = data
    cascade = KCMCascade(_members(), judge="small")
    assert clone(cascade).get_params()["lr__estimator"].max_iter == 500
    search = GridSearchCV(cascade, {"epsilon": [(0.5, 0.5), (0.95, 0.9)]}, cv=3)
    search.fit(X_train, y_train)
    assert search.best_params_["epsilon"] in [(0.5, 0.5), (0.95, 0.9)]
    fitted = search.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X_test), fitted.predict(X_test))
    assert fitted.set_params(nb__var_smoothing=1e-3).get_params()["nb__var_smoothing"] == 1e-3


@pytest.mark.parametrize("params, match", [
    (dict(estimators=[("nb", GaussianNB())]), "at least two"),
    (dict(epsilon=(0.9, 0.8, 0.7)), "one for each of the 2 steps"),
    (dict(epsilon="auto"), "needs target_shares"),
    (dict(epsilon="auto", target_shares=(0.1, 0.3)), "not increase"),
    (dict(target_shares=(0.3, 0.1)), "use epsilon='auto' with target_shares"),
])
def test_budgets_that_cannot_be_kept_are_refused_with_the_fix(data, params, match):
    X_train, _, y_train, _ = data
    cascade = KCMCascade(**{"estimators": _members(), "judge": "small", **params})
    with pytest.raises(ValueError, match=match):
        cascade.fit(X_train, y_train)


def test_the_display_shows_the_share_and_accuracy_of_each_member(data):
    import matplotlib

    matplotlib.use("Agg")
    from sklearn_kcm import MemberShareDisplay

    X_train, X_test, y_train, y_test = data
    cascade = KCMCascade(_members(), judge="small", epsilon=(0.9, 0.8)).fit(X_train, y_train)
    display = MemberShareDisplay.from_estimator(cascade, X_test, y_test)
    member = cascade.route(X_test)
    np.testing.assert_allclose(display.shares, np.bincount(member, minlength=3) / len(X_test))
    right = cascade.predict(X_test) == y_test
    assert display.accuracy[2] == pytest.approx(right[member == 2].mean())
    assert [bar.get_height() for bar in display.bars_] == pytest.approx(display.shares)


def test_the_cascade_reads_its_steps_through_their_public_surface():
    source = (Path(__file__).resolve().parents[1] / "sklearn_kcm" / "_ensemble"
              / "_cascade.py").read_text()
    private = {node.attr for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and node.value.id == "step" and node.attr.startswith("_")}
    assert not private


def test_the_two_steps_of_a_prediction_give_what_predict_proba_gives(iris):
    X, y = iris
    kcm = KCMEnsemble(LogisticRegression(max_iter=500), RandomForestClassifier(random_state=0),
                      judge="small", epsilon=LargeShare(0.3)).fit(X, y)
    small, routed = kcm.small_answers(X)
    proba = small.copy()
    proba[routed] = kcm.ask_large(X, np.flatnonzero(routed), small)
    np.testing.assert_allclose(proba, kcm.predict_proba(X))
    np.testing.assert_array_equal(routed, kcm.route(X))
    assert kcm.oof_confidence_.shape == (len(y),)
    assert not kcm.with_threshold(0.0).route(X).any()  # nothing is that unsure
