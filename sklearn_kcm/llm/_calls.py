"""Sending prompts: checked requests, batches, bounded concurrency, retries with backoff
and jitter, usage counts."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from .._utils._counters import Counters
from ._errors import TransientLLMError

RETRYABLE = (TransientLLMError, TimeoutError, ConnectionError)
MAX_BACKOFF = 30.0


@dataclass
class Completion:
    """One answer of a model, with the token counts its server reported.

    Parameters
    ----------
    text : str
        The answer.
    prompt_tokens : int, default=0
        Tokens of the prompt, as the server counted them.
    completion_tokens : int, default=0
        Tokens of the answer.

    Examples
    --------
    >>> from sklearn_kcm.llm import Completion
    >>> Completion("positive", prompt_tokens=42, completion_tokens=1).text
    'positive'
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMUsage(Counters):
    """What an :class:`LLMClassifier` has spent: calls, cache hits, retries, failures, tokens.

    ``calls`` counts requests sent (retries included; a request carries
    ``batch_size`` prompts), ``cache_hits`` prompts answered without a request
    (from the cache, or by an identical prompt of the same call), ``failures``
    requests that failed for good, ``parse_errors`` answers that named no
    single label, or label scores that make no distribution (handled by
    ``on_error``).

    Examples
    --------
    >>> from sklearn_kcm.llm import LLMUsage
    >>> usage = LLMUsage()
    >>> usage.add(calls=2, cache_hits=1)
    >>> usage.summary()["calls"]
    2
    """

    NAMES = ("calls", "cache_hits", "retries", "failures", "parse_errors",
             "prompt_tokens", "completion_tokens")

    def summary(self):
        """The counters as a dict.

        Returns
        -------
        dict
            Counter name to value.
        """
        return self.counts()


def as_completion(answer):
    """A callable's answer (str or object with ``.text``) as a Completion."""
    if isinstance(answer, Completion):
        return answer
    if isinstance(answer, str):
        return Completion(answer)
    text = getattr(answer, "text", None)
    if not isinstance(text, str):
        raise TypeError(
            f"The LLM returned {type(answer).__name__}; it must return a list of str "
            "(or of objects with a `.text` str), one per prompt."
        )
    return Completion(text, getattr(answer, "prompt_tokens", 0),
                      getattr(answer, "completion_tokens", 0))


def _count(answers):
    if isinstance(answers, str):
        return "a bare string"
    return f"{len(answers)} answers" if hasattr(answers, "__len__") else repr(answers)


def text_request(llm):
    """``request(prompts) -> [Completion]`` of a text LLM, its answers checked."""
    def request(prompts):
        answers = llm(prompts)
        if isinstance(answers, str) or not hasattr(answers, "__len__") or (
                len(answers) != len(prompts)):
            raise ValueError(
                f"The LLM returned {_count(answers)} for {len(prompts)} prompt(s); it must "
                "return a list with one answer per prompt it is given."
            )
        return [as_completion(answer) for answer in answers]

    return request


def score_request(llm, labels):
    """``request(prompts) -> [scores]`` of a label-scoring adapter (``score_labels``),
    its answer's shape checked: one row of ``len(labels)`` numbers per prompt."""
    def request(prompts):
        scores = np.asarray(llm.score_labels(prompts, labels), dtype=np.float64)
        if scores.shape != (len(prompts), len(labels)):
            raise ValueError(
                f"{type(llm).__name__}.score_labels returned an array of shape {scores.shape} "
                f"for {len(prompts)} prompt(s) and {len(labels)} labels; it must return "
                "one row per prompt and one column per label, in the order given."
            )
        return list(scores)

    return request


def send_all(request, prompts, *, usage, batch_size=1, max_concurrency=8, max_retries=4,
             backoff=0.5, on_answer=None, progress=None, seed=None):
    """Ask every prompt, ``batch_size`` per request, at most ``max_concurrency`` in flight.

    Parameters
    ----------
    request : callable
        ``request(list of prompts) -> list of answers``, one per prompt, checked
        (see :func:`text_request` and :func:`score_request`).
    prompts : list of str
    usage : LLMUsage
    batch_size : int, default=1
        Prompts per request.
    max_concurrency : int, default=8
    max_retries : int, default=4
        Retries of a request that raised a :data:`RETRYABLE` error, waiting
        ``backoff * 2**attempt`` seconds times a random factor in [0.5, 1.5)
        (or the server's ``retry_after``), capped at 30 s.
    backoff : float, default=0.5
    on_answer : callable, default=None
        ``on_answer(index, answer)`` as soon as each answer arrives
        (used to store it in the cache before the others finish).
    progress : callable, default=None
        Called with the number of prompts of each finished request.
    seed : int, default=None
        Seeds the jitter.

    Returns
    -------
    list of answers, in the order of ``prompts``.

    Notes
    -----
    The first request that fails for good (retries spent, or an error that is
    not retryable), or an interrupt (Ctrl-C), stops the rest: requests not yet
    sent are cancelled and those waiting to retry give up, so a dead server
    costs one request's retries, not every prompt's. Answers that arrived
    before have been handed to ``on_answer`` (the cache keeps them).
    """
    jitter = random.Random(seed)
    stop = threading.Event()
    batches = [range(start, min(start + batch_size, len(prompts)))
               for start in range(0, len(prompts), batch_size)]

    def ask(batch):
        for attempt in range(max_retries + 1):
            if stop.is_set():
                raise _Stopped()
            usage.add(calls=1)
            try:
                answers = request([prompts[i] for i in batch])
                break
            except RETRYABLE as error:
                if attempt == max_retries:
                    usage.add(failures=1)
                    raise
                usage.add(retries=1)
                delay = getattr(error, "retry_after", None)
                if delay is None:
                    delay = backoff * 2 ** attempt * (0.5 + jitter.random())
                time.sleep(min(delay, MAX_BACKOFF))
        for index, answer in zip(batch, answers):
            usage.add(prompt_tokens=getattr(answer, "prompt_tokens", 0),
                      completion_tokens=getattr(answer, "completion_tokens", 0))
            if on_answer is not None:
                on_answer(index, answer)
        return answers

    results = [None] * len(prompts)
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(batches) or 1)))
    futures = {pool.submit(ask, batch): batch for batch in batches}
    try:
        for future in as_completed(futures):
            for index, answer in zip(futures[future], future.result()):
                results[index] = answer
            if progress is not None:
                progress(len(futures[future]))
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


class _Stopped(Exception):
    """A prompt given up because another one failed for good."""
