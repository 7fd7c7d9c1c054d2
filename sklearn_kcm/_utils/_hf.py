"""Local Hugging Face models and tokenizers, loaded once per process (optional ``transformers``).

Every adapter or estimator (and each of its clones) that names the same path
shares one loaded copy. Nothing is downloaded: ``local_files_only=True``. The
lock makes threads that ask at the same time wait for one load instead of
loading twice.
"""

import functools
import threading

_LOAD_LOCK = threading.Lock()
AUTO_CLASSES = {"causal_lm": "AutoModelForCausalLM", "encoder": "AutoModel"}


def frozen_kwargs(load_kwargs):
    """``load_kwargs`` as a hashable key."""
    return tuple(sorted((load_kwargs or {}).items()))


def transformers_module(owner):
    """The ``transformers`` package, or an ImportError that says how to install it."""
    try:
        import transformers
    except ImportError as error:
        raise ImportError(
            f"{owner} needs the transformers package: pip install "
            "'sklearn_kcm[transformers]' (or pass a loaded model and tokenizer)."
        ) from error
    return transformers


def load_model(path, device, load_kwargs, kind="causal_lm", owner="TransformersLM"):
    """The model at ``path`` (``kind``: a key of :data:`AUTO_CLASSES`), in eval mode.

    ``owner`` names the estimator in the error raised without ``transformers``.
    """
    transformers_module(owner)
    with _LOAD_LOCK:
        return _load_model_once(str(path), device, load_kwargs, kind)


def load_tokenizer(path, load_kwargs, owner="TransformersLM"):
    """The tokenizer at ``path`` (``owner``: as in :func:`load_model`)."""
    transformers_module(owner)
    with _LOAD_LOCK:
        return _load_tokenizer_once(str(path), load_kwargs)


@functools.lru_cache(maxsize=4)
def _load_model_once(path, device, load_kwargs, kind):
    import transformers

    kwargs = {"local_files_only": True, **dict(load_kwargs)}
    auto = getattr(transformers, AUTO_CLASSES[kind])
    return auto.from_pretrained(path, **kwargs).to(device).eval()


@functools.lru_cache(maxsize=4)
def _load_tokenizer_once(path, load_kwargs):
    import transformers

    kwargs = {"local_files_only": True, **dict(load_kwargs)}
    return transformers.AutoTokenizer.from_pretrained(path, **kwargs)
