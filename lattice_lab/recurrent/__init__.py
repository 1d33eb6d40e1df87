"""One room for the recurrent view of any model: what its ``nn.RNN``/``nn.LSTM``/``nn.GRU`` layers
are, who consumes their hidden units, and how to remove units from all of them exactly.

Modules: ``view`` (trace the layers and their consumers), ``discover`` (:func:`view_of`: trace once, probe,
keep), ``removal`` (remove or
mask units on a copy: :func:`remove_units`, :func:`unit_masks`), ``methods`` (every structural
method of the registry on a model of the user's own).

Must not import: widgets, cli, compare.

Examples
--------
>>> import torch
>>> from torch import nn
>>> class Tagger(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.gru = nn.GRU(3, 6, batch_first=True)
...         self.head = nn.Linear(6, 2)
...     def forward(self, x):
...         out, _ = self.gru(x)
...         return self.head(out[:, -1])
>>> view = view_of(Tagger(), torch.zeros(1, 5, 3))
>>> [layer.name for layer in view.layers], [c.module for c in view.consumers]
(['gru.l0'], ['head'])
"""
from .discover import forget_view, view_of
from .removal import remove_units, unit_masks
from .view import Consumer, RecurrentLayer, RecurrentView, UnsupportedModelError

__all__ = ["Consumer", "RecurrentLayer", "RecurrentView", "UnsupportedModelError", "forget_view", "remove_units",
           "unit_masks", "view_of"]
