"""Retrieval: queries routed between a cheap and an expensive retriever (KCM).

Retrievers rank the documents of a fixed corpus for each query, as
classifiers whose classes are the documents: ``decision_function`` scores them,
``predict`` is the best one, ``score`` is Recall@1.
"""

from ._base import make_recall_scorer
from ._kcm import KCMRetriever
from ._retrievers import EncoderRetriever, TfidfRetriever
from ._scores import recall_at_k

__all__ = [
    "EncoderRetriever",
    "KCMRetriever",
    "TfidfRetriever",
    "make_recall_scorer",
    "recall_at_k",
]
