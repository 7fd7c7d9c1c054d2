"""sklearn_kcm: KAN-judged collaboration of a cheap and an expensive model.

A small KAN judge scores how hard each input is; easy inputs are answered by a
cheap small model, hard ones by a large model that gets the small model's answer
as a hint, and the large model's soft outputs are distilled back into the small
one (the KCM method).
"""

from ._ensemble._cascade import KCMCascade
from ._ensemble._distiller import Distillation
from ._ensemble._ensemble import KCMEnsemble
from ._model_selection._display import MemberShareDisplay, RoutingCurveDisplay
from ._model_selection._scoring import make_budget_scorer, make_cost_scorer, neg_large_share
from ._model_selection._tuning import tune_epsilon
from ._routing._budgets import AccuracyTarget, LargeShare
from ._routing._curves import gap_recovered, oracle_routing_curve, routing_curve
from ._routing._judge import Judge
from ._routing._ledger import CostLedger
from ._show_versions import show_versions
from ._utils._dask import predict_blocks
from ._utils._lazy import lazy_names
from .llm import LLMClassifier
from .retrieval import KCMRetriever

__version__ = "0.1.0"

# the torch estimators: torch is imported when one of them is first named
__getattr__, __dir__ = lazy_names(__name__, {
    "KANClassifier": "._torch._kan",
    "KANJudgeClassifier": "._torch._judges",
    "MLPJudgeClassifier": "._torch._judges",
})

__all__ = [
    "AccuracyTarget",
    "CostLedger",
    "Distillation",
    "Judge",
    "KANClassifier",
    "KANJudgeClassifier",
    "KCMCascade",
    "KCMEnsemble",
    "KCMRetriever",
    "LLMClassifier",
    "LargeShare",
    "MLPJudgeClassifier",
    "MemberShareDisplay",
    "RoutingCurveDisplay",
    "gap_recovered",
    "make_budget_scorer",
    "make_cost_scorer",
    "neg_large_share",
    "oracle_routing_curve",
    "predict_blocks",
    "routing_curve",
    "show_versions",
    "tune_epsilon",
]
