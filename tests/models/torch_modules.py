"""PyTorch modules at the top level of an importable module, as the pytorch flavor needs them."""

from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """A two-layer perceptron whose sizes come from keyword arguments (``init_kwargs``)."""

    def __init__(self, n_in: int = 3, hidden: int = 4, n_out: int = 2) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))
