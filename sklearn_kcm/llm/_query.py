"""One query pipeline for every kind of LLM: distinct prompts → cache → send → check → count.

A text LLM (``llm(prompts) -> answers``) and a label-scoring adapter
(``llm.score_labels(prompts, labels) -> scores``) go through the same steps,
so both get the cache, batches, bounded concurrency, retries, fail-fast,
progress and usage counts.
"""

import json

import numpy as np

from ._cache import DiskCache
from ._calls import score_request, send_all, text_request


def query(llm, prompts, *, labels, usage, cache=None, model_key=None, batch_size=1,
          max_concurrency=8, max_retries=4, backoff=0.5, verbose=0, seed=None):
    """The answer of ``llm`` to every prompt, each distinct prompt asked once.

    Parameters
    ----------
    llm : callable or object with ``score_labels``
    prompts : list of str
    labels : list of str
        The labels a scoring adapter scores (part of its cache key).
    usage : LLMUsage
        Counts requests, retries, failures, tokens, and prompts answered from
        the cache or by an identical prompt of the same call (``cache_hits``).
    cache : str or path-like, default=None
        Directory of a :class:`DiskCache`.
    model_key : str, default=None
        The model's name in the cache (needed with ``cache``).
    batch_size, max_concurrency, max_retries, backoff, seed
        See :func:`send_all`.
    verbose : int, default=0
        Show a progress bar (tqdm, optional).

    Returns
    -------
    list
        Per prompt: the answer text (str) of a text LLM, or the row of label
        scores (ndarray of shape (n_labels,)) of a scoring adapter.
    """
    scores = hasattr(llm, "score_labels")
    if scores:
        model_key = f"{model_key}|score_labels|{json.dumps(list(labels))}"
    store = DiskCache(cache) if cache is not None else None
    distinct = list(dict.fromkeys(prompts))
    answers = {}
    for prompt in distinct:
        stored = (store.get(model_key, prompt, "scores" if scores else "text")
                  if store is not None else None)
        if stored is not None:
            answers[prompt] = np.asarray(stored, dtype=np.float64) if scores else stored
    missing = [prompt for prompt in distinct if prompt not in answers]
    usage.add(cache_hits=len(prompts) - len(missing))
    if missing:
        def keep(index, answer):
            prompt = missing[index]
            answers[prompt] = answer if scores else answer.text
            if store is not None:
                store.put(model_key, prompt, {"scores": answer.tolist()} if scores
                          else {"text": answer.text})

        bar = _progress_bar(len(missing)) if verbose else None
        try:
            send_all(score_request(llm, labels) if scores else text_request(llm), missing,
                     usage=usage, batch_size=batch_size, max_concurrency=max_concurrency,
                     max_retries=max_retries, backoff=backoff, on_answer=keep,
                     progress=None if bar is None else bar.update, seed=seed)
        finally:
            if bar is not None:
                bar.close()
    return [answers[prompt] for prompt in prompts]


def valid_scores(scores):
    """Which rows of label scores make a distribution: no NaN, no +inf, one finite at least
    (a label the model cannot produce may score -inf)."""
    scores = np.asarray(scores, dtype=np.float64)
    return ~np.isnan(scores).any(axis=1) & ~np.isposinf(scores).any(axis=1) & np.isfinite(
        scores).any(axis=1)


def _progress_bar(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - optional
        return None
    return tqdm(total=total, desc="LLM requests", unit="prompt")
