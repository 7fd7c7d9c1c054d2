"""Plain torch modules: the KAN layer, the KAN stack and an MLP. No sklearn here."""

from ._basis import bspline_basis
from ._functional import kan_features, kan_linear
from ._kan import KAN, KANLinear
from ._mlp import MLP

__all__ = ["KAN", "MLP", "KANLinear", "bspline_basis", "kan_features", "kan_linear"]
