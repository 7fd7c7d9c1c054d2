"""Dask: distributed grid search, block-wise prediction, streams, LLMs on workers."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kcm import (
    Distillation,
    KANClassifier,
    KCMEnsemble,
    LLMClassifier,
    predict_blocks,
)
from sklearn_kcm._testing import ChatServer, fast_judge
from sklearn_kcm.llm import OpenAIChat

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")



@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as running:
        yield running


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _kcm():
    return KCMEnsemble(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                       RandomForestClassifier(n_estimators=30, random_state=0), cv=2,
                       distill=False)


def test_grid_search_on_a_cluster_finds_the_local_best(client, digits):
    X_train, _, y_train, _ = digits
    grid = {"epsilon": [0.5, 0.9, 0.99], "judge": ["small", fast_judge()]}
    local = GridSearchCV(_kcm(), grid, cv=2).fit(X_train, y_train)
    with parallel_backend("dask"):
        remote = GridSearchCV(_kcm(), grid, cv=2, n_jobs=-1).fit(X_train, y_train)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])


def test_block_wise_prediction_matches_in_memory(client, digits):
    X_train, X_test, y_train, _ = digits
    kcm = _kcm().set_params(judge=fast_judge()).fit(X_train, y_train)
    lazy = da.from_array(X_test, chunks=(37, 16))
    assert lazy.numblocks[0] > 10
    np.testing.assert_array_equal(predict_blocks(kcm, lazy).compute(), kcm.predict(X_test))
    np.testing.assert_allclose(predict_blocks(kcm, lazy, "predict_proba").compute(),
                               kcm.predict_proba(X_test))
    np.testing.assert_array_equal(predict_blocks(kcm, lazy, "route").compute(),
                                  kcm.route(X_test))


def test_block_wise_prediction_of_a_dask_dataframe_keeps_column_names():
    import warnings

    import dask

    dd = pytest.importorskip("dask.dataframe")
    X, y = load_digits(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    frame = dd.from_pandas(X, npartitions=6)
    # in this process, so that a warning from the model reaches the filter
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        lazy = predict_blocks(model, frame)
        np.testing.assert_array_equal(lazy.compute(), model.predict(X))


@pytest.mark.parametrize(
    "small",
    [SGDClassifier(loss="log_loss", random_state=0),
     KANClassifier(hidden_layer_sizes=(), max_epochs=5, random_state=0)],
    ids=["sgd-sample_weight", "kan-soft"],
)
def test_partial_fit_on_a_stream_improves_the_small_model(small, digits):
    X_train, X_test, y_train, y_test = digits
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    kcm = KCMEnsemble(small, RandomForestClassifier(random_state=0), judge="small",
                      epsilon=0.9, cv=2, distill=Distillation(threshold=0.3))
    kcm.partial_fit(X_train[:200], y_train[:200], classes=np.arange(10))
    before = kcm.small_.score(X_test, y_test)
    rest_X, rest_y = X_train[200:], y_train[200:]
    for start in range(0, len(rest_X), 25):
        kcm.partial_fit(rest_X[start:start + 25], rest_y[start:start + 25])
    assert len(kcm.distillation_) >= 1 + len(rest_X) // 25
    assert kcm.small_.score(X_test, y_test) > before + 0.02


def test_partial_fit_refuses_what_it_cannot_do(digits):
    X_train, _, y_train, _ = digits
    streaming = KCMEnsemble(SGDClassifier(loss="log_loss"), LogisticRegression(), judge="small")
    few = y_train < 5
    with pytest.raises(ValueError, match="must hold every class"):
        streaming.partial_fit(X_train[few], y_train[few], classes=np.arange(10))
    with pytest.raises(ValueError, match="not among the classes"):
        streaming.fit(X_train[few], y_train[few]).partial_fit(X_train[~few], y_train[~few])


def test_llm_on_workers_shares_one_cache_and_bounds_concurrency(client, tmp_path):
    texts = np.array([f"review {i}: {'a good' if i % 2 else 'a dull'} film" for i in range(64)],
                     dtype=object)
    with ChatServer(latency=0.02) as server:
        # the key variable is unset on the workers: a local server takes "none"
        chat = OpenAIChat("m", base_url=server.base_url, api_key_env="KCM_UNSET_KEY")
        clf = LLMClassifier(chat, cache=str(tmp_path), max_concurrency=2, backoff=0.0)
        clf.fit(texts[:2], ["negative", "positive"])
        lazy = da.from_array(texts, chunks=8)
        first = predict_blocks(clf, lazy).compute()
        assert max(server.prompt_counts().values()) == 1 and len(server.prompts) == 64
        assert server.max_in_flight <= 2 * 2  # two workers, two requests each
        second = predict_blocks(clf, lazy).compute()
        assert len(server.prompts) == 64  # all from the shared cache
    np.testing.assert_array_equal(first, second)
    assert list(first[:2]) == ["negative", "positive"]
