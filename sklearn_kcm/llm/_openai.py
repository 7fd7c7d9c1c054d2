"""An OpenAI-compatible chat adapter (OpenAI, vLLM, Ollama, llama.cpp server...)."""

import hashlib
import json
import os
import threading
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from sklearn.base import BaseEstimator

from ._calls import Completion
from ._errors import TransientLLMError


class OpenAIChat(BaseEstimator):
    """Chat-completions client for any OpenAI-compatible server.

    Needs the ``openai`` package (``pip install 'sklearn_kcm[llm]'``). The API
    key is read from the environment variable ``api_key_env`` when a request
    is made; it is never an attribute, a parameter, part of the repr, of a
    pickle or of the cache. The underlying client lives in a per-thread slot
    that pickling and cloning drop, so a copy sent to another process or
    worker reconnects there. The client's own retries are off: timeouts,
    connection errors, 429 and 5xx are raised as
    :class:`~sklearn_kcm.llm.TransientLLMError` for :class:`LLMClassifier` to
    retry with its backoff, and so is a reply of status 200 that is no chat
    completion (a body that is not JSON, an HTML error page of a proxy, no
    ``choices``): the error names the server and the body's first bytes.

    Parameters
    ----------
    model : str
        Model name on the server.
    base_url : str, default=None
        The server, e.g. ``"http://localhost:8000/v1"`` for vLLM; None means
        OpenAI's.
    api_key_env : str, default="OPENAI_API_KEY"
        Environment variable holding the key. Local servers that need none
        accept any value; an unset variable then sends ``"none"``.
    timeout : float, default=30.0
        Seconds per request.
    temperature : float, default=0.0
        Sampling temperature; 0 for the most likely answer.
    max_tokens : int, default=16
        Labels are short; this bounds the cost of a rambling answer.
    system_prompt : str, default=None
        A system message sent before each prompt.

    Examples
    --------
    >>> from sklearn_kcm.llm import OpenAIChat
    >>> OpenAIChat("gpt-4o-mini", base_url="http://localhost:8000/v1").cache_key
    'openai:gpt-4o-mini@http://localhost:8000/v1'
    """

    # one HTTP request a prompt: LLMClassifier sends them max_concurrency at a time
    batch_size = 1

    def __init__(self, model, *, base_url=None, api_key_env="OPENAI_API_KEY", timeout=30.0,
                 temperature=0.0, max_tokens=16, system_prompt=None):
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt

    @property
    def cache_key(self):
        """Identifies the model and what shapes its answers in cache keys (no secret in it).

        The server, the model, and the generation settings that differ from the
        defaults (temperature, max_tokens, a digest of the system prompt).
        """
        key = f"openai:{self.model}@{self.base_url or 'default'}"
        settings = []
        if self.temperature != 0.0:
            settings.append(f"temperature={self.temperature:g}")
        if self.max_tokens != 16:
            settings.append(f"max_tokens={self.max_tokens}")
        if self.system_prompt:
            digest = hashlib.sha256(self.system_prompt.encode()).hexdigest()[:12]
            settings.append(f"system={digest}")
        return key + ("?" + "&".join(settings) if settings else "")

    def _client(self):
        try:
            import openai
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("OpenAIChat needs the openai package: "
                              "pip install 'sklearn_kcm[llm]'.") from error
        key = os.environ.get(self.api_key_env)
        if key is None and self.base_url is None:
            raise RuntimeError(
                f"The environment variable {self.api_key_env} is not set; export the API "
                "key there (it is read at call time and never stored)."
            )
        local = self.__dict__.setdefault("_local", threading.local())
        if getattr(local, "key", None) != key or not hasattr(local, "client"):
            local.client = openai.OpenAI(api_key=key or "none", base_url=self.base_url,
                                         timeout=self.timeout, max_retries=0)
            local.key = key
        return openai, local.client

    def __call__(self, prompts):
        """Answer each prompt; a list of :class:`Completion`."""
        return [self._complete(prompt) for prompt in prompts]

    def _complete(self, prompt):
        openai, client = self._client()
        messages = [{"role": "user", "content": prompt}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        try:
            response = client.chat.completions.create(
                model=self.model, messages=messages, temperature=self.temperature,
                max_tokens=self.max_tokens,
            )
        except (openai.APITimeoutError, openai.APIConnectionError) as error:
            raise TransientLLMError(f"{type(error).__name__}: {error}") from error
        except openai.APIStatusError as error:
            if error.status_code == 429 or error.status_code >= 500:
                raise TransientLLMError(
                    f"HTTP {error.status_code} from {self.cache_key}",
                    retry_after=seconds_to_wait(error.response.headers.get("retry-after")),
                ) from error
            raise
        except json.JSONDecodeError as error:  # declared JSON, and is not
            raise self._malformed("a body that is not JSON", error.doc) from error
        choices = getattr(response, "choices", None)
        if not choices:  # the client hands back a body it cannot read as it is (e.g. HTML)
            if isinstance(response, str):
                raise self._malformed("a body that is not JSON", response)
            raise self._malformed("no `choices`", _as_json(response))
        usage = getattr(response, "usage", None)
        return Completion(
            choices[0].message.content or "",
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
        )

    def _malformed(self, what, body):
        return TransientLLMError(
            f"The server at {self.base_url or 'the OpenAI API'} answered a chat completion "
            f"request with {what}; its body starts {str(body)[:120]!r}. A proxy or the wrong "
            "base_url answers there, or the server failed: check base_url (it ends in /v1 "
            "for most servers).")

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_local", None)
        return state


def _as_json(response):
    dump = getattr(response, "model_dump_json", None)
    return dump() if dump is not None else repr(response)


def seconds_to_wait(retry_after):
    """A ``Retry-After`` header in seconds: a number or an HTTP date (RFC 9110).

    None when absent or unreadable, so that the retry policy's own backoff
    applies; a date in the past means no wait.

    Examples
    --------
    >>> seconds_to_wait("2.5"), seconds_to_wait("Wed, 21 Oct 2015 07:28:00 GMT")
    (2.5, 0.0)
    >>> seconds_to_wait("soon") is None
    True
    """
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is in GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
