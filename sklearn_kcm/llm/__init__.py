"""LLMs as the large model: LLMClassifier and its adapters.

Knows nothing of routing: an LLMClassifier meets KCMEnsemble only through
scikit-learn's metadata routing of ``hint``.
"""

from .._utils._lazy import lazy_names
from ._cache import DiskCache
from ._calls import Completion, LLMUsage
from ._classifier import LLMClassifier
from ._errors import LLMOutputError, TransientLLMError
from ._llama_cpp import LlamaCppLM
from ._openai import OpenAIChat
from ._prompts import DEFAULT_HINT_PROMPT, DEFAULT_PROMPT

# torch is imported when the local-model adapter is first named
__getattr__, __dir__ = lazy_names(__name__, {"TransformersLM": "._transformers"})

__all__ = [
    "DEFAULT_HINT_PROMPT",
    "DEFAULT_PROMPT",
    "Completion",
    "DiskCache",
    "LLMClassifier",
    "LlamaCppLM",
    "LLMOutputError",
    "LLMUsage",
    "OpenAIChat",
    "TransformersLM",
    "TransientLLMError",
]
