"""Test support shared by the test suite and the benchmarks; not part of the API.

- :class:`ChatServer`: a real OpenAI-compatible HTTP server on loopback;
- :class:`ReferenceKANLinear`, :func:`cox_de_boor`: the textbook KAN layer and
  B-spline recursion our closed forms are checked and timed against;
- :class:`CountingClassifier`, :class:`HintedClassifier`: large models that
  record every call; :class:`RecordingClassifier`, a model that keeps its
  training data; :func:`fast_judge`, a KAN judge that trains in a blink.
"""

from ._chat_server import ChatServer, keyword_answer
from ._doubles import CountingClassifier, HintedClassifier, RecordingClassifier, fast_judge
from ._reference_kan import ReferenceKANLinear, cox_de_boor, uniform_knots

__all__ = [
    "ChatServer",
    "CountingClassifier",
    "HintedClassifier",
    "RecordingClassifier",
    "ReferenceKANLinear",
    "cox_de_boor",
    "fast_judge",
    "keyword_answer",
    "uniform_knots",
]
