"""The machinery shared by our torch classifiers: sklearn outside, skorch inside.

:class:`TorchClassifier` validates data the scikit-learn way, standardises the
features, turns every target into probability rows (one-hot for hard labels,
teacher probabilities for soft ones, scaled by ``sample_weight``) and trains a
torch module through a :class:`skorch.NeuralNet` with the soft-target
cross-entropy (:mod:`._training`, which ``text.TransformerClassifier`` trains
with too). Subclasses only say which module to build.
"""

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

from .._compat import Interval, StrOptions, _fit_context
from .._utils._interrupts import restores_on_interrupt
from .._utils._log_proba import log_of
from .._utils._soft_labels import hard_labels, is_soft, resolve_classes
from .._utils._threads import threads_for_work, torch_threads
from .._utils._validation import check_y_given
from ._training import (
    _check_device,
    is_first_call,
    probability_targets,
    resolve_batch_size,
    seeded_generator,
    soft_target_net,
    softened,
    start_lr_schedule,
)

INFERENCE_BATCH = 4096
INFERENCE_VALUES = 2**24  # at most 128 MB of float64 per inference block's widest tensor


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
        start_lr_schedule(self, X.shape[0])
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
        first = is_first_call(self, classes)
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
        self.net_ = soft_target_net(module, self, max_epochs=self._setting("max_epochs"),
                                    batch_size=batch_size,
                                    callbacks=copy.deepcopy(self.callbacks or []),
                                    **self._net_kwargs())

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
        return seeded_generator(self._rng)

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

