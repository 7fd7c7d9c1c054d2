"""A local GGUF model run by llama.cpp that scores every label (optional ``llama-cpp-python``)."""

import threading
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator


class LlamaCppLM(BaseEstimator):
    """Scores each label's log-likelihood as the continuation of the prompt, with llama.cpp.

    The same contract as :class:`~sklearn_kcm.llm.TransformersLM`:
    ``score_labels(prompts, labels)`` returns, for every prompt, the summed
    log-probability of each label's tokens after ``prompt + answer_prefix``,
    read from the model's logits (no text to parse). It runs a GGUF file in
    process through ``llama-cpp-python`` (``pip install llama-cpp-python``; it
    compiles from source), which on a CPU is many times faster than
    transformers de-quantising the same file (see the docs' LLM page).

    Parameters
    ----------
    model_path : str or path-like
        A GGUF file, loaded at the first call (nothing is downloaded).
    answer_prefix : str, default=" "
        Put between the prompt and each label.
    n_threads : int, default=1
        Threads of llama.cpp. One is steady on a busy machine; two threads
        on two busy cores make it several times slower a prompt.
    n_ctx : int, default=2048
        Context length in tokens: the longest prompt plus label it can score.
    batch_size : int, default=16
        Prompts per call of :meth:`score_labels` that
        :class:`~sklearn_kcm.LLMClassifier` makes (its ``batch_size=None``).

    Notes
    -----
    One call of :meth:`score_labels` runs at a time per process and model
    (llama.cpp's context is not thread-safe), and every copy of the adapter
    with the same parameters shares one loaded model. The prompt runs once;
    each label's tokens then run after it, the key/value cache cut back to the
    prompt before the next label.

    Examples
    --------
    >>> from sklearn_kcm.llm import LlamaCppLM
    >>> LlamaCppLM("models/SmolLM2-135M-Instruct.Q4_1.gguf").cache_key
    'llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf'
    """

    def __init__(self, model_path, *, answer_prefix=" ", n_threads=1, n_ctx=2048,
                 batch_size=16):
        self.model_path = model_path
        self.answer_prefix = answer_prefix
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.batch_size = batch_size

    @property
    def cache_key(self):
        """Name of the model in an LLM answer cache (the GGUF file's name)."""
        return f"llama.cpp:{Path(self.model_path).name}"

    def __sklearn_clone__(self):
        # the loaded model is shared through _LOADED, not copied
        return type(self)(**self.get_params(deep=False))

    def _loaded(self):
        key = (str(Path(self.model_path).expanduser().resolve()), self.n_threads, self.n_ctx)
        with _LOAD_LOCK:
            if key not in _LOADED:
                try:
                    import llama_cpp
                except ImportError as error:  # pragma: no cover - depends on the environment
                    raise ImportError(
                        "LlamaCppLM needs llama-cpp-python: pip install llama-cpp-python "
                        "(it compiles from source; cmake and a C/C++ compiler are needed)."
                    ) from error
                if not Path(key[0]).is_file():
                    raise FileNotFoundError(f"No GGUF file at {self.model_path!r}.")
                model = llama_cpp.Llama(key[0], n_threads=self.n_threads,
                                        n_threads_batch=self.n_threads, n_ctx=self.n_ctx,
                                        verbose=False)
                _LOADED[key] = (llama_cpp, model, threading.Lock())
            return _LOADED[key]

    def score_labels(self, prompts, labels):
        """Log-likelihood of each label after each prompt, shape (n_prompts, n_labels).

        Parameters
        ----------
        prompts : list of str
            The prompts.
        labels : list of str
            The labels to score after each prompt.

        Returns
        -------
        ndarray of shape (n_prompts, n_labels)
            Summed log-probabilities of each label's tokens.
        """
        llama_cpp, model, lock = self._loaded()
        tails = [model.tokenize((self.answer_prefix + label).encode(), add_bos=False,
                                special=False) for label in labels]
        scores = np.empty((len(prompts), len(labels)))
        with lock:
            for i, prompt in enumerate(prompts):
                head = model.tokenize(prompt.encode(), add_bos=True, special=True)
                if len(head) + max(map(len, tails)) > self.n_ctx:
                    raise ValueError(
                        f"A prompt of {len(head)} tokens and its label do not fit in "
                        f"n_ctx={self.n_ctx}: raise n_ctx or shorten the prompt.")
                model.reset()
                model.eval(head)
                first = _log_softmax(_last_logits(llama_cpp, model))
                for j, tail in enumerate(tails):
                    score = first[tail[0]]
                    for previous, token in zip(tail[:-1], tail[1:]):
                        model.eval([previous])
                        score += _log_softmax(_last_logits(llama_cpp, model))[token]
                    model.n_tokens = len(head)  # the next eval cuts the cache back here
                    scores[i, j] = score
        return scores


def _last_logits(llama_cpp, model):
    """The logits after the last token evaluated (``Llama.scores`` keeps them only with
    ``logits_all``)."""
    pointer = llama_cpp.llama_get_logits_ith(model._ctx.ctx, -1)
    return np.ctypeslib.as_array(pointer, shape=(model.n_vocab(),)).astype(np.float64)


def _log_softmax(logits):
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


_LOADED = {}  # (path, threads, context) -> (llama_cpp, Llama, its lock)
_LOAD_LOCK = threading.Lock()
