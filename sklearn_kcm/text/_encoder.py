"""A pretrained BERT-style encoder cut in two: a frozen bottom and a trainable top.

Fine-tuning every layer of even a small encoder is slow on a CPU. Training
only the top layers costs one pass of the frozen bottom per text, once: its
outputs (token vectors) are computed in ``fit`` and reused by every epoch,
and the top layers, a mean pooling over the tokens and a linear head are the
module that skorch trains.

Works with encoders that keep their embeddings in ``.embeddings`` and their
layers in ``.encoder.layer`` (BERT, MiniLM, RoBERTa, ELECTRA...).
"""

import copy

import torch
from torch import nn


def encoder_layers(model):
    """The layers of a BERT-style encoder, or a ValueError naming what is supported."""
    try:
        return model.encoder.layer
    except AttributeError:
        raise ValueError(
            f"{type(model).__name__} is not a BERT-style encoder (no .encoder.layer): "
            "TransformerClassifier fine-tunes encoders such as BERT, MiniLM or RoBERTa, "
            "loaded with transformers.AutoModel."
        ) from None


def additive_mask(mask, dtype):
    """Attention mask of shape (batch, 1, 1, tokens): 0 on tokens, the lowest value on padding."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers, hidden, mask):
    """Apply encoder ``layers`` to token vectors ``hidden`` given the 0/1 ``mask``."""
    attention = additive_mask(mask, hidden.dtype)
    for layer in layers:
        out = layer(hidden, attention_mask=attention)
        hidden = out[0] if isinstance(out, tuple) else out  # transformers 4 returns tuples
    return hidden


@torch.inference_mode()
def frozen_bottom(model, n_frozen, input_ids, attention_mask, token_type_ids=None):
    """Token vectors after the embeddings and the first ``n_frozen`` layers."""
    hidden = model.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
    return run_layers(encoder_layers(model)[:n_frozen], hidden, attention_mask)


class EncoderTop(nn.Module):
    """Trainable copies of an encoder's top layers, mean pooling and a linear head.

    Parameters
    ----------
    layers : sequence of nn.Module
        The pretrained top layers (copied).
    hidden_size : int
    n_classes : int
    dropout : float
    generator : torch.Generator
        Draws the head's initial weights.
    """

    def __init__(self, layers, hidden_size, n_classes, dropout, generator):
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_classes)
        with torch.no_grad():
            self.head.weight.normal_(0.0, 0.02, generator=generator)
            self.head.bias.zero_()

    def forward(self, hidden, mask):
        # padding is on the right: a batch needs no more tokens than its longest text
        n_tokens = int(mask.sum(dim=1).max())
        hidden, mask = hidden[:, :n_tokens], mask[:, :n_tokens]
        hidden = run_layers(self.layers, hidden, mask)
        weight = mask.to(hidden.dtype).unsqueeze(-1)
        pooled = (hidden * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled))
