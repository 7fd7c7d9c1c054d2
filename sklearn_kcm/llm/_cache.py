"""An on-disk cache of LLM answers, safe for several processes.

One file per answer, named by the SHA-256 of (model, prompt), written to a
temporary file and moved into place with ``os.replace`` (atomic on POSIX and
Windows): readers never see half a file, two processes writing the same key
both leave a whole one, and a crash loses nothing already stored. Only the
answer is stored: no prompt, no key, no header. A file that does not hold
an answer (cut short, overwritten, edited by hand) is a miss: the prompt is
asked again and the file rewritten, with one warning naming it.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .._utils._warnings import warn


class DiskCache:
    """Directory of cached answers.

    Parameters
    ----------
    directory : str or path-like
        Made if missing; a leading ``~`` is the user's home directory.

    Examples
    --------
    >>> import tempfile
    >>> cache = DiskCache(tempfile.mkdtemp())
    >>> cache.put("model", "prompt", {"text": "pos"})
    >>> cache.get("model", "prompt", "text")
    'pos'
    """

    def __init__(self, directory):
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, model, prompt):
        digest = hashlib.sha256(json.dumps([model, prompt]).encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, model, prompt, field):
        """Read the stored answer of ``model`` to ``prompt``.

        Parameters
        ----------
        model : str
            The model's cache key.
        prompt : str
            The prompt.
        field : {"text", "scores"}
            What the answer holds: a text, or a list of label scores.

        Returns
        -------
        str, list or None
            The answer's ``field``, or None when none is stored or the file
            does not hold one (it is then rewritten by the next :meth:`put`).
        """
        path = self._path(model, prompt)
        try:
            answer = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = None
        value = answer.get(field) if isinstance(answer, dict) else None
        if field == "text" and isinstance(value, str) or field == "scores" and isinstance(
                value, list) and all(isinstance(v, (int, float)) for v in value):
            return value
        warn(f"The LLM cache file {path} does not hold an answer ({field!r} missing or "
             "unreadable); the prompt is asked again and the file rewritten.")
        return None

    def put(self, model, prompt, answer):
        """Store ``answer`` (a JSON-serialisable dict) atomically.

        Parameters
        ----------
        model : str
            The model's cache key.
        prompt : str
            The prompt.
        answer : dict
            What to store.
        """
        path = self._path(model, prompt)
        path.parent.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(answer, file)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
