"""How our torch classifiers train: a skorch net on soft targets, seeded batches, the
learning rate's linear decay, and the targets as probability rows."""

import contextlib

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from .._compat import _check_sample_weight
from .._utils._soft_labels import check_soft_labels, is_soft, one_hot
from .._utils._validation import check_known_labels

LR_FINAL_FRACTION = 0.02  # lr_schedule="linear" ends fit at lr / 50


class _Interrupted(BaseException):
    """A KeyboardInterrupt carried past skorch's ``except KeyboardInterrupt``."""


class SoftTargetNet(NeuralNet):
    """A skorch net whose loss is cross-entropy on probability targets.

    Targets are rows of class probabilities already multiplied by their sample
    weight, so ``CrossEntropyLoss`` on them is the weighted soft-target loss.
    While training on a teacher's probabilities softened at ``temperature`` T,
    the logits are divided by T too and the loss multiplied by T², so that its
    gradients keep their scale (Hinton et al., 2015). A module that defines
    ``regularization_loss(X)`` adds it, times ``regularization``, to the
    training loss. A ``KeyboardInterrupt`` stops training and propagates
    (skorch's own nets return as if training had ended).
    """

    def __init__(self, *args, regularization=0.0, temperature=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.regularization = regularization
        self.temperature = temperature

    def initialize(self):
        super().initialize()
        # the module is passed built, so the `module` parameter holds the trained tensors
        # too; skorch loads only the attributes named here on a device that exists (a net
        # trained on a GPU, unpickled on a machine without one)
        if "module" not in self.cuda_dependent_attributes_:
            self.cuda_dependent_attributes_ = [*self.cuda_dependent_attributes_, "module"]
        return self

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt as interrupt:  # skorch's partial_fit would swallow it
            raise _Interrupted from interrupt

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        # skorch stops at Ctrl-C and returns as if training had ended; a scikit-learn
        # user expects the interrupt to stop the program (and the estimator to say so)
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        except _Interrupted:
            raise KeyboardInterrupt(
                f"training interrupted during epoch {len(self.history)}") from None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        temperature = self.temperature if training else 1.0
        if temperature != 1.0:
            y_pred = y_pred / temperature
        loss = super().get_loss(y_pred, y_true, X=X, training=training) * temperature ** 2
        if training and self.regularization > 0:
            loss = loss + self.regularization * self.module_.regularization_loss(X)
        return loss


@contextlib.contextmanager
def softened(net, temperature):
    """Train ``net`` (a :class:`SoftTargetNet`) on targets softened at ``temperature`` inside."""
    net.temperature = temperature
    try:
        yield net
    finally:
        net.temperature = 1.0


class LinearDecay(Callback):
    """Sets the learning rate before each training batch of one ``fit``: from the
    net's ``lr`` down to ``lr * final`` in a straight line over ``n_steps``
    batches; idle while ``n_steps`` is 0 (``partial_fit`` trains at ``lr``).

    With a constant rate the last Adam steps keep moving the network's outputs,
    so two fits on similar rows give confidences on different scales (a fold
    judge's threshold sent 0% or 47% of another's rows); a rate that falls to
    nearly 0 lets them settle.
    """

    def __init__(self, final=LR_FINAL_FRACTION):
        self.final = final

    def initialize(self):
        self.n_steps_, self.step_ = 0, 0
        return self

    def start(self, n_steps):
        self.n_steps_, self.step_ = n_steps, 0

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training or not self.n_steps_:
            return
        progress = min(self.step_ / max(self.n_steps_ - 1, 1), 1.0)
        self._set_lr(net, net.lr * (1.0 - (1.0 - self.final) * progress))
        self.step_ += 1

    def on_train_end(self, net, **kwargs):
        if self.n_steps_:
            self.n_steps_ = 0
            self._set_lr(net, net.lr)

    @staticmethod
    def _set_lr(net, lr):
        for group in net.optimizer_.param_groups:
            group["lr"] = lr


class BatchLoader:
    """The loader of skorch's training and validation data: one slice per batch.

    ``DataLoader`` fetches a batch row by row (one ``Dataset.__getitem__`` per
    row, then a collate): on a judge of 20,000 rows that was 60% of an epoch.
    This indexes the dataset's arrays once per batch (a sparse batch is
    densified whole) and shuffles with its own ``generator``, never torch's
    global one, which threads share.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (array, sparse matrix, tensor, or a dict of them) and ``y``.
    batch_size : int
    shuffle : bool, default=False
        A new order each epoch, drawn from ``generator``.
    generator : torch.Generator or None, default=None
        None with ``shuffle``: a generator seeded from torch's global one.
    """

    def __init__(self, dataset, *, batch_size, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        n_rows = len(self.dataset)
        if self.shuffle:
            generator = self.generator
            if generator is None:
                generator = torch.Generator().manual_seed(int(torch.randint(2**62, ()).item()))
            order = torch.randperm(n_rows, generator=generator).numpy()
        else:
            order = np.arange(n_rows)
        X, y = self.dataset.X, self.dataset.y
        for start in range(0, n_rows, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield _take(X, rows), torch.zeros(len(rows)) if y is None else _take(y, rows)


def _take(data, rows):
    """``rows`` of an array, sparse matrix, tensor or dict of them, as a dense tensor."""
    if isinstance(data, dict):
        return {key: _take(value, rows) for key, value in data.items()}
    if isinstance(data, torch.Tensor):
        return data[torch.as_tensor(rows)]
    part = data[rows]
    return torch.as_tensor(part.toarray() if sp.issparse(part) else np.asarray(part))


def _check_device(device):
    """Raise before training when ``device`` is not a torch device, or names CUDA and
    this torch has none."""
    try:
        kind = torch.device(device).type
    except RuntimeError as error:
        found = "a GPU: 'cuda'" if torch.cuda.is_available() else "no GPU"
        raise ValueError(
            f"device={device!r} is not a torch device; this torch finds {found}. Give "
            "'cpu', 'cuda' or 'cuda:<index>' (NVIDIA GPUs), or 'mps' (Apple).") from error
    if kind == "cuda" and not torch.cuda.is_available():
        build = "is a CPU-only build" if torch.version.cuda is None else "finds no GPU"
        raise ValueError(
            f"device={device!r}, but this torch {torch.__version__} {build}. Install a "
            "CUDA build of torch (https://pytorch.org/get-started/locally/) on a machine with "
            "an NVIDIA GPU, or use device='cpu'."
        )


def probability_targets(y, classes, sample_weight):
    """The training targets of a soft-target loss: rows of probabilities over ``classes``.

    Labels become one-hot rows, soft labels are checked; each row is scaled by its
    sample weight over the mean weight, so that the mean loss is the weighted one.
    Rows of weight 0 are left out.

    Returns
    -------
    targets : ndarray of shape (n_kept, n_classes), dtype float32
    keep : ndarray of bool, shape (n_samples,)
        The rows kept.
    """
    if is_soft(y):
        targets = check_soft_labels(y, len(classes))
    else:
        check_known_labels(y, classes, "Pass every class with `classes=` on the first call to "
                           "partial_fit.")
        targets = one_hot(y, classes)
    weight = _check_sample_weight(sample_weight, targets, dtype=np.float32,
                                  ensure_non_negative=True)
    keep = weight > 0
    return targets[keep] * (weight[keep] / weight[keep].mean())[:, None], keep


def soft_target_net(module, estimator, *, max_epochs, batch_size, callbacks=(), **kwargs):
    """The initialised skorch net that a torch classifier of ours trains: Adam on the
    soft-target cross-entropy, our seeded batches, the learning rate's linear decay, and the
    estimator's ``lr``, ``weight_decay``, ``verbose`` and ``device``."""
    return SoftTargetNet(
        module=module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        optimizer__weight_decay=estimator.weight_decay,
        lr=estimator.lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=BatchLoader,
        iterator_train__shuffle=True,
        iterator_valid=BatchLoader,
        train_split=None,
        callbacks=[*callbacks, ("lr_decay", LinearDecay())],
        predict_nonlinearity=None,
        verbose=estimator.verbose,
        device=estimator.device,
        **kwargs,
    ).initialize()


def start_lr_schedule(estimator, n_rows):
    """Before the epochs of ``fit``: with ``lr_schedule="linear"``, the rate falls over every
    batch of every epoch of ``n_rows`` rows."""
    net = estimator.net_
    if estimator.lr_schedule == "linear":
        dict(net.callbacks_)["lr_decay"].start(net.max_epochs * -(-n_rows // net.batch_size))


def is_first_call(estimator, classes):
    """Whether this ``partial_fit`` is ``estimator``'s first; it needs ``classes`` then."""
    first = not hasattr(estimator, "net_")
    if first and classes is None:
        raise ValueError(
            f"{type(estimator).__name__}.partial_fit needs `classes` on its first call "
            "(all the classes it will ever see, e.g. classes=np.unique(y_all)); "
            "soft-label columns follow that order."
        )
    return first


def seeded_generator(rng):
    """A torch generator of our own for a draw of ``rng``: training is reproducible without
    touching torch's global generator, which threads share."""
    return torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))


def resolve_batch_size(batch_size, n_samples):
    """``batch_size``, with "auto" as ``n_samples // 16`` clipped to [32, 1024].

    About 16 optimiser steps per epoch from 512 to 16,384 rows: on small data a
    fixed batch of 256 would take one or two (a judge trained on 400 rows for
    20 epochs would take 40 steps); on large data a small network's step costs
    little more for 1,024 rows than for 256, and steps are what it pays for (a
    judge on 20,000 rows: 2.2 s in batches of 256, 0.9 s in batches of 1,024).
    """
    if batch_size != "auto":
        return batch_size
    return int(np.clip(n_samples // 16, 32, 1024))
