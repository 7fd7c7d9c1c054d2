"""What a fit costs: no large-model work the labels make redundant, every fit in the
ledger, parallel jobs that change nothing but the time, torch threads given back."""

import pickle
import threading
import time
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_kcm import Judge, KCMEnsemble, LargeShare, LLMClassifier
from sklearn_kcm._ensemble._fit_cache import RECENT_FITS
from sklearn_kcm._routing._signals import judge_features
from sklearn_kcm._testing import fast_judge
from sklearn_kcm._utils._threads import threads_for_work, torch_threads


@pytest.fixture
def data():
    return make_classification(600, 8, n_informative=6, n_redundant=0, n_clusters_per_class=2,
                               n_classes=3, random_state=0)


def _forest():
    return RandomForestClassifier(n_estimators=20, random_state=0)


def _teacher_fits(out):
    return out.count("[KCMEnsemble] teacher ")


def test_a_labelled_fit_fits_the_large_model_once(data, capsys):
    X, y = data
    kcm = KCMEnsemble(LogisticRegression(), _forest(), fast_judge(), cv=3, verbose=1,
                      random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert _teacher_fits(out) == 0 and out.count("[KCMEnsemble] large:") == 1
    counts = kcm.ledger_.counts()  # fitted once, asked about no training row
    assert counts["fit_large_fits"] == 1 and counts["fit_large_calls"] == 0
    assert kcm.distillation_ == []


def test_the_papers_distillation_on_labelled_rows_fits_one_teacher_per_fold(data, capsys):
    X, y = data
    kcm = KCMEnsemble(LogisticRegression(), _forest(), fast_judge(), cv=3, distill="large",
                      verbose=1, random_state=0).fit(X, y)
    assert _teacher_fits(capsys.readouterr().out) == 3
    assert kcm.distillation_[0]["teacher_samples"] > 0


def counting_llm():
    """An LLM callable answering from a keyword, and the list of the prompts it got (a
    function: ``clone`` copies a callable object, but not a function)."""
    prompts = []

    def llm(batch):
        prompts.extend(batch)
        return ["positive" if "good" in p.rsplit("<text>", 1)[-1] else "negative"
                for p in batch]

    return llm, prompts


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array(["good", "fine", "dull", "slow", "plot", "cast", "film", "and"])
    texts = [" ".join(rng.choice(words, 4)) for _ in range(n)]
    return np.array(texts, dtype=object), np.array(
        ["positive" if "good" in t else "negative" for t in texts], dtype=object)


def test_an_llm_is_asked_about_no_labelled_training_row():
    X, y = _texts(200)
    llm, prompts = counting_llm()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the routing-share warning, tested below
        kcm = KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression()),
                          LLMClassifier(llm), random_state=0).fit(X, y)
    assert prompts == [] and kcm.large_.usage_.counts()["calls"] == 0
    kcm.predict(X[:50])
    assert len(prompts) == kcm.ledger_.counts()["predict_large_samples"] > 0  # it counts


def test_an_llm_answers_each_unlabelled_row_once():
    X, y = _texts(300)
    y = y.copy()
    y[30:] = -1  # rows without a label: the LLM's answers teach the small model
    llm, prompts = counting_llm()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kcm = KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression(C=0.3)),
                          LLMClassifier(llm), judge="small", epsilon=0.7, cv=3,
                          unlabelled_label=-1, random_state=0).fit(X, y)
    assert kcm.unlabelled_teacher_["used"] and kcm.distillation_[0]["teacher_samples"] > 0
    # the check of distillation and the distillation ask the same: once per distinct text
    assert len(prompts) == len(set(prompts)) == len(set(X[30:]))


def test_a_threshold_that_sends_most_rows_to_the_large_model_warns_with_its_share():
    X, y = _texts(300)
    small = make_pipeline(TfidfVectorizer(), LogisticRegression(C=0.01))  # never sure
    with pytest.warns(UserWarning, match=r"epsilon=0.98 sends (\d+)% of the training rows") as w:
        KCMEnsemble(small, LLMClassifier(counting_llm()[0]), random_state=0).fit(X, y)
    share = int(str(w[0].message).split("sends ")[1].split("%")[0])
    assert share > 50 and "epsilon=LargeShare(0.2)" in str(w[0].message)


def test_a_large_model_worse_than_the_small_one_out_of_fold_warns_with_both_accuracies(data):
    X, y = data
    with pytest.warns(UserWarning, match=r"less accurate than the small one out of fold .*"
                                         r"\(0\.\d{3} against 0\.\d{3}\)"):
        KCMEnsemble(LogisticRegression(), DummyClassifier(), fast_judge(), cv=3,
                    distill="large", random_state=0).fit(X, y)


def test_the_ledger_accounts_for_the_time_of_fit(data):
    X, y = data
    kcm = KCMEnsemble(LogisticRegression(), _forest(), fast_judge(), cv=3, random_state=0)
    start = time.perf_counter()
    kcm.fit(X, y)
    wall = time.perf_counter() - start
    summary = kcm.ledger_.summary()
    assert {"seconds_fit_small_oof", "seconds_fit_judge_oof", "seconds_fit_judge"} <= set(summary)
    counted = sum(value for key, value in summary.items() if key.startswith("seconds_fit_"))
    assert 0.7 * wall < counted <= wall


def test_nested_timers_count_each_second_once():
    from sklearn_kcm import CostLedger

    ledger = CostLedger()
    with ledger.timer("fit_outer"):
        time.sleep(0.02)
        with ledger.timer("fit_inner"):
            time.sleep(0.05)
    summary = ledger.summary()
    assert summary["seconds_fit_inner"] >= 0.05
    assert 0.02 <= summary["seconds_fit_outer"] < 0.05


def test_parallel_jobs_fit_the_same_ensemble(data):
    X, y = data
    params = dict(judge=fast_judge(), epsilon=LargeShare(0.2), cv=3,
                  distill="large", random_state=0)
    one = KCMEnsemble(LogisticRegression(), _forest(), **params).fit(X, y)
    two = KCMEnsemble(LogisticRegression(), _forest(), n_jobs=2, **params).fit(X, y)
    assert one.epsilon_ == two.epsilon_ and one.routing_weight_ == two.routing_weight_
    np.testing.assert_array_equal(one.routing_confidence(X), two.routing_confidence(X))
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))


def test_the_callers_torch_threads_are_given_back(data):
    X, y = data
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        KCMEnsemble(LogisticRegression(), _forest(), fast_judge(), cv=3, n_jobs=2,
                    random_state=0).fit(X, y)
        assert torch.get_num_threads() == 3
        fast_judge().fit(X, y)  # one thread inside: a small network
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(previous)


def test_thread_limits_from_several_threads_restore_the_callers_setting():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    inside = []

    def work():
        with torch_threads(1):
            inside.append(torch.get_num_threads())
            time.sleep(0.01)

    try:
        workers = [threading.Thread(target=work) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert inside == [1] * 8 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_small_networks_train_on_one_thread_and_large_ones_on_torchs():
    assert threads_for_work(256 * 3_000) == 1  # a judge's batch
    assert threads_for_work(1024 * 500_000) is None  # MNIST's KAN in batches of 1,024


def test_the_judges_out_of_fold_scores_stop_at_enough_rows(capsys):
    X, y = make_classification(12_000, 5, n_informative=3, n_redundant=0, random_state=0)
    KCMEnsemble(LogisticRegression(), DummyClassifier(), fast_judge(max_epochs=1), cv=5,
                verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    # folds of 2,400 rows: two hold the 4,000 rows the fallback and the quantile need
    assert out.count("[KCMEnsemble] fold judge ") == 2


def test_a_cross_fitted_judge_is_the_mean_of_the_fold_judges(data, capsys):
    X, y = data
    kcm = KCMEnsemble(LogisticRegression(), _forest(), Judge(fast_judge(), refit=False), cv=3,
                      verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("[KCMEnsemble] fold judge ") == 3
    assert "seconds_fit_judge" not in kcm.ledger_.summary()  # no refit on every row
    folds = kcm.judge_.judges
    assert len(folds) == 3
    features = judge_features(X, kcm.small_.predict_proba(X), kcm.judge_input_)
    mean = np.mean([judge.predict_proba(features) for judge in folds], axis=0)
    np.testing.assert_allclose(kcm.judge_.predict_proba(features), mean)
    again = pickle.loads(pickle.dumps(kcm))
    np.testing.assert_array_equal(again.predict(X), kcm.predict(X))


def test_each_judge_learns_from_a_bounded_stratified_sample(monkeypatch):
    from sklearn_kcm._routing import _judging

    monkeypatch.setattr(_judging, "MAX_JUDGE_ROWS", 300)
    seen = []

    class RecordingJudge(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen.append((len(y), float(np.mean(y == y.max()))))
            return super().fit(X, y, sample_weight)

    X, y = make_classification(2000, 8, weights=[0.8], random_state=0)
    kcm = KCMEnsemble(LogisticRegression(), _forest(), RecordingJudge(), epsilon=LargeShare(0.2),
                      cv=4, random_state=0).fit(X, y)
    # the fold judges and the refitted one: 300 rows each, the classes in their shares
    assert [n for n, _ in seen] == [300] * len(seen) and len(seen) >= 2
    assert all(abs(share - np.mean(y == 1)) < 0.01 for _, share in seen)
    # the routing is still read on every row out of fold
    assert np.isfinite(kcm.oof_confidence_).sum() == len(y)


class FitCounter(ClassifierMixin, BaseEstimator):
    """A logistic regression that counts, across clones, how often it is fitted."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_a_seeded_grid_over_the_threshold_fits_the_members_once_per_split(data):
    X, y = data
    kcm = KCMEnsemble(FitCounter(), _forest(), judge="small", cv=3, random_state=0)
    RECENT_FITS.clear()
    FitCounter.fits = 0
    clone(kcm).fit(X, y)
    per_fit = FitCounter.fits
    RECENT_FITS.clear()
    FitCounter.fits = 0
    search = GridSearchCV(kcm, {"epsilon": [0.6, 0.8, 0.95]}, cv=2, refit=False).fit(X, y)
    assert FitCounter.fits == 2 * per_fit  # once per split, for the three values
    without = clone(kcm).set_params(random_state=None)  # not reproducible: fitted anew
    FitCounter.fits = 0
    GridSearchCV(without, {"epsilon": [0.6, 0.8]}, cv=2, refit=False).fit(X, y)
    assert FitCounter.fits == 2 * 2 * per_fit
    assert search.cv_results_["mean_test_score"].shape == (3,)


def test_a_loaded_first_stage_is_a_fresh_copy_that_distillation_cannot_touch(data):
    X, y = data
    RECENT_FITS.clear()
    y_semi = np.where(np.arange(len(y)) % 3 == 0, y, -1)
    kcm = KCMEnsemble(LogisticRegression(max_iter=500), _forest(), judge="small",
                      epsilon=0.9, cv=3, unlabelled_label=-1, random_state=0)
    first = clone(kcm).fit(X, y_semi)
    again = clone(kcm).fit(X, y_semi)  # loads the first stage, distils anew
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert first.small_ is not again.small_ and first.large_ is not again.large_
    other = clone(kcm).fit(X[:-10], y_semi[:-10])  # other data: fitted anew
    assert not np.array_equal(other.large_.predict_proba(X), first.large_.predict_proba(X))
