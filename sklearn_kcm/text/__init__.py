"""Text models: a pretrained encoder fine-tuned as a classifier (optional ``transformers``)."""

from ._classifier import TransformerClassifier

__all__ = ["TransformerClassifier"]
