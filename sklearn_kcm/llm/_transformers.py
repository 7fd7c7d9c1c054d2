"""A local Hugging Face causal LM that scores every label (optional ``transformers``)."""

import copy
import threading

import numpy as np
import torch
from sklearn.base import BaseEstimator

from .._utils._hf import frozen_kwargs, load_model, load_tokenizer


class TransformersLM(BaseEstimator):
    """Scores each label's log-likelihood as the continuation of the prompt.

    ``score_labels(prompts, labels)`` returns, for every prompt, the summed
    log-probability of each label's tokens after ``prompt + answer_prefix``:
    a real distribution over the labels (after a softmax), with no text to
    parse. Needs ``transformers`` (``pip install 'sklearn_kcm[transformers]'``).

    Parameters
    ----------
    model : str, path-like or transformers model
        A local directory (loaded with ``local_files_only=True``: nothing is
        downloaded) or a loaded ``AutoModelForCausalLM``.
    tokenizer : str, path-like, tokenizer or None, default=None
        Defaults to ``model`` when that is a path.
    answer_prefix : str, default=" "
        Put between the prompt and each label.
    device : str, default="cpu"
        Where the model runs, e.g. ``"cuda"``.
    load_kwargs : dict, default=None
        Passed to ``from_pretrained`` (e.g. ``{"gguf_file": "model.gguf"}``).
    batch_size : int, default=16
        Prompts per call of :meth:`score_labels` that
        :class:`~sklearn_kcm.LLMClassifier` makes (its ``batch_size=None``).

    Notes
    -----
    One call of :meth:`score_labels` runs at a time per process: a forward
    pass already uses every core (or the GPU), so the threads of
    ``LLMClassifier(max_concurrency=...)`` queue instead of competing.
    The prompt and ``answer_prefix + label`` are tokenized apart and joined,
    so that no tokenizer can merge a label into the prompt's last token.
    Longer labels have more tokens and so lower likelihoods; labels of similar
    length compare best.

    Examples
    --------
    >>> from sklearn_kcm import LLMClassifier
    >>> from sklearn_kcm.llm import TransformersLM
    >>> lm = TransformersLM("path/to/local/model")  # loaded at the first call
    >>> lm.cache_key
    'transformers:path/to/local/model'
    >>> clf = LLMClassifier(lm, labels=["negative", "positive"])
    """

    def __init__(self, model, tokenizer=None, *, answer_prefix=" ", device="cpu",
                 load_kwargs=None, batch_size=16):
        self.model = model
        self.tokenizer = tokenizer
        self.answer_prefix = answer_prefix
        self.device = device
        self.load_kwargs = load_kwargs
        self.batch_size = batch_size

    @property
    def cache_key(self):
        """Name of the model in an LLM answer cache."""
        name = self.model if isinstance(self.model, str) else getattr(
            getattr(self.model, "config", None), "_name_or_path", type(self.model).__name__)
        return f"transformers:{name}"

    def _loaded(self):
        model = self.model
        if hasattr(model, "forward"):  # loaded by the caller
            model = model.to(self.device).eval()
        else:
            model = load_model(model, self.device, frozen_kwargs(self.load_kwargs))
        tokenizer = self.tokenizer if self.tokenizer is not None else self.model
        if isinstance(tokenizer, str) or hasattr(tokenizer, "__fspath__"):
            tokenizer = load_tokenizer(tokenizer, frozen_kwargs(self.load_kwargs))
        return model, tokenizer

    def __sklearn_clone__(self):
        # the same parameters, sharing a loaded model by reference: cloning an
        # adapter (every KCMEnsemble.fit does, several times) must not copy it
        return type(self)(**self.get_params(deep=False))

    def score_labels(self, prompts, labels):
        """Log-likelihood of each label after each prompt, shape (n_prompts, n_labels).

        The prompt is run once (keeping its key/value cache and only its last
        logits); each label's tokens then run on a copy of that cache, so the
        cost is one prompt pass plus a few tokens per label.

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
        with _RUN_LOCK, torch.inference_mode():
            return self._score(prompts, labels)

    def _score(self, prompts, labels):
        model, tokenizer = self._loaded()
        tails = [tokenizer(self.answer_prefix + label, add_special_tokens=False)["input_ids"]
                 for label in labels]
        scores = np.empty((len(prompts), len(labels)))
        for i, prompt in enumerate(prompts):
            head = torch.tensor([tokenizer(prompt)["input_ids"]], device=self.device)
            out = model(input_ids=head, use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            for j, tail in enumerate(tails):
                score = first[tail[0]].item()
                if len(tail) > 1:
                    rest = model(input_ids=torch.tensor([tail[:-1]], device=self.device),
                                 past_key_values=copy.deepcopy(out.past_key_values),
                                 use_cache=True)
                    log_probs = torch.log_softmax(rest.logits[0].float(), dim=-1)
                    score += log_probs[torch.arange(len(tail) - 1), tail[1:]].sum().item()
                scores[i, j] = score
        return scores


_RUN_LOCK = threading.Lock()  # one scoring call at a time (see TransformersLM's Notes)
