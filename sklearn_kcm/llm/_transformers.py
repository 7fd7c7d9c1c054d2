"""A local Hugging Face causal LM that scores every label (optional ``transformers``)."""

import numpy as np
import torch
from sklearn.base import BaseEstimator


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
    load_kwargs : dict, default=None
        Passed to ``from_pretrained`` (e.g. ``{"gguf_file": "model.gguf"}``).

    Notes
    -----
    The prompt and ``answer_prefix + label`` are tokenized apart and joined,
    so that no tokenizer can merge a label into the prompt's last token.
    Longer labels have more tokens and so lower likelihoods; labels of similar
    length compare best.
    """

    def __init__(self, model, tokenizer=None, *, answer_prefix=" ", device="cpu",
                 load_kwargs=None):
        self.model = model
        self.tokenizer = tokenizer
        self.answer_prefix = answer_prefix
        self.device = device
        self.load_kwargs = load_kwargs

    @property
    def cache_key(self):
        name = self.model if isinstance(self.model, str) else getattr(
            getattr(self.model, "config", None), "_name_or_path", type(self.model).__name__)
        return f"transformers:{name}"

    def _loaded(self):
        if "_pair" not in self.__dict__:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            kwargs = {"local_files_only": True, **(self.load_kwargs or {})}
            model = self.model
            if not hasattr(model, "forward"):
                model = AutoModelForCausalLM.from_pretrained(model, **kwargs)
            tokenizer = self.tokenizer if self.tokenizer is not None else self.model
            if isinstance(tokenizer, str) or hasattr(tokenizer, "__fspath__"):
                tokenizer = AutoTokenizer.from_pretrained(tokenizer, **kwargs)
            self.__dict__["_pair"] = (model.to(self.device).eval(), tokenizer)
        return self.__dict__["_pair"]

    @torch.inference_mode()
    def score_labels(self, prompts, labels):
        """Log-likelihood of each label after each prompt, shape (n_prompts, n_labels)."""
        model, tokenizer = self._loaded()
        scores = np.empty((len(prompts), len(labels)))
        tails = [tokenizer(self.answer_prefix + label, add_special_tokens=False)["input_ids"]
                 for label in labels]
        for i, prompt in enumerate(prompts):
            head = tokenizer(prompt)["input_ids"]
            rows = [head + tail for tail in tails]
            width = max(len(row) for row in rows)
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows],
                               device=self.device)
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows],
                                device=self.device)
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
            for j, row in enumerate(rows):
                positions = torch.arange(len(head) - 1, len(row) - 1, device=self.device)
                targets = torch.tensor(row[len(head):], dtype=torch.long, device=self.device)
                scores[i, j] = log_probs[j, positions, targets].sum().item()
        return scores

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_pair", None)
        return state
