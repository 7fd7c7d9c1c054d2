"""Errors of the LLM path."""


class TransientLLMError(RuntimeError):
    """A failure worth retrying: timeout, lost connection, 429 or 5xx.

    Adapters raise it (the builtin ``TimeoutError`` and ``ConnectionError`` are
    retried too); :class:`LLMClassifier` retries with exponential backoff and
    jitter, at most ``max_retries`` times.
    """

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class LLMOutputError(ValueError):
    """The model's answer does not name exactly one of the known labels."""
