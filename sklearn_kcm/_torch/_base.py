"""The machinery shared by our torch classifiers: sklearn outside, skorch inside.

:class:`TorchClassifier` validates data the scikit-learn way, standardises the
features, turns every target into probability rows (one-hot for hard labels,
teacher probabilities for soft ones, scaled by ``sample_weight``) and trains a
torch module through a :class:`skorch.NeuralNet` with the soft-target
cross-entropy. Subclasses only say which module to build.
"""

import contextlib
import copy
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import Callback

from .._compat import Interval, StrOptions, _check_sample_weight, _fit_context
from .._utils._interrupts import restores_on_interrupt
from .._utils._log_proba import log_of
from .._utils._soft_labels import check_soft_labels, hard_labels, is_soft, one_hot, resolve_classes
from .._utils._threads import threads_for_work, torch_threads
from .._utils._validation import check_known_labels, check_y_given

INFERENCE_BATCH = 4096
INFERENCE_VALUES = 2**24  # at most 128 MB of float64 per inference block's widest tensor
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


def layer_widths(n_features, hidden_layer_sizes, n_classes):
    """The layer widths, input to output; ``hidden_layer_sizes`` an int (one hidden
    layer, as ``MLPClassifier`` takes) or a sequence of positive integers."""
    sizes = [hidden_layer_sizes] if np.ndim(hidden_layer_sizes) == 0 else list(
        hidden_layer_sizes)
    bad = [size for size in sizes
           if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral) or size < 1]
    if bad:
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} holds {bad[0]!r}: give the width of "
            "each hidden layer as a positive integer, e.g. (64,) or (64, 32), or () for none.")
    return [n_features, *(int(size) for size in sizes), n_classes]


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


class TorchClassifier(ClassifierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class: a classifier whose model is a torch module trained by skorch.

    Subclasses set their parameters in ``__init__`` and implement
    :meth:`_build_module`; they may override :meth:`_prepare_module` (e.g. to
    fit a KAN grid to the data), and :meth:`_fit_inputs` to resolve settings
    from the training data and map the inputs before they are standardised.

    Attributes
    ----------
    accepts_soft_labels : bool
        True: ``fit`` and ``partial_fit`` take a matrix of class probabilities
        as ``y``. :class:`KCMEnsemble` then distils into the model with the
        soft-target loss; set it on your own classifier to get the same.
    """

    accepts_soft_labels = True

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "lr_schedule": [StrOptions({"constant", "linear"})],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def _build_module(self, n_features, n_classes, generator):
        """Return an untrained torch module mapping features to logits, drawn from
        ``generator``."""

    def _prepare_module(self, module, X):
        """Adapt a freshly built module to the training data ``X`` (an ndarray or a sparse
        matrix, mapped by :meth:`_map_inputs`, before :meth:`_standardise`)."""

    def _fit_inputs(self, X):
        """Learn from the first training data X what depends on it (settings left "auto", a
        map of the inputs); the base class learns nothing."""

    def _map_inputs(self, X):
        """X as the network's first layer reads it, before standardising; the base class
        keeps it as it is."""
        return X

    def _setting(self, name):
        """The value of parameter ``name`` in use: the parameter, or what :meth:`_fit_inputs`
        resolved it to."""
        return getattr(self, "_resolved", {}).get(name, getattr(self, name))

    def _net_kwargs(self):
        return {}

    def _values_per_row(self):
        """Numbers the module's widest tensor holds per input row (bounds inference blocks)."""
        return self.n_features_in_

    @restores_on_interrupt()
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train from scratch on hard labels or soft labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or class probabilities (rows summing to 1) to train
            on soft targets; then ``classes_`` is ``0..n_classes-1``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rows with weight 0 are left out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, targets = self._training_data(X, y, sample_weight, classes=None, first=True)
        if self.lr_schedule == "linear":
            batches = -(-X.shape[0] // self.net_.batch_size)
            dict(self.net_.callbacks_)["lr_decay"].start(self.net_.max_epochs * batches)
        self._train(X, targets, epochs=self.net_.max_epochs)
        return self

    @restores_on_interrupt("net_")
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, *, temperature=1.0):
        """Train one more epoch on a batch of hard or soft labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or probabilities over ``classes`` (one column per class,
            in sorted order).
        classes : array-like of shape (n_classes,), default=None
            Every class the estimator will see. Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; None weighs them equally.
        temperature : float, default=1.0
            The temperature T at which soft labels were softened (a teacher's
            ``softmax(logits / T)``): the loss compares them with the model's
            logits divided by T, times T² (knowledge distillation).

        Returns
        -------
        self : object
            The updated classifier.
        """
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError(
                f"{type(self).__name__}.partial_fit needs `classes` on its first call "
                "(all the classes it will ever see, e.g. classes=np.unique(y_all)); "
                "soft-label columns follow that order."
            )
        X, targets = self._training_data(X, y, sample_weight, classes=classes, first=first)
        with softened(self.net_, temperature):
            self._train(X, targets, epochs=1)
        return self

    def _training_data(self, X, y, sample_weight, classes, first):
        check_y_given(y, type(self).__name__)
        X, y = self._validate(X, y, reset=first)
        soft = is_soft(y)
        if not soft:
            y = hard_labels(y)
        if first:
            self.classes_ = resolve_classes(y, classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} got a single class "
                    f"({np.asarray(self.classes_).tolist()}); a classifier can't train when "
                    "only one class is present: give rows of two classes at least (or "
                    "every class with `classes=` in partial_fit).")
            if soft and len(self.classes_) != y.shape[1]:
                raise ValueError(
                    f"Soft labels have {y.shape[1]} columns but `classes` lists "
                    f"{len(self.classes_)} classes; give one column per class."
                )
        targets, keep = probability_targets(y, self.classes_, sample_weight)
        X = X[keep]
        if first:
            self._initialize(X)
        return self._scale(X), targets

    def _validate(self, X, y=None, reset=False):
        try:
            if y is None:
                return validate_data(self, X, reset=reset, accept_sparse="csr",
                                     dtype=[np.float32, np.float64])
            return validate_data(self, X, y, reset=reset, accept_sparse="csr",
                                 dtype=[np.float32, np.float64], multi_output=True)
        except ValueError as error:
            if "convert" in str(error) and "str" in str(error):
                raise ValueError(
                    f"{type(self).__name__} needs numeric features, but X holds text. "
                    "Turn text into numbers first, e.g. "
                    f"make_pipeline(TfidfVectorizer(), {type(self).__name__}())."
                ) from error
            raise

    def _initialize(self, X):
        _check_device(self.device)
        self._rng = check_random_state(self.random_state)
        self._fit_inputs(X)
        X = self._map_inputs(X)
        # arrays whatever set_config(transform_output=...) says: torch reads arrays
        self._scaler = StandardScaler(with_mean=not sp.issparse(X)).set_output(
            transform="default").fit(X)
        batch_size = resolve_batch_size(self._setting("batch_size"), X.shape[0])
        generator = self._generator()
        # building a torch module may draw from the global generator too (nn.Linear
        # does); the caller's state is kept, our values come from `generator`
        with torch.random.fork_rng(devices=[]):
            module = self._build_module(X.shape[1], len(self.classes_), generator)
        with torch_threads(self._threads(batch_size, module)):
            self._prepare_module(module, X)
        self.net_ = SoftTargetNet(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self._setting("max_epochs"),
            batch_size=batch_size,
            iterator_train=BatchLoader,
            iterator_train__shuffle=True,
            iterator_valid=BatchLoader,
            train_split=None,
            callbacks=[*copy.deepcopy(self.callbacks or []), ("lr_decay", LinearDecay())],
            predict_nonlinearity=None,
            verbose=self.verbose,
            device=self.device,
            **self._net_kwargs(),
        ).initialize()

    def _scale(self, X):
        """X as the network reads it: mapped (:meth:`_map_inputs`), then standardised."""
        return self._standardise(self._map_inputs(X))

    def _standardise(self, X):
        if sp.issparse(X) and self._scaler.with_mean:
            raise ValueError(
                f"{type(self).__name__} was fitted on dense X and got a sparse matrix: it "
                "centres its inputs as it learnt them. Give dense X (X.toarray()), or fit it "
                "on sparse X."
            )
        X = self._scaler.transform(X).astype(np.float32, copy=False)
        values = X.data if sp.issparse(X) else X
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"{type(self).__name__} computes in float32, and X holds values that are not "
                "finite there once standardised (e.g. above 3.4e38, or far outside the "
                "training range). Rescale or clip those features first."
            )
        return sp.csr_matrix(X) if sp.issparse(X) else X

    def _generator(self):
        # A torch generator of our own for each draw of `random_state`: training is
        # reproducible without touching torch's global generator, which threads share.
        seed = int(self._rng.randint(np.iinfo(np.int32).max))
        return torch.Generator().manual_seed(seed)

    def _train(self, X, targets, epochs):
        # an iterator parameter, read by skorch at each epoch (set_params would
        # re-initialise the net)
        self.net_.iterator_train__generator = self._generator()
        with torch_threads(self._threads(self.net_.batch_size)):
            self.net_.partial_fit(X, targets, epochs=epochs)
            # the float64 copy that inference runs on, made once per training call
            # rather than at every predict (a deep copy costs more than a small batch);
            # one row through it pays torch's slow first float64 call here, not in
            # the first prediction
            self._inference_module = self._float64_copy()
            first = X[:1].toarray() if sp.issparse(X) else X[:1]
            with torch.inference_mode():
                self._inference_module(torch.as_tensor(first, dtype=torch.float64,
                                                       device=self.net_.device))

    def _threads(self, batch_rows, module=None):
        """Torch threads worth using on batches of ``batch_rows`` (see :mod:`._threads`)."""
        module = self.net_.module_ if module is None else module
        return threads_for_work(batch_rows * sum(p.numel() for p in module.parameters()))

    def _float64_copy(self):
        return copy.deepcopy(self.net_.module_).to(torch.float64).eval()

    def __getstate__(self):
        # the float64 copy is not pickled but made again on loading from the net, which
        # skorch loads on a device that exists there: a model trained on a GPU loads on
        # a machine without one
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        state.pop("_inference_module", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in state:
            self._inference_module = self._float64_copy()

    def decision_function(self, X):
        """Compute the logits of the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the logit of the second class minus the first's.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def _logits(self, X):
        # Inference runs in float64 on a copy of the module: float32 BLAS
        # results depend on how many rows share a matmul, and a sample must get
        # the same score (and so the same route) alone or in any batch.
        check_is_fitted(self)
        X = self._scale(self._validate(X))
        module = self._inference_module
        device = self.net_.device
        logits = []
        rows = max(1, min(INFERENCE_BATCH, INFERENCE_VALUES // self._values_per_row()))
        with torch.inference_mode(), torch_threads(self._threads(min(rows, X.shape[0]))):
            for start in range(0, X.shape[0], rows):
                batch = X[start:start + rows]
                batch = batch.toarray() if sp.issparse(batch) else batch
                batch = torch.as_tensor(batch, dtype=torch.float64, device=device)
                logits.append(module(batch).cpu().numpy())
        return np.concatenate(logits)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (-inf where a probability is 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, as :meth:`predict_proba` takes them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return log_of(self.predict_proba(X))

    def predict_proba(self, X):
        """Class probabilities: the softmax of the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels.
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

