"""sklearn_kcm: KAN-judged collaboration of a cheap and an expensive model.

A small KAN judge scores how hard each input is; easy inputs are answered by a
cheap small model, hard ones by a large model that gets the small model's answer
as a hint, and the large model's soft outputs are distilled back into the small
one (the KCM method).
"""

from ._blocks import predict_blocks
from ._display import RoutingCurveDisplay
from ._ensemble import KCMEnsemble
from ._kan_classifier import KANClassifier, KANJudgeClassifier, MLPJudgeClassifier
from ._ledger import CostLedger
from ._routing import gap_recovered, oracle_routing_curve, routing_curve
from ._scoring import make_budget_scorer, make_cost_scorer, neg_large_share
from ._tuning import tune_epsilon
from .llm import LLMClassifier
from .retrieval import KCMRetriever

__version__ = "0.1.0"

__all__ = [
    "CostLedger",
    "KANClassifier",
    "KANJudgeClassifier",
    "KCMEnsemble",
    "KCMRetriever",
    "LLMClassifier",
    "MLPJudgeClassifier",
    "RoutingCurveDisplay",
    "make_budget_scorer",
    "gap_recovered",
    "make_cost_scorer",
    "neg_large_share",
    "oracle_routing_curve",
    "predict_blocks",
    "routing_curve",
    "tune_epsilon",
]
