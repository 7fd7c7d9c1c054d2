"""Ordinary data that must fit: pandas 3 frames, -1/+1 labels, judges the user built for X,
long-tailed classes, missing values; where it cannot, the error names the parameter to change."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.compose import make_column_transformer
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn_kcm import Judge, KANJudgeClassifier, KCMEnsemble, LargeShare
from sklearn_kcm._testing import fast_judge

N_ROWS = 300


@pytest.fixture
def frame():
    """A pandas frame with a column of each extension dtype, and pd.NA in two of them."""
    rng = np.random.default_rng(0)
    signal = rng.normal(size=N_ROWS)
    df = pd.DataFrame({
        "number": signal + rng.normal(scale=0.5, size=N_ROWS),
        "text": pd.array(rng.choice(["x", "y", "z"], N_ROWS), dtype="string"),
        "word": list(rng.choice(["u", "v"], N_ROWS)),  # pandas 3 infers its "str" dtype
        "group": pd.Categorical(rng.choice(["p", "q"], N_ROWS)),
        "count": pd.array(rng.integers(0, 5, N_ROWS), dtype="Int64"),
        "ratio": pd.array(rng.normal(size=N_ROWS), dtype="Float64"),
        "flag": pd.array(rng.integers(0, 2, N_ROWS).astype(bool), dtype="boolean"),
    })
    df.loc[3, "count"] = pd.NA
    df.loc[5, "ratio"] = pd.NA
    return df, (signal > 0).astype(int)


def _encoded(model):
    """``model`` after one-hot columns for the text and category columns (what a user of
    pandas builds: members that read the frame)."""
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["text", "word", "group"]),
        remainder="passthrough").set_output(transform="pandas")  # keeps pd.NA a missing value
    return make_pipeline(encode, model)


@pytest.mark.parametrize("judge", [None, "small"], ids=["default-judge", "cascade"])
def test_a_frame_of_every_pandas_dtype_fits_with_column_transformer_members(judge, frame):
    df, y = frame
    kcm = KCMEnsemble(_encoded(HistGradientBoostingClassifier(max_iter=20)),
                      _encoded(HistGradientBoostingClassifier()), judge=judge, cv=3,
                      random_state=0).fit(df, y)
    assert kcm.score(df, y) > 0.8


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean", "float64"])
def test_a_numeric_frame_of_extension_dtypes_is_read_as_numbers(dtype, frame):
    df, y = frame
    numbers = pd.DataFrame({"a": df["number"], "b": df["count"].fillna(0).astype(dtype)})
    kcm = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(), fast_judge(),
                      cv=3, random_state=0).fit(numbers, y)
    assert kcm.judge_input_ == "X"  # numbers: the judge reads them
    assert kcm.predict(numbers).shape == (N_ROWS,)


def test_missing_values_are_imputed_by_the_default_judge_where_the_members_read_them(frame):
    df, y = frame
    numbers = df[["number", "count", "ratio", "flag"]]  # pd.NA in two columns
    kcm = KCMEnsemble(HistGradientBoostingClassifier(max_iter=20),
                      HistGradientBoostingClassifier(), cv=3, random_state=0).fit(numbers, y)
    assert isinstance(kcm.judge_, Pipeline) and kcm.judge_.steps[0][0] == "simpleimputer"
    X = np.asarray(numbers.to_numpy(dtype=float, na_value=np.nan))
    X[::7, 0] = np.nan  # missing where fit saw none
    assert np.isfinite(kcm.predict_proba(X)).all()


def test_a_binary_task_labelled_minus_one_and_one_fits_by_default(frame):
    df, y = frame
    signed = np.where(y == 1, 1, -1)
    X = df[["number"]].to_numpy()
    kcm = KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(), fast_judge(),
                      cv=3, random_state=0).fit(X, signed)
    assert kcm.classes_.tolist() == [-1, 1]
    assert set(kcm.predict(X)) == {-1, 1}


def _reviews(n_rows=400):
    """Texts the small model (few words, strong regularisation) gets wrong often."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    y = np.arange(n_rows) % 2
    texts = [" ".join(rng.choice(words[:40] if label else words[20:], 6)) for label in y]
    return texts, y


def test_a_judge_pipeline_built_for_texts_reads_the_texts():
    texts, y = _reviews()
    judge = make_pipeline(TfidfVectorizer(), TruncatedSVD(16, random_state=0),
                          KANJudgeClassifier(max_epochs=5, random_state=0))
    kcm = KCMEnsemble(make_pipeline(TfidfVectorizer(), LogisticRegression(C=0.1)),
                      make_pipeline(TfidfVectorizer(), LogisticRegression(C=10)), judge=judge,
                      epsilon=0.6, cv=3, random_state=0).fit(texts, y)
    assert kcm.judge_input_ == "X" and kcm.judge_target_ == "agreement"
    assert kcm.judge_[0].vocabulary_  # its vectorizer read words
    assert kcm.score(texts, y) > 0.9


def test_a_class_with_one_training_row_gets_zero_probability_out_of_fold():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 30)
    y[0] = 10  # a long tail: one row of class 10
    X = rng.normal(size=(len(y), 4)) + y[:, None] * 0.3
    for distill in ("auto", "large"):
        with pytest.warns(UserWarning, match="least populated class"):
            kcm = KCMEnsemble(LogisticRegression(max_iter=500),
                              HistGradientBoostingClassifier(max_iter=10), fast_judge(), cv=3,
                              distill=distill, random_state=0).fit(X, y)
        assert kcm.classes_.tolist() == list(range(11))
        assert kcm.predict_proba(X).shape == (len(y), 11)


def test_too_few_rows_per_class_for_the_folds_names_cv_and_the_class():
    X = np.random.default_rng(0).normal(size=(9, 2))
    y = np.repeat(["a", "b", "c"], 3)
    with pytest.raises(ValueError, match=r"cv=5 cannot split.*'a', has 3 rows.*at most"):
        KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(), fast_judge(),
                    cv=5).fit(X, y)


def test_a_cv_that_holds_rows_out_twice_is_refused_with_the_fix():
    from sklearn.model_selection import ShuffleSplit

    X = np.random.default_rng(0).normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="exactly once.*KFold"):
        KCMEnsemble(LogisticRegression(), HistGradientBoostingClassifier(), fast_judge(),
                    cv=ShuffleSplit(3, random_state=0)).fit(X, y)


def test_a_judge_with_predict_proba_and_no_predict_routes():
    class ProbaOnly(BaseEstimator):
        def fit(self, X, y):
            self.model_ = LogisticRegression().fit(X, y)
            self.classes_ = self.model_.classes_
            return self

        def predict_proba(self, X):
            return self.model_.predict_proba(X)

    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    kcm = KCMEnsemble(LogisticRegression(), LogisticRegression(C=10), judge=ProbaOnly(),
                      epsilon=0.9, cv=3).fit(X, y)
    assert isinstance(kcm.judge_, ProbaOnly) and 0 < kcm.route(X).mean() < 1


def _categories_decide(n_rows=2000, seed=0):
    """A frame where a category flips the sign of a number: a linear small model on the
    one-hot columns cannot tell, a judge reading the same columns can learn it."""
    rng = np.random.default_rng(seed)
    group = rng.choice(list("abcdefgh"), n_rows)
    numbers = rng.normal(size=(n_rows, 3))
    sign = np.where(np.isin(group, list("abcd")), 1.0, -1.0)
    y = (sign * 1.5 * numbers[:, 0] + numbers[:, 1] * numbers[:, 2]
         + rng.logistic(size=n_rows) * 0.5 > 0).astype(int)
    df = pd.DataFrame({"group": pd.Categorical(group), "a": numbers[:, 0], "b": numbers[:, 1],
                       "c": numbers[:, 2]})
    return df, y


def _one_hot_then(model):
    from sklearn.preprocessing import StandardScaler

    encode = make_column_transformer((OneHotEncoder(sparse_output=False), ["group"]),
                                     remainder=StandardScaler())
    return make_pipeline(encode, model)


def test_the_default_judge_reads_a_frame_through_the_small_models_preprocessing():
    import pickle

    df, y = _categories_decide()
    train, test = slice(0, 1500), slice(1500, None)
    params = dict(epsilon=LargeShare(0.2), cv=3, random_state=0)
    large = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    kcm = KCMEnsemble(_one_hot_then(LogisticRegression()), large, **params).fit(
        df[train], y[train])
    cascade = KCMEnsemble(_one_hot_then(LogisticRegression()), large, judge="small",
                          **params).fit(df[train], y[train])
    assert kcm.judge_input_ == "preprocessed" and kcm.judge_target_ == "agreement"
    # the one-hot groups and the scaled numbers, imputed (a preprocessing may pass NaN on)
    assert kcm.judge_[-1].n_features_in_ == 8 + 3
    assert kcm.score(df[test], y[test]) > cascade.score(df[test], y[test]) + 0.05
    again = pickle.loads(pickle.dumps(kcm))
    np.testing.assert_array_equal(again.routing_confidence(df[test]),
                                  kcm.routing_confidence(df[test]))


def test_reading_the_preprocessing_needs_a_small_model_pipeline():
    df, y = _categories_decide(300)
    with pytest.raises(ValueError, match=r"Judge\(input='preprocessed'\).*Give a small model "
                                         "Pipeline"):
        KCMEnsemble(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                    HistGradientBoostingClassifier(categorical_features="from_dtype"),
                    cv=3, judge=Judge(input="preprocessed")).fit(df, y)
