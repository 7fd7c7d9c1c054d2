"""LLMClassifier: any LLM as a scikit-learn classifier that takes the small model's hint."""

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from .._compat import HasMethods, Interval, StrOptions, _fit_context
from .._utils._log_proba import log_of
from .._utils._validation import check_hint, check_known_labels, check_texts, check_y_given
from .._utils._warnings import warn
from ._calibration import (
    CALIBRATIONS,
    CONTENT_FREE_TEXTS,
    calibrated_proba,
    content_free_bias,
    fitted_bias,
)
from ._calls import LLMUsage
from ._errors import LLMOutputError
from ._prompts import (
    DEFAULT_HINT_PROMPT,
    DEFAULT_PROMPT,
    build_prompt,
    check_label_names,
    check_prompts,
    labels_named,
    parse_label,
)
from ._query import query, valid_scores

# predict_proba warns when more than this share of the answers named no label
PARSE_ERROR_SHARE = 0.1


# prompts per call of a plain list -> list callable that states no batch_size of its own
CALLABLE_BATCH_SIZE = 32


class LLMClassifier(ClassifierMixin, BaseEstimator):
    """A large language model as a classifier, ready to be KCM's large model.

    ``fit`` only learns the labels (and optionally few-shot examples);
    ``predict_proba(X, hint=None)`` sends one prompt per text and parses the
    answer strictly to one known label. With ``hint`` (the small model's
    probabilities), the prompt states the small model's answer and confidence:
    the paper's prompt modification. ``hint`` is requested through metadata
    routing, so ``KCMEnsemble(hint="auto")`` hands it over without special
    cases.

    Parameters
    ----------
    llm : callable or adapter
        ``llm(prompts: list[str]) -> list[str]`` (or objects with ``.text``),
        e.g. :class:`~sklearn_kcm.llm.OpenAIChat`; or an object with
        ``score_labels(prompts, labels) -> log-probabilities``, e.g.
        :class:`~sklearn_kcm.llm.TransformersLM`, which gives a real
        distribution and needs no parsing.
    labels : list of str, default=None
        The classes, when ``fit`` gets no ``y``.
    prompt : str, default=DEFAULT_PROMPT
        ``str.format`` template with fields ``labels``, ``text``,
        ``examples`` and ``hint``.
    hint_prompt : str, default=DEFAULT_HINT_PROMPT
        Template of the hint sentence: fields ``hint_label`` and
        ``hint_confidence`` (a float; ``{hint_confidence:.0%}``).
    n_shots : int, default=0
        Few-shot examples drawn from the training data (``random_state``).
    calibration : {"content_free", "labelled"} or None, default=None
        Correct a label-scoring adapter's bias toward some labels with a
        bias on its log-scores, learnt in ``fit`` (``label_bias_``):
        ``"content_free"`` divides the probabilities by those it gives to
        prompts with no content ("N/A", "", "[MASK]"; Zhao et al., 2021;
        three calls); ``"labelled"`` fits the bias by maximum likelihood on
        ``calibration_samples`` labelled training texts (as many calls),
        which also corrects a prior the model does not share. Needs an
        ``llm`` with ``score_labels``: a text answer has no probabilities to
        correct.
    calibration_samples : int, default=50
        Labelled texts scored for ``calibration="labelled"``, drawn from the
        training data apart from the few-shot examples (``random_state``).
    max_concurrency : int, default=8
        Requests in flight at once.
    batch_size : int or None, default=None
        Prompts per request (per call of ``llm``, or of ``score_labels``).
        None: the adapter's own ``batch_size`` attribute when it has one
        (:class:`~sklearn_kcm.llm.TransformersLM`: 16;
        :class:`~sklearn_kcm.llm.OpenAIChat`: 1, one HTTP request a prompt,
        ``max_concurrency`` of them in flight), else 32: a plain
        ``list -> list`` callable gets its prompts in batches, which a local
        model or a batch API answers faster than one at a time. Identical
        prompts of one call are asked once whatever the batch size.
    max_retries : int, default=4
        Retries of a request on timeouts, connection errors, 429 and 5xx.
    backoff : float, default=0.5
        First retry delay in seconds, doubled each time, with jitter.
    cache : str or path-like, default=None
        Directory of an on-disk cache of answers keyed by model and prompt
        (``~`` expands to the home directory); shared safely by processes,
        so refits, grid searches and re-runs after a crash do not pay twice.
    on_error : {"raise", "hint", "uniform"}, default="raise"
        What an answer naming no single label gives: an
        :class:`~sklearn_kcm.llm.LLMOutputError`, the small model's
        probabilities (when a hint is given, else uniform), or uniform
        probabilities. Each case is counted in ``usage_``, and a call where
        more than 10% of the answers named no label warns with the count.
    random_state : int, RandomState instance or None, default=None
        Seeds the few-shot draw and the retry jitter.
    verbose : int, default=0
        Show a progress bar (tqdm, optional) while requests run.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    label_names_ : list of str
        The labels as the prompt spells them.
    examples_ : list of (str, str)
        The few-shot examples.
    label_bias_ : ndarray of shape (n_classes,)
        Added to the label scores before the softmax (zeros without
        ``calibration``).
    usage_ : LLMUsage
        Calls, cache hits, retries, failures, parse errors and tokens; made in
        ``fit``, updated by predictions.

    Examples
    --------
    >>> from sklearn_kcm import LLMClassifier
    >>> def toy_llm(prompts):
    ...     return ["positive" if "good" in p.split("<text>")[1] else "negative" for p in prompts]
    >>> clf = LLMClassifier(toy_llm).fit(["good", "bad"], ["positive", "negative"])
    >>> clf.predict(["a good film", "a dull film"]).tolist()
    ['positive', 'negative']
    """

    __metadata_request__predict_proba = {"hint": True}  # noqa: RUF012 - sklearn's protocol

    _parameter_constraints = {  # noqa: RUF012 - sklearn's protocol
        "llm": [callable, HasMethods(["score_labels"])],
        "labels": ["array-like", None],
        "prompt": [str],
        "hint_prompt": [str],
        "n_shots": [Interval(Integral, 0, None, closed="left")],
        "calibration": [StrOptions(set(CALIBRATIONS)), None],
        "calibration_samples": [Interval(Integral, 1, None, closed="left")],
        "max_concurrency": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_retries": [Interval(Integral, 0, None, closed="left")],
        "backoff": [Interval(Real, 0, None, closed="left")],
        "cache": [str, os.PathLike, None],
        "on_error": [StrOptions({"raise", "hint", "uniform"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, llm, *, labels=None, prompt=DEFAULT_PROMPT, hint_prompt=DEFAULT_HINT_PROMPT,
                 n_shots=0, calibration=None, calibration_samples=50, max_concurrency=8,
                 batch_size=None, max_retries=4, backoff=0.5, cache=None, on_error="raise",
                 random_state=None, verbose=0):
        self.llm = llm
        self.labels = labels
        self.prompt = prompt
        self.hint_prompt = hint_prompt
        self.n_shots = n_shots
        self.calibration = calibration
        self.calibration_samples = calibration_samples
        self.max_concurrency = max_concurrency
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.cache = cache
        self.on_error = on_error
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the labels (and draw few-shot examples); the LLM is not trained.

        Parameters
        ----------
        X : list or array of str
            The texts.
        y : array-like of shape (n_samples,), default=None
            Required unless ``labels`` is given.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        check_prompts(self.prompt, self.hint_prompt)
        texts = check_texts(X, "LLMClassifier")
        if self.labels is None:
            check_y_given(y, "LLMClassifier", " (or give the classes with labels=[...])")
        self.classes_ = unique_labels(y if self.labels is None else np.asarray(self.labels))
        if y is not None and self.labels is not None:
            check_known_labels(y, self.classes_, "Add them to `labels`, or leave labels=None "
                               "to take the classes from y.")
        self.label_names_ = [str(c) for c in self.classes_]
        check_label_names(self.label_names_)
        self._check_calibration(y)
        rng = check_random_state(self.random_state)
        self.examples_, chosen = [], np.empty(0, dtype=int)
        if self.n_shots and y is not None:
            chosen = rng.choice(len(texts), size=min(self.n_shots, len(texts)), replace=False)
            self.examples_ = [(texts[i], str(np.asarray(y)[i])) for i in chosen]
        self.usage_ = LLMUsage()
        self.label_bias_ = np.zeros(len(self.classes_))
        if self.calibration == "content_free":
            scores, _ = self._calibration_scores(list(CONTENT_FREE_TEXTS))
            self.label_bias_ = content_free_bias(scores)
        elif self.calibration == "labelled":
            others = np.setdiff1d(np.arange(len(texts)), chosen)  # an example is too easy
            drawn = rng.choice(others, size=min(self.calibration_samples, others.size),
                               replace=False)
            label_index = np.searchsorted(self.classes_, np.asarray(y)[drawn])
            scores, valid = self._calibration_scores([texts[i] for i in drawn])
            self.label_bias_ = fitted_bias(scores, label_index[valid])
        return self

    def _check_calibration(self, y):
        if self.calibration is None:
            return
        if not hasattr(self.llm, "score_labels"):
            raise ValueError(
                f"calibration={self.calibration!r} corrects the label scores of an adapter "
                f"with score_labels (e.g. TransformersLM), but {self.llm!r} answers with text, "
                "whose one-hot probabilities have no bias to correct. Use calibration=None."
            )
        if self.calibration == "labelled" and y is None:
            raise ValueError("calibration='labelled' fits the bias on labelled texts: give y "
                             "to fit, or use calibration='content_free', which needs none.")

    def _calibration_scores(self, texts):
        """The label scores of ``texts`` (no hint) where they make a distribution, and where."""
        scores = np.asarray(self._query([self._prompt(text, None) for text in texts]),
                            dtype=np.float64)
        valid = valid_scores(scores)
        if not valid.any():
            raise LLMOutputError(
                f"calibration={self.calibration!r}: the model's label scores make no "
                f"distribution on any of the {len(texts)} calibration prompts (NaN or +inf)."
            )
        return scores[valid], valid

    def predict_proba(self, X, hint=None):
        """Estimate class probabilities from the LLM's answers, one prompt per text.

        Parameters
        ----------
        X : list or array of str
            The texts.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities over ``classes_``; the prompt then
            states its top label and confidence.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            One-hot rows for parsed answers (a real distribution for adapters
            that score labels); ``on_error`` rows otherwise.
        """
        check_is_fitted(self)
        texts = check_texts(X, "LLMClassifier")
        if hint is not None:
            hint = check_hint(hint, len(texts), len(self.classes_))
        prompts = [self._prompt(text, None if hint is None else hint[i])
                   for i, text in enumerate(texts)]
        answers = self._query(prompts)
        proba = np.zeros((len(texts), len(self.classes_)))
        failed = []
        for i, answer in enumerate(answers):
            row = self._answer_proba(answer)
            if row is not None:
                proba[i] = row
                continue
            self.usage_.add(parse_errors=1)
            if self.on_error == "raise":
                raise LLMOutputError(
                    f"The LLM answered {_shown(answer, self.label_names_)} to sample {i}. Use "
                    "on_error='hint' or 'uniform' to carry on, or tighten the prompt."
                )
            failed.append(i)
            use_hint = self.on_error == "hint" and hint is not None
            proba[i] = hint[i] if use_hint else 1.0 / len(self.classes_)
        if len(failed) > PARSE_ERROR_SHARE * len(texts):
            stand_in = ("the small model's answer" if self.on_error == "hint" and hint is not None
                        else "uniform probabilities")
            warn(
                f"{len(failed)} of the LLM's {len(texts)} answers named no single label (the "
                f"first: {_shown(answers[failed[0]], self.label_names_)}); {stand_in} stood in "
                f"for them (on_error={self.on_error!r}), so the LLM added nothing there. Check "
                "that the prompt asks for one of the labels and that they are the words the "
                "model uses, or use on_error='raise' to stop at the first.")
        return proba

    def _answer_proba(self, answer):
        """Probabilities of one answer: one-hot for a text naming one label, the softmax of
        valid label scores; None for anything else."""
        if isinstance(answer, str):
            index = parse_label(answer, self.label_names_)
            if index is None:
                return None
            row = np.zeros(len(self.classes_))
            row[index] = 1.0
            return row
        if not valid_scores(answer[None, :])[0]:
            return None
        return calibrated_proba(answer, self.label_bias_)

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

    def predict(self, X, hint=None):
        """Ask the LLM for the label of each text (see :meth:`predict_proba`).

        Parameters
        ----------
        X : list or array of str
            The texts.
        hint : ndarray of shape (n_samples, n_classes), default=None
            The small model's probabilities, stated in the prompt.

        Returns
        -------
        ndarray of shape (n_samples,)
            The labels.
        """
        proba = self.predict_proba(X, hint=hint)
        return self.classes_[np.argmax(proba, axis=1)]

    def _prompt(self, text, hint_row):
        hint = None
        if hint_row is not None:
            top = int(np.argmax(hint_row))
            hint = (self.label_names_[top], float(hint_row[top]))
        return build_prompt(text, self.label_names_, template=self.prompt,
                            hint_template=self.hint_prompt, hint=hint, examples=self.examples_)

    def _model_key(self):
        """The LLM's name in the cache: its ``cache_key``, or the module-level function's name."""
        key = getattr(self.llm, "cache_key", None)
        if key is not None:
            return key
        module = getattr(self.llm, "__module__", None)
        name = getattr(self.llm, "__qualname__", None)
        if not module or not name or "<lambda>" in name or "<locals>" in name:
            raise ValueError(
                f"cache={self.cache!r} keys answers by the LLM's name, but {self.llm!r} has no "
                "stable one (a lambda, a closure or a functools.partial: two of them would "
                "share answers). Give it a `cache_key` attribute naming the model and its "
                "settings (e.g. ask.cache_key = 'my-model-v1'), or use cache=None."
            )
        return f"{module}.{name}"

    def _query(self, prompts):
        """The LLM's answer to every prompt (see :func:`~sklearn_kcm.llm._query.query`)."""
        batch_size = self.batch_size
        if batch_size is None:
            batch_size = getattr(self.llm, "batch_size", None) or CALLABLE_BATCH_SIZE
        return query(self.llm, prompts, labels=self.label_names_, usage=self.usage_,
                     cache=self.cache,
                     model_key=self._model_key() if self.cache is not None else None,
                     batch_size=batch_size, max_concurrency=self.max_concurrency,
                     max_retries=self.max_retries, backoff=self.backoff, verbose=self.verbose,
                     seed=check_random_state(self.random_state).randint(2**31))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = True
        return tags


def _shown(answer, labels):
    """What was wrong with an answer, for an error message."""
    if isinstance(answer, str):
        named = [labels[i] for i in labels_named(answer, labels)]
        found = (f"names several of them, {named}" if named
                 else "names none of them")
        return f"{answer[:80]!r}, which {found}, of the labels {labels}"
    return (f"the label scores {np.array2string(np.asarray(answer), precision=3)} for "
            f"{labels}, which make no distribution (NaN, +inf, or no finite score)")
