"""The accuracy guarantee's threshold (Learn-then-Test), against hand computations and
against its promise on simulated draws."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_kcm import AccuracyTarget, KCMEnsemble, LLMClassifier
from sklearn_kcm._routing._guarantee import (
    accuracy_lower_bound,
    betting_p_value,
    binomial_p_value,
    guaranteed_threshold,
)
from sklearn_kcm._testing import fast_judge


def test_binomial_p_value_is_the_exact_tail():
    # no error on n rows: the chance of that at the largest error rate the null allows
    assert binomial_p_value(0, 60, 0.95) == pytest.approx(0.95**60)
    # one error: add n * e * (1 - e)^(n - 1)
    assert binomial_p_value(1, 60, 0.95) == pytest.approx(0.95**60 + 60 * 0.05 * 0.95**59)


def test_the_lower_bound_of_an_accuracy_is_clopper_pearson():
    from scipy.stats import binom

    correct = np.r_[np.ones(90), np.zeros(10)].astype(bool)
    bound = accuracy_lower_bound(correct, 0.05)
    # the accuracy at which 90 or more right answers of 100 have probability 0.05
    assert binom.sf(89, 100, bound) == pytest.approx(0.05)


def test_the_betting_p_value_is_valid_under_its_null_and_powerful_off_it():
    # rows whose mean is exactly the null's: a p-value <= delta at most delta of the time
    rng = np.random.default_rng(0)
    delta, mean = 0.1, 0.3
    rejected = [betting_p_value(rng.random(200) < mean, mean, delta, seed=draw) <= delta
                for draw in range(1000)]
    assert np.mean(rejected) <= delta
    # ten points above it on 400 rows: rejected nearly always
    rejected = [betting_p_value(rng.random(400) < mean + 0.1, mean, delta) <= delta
                for _ in range(200)]
    assert np.mean(rejected) >= 0.9


def test_a_relative_target_is_certified_where_the_two_models_mostly_agree():
    # a large model right on 96% of 2,000 rows and a small one that agrees with it but on
    # the 10% least confident rows: 0.99 of the large model is certified at a share a
    # little above 10%, which a bound on each accuracy apart could not (each costs about
    # 0.7 point at this size, the promise leaves 1)
    rng = np.random.default_rng(0)
    n = 2000
    confidence = rng.random(n)
    large = rng.random(n) < 0.96
    small = large.copy()
    hard = confidence < 0.1
    small[hard] = rng.random(hard.sum()) < 0.5
    threshold, share, p_values = guaranteed_threshold(confidence, small, large, target=0.99,
                                                      relative_to_large=True, delta=0.1)
    assert threshold is not None and 0.05 < share < 0.2
    assert np.nanmax(p_values[-10:]) <= 0.1  # every share above it certified


def test_the_threshold_is_the_cheapest_that_a_fixed_sequence_certifies():
    # 100 rows, confidence i/100; the small model wrong on the 10 least confident and on
    # rows 50 and 70; the large model right everywhere
    confidence = np.arange(100) / 100
    small = np.ones(100, bool)
    small[:10] = False
    small[[50, 70]] = False
    large = np.ones(100, bool)
    threshold, share, p_values = guaranteed_threshold(confidence, small, large,
                                                      target=0.95, delta=0.1)
    # by hand: routing the k least confident leaves the small model's errors above k
    errors = np.array([np.sum(~small[k:]) for k in range(101)])
    expected = np.array([binomial_p_value(e, 100, 0.95) for e in errors])
    tested = ~np.isnan(p_values)  # from k = 100 down to the first that fails
    np.testing.assert_allclose(p_values[tested], expected[tested])
    first = int(np.argmax(tested))
    assert tested[first:].all() and expected[first] > 0.1 >= expected[first + 1:].max()
    # from k = 100 down, certified while p <= 0.1; the cheapest certified k
    k = 100
    while k > 0 and expected[k - 1] <= 0.1:
        k -= 1
    assert share == pytest.approx(k / 100)
    assert threshold == pytest.approx(confidence[k - 1])
    # the answer is stricter than the plain estimate, which already reaches 95% at k = 7
    assert (np.sum(small[7:]) + 7) / 100 >= 0.95 and k > 7


def test_no_threshold_when_the_target_cannot_be_certified():
    rng = np.random.default_rng(0)
    large = rng.random(300) < 0.9  # the large model itself is 90% right
    small = rng.random(300) < 0.8
    threshold, share, _ = guaranteed_threshold(rng.random(300), small, large, target=0.99)
    assert threshold is None and share == 1.0
    with pytest.raises(ValueError, match="delta=1.5 must lie in"):
        guaranteed_threshold([0.5], [True], [True], target=0.9, delta=1.5)


@pytest.mark.parametrize("relative_to_large", [False, True])
def test_the_promise_holds_in_at_least_1_minus_delta_of_draws(relative_to_large):
    # a population whose accuracies at every threshold are known: the small model is
    # right with probability c on an input of confidence c, the large one with 0.95
    def true_accuracy(threshold):
        # inputs uniform on [0, 1]: those below the threshold get 0.95, the others c
        t = np.clip(threshold, 0, 1)
        return 0.95 * t + (1 - t**2) / 2

    rng = np.random.default_rng(0)
    target, delta, n = (0.97 if relative_to_large else 0.92), 0.1, 400
    met, certified = 0, 0
    for _ in range(300):
        c = rng.random(n)
        small, large = rng.random(n) < c, rng.random(n) < 0.95
        threshold, _, _ = guaranteed_threshold(c, small, large, target=target,
                                               relative_to_large=relative_to_large,
                                               delta=delta)
        if threshold is None:
            met += 1  # nothing promised: the whole goes to the large model
            continue
        certified += 1
        goal = target * 0.95 if relative_to_large else target
        met += true_accuracy(threshold) >= goal
    assert certified >= 200  # the test says something
    assert met / 300 >= 1 - delta


# ------------------------------------------------------------ KCMEnsemble(target_accuracy=...)

@pytest.fixture(scope="module")
def task():
    """A linear small model right on two thirds of the rows, a forest on nearly 90%."""
    X, y = make_classification(3000, 10, n_informative=4, n_redundant=0,
                               n_clusters_per_class=3, flip_y=0.02, random_state=0)
    return train_test_split(X, y, test_size=0.5, random_state=0)


def _ensemble(**params):
    return KCMEnsemble(LogisticRegression(max_iter=500),
                       RandomForestClassifier(n_estimators=60, random_state=0),
                       judge=fast_judge(), random_state=0, **params)


@pytest.mark.parametrize("calibration, rows", [(0.25, 375), ("oof", 1500)])
def test_the_fitted_guarantee_says_what_it_promised_and_new_rows_meet_it(task, calibration,
                                                                          rows):
    X_train, X_test, y_train, y_test = task
    kcm = _ensemble(epsilon=AccuracyTarget(0.8, calibration=calibration)).fit(X_train, y_train)
    promise = kcm.guarantee_
    assert promise["certified"] and promise["target"] == 0.8 and promise["delta"] == 0.1
    # a quarter of the labelled rows held out, or every one out of fold
    assert promise["n_rows"] == rows
    assert promise["calibration"] == ("out of fold" if calibration == "oof" else "held out")
    assert promise["calibration_accuracy"] >= 0.8
    assert 0 < promise["large_share"] < 1 and np.isfinite(kcm.epsilon_)
    assert kcm.score(X_test, y_test) >= 0.8
    # what it costs on new rows is what it cost on the calibration rows, give or take
    assert kcm.route(X_test).mean() == pytest.approx(promise["large_share"], abs=0.07)


def test_held_out_rows_are_answered_in_one_call_by_the_fitted_ensemble(task):
    X_train, _, y_train, _ = task
    kcm = _ensemble(epsilon=AccuracyTarget(0.8)).fit(X_train, y_train)
    summary = kcm.ledger_.summary()
    # one large-model call on the held-out quarter, no out-of-fold large model
    assert summary["fit_large_samples"] == 375 and summary["fit_large_calls"] == 1
    # the fit that is certified, then the refit on every labelled row
    assert summary["fit_large_fits"] == 2
    assert "seconds_fit_teachers" not in summary


def test_the_promise_is_kept_against_the_large_model_the_user_would_fit_on_every_row(task):
    X_train, X_test, y_train, y_test = task
    kcm = _ensemble(epsilon=AccuracyTarget(0.97, relative_to="large")).fit(X_train, y_train)
    # the members in use are fitted on every labelled row: the large model is the one the
    # user compares with, not a weaker one fitted on the rows left after the hold-out
    users_large = clone(kcm.large).fit(X_train, y_train)
    np.testing.assert_array_equal(kcm.large_.predict_proba(X_test),
                                  users_large.predict_proba(X_test))
    users_small = clone(kcm.small).fit(X_train, y_train)
    np.testing.assert_allclose(kcm.small_.predict_proba(X_test),
                               users_small.predict_proba(X_test))
    assert kcm.guarantee_["fitted_on"] == len(y_train)
    assert kcm.score(X_test, y_test) >= 0.97 * users_large.score(X_test, y_test)


def test_with_groups_no_group_is_both_fitted_and_certified_on(task):
    X_train, _, y_train, _ = task
    groups = np.arange(len(y_train)) // 10
    seen = []

    class RecordingForest(RandomForestClassifier):
        def fit(self, X, y, sample_weight=None):
            seen.append(X)
            return super().fit(X, y, sample_weight)

    kcm = KCMEnsemble(LogisticRegression(max_iter=500),
                      RecordingForest(n_estimators=20, random_state=0), judge=fast_judge(),
                      epsilon=AccuracyTarget(0.75), cv=GroupKFold(5), random_state=0)
    kcm.fit(X_train, y_train, groups=groups)
    # the certified fit, then the refit on every labelled row
    assert len(seen) == 2 and len(seen[-1]) == len(X_train)
    fitted_rows = {tuple(row) for row in seen[0]}
    fitted_groups = {g for row, g in zip(map(tuple, X_train), groups) if row in fitted_rows}
    held_out_groups = set(groups) - fitted_groups
    assert held_out_groups and all(
        (g in held_out_groups) != (tuple(row) in fitted_rows)
        for row, g in zip(map(tuple, X_train), groups))
    assert kcm.guarantee_["n_rows"] == 10 * len(held_out_groups)


def test_too_few_labelled_rows_to_hold_some_out_is_refused():
    X, y = np.arange(6.0).reshape(-1, 1), np.array([0, 0, 0, 0, 0, 1])
    kcm = KCMEnsemble(LogisticRegression(), RandomForestClassifier(n_estimators=5),
                      judge="small", epsilon=AccuracyTarget(0.9, calibration=0.2), random_state=0)
    with pytest.raises(ValueError, match="class\\(es\\) to fit on"):
        kcm.fit(X, y)


def test_a_stricter_promise_sends_more_inputs_to_the_large_model(task):
    X_train, _, y_train, _ = task
    shares = [_ensemble(epsilon=AccuracyTarget(target)).fit(X_train, y_train)
              .guarantee_["large_share"]
              for target in (0.75, 0.82)]
    assert shares[0] < shares[1]


def test_a_target_relative_to_the_large_model_is_promised_in_words(task):
    X_train, _, y_train, _ = task
    kcm = _ensemble(epsilon=AccuracyTarget(0.97, relative_to="large")).fit(X_train, y_train)
    promise = kcm.guarantee_
    assert promise["certified"] and promise["relative_to"] == "large"
    assert promise["promise"] == "accuracy >= 0.97 x the large model's, with probability 0.9"
    # which two models, on how many rows, and the share it costs
    assert promise["compares"] == (
        "this ensemble, its members fitted on all 1,500 labelled rows, against the large model "
        "fitted on the same rows; the judge and threshold were certified on 375 held-out rows "
        "answered by members fitted on the other 1,125, where they sent "
        f"{promise['large_share']:.0%} to the large model")
    assert promise["calibration_accuracy"] >= 0.97 * promise["large_accuracy"]
    assert promise["large_share"] < 1


def test_a_promise_no_threshold_can_keep_warns_and_sends_everything_to_the_large_model(task):
    X_train, X_test, y_train, _ = task
    with pytest.warns(UserWarning, match="certifies an accuracy >= 0.99 with") as record:
        kcm = _ensemble(epsilon=AccuracyTarget(0.99)).fit(X_train, y_train)
    assert "375 labelled rows held out" in str(record[0].message)
    assert record[0].filename == __file__  # it points at the caller's fit
    assert kcm.epsilon_ == np.inf and kcm.route(X_test).all()
    assert not kcm.guarantee_["certified"] and kcm.guarantee_["large_share"] == 1.0


@pytest.mark.parametrize("target, match", [
    (AccuracyTarget(1.2), "'accuracy' parameter of AccuracyTarget"),
    (AccuracyTarget(0.9, relative_to="small"), "'relative_to' parameter of AccuracyTarget"),
    (AccuracyTarget(0.9, delta=0.0), "'delta' parameter of AccuracyTarget"),
    (AccuracyTarget(0.9, calibration=1.0), "'calibration' parameter of AccuracyTarget"),
])
def test_a_promise_out_of_range_is_refused_naming_its_field(task, target, match):
    X_train, _, y_train, _ = task
    kcm = KCMEnsemble(LogisticRegression(), RandomForestClassifier(n_estimators=5),
                      epsilon=target)
    with pytest.raises(ValueError, match=match):
        kcm.fit(X_train[:200], y_train[:200])


@pytest.mark.parametrize("calibration", [0.25, "oof"])
def test_an_llm_large_model_answers_each_labelled_row_once_for_its_promise(calibration):
    rng = np.random.default_rng(0)
    words = np.array(["good", "fine", "dull", "slow", "plot", "cast", "film", "and"])
    X = np.array([" ".join(rng.choice(words, 4)) for _ in range(300)], dtype=object)
    y = np.array(["positive" if "good" in t else "negative" for t in X], dtype=object)
    prompts = []

    def llm(batch):  # right wherever "good" decides, as the labels are
        prompts.extend(batch)
        return ["positive" if "good" in p.rsplit("<text>", 1)[-1] else "negative"
                for p in batch]

    small = make_pipeline(TfidfVectorizer(), LogisticRegression(C=0.05))
    kcm = KCMEnsemble(small, LLMClassifier(llm), judge="small",
                      epsilon=AccuracyTarget(0.9, calibration=calibration), cv=3,
                      random_state=0).fit(X, y)
    # the labels the promise needs: the held-out rows, or one answer a labelled row at
    # most (a text asked with the same hint twice is answered from the cache)
    if calibration == "oof":
        assert len(set(X)) <= len(prompts) <= len(X)
    else:
        assert len(prompts) <= 75 and kcm.guarantee_["n_rows"] == 75
    assert kcm.guarantee_["certified"] and kcm.guarantee_["large_accuracy"] == 1.0
    assert kcm.large_.usage_.counts()["calls"] > 0  # in the bill
