"""Distillation from rows without labels: unlabelled rows in fit, unlabelled streams."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_kcm import Distillation, Judge, KANClassifier, KCMEnsemble, LLMClassifier
from sklearn_kcm._testing import ChatServer, RecordingClassifier, keyword_answer
from sklearn_kcm.llm import OpenAIChat


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3, stratify=y,
                                                        random_state=0)
    rng = np.random.default_rng(0)
    labelled = np.zeros(len(y_train), dtype=bool)  # 25% of each class keeps its label
    for c in range(10):
        rows = np.flatnonzero(y_train == c)
        labelled[rng.choice(rows, len(rows) // 4, replace=False)] = True
    return X_train, np.where(labelled, y_train, -1), X_test, y_test, labelled


def _small():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))


def _kcm(**params):
    large = SVC(C=10, probability=True, random_state=0)
    return KCMEnsemble(_small(), large, judge="small", epsilon=0.9, unlabelled_label=-1, **params)


def test_unlabelled_rows_never_reach_a_member_as_a_class(iris):
    X, y = iris
    y = np.where(np.arange(len(y)) % 3 == 0, y, -1)
    kcm = KCMEnsemble(RecordingClassifier(), RecordingClassifier(),
                      Judge(RecordingClassifier(), target="task", fallback=False),
                      unlabelled_label=-1, epsilon=0.9, cv=3)
    kcm.fit(X, y)
    assert kcm.classes_.tolist() == [0, 1, 2]
    for member in (kcm.small_, kcm.large_, kcm.judge_):
        assert -1 not in member.y_fit_


def test_the_large_model_teaches_the_unlabelled_rows_when_that_helps(digits):
    X_train, y_semi, X_test, y_test, labelled = digits
    plain = _small().fit(X_train[labelled], y_semi[labelled]).score(X_test, y_test)
    kcm = _kcm(cv=5).fit(X_train, y_semi)
    assert kcm.unlabelled_teacher_["used"]
    assert kcm.distillation_[0]["teacher_samples"] > (~labelled).sum() // 2
    assert kcm.small_.score(X_test, y_test) > plain + 0.01
    # every unlabelled row was asked once, in one call, on top of the out-of-fold checks
    assert kcm.ledger_.summary()["fit_large_samples"] >= (~labelled).sum()


def test_a_teacher_worse_than_the_student_does_not_teach_it(digits):
    X_train, y_semi, X_test, y_test, labelled = digits
    weak = make_pipeline(StandardScaler(), SVC(C=1e-3, probability=True, random_state=0))
    kcm = KCMEnsemble(_small(), weak, judge="small", epsilon=0.9, cv=3, unlabelled_label=-1)
    with pytest.warns(UserWarning, match="does not teach"):
        kcm.fit(X_train, y_semi)
    assert not kcm.unlabelled_teacher_["used"]
    assert kcm.distillation_[0]["teacher_samples"] == 0
    plain = _small().fit(X_train[labelled], y_semi[labelled])
    np.testing.assert_array_equal(kcm.small_.predict(X_test), plain.predict(X_test))


def test_distill_mix_auto_keeps_the_share_that_fixes_more_out_of_fold(digits):
    X_train, y_semi, X_test, _, _ = digits
    fits = {mix: _kcm(cv=3, distill=Distillation(mix=mix)).fit(X_train, y_semi)
            for mix in (0.0, 0.5, "auto")}
    net = {mix: fits[mix].unlabelled_teacher_["fixed"] - fits[mix].unlabelled_teacher_["broken"]
           for mix in (0.0, 0.5)}
    chosen = 0.5 if net[0.5] > net[0.0] else 0.0
    auto = fits["auto"]
    assert auto.distill_mix_ == auto.unlabelled_teacher_["mix"] == chosen
    assert auto.unlabelled_teacher_ == fits[chosen].unlabelled_teacher_
    np.testing.assert_array_equal(auto.small_.predict(X_test), fits[chosen].small_.predict(X_test))


def test_a_prefit_large_model_teaches_with_a_handful_of_labels(digits):
    X_train, y_semi, X_test, y_test, labelled = digits
    truth = np.where(labelled, y_semi, -1)
    large = FrozenEstimator(SVC(C=10, probability=True, random_state=0).fit(X_test, y_test))
    few = np.flatnonzero(labelled)[::8]  # about 5 labels per class
    y_few = np.full(len(truth), -1)
    y_few[few] = truth[few]
    kcm = KCMEnsemble(_small(), large, judge="small", epsilon=0.9, cv=3,
                      unlabelled_label=-1).fit(X_train, y_few)
    plain = _small().fit(X_train[few], y_few[few])
    assert kcm.unlabelled_teacher_["used"]
    # scored on the large model's own training rows: the student copies its teacher
    agree_before = np.mean(plain.predict(X_test) == large.predict(X_test))
    assert np.mean(kcm.small_.predict(X_test) == large.predict(X_test)) > agree_before


@pytest.mark.parametrize(
    "y, match",
    [
        (np.full(150, -1), "Every row of y is -1"),
        (np.where(np.arange(150) < 100, np.repeat([0, 1, 2], 50), -1), "label at least one row"),
    ],
)
def test_labels_that_cannot_work_are_refused(y, match, iris):
    X, _ = iris
    large = FrozenEstimator(LogisticRegression(max_iter=1000).fit(*iris))
    with pytest.raises(ValueError, match=match):
        KCMEnsemble(_small(), large, judge="small", cv=2, unlabelled_label=-1).fit(X, y)


@pytest.mark.parametrize("container", [np.asarray, list], ids=["object-array", "list"])
def test_string_labels_mark_unlabelled_rows_with_minus_one_in_any_container(container, iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    names[::2] = -1
    kcm = KCMEnsemble(_small(), LogisticRegression(max_iter=1000), judge="small",
                      distill=False, cv=2, unlabelled_label=-1).fit(X, container(names))
    assert kcm.classes_.tolist() == ["setosa", "versicolor", "virginica"]


def test_minus_one_is_a_class_by_default(iris):
    X, y = iris
    signed = np.where(y == 0, -1, 1)  # a binary task labelled -1 / +1
    kcm = KCMEnsemble(_small(), LogisticRegression(), judge="small", cv=2).fit(X, signed)
    assert kcm.classes_.tolist() == [-1, 1]
    assert kcm.score(X, signed) > 0.9


def test_strings_beside_an_unmarked_number_are_refused_with_the_mark_to_pass(iris):
    X, y = iris
    names = list(np.array(["setosa", "versicolor", "virginica"], dtype=object)[y])
    names[::2] = [-1] * len(names[::2])
    with pytest.raises(ValueError, match="mixes strings and numbers.*pass unlabelled_label=-1"):
        KCMEnsemble(_small(), LogisticRegression(), judge="small", cv=2).fit(X, names)


def test_the_text_minus_one_with_a_numeric_mark_is_refused_with_both_fixes(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "-1"])[y]  # a str array: -1 became "-1"
    with pytest.raises(ValueError, match="unlabelled_label='-1'.*unlabelled_label=None"):
        KCMEnsemble(_small(), LogisticRegression(), judge="small", cv=2,
                    unlabelled_label=-1).fit(X, names)


def _kl(teacher, student):
    teacher, student = np.clip(teacher, 1e-9, 1), np.clip(student, 1e-9, 1)
    return float(np.mean(np.sum(teacher * np.log(teacher / student), axis=1)))


@pytest.mark.parametrize(
    "small",
    [_small(),
     make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", alpha=0.01, random_state=0)),
     KANClassifier(hidden_layer_sizes=(), max_epochs=20, random_state=0)],
    ids=["refit-on-a-buffer", "sample_weight-partial_fit", "soft-partial_fit"],
)
def test_a_stream_without_labels_teaches_the_small_model(small, digits):
    X_train, y_semi, X_test, y_test, labelled = digits
    # T = 1: the student moves towards the teacher's own probabilities, which KL reads
    kcm = KCMEnsemble(small, SVC(C=10, probability=True, random_state=0), judge="small",
                      epsilon=0.95, cv=3, unlabelled_label=-1,
                      distill=Distillation(temperature=1.0))
    kcm.fit(X_train[labelled], y_semi[labelled])
    stream = X_train[~labelled]
    routed = kcm.route(stream)
    before = kcm.small_.predict_proba(stream[routed])
    kcm.ledger_.reset()
    for batch in np.array_split(stream, 5):
        kcm.partial_fit(batch)  # no labels
    after = kcm.small_.predict_proba(stream[routed])
    assert not np.allclose(before, after)
    teacher = kcm.large_.predict_proba(stream[routed])  # on the rows it answered
    assert _kl(teacher, after) < _kl(teacher, before)
    summary = kcm.ledger_.summary()
    assert summary["fit_large_calls"] >= 1 and summary["fit_large_samples"] < len(stream)
    # a fit on labelled rows alone distils nothing (distill="auto"); then one per batch
    assert len(kcm.distillation_) == 5
    # a batch may also label a few rows, of a single class, beside unlabelled ones
    y_batch = np.full(len(stream[:40]), -1)
    y_batch[:3] = 7
    kcm.partial_fit(stream[:40], y_batch)
    assert len(kcm.distillation_) == 6


def test_an_llm_teaches_a_text_model_from_unlabelled_texts(tmp_path, monkeypatch):
    monkeypatch.setenv("KCM_TEST_KEY", "sk-test")
    words = ["good", "great", "fun", "dull", "slow", "boring", "plot", "cast", "film", "and"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 3)) for _ in range(120)]
    truth = np.array([keyword_answer(f"<text>\n{t}\n</text>") for t in texts], dtype=object)
    y = truth.copy()
    y[24:] = -1  # 24 labels, 96 texts without
    with ChatServer() as server:
        chat = OpenAIChat("m", base_url=server.base_url, api_key_env="KCM_TEST_KEY")
        llm = LLMClassifier(chat, labels=["negative", "positive"], cache=tmp_path, backoff=0.0)
        small = make_pipeline(TfidfVectorizer(vocabulary=words), LogisticRegression())
        kcm = KCMEnsemble(small, llm, judge="small", epsilon=0.9, cv=2,
                          unlabelled_label=-1).fit(texts, y)
        plain = make_pipeline(TfidfVectorizer(vocabulary=words), LogisticRegression()).fit(
            np.asarray(texts)[:24], y[:24])
        assert kcm.unlabelled_teacher_["used"]
        assert np.mean(kcm.small_.predict(texts) == truth) > np.mean(plain.predict(texts)
                                                                     == truth)
        assert kcm.ledger_.summary()["fit_large_samples"] >= 96


def test_labels_minus_one_and_one_with_minus_one_as_the_mark_are_refused_with_the_fix(iris):
    X, y = iris
    signed = np.where(y == 0, -1, 1)
    with pytest.raises(ValueError, match="pass unlabelled_label=None"):
        KCMEnsemble(_small(), LogisticRegression(), judge="small", cv=2,
                    unlabelled_label=-1).fit(X, signed)


def test_verbose_shows_every_member_fit(digits, capsys):
    X_train, y_semi, _, _, _ = digits
    _kcm(cv=5, verbose=1).fit(X_train, y_semi)
    out = capsys.readouterr().out
    for member in ("small", "large", "teachers", "teacher_answers", "distill"):
        assert f"[KCMEnsemble] {member}:" in out
    assert "distillation: " in out
    assert out.count("[KCMEnsemble] teacher ") == 5  # one per fold, fitted once
    assert out.count("[KCMEnsemble] teachers:") == 1  # their wall time


def test_the_llm_share_falls_over_an_unlabelled_stream(tmp_path, monkeypatch):
    monkeypatch.setenv("KCM_TEST_KEY", "sk-test")
    words = ["good", "great", "fun", "dull", "slow", "boring", "plot", "cast", "film", "and"]
    rng = np.random.default_rng(1)
    texts = np.array([" ".join(rng.choice(words, 3)) for _ in range(420)], dtype=object)
    truth = np.array([keyword_answer(f"<text>\n{t}\n</text>") for t in texts])
    with ChatServer() as server:
        chat = OpenAIChat("m", base_url=server.base_url, api_key_env="KCM_TEST_KEY")
        llm = LLMClassifier(chat, labels=["negative", "positive"], backoff=0.0)
        small = make_pipeline(TfidfVectorizer(vocabulary=words), LogisticRegression())
        kcm = KCMEnsemble(small, llm, judge="small", epsilon=0.7, cv=2).fit(texts[:20], truth[:20])
        shares = []
        for batch in np.array_split(texts[20:], 8):
            shares.append(kcm.route(batch).mean())
            kcm.partial_fit(batch)  # the LLM's answers on the routed texts teach
        assert shares[-1] < 0.5 * shares[0]
        assert np.mean(kcm.predict(texts) == truth) > 0.9


def test_a_teacher_no_better_than_the_student_out_of_fold_does_not_teach(digits):
    X_train, y_semi, X_test, _, labelled = digits
    kcm = KCMEnsemble(_small(), _small(), judge="small", epsilon=0.9, cv=3, unlabelled_label=-1)
    with pytest.warns(UserWarning, match="a teacher no better than its student"):
        kcm.fit(X_train, y_semi)
    check = kcm.unlabelled_teacher_
    assert not check["used"] and check["teacher_accuracy"] <= check["small_accuracy"]
    plain = _small().fit(X_train[labelled], y_semi[labelled])
    np.testing.assert_array_equal(kcm.small_.predict(X_test), plain.predict(X_test))


# ---------------------------------------------------------- a stream with the defaults

def _stream_task():
    X, y = load_digits(return_X_y=True)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                      stratify=y)
    return X_rest[:300], y_rest[:300], X_rest[300:], X_test, y_test


def test_a_default_stream_teaches_the_small_model_and_keeps_the_ensemble_accurate():
    X_fit, y_fit, stream, X_test, y_test = _stream_task()
    large = SVC(C=10, probability=True, random_state=0)
    kcm = KCMEnsemble(_small(), large, judge="small", random_state=0).fit(X_fit, y_fit)
    small_before, kcm_before = kcm.small_.score(X_test, y_test), kcm.score(X_test, y_test)
    for batch in np.array_split(stream, 10):
        kcm.partial_fit(batch)
    taught = sum(record["teacher_samples"] for record in kcm.distillation_
                 if record["method"] not in (None, "refused"))
    assert taught > 0
    assert kcm.small_.score(X_test, y_test) > small_before
    assert kcm.score(X_test, y_test) >= kcm_before - 0.01


def test_a_stream_whose_teacher_harms_the_small_model_is_refused_with_the_counts():
    X_fit, y_fit, stream, _, _ = _stream_task()
    rng = np.random.default_rng(0)
    wrong = FrozenEstimator(LogisticRegression(max_iter=2000).fit(
        X_fit, rng.permutation(y_fit)))  # a teacher that learnt shuffled labels
    kcm = KCMEnsemble(_small(), wrong, judge="small", random_state=0).fit(X_fit, y_fit)
    coef = kcm.small_[-1].coef_.copy()
    with pytest.warns(UserWarning, match=r"partial_fit left the small model as it was: .*"
                                         r"fixed \d+ answers and broke \d+"):
        for batch in np.array_split(stream, 3):
            kcm.partial_fit(batch)
    assert {record["method"] for record in kcm.distillation_} == {"refused"}
    np.testing.assert_array_equal(kcm.small_[-1].coef_, coef)


def test_a_stream_that_pays_and_teaches_nothing_says_why():
    X_fit, y_fit, stream, _, _ = _stream_task()
    kcm = KCMEnsemble(_small(), SVC(C=10, probability=True, random_state=0), judge="small",
                      random_state=0, distill=Distillation(threshold=0.9999)).fit(X_fit, y_fit)
    with pytest.warns(UserWarning, match=r"partial_fit paid the large model for \d+ routed "
                                         r"rows and taught the small model nothing.*"
                                         r"the threshold 0.9999"):
        kcm.partial_fit(stream[:100])


def test_predicting_a_batch_then_learning_from_it_pays_the_llm_once():
    rng = np.random.default_rng(0)
    words = np.array(["good", "great", "fun", "dull", "slow", "boring", "plot", "cast"])
    texts = np.array([" ".join(rng.choice(words, 3)) for _ in range(200)], dtype=object)
    truth = np.array([keyword_answer(f"<text>\n{t}\n</text>") for t in texts], dtype=object)
    asked = []

    def llm(prompts):  # no cache: every prompt sent is paid
        asked.extend(prompts)
        return [keyword_answer(p) for p in prompts]

    small = make_pipeline(TfidfVectorizer(), LogisticRegression(C=0.1))
    kcm = KCMEnsemble(small, LLMClassifier(llm, labels=["negative", "positive"]),
                      judge="small", epsilon=0.8, cv=2).fit(texts[:40], truth[:40])
    batch = texts[40:120]
    kcm.predict(batch)
    paid = len(asked)
    assert paid > 0
    kcm.partial_fit(batch)  # the routed rows' answers were bought by predict
    assert len(asked) == paid


def test_distill_large_at_the_defaults_teaches_and_its_temperature_matters(digits):
    X_train, _, X_test, _, labelled = digits
    y = load_digits().target  # a fit on labelled rows only: the paper's L_ls
    X_l, y_l = X_train[labelled], train_test_split(
        load_digits().data / 16, y, test_size=0.3, stratify=y, random_state=0)[2][labelled]
    fits = [KCMEnsemble(_small(), SVC(C=10, probability=True, random_state=0), judge="small",
                        distill=Distillation("large", temperature=t), cv=3).fit(X_l, y_l)
            for t in (0.25, 4.0)]
    assert all(kcm.distillation_[0]["teacher_samples"] > 0 for kcm in fits)
    assert not np.allclose(fits[0].small_.predict_proba(X_test),
                           fits[1].small_.predict_proba(X_test))
