"""Errors of the LLM path."""


class TransientLLMError(RuntimeError):
    """A failure worth retrying: timeout, lost connection, 429 or 5xx.

    Adapters raise it (the builtin ``TimeoutError`` and ``ConnectionError`` are
    retried too); :class:`LLMClassifier` retries with exponential backoff and
    jitter, at most ``max_retries`` times.

    Parameters
    ----------
    message : str
        What failed.
    retry_after : float, default=None
        Seconds the server asked to wait (a 429's ``Retry-After``); the
        backoff waits at least that long.

    Examples
    --------
    >>> from sklearn_kcm.llm import TransientLLMError
    >>> TransientLLMError("429 Too Many Requests", retry_after=2.0).retry_after
    2.0
    """

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class LLMOutputError(ValueError):
    """The model's answer does not name exactly one of the known labels.

    Raised by :class:`LLMClassifier` with ``on_error="raise"``; ``"hint"`` and
    ``"uniform"`` handle such answers instead and count them in
    ``usage_.parse_errors``.

    Examples
    --------
    >>> from sklearn_kcm.llm import LLMOutputError
    >>> issubclass(LLMOutputError, ValueError)
    True
    """
