"""The front door: a dozen parameters, each one decision; groups of settings as one object."""

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from sklearn_kcm import (
    AccuracyTarget,
    Distillation,
    Judge,
    KANClassifier,
    KANJudgeClassifier,
    KCMCascade,
    KCMEnsemble,
    KCMRetriever,
    LargeShare,
    LLMClassifier,
)
from sklearn_kcm._testing import fast_judge

LIMITS = [(KCMEnsemble, 12), (KCMCascade, 12), (KCMRetriever, 12), (KANClassifier, 16),
          (KANJudgeClassifier, 16), (LLMClassifier, 15)]


@pytest.mark.parametrize("estimator, limit", LIMITS, ids=lambda v: getattr(v, "__name__", v))
def test_each_public_estimator_takes_at_most_its_share_of_parameters(estimator, limit):
    assert len(inspect.signature(estimator).parameters) <= limit


def test_the_paper_call_is_unchanged():
    kcm = KCMEnsemble(LogisticRegression(), DecisionTreeClassifier(), epsilon=0.98)
    assert list(inspect.signature(KCMEnsemble).parameters)[:4] == [
        "small", "large", "judge", "epsilon"]
    assert kcm.get_params()["epsilon"] == 0.98 and kcm.judge is None


def _ensemble(**params):
    return KCMEnsemble(LogisticRegression(max_iter=500), DecisionTreeClassifier(random_state=0),
                       cv=3, random_state=0, **{"distill": False, **params})


def test_a_grid_search_mixes_thresholds_and_budgets_and_reaches_their_fields():
    X, y = load_iris(return_X_y=True)
    grid = {"epsilon": [0.9, LargeShare(0.1), LargeShare(0.3)]}
    search = GridSearchCV(_ensemble(judge="small"), grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    nested = GridSearchCV(_ensemble(judge="small", epsilon=LargeShare()),
                          {"epsilon__share": [0.1, 0.3]}, cv=3).fit(X, y)
    assert nested.best_estimator_.epsilon.share in (0.1, 0.3)
    tuned = GridSearchCV(_ensemble(judge=Judge(fast_judge(), fallback=False), epsilon=0.9),
                         {"judge__estimator__max_epochs": [2, 4]}, cv=3).fit(X, y)
    assert tuned.best_estimator_.judge_.max_epochs in (2, 4)


def test_options_print_clone_and_pickle_as_estimators_do():
    options = [LargeShare(0.1), AccuracyTarget(0.9, relative_to="large"),
               Judge(fast_judge(), input="small", target="small_correct"),
               Distillation("large", temperature=1.0)]
    for option in options:
        copy = clone(option)
        assert copy is not option and copy.get_params(deep=False).keys() == \
            option.get_params(deep=False).keys()
        assert repr(pickle.loads(pickle.dumps(option))) == repr(option)
    assert repr(Distillation("large", threshold=None)) == \
        "Distillation(teachers='large', threshold=None)"
    kcm = clone(_ensemble(epsilon=options[0], judge=options[2], distill=options[3]))
    assert kcm.epsilon is not options[0] and kcm.get_params()["epsilon__share"] == 0.1


def test_one_judge_object_sets_what_the_judge_reads_learns_and_whether_it_falls_back():
    X, y = load_iris(return_X_y=True)
    kcm = _ensemble(judge=Judge(fast_judge(), input="small", target="small_correct",
                                fallback=False), epsilon=0.9).fit(X, y)
    assert (kcm.judge_input_, kcm.judge_target_, kcm.routing_by_) == (
        "small", "small_correct", "judge")
    assert kcm.routing_quality_ is None  # no fallback compared
    plain = _ensemble(judge=fast_judge(), epsilon=0.9).fit(X, y)
    assert (plain.judge_input_, plain.judge_target_) == ("X", "agreement")
    assert plain.routing_quality_ is not None


def test_a_distillation_object_sets_the_teachers_threshold_and_temperature():
    X, y = load_iris(return_X_y=True)
    kcm = KCMEnsemble(LogisticRegression(max_iter=500), DecisionTreeClassifier(random_state=0),
                      judge="small", epsilon=0.99, cv=3,
                      distill=Distillation("large", threshold=1.0))
    with pytest.warns(UserWarning, match="taught the small model nothing"):
        kcm.fit(X, y)
    # a threshold of 1 lets no answer teach: the routed rows were asked, none taught
    assert kcm.distillation_[0]["teacher_samples"] == 0
    taught = clone(kcm).set_params(distill__threshold=0.0).fit(X, y)
    assert taught.distillation_[0]["teacher_samples"] > 0
    assert np.isfinite(taught.predict_proba(X)).all()
