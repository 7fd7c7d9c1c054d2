"""What a user checks on their own terms: an interrupt stops a fit and loses nothing, the
notebook output config works, and mistakes get errors that name the problem and the fix."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator_sparse_tag
from skorch.callbacks import Callback

from sklearn_kcm import (
    KANClassifier,
    KANJudgeClassifier,
    KCMCascade,
    KCMEnsemble,
    LargeShare,
    LLMClassifier,
    MLPJudgeClassifier,
)
from sklearn_kcm._testing import fast_judge


class InterruptAtEpoch(Callback):
    """Presses Ctrl-C at the end of an epoch of a torch estimator's training."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


class InterruptedForest(RandomForestClassifier):
    """Ctrl-C while the large model fits, before any torch model trains."""

    def fit(self, X, y, sample_weight=None):
        raise KeyboardInterrupt


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def _members():
    return LogisticRegression(max_iter=500), RandomForestClassifier(n_estimators=20,
                                                                     random_state=0)


# ------------------------------------------------------------------------- interrupts

def test_an_interrupted_kan_fit_raises_and_leaves_no_model(digits):
    X, y = digits
    clf = KANClassifier(max_epochs=20, callbacks=[InterruptAtEpoch()], random_state=0)
    with pytest.raises(KeyboardInterrupt, match="interrupted during epoch 2"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_an_interrupted_kan_refit_or_partial_fit_keeps_the_model_it_had(digits):
    X, y = digits
    clf = KANClassifier(max_epochs=3, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(callbacks=[InterruptAtEpoch(1)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    clf.net_.callbacks_.append(("stop", InterruptAtEpoch(len(clf.net_.history) + 1)))
    with pytest.raises(KeyboardInterrupt):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("where", ["judge", "large"])
def test_an_interrupted_ensemble_fit_raises_and_leaves_it_unfitted(digits, where):
    X, y = digits
    small, large = _members()
    judge = fast_judge(max_epochs=10, callbacks=[("stop", InterruptAtEpoch())])
    if where == "large":
        large, judge = InterruptedForest(n_estimators=5), fast_judge()
    kcm = KCMEnsemble(small, large, judge=judge, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        kcm.fit(X, y)
    with pytest.raises(NotFittedError):
        kcm.predict(X)


def test_an_interrupted_refit_or_stream_keeps_the_ensemble_it_was(digits):
    X, y = digits
    kcm = KCMEnsemble(judge=fast_judge(), epsilon=LargeShare(0.3), random_state=0,
                      *_members()).fit(X[:300], y[:300])
    before, coef = kcm.predict_proba(X[300:]), kcm.small_.coef_.copy()
    kcm.set_params(judge=fast_judge(max_epochs=10, callbacks=[("stop", InterruptAtEpoch())]))
    with pytest.raises(KeyboardInterrupt):
        kcm.fit(X, y)
    np.testing.assert_array_equal(kcm.predict_proba(X[300:]), before)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    kcm.large_.predict_proba = interrupted  # Ctrl-C while the large model answers a batch
    with pytest.raises(KeyboardInterrupt):
        kcm.partial_fit(X[300:])  # no labels: the large model answers the routed rows
    del kcm.large_.predict_proba
    np.testing.assert_array_equal(kcm.small_.coef_, coef)
    np.testing.assert_array_equal(kcm.predict_proba(X[300:]), before)


def test_an_interrupted_cascade_fit_raises_and_leaves_it_unfitted(digits):
    X, y = digits
    cascade = KCMCascade([("lr", LogisticRegression(max_iter=500)),
                          ("forest", InterruptedForest(n_estimators=5))], judge="small")
    with pytest.raises(KeyboardInterrupt):
        cascade.fit(X, y)
    with pytest.raises(NotFittedError):
        cascade.predict(X)


# ------------------------------------------------------- set_config(transform_output)

@pytest.mark.parametrize("output", ["default", "pandas"])
@pytest.mark.parametrize("n_features", [8, 80])  # the default judge projects wide X
def test_the_default_ensemble_and_a_kan_pipeline_fit_under_either_output_config(
        output, n_features):
    X, y = make_classification(300, n_features, n_informative=5, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(n_features)])
    with sklearn.config_context(transform_output=output):
        kcm = KCMEnsemble(*_members(), random_state=0).fit(X, y)
        assert kcm.predict(X).shape == (300,)
        pipe = make_pipeline(StandardScaler(), KANClassifier(max_epochs=2, random_state=0))
        assert pipe.fit(X, y).predict_proba(X).shape == (300, 2)


# ------------------------------------------------------------ errors that name the fix

def test_a_mark_that_is_a_class_is_refused_naming_both(digits):
    X, y = digits
    kcm = KCMEnsemble(*_members(), judge="small", unlabelled_label=0)
    with pytest.raises(ValueError, match=r"unlabelled_label=0 marks \d+ rows.*0 reads as a "
                                         r"class.*pass unlabelled_label=None.*mark them -1"):
        kcm.fit(X, y)
    y_semi = y.copy()
    y_semi[:400] = -1  # rows without a label outnumber each class: a mark, not a class
    kcm.set_params(unlabelled_label=-1).fit(X, y_semi)
    assert kcm.classes_.tolist() == list(range(10))


def test_a_first_batch_without_every_class_names_the_missing_ones(digits):
    X, y = digits
    kcm = KCMEnsemble(*_members(), judge="small")
    with pytest.raises(ValueError, match=r"lacks \[10, 11\] of `classes`"):
        kcm.partial_fit(X, y, classes=np.arange(12))


@pytest.mark.parametrize("member", ["drop", None])
def test_a_cascade_member_that_is_no_classifier_is_named(digits, member):
    X, y = digits
    cascade = KCMCascade([("lr", LogisticRegression()), ("forest", member),
                          ("big", RandomForestClassifier())], judge="small")
    with pytest.raises(ValueError, match=rf"The member 'forest' of estimators is "
                                         rf"{member!r}.*remove the pair"):
        cascade.fit(X, y)


def test_a_memory_that_is_a_file_says_it_must_be_a_folder(digits, tmp_path):
    X, y = digits
    path = tmp_path / "notes.py"
    path.write_text("")
    with pytest.raises(ValueError, match="is a file; memory must be a folder"):
        KCMEnsemble(*_members(), judge="small", memory=str(path)).fit(X, y)


@pytest.mark.parametrize("estimator", [
    KCMEnsemble(LogisticRegression(), RandomForestClassifier(n_estimators=5), judge="small"),
    KANClassifier(max_epochs=1),
    MLPJudgeClassifier(max_epochs=1),
])
def test_a_single_class_is_refused_as_scikit_learn_classifiers_refuse_it(digits, estimator):
    X, _ = digits
    with pytest.raises(ValueError, match="can't train when only one class is present"):
        estimator.fit(X, np.zeros(len(X), dtype=int))


@pytest.mark.parametrize("estimator", [
    KCMEnsemble(LogisticRegression(max_iter=500), RandomForestClassifier(n_estimators=5),
                judge="small"),
    KCMCascade([("lr", LogisticRegression(max_iter=500)),
                ("forest", RandomForestClassifier(n_estimators=5))], judge="small"),
    KANClassifier(max_epochs=1, random_state=0),
    KANJudgeClassifier(max_epochs=1, random_state=0),
    MLPJudgeClassifier(max_epochs=1, random_state=0),
])
def test_every_classifier_gives_log_probabilities(digits, estimator):
    X, y = digits
    estimator.fit(X, y)
    np.testing.assert_allclose(np.exp(estimator.predict_log_proba(X[:20])),
                               estimator.predict_proba(X[:20]))


def test_an_llm_classifier_gives_log_probabilities_with_zeros_as_minus_infinity():
    clf = LLMClassifier(lambda prompts: ["yes"] * len(prompts)).fit(["a", "b"], ["no", "yes"])
    assert clf.predict_log_proba(["c"]).tolist() == [[-np.inf, 0.0]]


def test_a_cascade_says_it_reads_sparse_input_where_its_members_do():
    cascade = KCMCascade([("lr", LogisticRegression()),
                          ("forest", RandomForestClassifier(n_estimators=5))], judge="small")
    check_estimator_sparse_tag("KCMCascade", cascade)  # raises when tag and fit disagree
    assert cascade.__sklearn_tags__().input_tags.sparse
