"""KANClassifier, the judges, and the machinery they share."""

import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import softmax
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sklearn_kcm import KANClassifier, KANJudgeClassifier, MLPJudgeClassifier

FAST = dict(hidden_layer_sizes=(8,), max_epochs=10, batch_size=32, random_state=0)


def _kl(teacher, student):
    return float(np.mean(np.sum(teacher * (np.log(teacher) - np.log(student)), axis=1)))


@pytest.mark.parametrize("Estimator", [KANClassifier, MLPJudgeClassifier])
def test_partial_fit_on_soft_labels_moves_towards_the_teacher(Estimator, iris):
    X, y = iris
    student = Estimator(**FAST).fit(X, y)
    rng = np.random.default_rng(0)
    teacher = softmax(rng.normal(size=(len(X), 3)) * 2, axis=1)
    before = _kl(teacher, student.predict_proba(X))
    for _ in range(5):
        student.partial_fit(X, teacher)
    assert _kl(teacher, student.predict_proba(X)) < 0.7 * before


def test_one_hot_soft_labels_train_exactly_like_hard_labels(iris):
    X, y = iris
    hard = KANClassifier(**FAST).fit(X, y)
    soft = KANClassifier(**FAST).fit(X, np.eye(3)[y])
    np.testing.assert_array_equal(hard.classes_, soft.classes_)
    np.testing.assert_allclose(hard.predict_proba(X), soft.predict_proba(X), rtol=1e-6)


def test_soft_labels_with_partial_fit_follow_the_classes_order(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])
    clf = KANClassifier(**FAST)
    for _ in range(15):
        clf.partial_fit(X, np.eye(3)[y], classes=labels[::-1])
    np.testing.assert_array_equal(clf.classes_, labels)
    assert np.mean(clf.predict(X) == labels[y]) > 0.9


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_gives_identical_probabilities(dump, iris):
    X, y = iris
    clf = KANJudgeClassifier(**FAST).fit(X, y)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        buffer = io.BytesIO()
        joblib.dump(clf, buffer)
        buffer.seek(0)
        restored = joblib.load(buffer)
    np.testing.assert_array_equal(clf.predict_proba(X), restored.predict_proba(X))


def test_random_state_reproduces_and_leaves_global_rng_alone(iris):
    X, y = iris
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = KANClassifier(**FAST).fit(X, y).predict_proba(X)
    second = KANClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    torch.testing.assert_close(torch.rand(3), expected_next)
    other = KANClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_dropout_is_seeded_leaves_global_rng_alone_and_predicts_deterministically(iris):
    X, y = iris
    params = {**FAST, "dropout": 0.3}
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    clf = KANClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))  # no dropout
    np.testing.assert_array_equal(clf.predict_proba(X),
                                  KANClassifier(**params).fit(X, y).predict_proba(X))
    torch.testing.assert_close(torch.rand(3), expected_next)
    without = KANClassifier(**FAST).fit(X, y).predict_proba(X)
    assert not np.allclose(clf.predict_proba(X), without)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)  # a restored net trains on, its masks drawn anew


def test_prediction_of_a_sample_does_not_depend_on_its_batch(iris):
    X, y = iris
    clf = KANClassifier(**FAST).fit(X, y)
    together = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(0, len(X), 7)])
    np.testing.assert_allclose(together[::7], alone, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "load, kan_params",
    [
        (load_digits, dict(hidden_layer_sizes=(), max_epochs=20)),
        (load_breast_cancer, dict(hidden_layer_sizes=(16,), max_epochs=20)),
    ],
)
def test_accuracy_matches_logistic_regression(load, kan_params):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    baseline_score = baseline.fit(X_train, y_train).score(X_test, y_test)
    kan = KANClassifier(random_state=0, **kan_params).fit(X_train, y_train)
    assert kan.score(X_test, y_test) >= baseline_score - 0.01


def test_zero_sample_weight_equals_leaving_the_rows_out(iris):
    X, y = iris
    rng = np.random.default_rng(0)
    extra = rng.normal(size=(30, 4)) * 5
    X_more = np.vstack([X, extra])
    y_more = np.concatenate([y, rng.integers(0, 3, 30)])
    weight = np.concatenate([np.ones(len(X)), np.zeros(30)])
    plain = KANClassifier(**FAST).fit(X, y).predict_proba(X)
    weighted = KANClassifier(**FAST).fit(X_more, y_more, sample_weight=weight).predict_proba(X)
    np.testing.assert_allclose(plain, weighted, rtol=1e-6)


def test_sample_weight_shifts_the_decision():
    X, y = make_classification(n_samples=300, n_features=5, class_sep=0.3, random_state=0)
    plain = KANClassifier(**FAST).fit(X, y)
    weight = np.where(y == 1, 10.0, 1.0)
    favoured = KANClassifier(**FAST).fit(X, y, sample_weight=weight)
    assert np.mean(favoured.predict(X) == 1) > np.mean(plain.predict(X) == 1) + 0.1


def test_string_labels_and_binary_decision_function():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.array(["benign", "malignant"])[y]
    clf = KANClassifier(**FAST).fit(X, labels)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])


def test_sparse_input_predicts_like_dense(iris):
    X, y = iris
    clf = KANClassifier(**FAST).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(clf.predict_proba(sp.csr_matrix(X)), clf.predict_proba(X))


def test_judges_confidence_is_the_top_probability(iris):
    X, y = iris
    for judge in (KANJudgeClassifier(**FAST), MLPJudgeClassifier(**FAST)):
        judge.fit(X, y)
        np.testing.assert_array_equal(judge.confidence(X), judge.predict_proba(X).max(axis=1))


def test_regularization_thins_the_edges(iris):
    X, y = iris
    plain = KANClassifier(**FAST).fit(X, y)
    sparse = KANClassifier(**{**FAST, "regularization": 0.05}).fit(X, y)

    def total_scale(clf):
        module = clf.net_.module_
        x = torch.as_tensor(clf._scale(X))
        return module.layers[0].edge_scale(x).sum().item()

    assert total_scale(sparse) < 0.8 * total_scale(plain)


class _CountEpochs(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def test_user_callbacks_run_on_a_copy(iris):
    X, y = iris
    counter = _CountEpochs()
    clf = KANClassifier(**{**FAST, "callbacks": [counter]}).fit(X, y)
    assert counter.epochs == 0
    copies = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _CountEpochs)]
    assert copies[0].epochs == FAST["max_epochs"]


class _RecordLearningRates(Callback):
    def initialize(self):
        self.rates = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])


@pytest.mark.parametrize("Estimator", [KANJudgeClassifier, MLPJudgeClassifier])
def test_judges_learning_rate_falls_to_a_fiftieth_in_fit_only(Estimator, iris):
    X, y = iris  # 150 rows in batches of 32: 5 batches per epoch
    judge = Estimator(max_epochs=4, batch_size=32, lr=0.01, random_state=0,
                      callbacks=[_RecordLearningRates()]).fit(X, y)
    rates = dict(judge.net_.callbacks_)["_RecordLearningRates"].rates
    assert len(rates) == 20
    assert rates[0] == pytest.approx(0.01) and rates[-1] == pytest.approx(0.01 / 50)
    assert np.all(np.diff(rates) < 0)  # a straight line down, batch by batch
    judge.partial_fit(X, y)
    assert rates[20:] == [pytest.approx(0.01)] * 5


def test_constant_schedule_keeps_the_rate(iris):
    X, y = iris
    clf = KANClassifier(**{**FAST, "callbacks": [_RecordLearningRates()]}).fit(X, y)
    assert set(dict(clf.net_.callbacks_)["_RecordLearningRates"].rates) == {0.01}


def test_plot_activations_draws_each_edge(iris):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y = iris
    clf = KANClassifier(**FAST).fit(X, y)
    axes = clf.plot_activations(layer=0, inputs=[0, 1, 2], outputs=[0, 1])
    assert axes.shape == (2, 3)
    line = axes[0, 0].get_lines()[0]
    xs = line.get_xdata()  # in the units of the raw feature
    assert xs.min() < X[:, 0].min() and xs.max() > X[:, 0].max()
    with pytest.raises(ValueError, match="out of range"):
        clf.plot_activations(layer=5)


def test_edge_functions_are_what_the_first_layer_computes(iris):
    import torch

    X, y = iris
    clf = KANClassifier(hidden_layer_sizes=(), **{k: v for k, v in FAST.items()
                                                  if k != "hidden_layer_sizes"}).fit(X, y)
    x, phi = clf.edge_functions(layer=0, n_points=7)
    assert x.shape == (7, 4) and phi.shape == (7, 4, 3)
    # a one-layer KAN's logits are the sum of its edge functions plus the bias
    module = clf.net_.module_
    logits = module(torch.as_tensor(clf._scaler.transform(x), dtype=torch.float32))
    bias = module.layers[0].bias.detach().numpy()
    np.testing.assert_allclose(logits.detach().numpy(), phi.sum(axis=1) + bias, atol=1e-4)


@pytest.mark.parametrize(
    "action, error, match",
    [
        (lambda c, X, y: c.fit(X, y).predict(X[:, :3]), ValueError, "X has 3 features"),
        (lambda c, X, y: c.fit(X[:0], y[:0]), ValueError, "0 sample"),
        (lambda c, X, y: c.fit(np.full(X.shape, "a"), y), ValueError, "TfidfVectorizer"),
        (lambda c, X, y: c.fit(np.where(X > 5, np.nan, X), y), ValueError, "NaN"),
        (lambda c, X, y: c.fit(X, y).partial_fit(X, np.full((len(X), 4), 0.25)),
         ValueError, "4 columns but the estimator knows 3"),
        (lambda c, X, y: c.partial_fit(X, np.eye(3)[y]), ValueError, "needs `classes`"),
        (lambda c, X, y: c.fit(X, np.eye(3)[y] * 2), ValueError, "sum to 1"),
        (lambda c, X, y: c.fit(X, y[:-1]), ValueError, "inconsistent numbers of samples"),
        (lambda c, X, y: c.partial_fit(X, y, classes=[0, 1]), ValueError, "not among the classes"),
        (lambda c, X, y: c.fit(X, y, sample_weight=-np.ones(len(y))), ValueError,
         "Negative values"),
        (lambda c, X, y: c.fit(X, y, sample_weight=np.zeros(len(y))), ValueError,
         "at least one non-zero"),
        (lambda c, X, y: c.set_params(grid_size=0).fit(X, y), ValueError, "grid_size"),
    ],
)
def test_bad_input_is_named(action, error, match, iris):
    X, y = iris
    with pytest.raises(error, match=match):
        action(KANClassifier(**FAST), X, y)


@pytest.mark.cuda
def test_model_trained_on_cuda_loads_on_cpu(iris, tmp_path):
    X, y = iris
    clf = KANClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = (
        "import pickle, numpy as np, sys; d = sys.argv[1];"
        "clf = pickle.load(open(d + '/model.pkl', 'rb'));"
        "p = clf.predict_proba(np.load(d + '/X.npy'));"
        "np.testing.assert_allclose(p, np.load(d + '/expected.npy'), atol=1e-6)"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        # the caller's environment (where its packages are) without the GPU
        check=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )


def test_the_torch_base_class_cannot_be_instantiated():
    from sklearn_kcm._torch._base import TorchClassifier

    with pytest.raises(TypeError, match="abstract"):
        TorchClassifier()


def test_soft_labels_at_a_temperature_train_on_scaled_logits_times_t_squared(iris):
    import torch

    X, y = iris
    clf = KANClassifier(**FAST).fit(X, y)
    logits = torch.randn(6, 3)
    targets = torch.softmax(torch.randn(6, 3) / 2.0, dim=1)
    net = clf.net_
    net.temperature = 2.0
    loss = net.get_loss(logits, targets, X=None, training=True)
    expected = torch.nn.functional.cross_entropy(logits / 2.0, targets) * 4.0
    torch.testing.assert_close(loss, expected)
    assert net.get_loss(logits, targets, training=False) == torch.nn.functional.cross_entropy(
        logits, targets)  # predicting and scoring read the model at T = 1
    net.temperature = 1.0
    teacher = np.full((len(X), 3), 1 / 3)
    before = clf.predict_proba(X)
    clf.partial_fit(X, teacher, temperature=2.0)
    assert clf.net_.temperature == 1.0  # set for that call only
    assert not np.allclose(before, clf.predict_proba(X))


def test_training_in_threads_is_reproducible_and_leaves_the_global_generator_alone(iris):
    from concurrent.futures import ThreadPoolExecutor

    import torch

    X, y = iris
    alone = KANClassifier(**FAST).fit(X, y).predict_proba(X)
    state = torch.random.get_rng_state()
    with ThreadPoolExecutor(4) as pool:  # a shared global generator would interleave here
        together = list(pool.map(lambda _: KANClassifier(**FAST).fit(X, y).predict_proba(X),
                                 range(4)))
    for proba in together:
        np.testing.assert_array_equal(proba, alone)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_wide_input_is_expanded_in_bounded_blocks_with_the_same_answers(monkeypatch):
    import sklearn_kcm._torch._base as torch_module
    import sklearn_kcm._torch._kan as kan_module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 40))
    X[-1, 0] = 50.0  # the last row alone holds feature 0's maximum
    y = (X[:, 1] > 0).astype(int)
    # a grid sample of 40 rows; the grid still spans every row's range
    monkeypatch.setattr(kan_module, "GRID_SAMPLE_VALUES", 40 * 40 * 8)
    clf = KANClassifier(max_epochs=2, random_state=0).fit(X, y)
    first = clf.net_.module_.layers[0]
    top = float(clf._scale(X[-1:])[0, 0])
    assert float(first.grid_lo[0] + first.grid_size * first.grid_step[0]) >= top
    whole = clf.predict_proba(X)
    monkeypatch.setattr(torch_module, "INFERENCE_VALUES", 7 * 40 * 9)  # blocks of 7 rows
    np.testing.assert_allclose(clf.predict_proba(X), whole, rtol=1e-12)
