"""Networks for 3×64×32 dominoes: an MLP, a small CNN and a small ResNet.

All three map a float batch ``x`` of shape (B, 3, 64, 32) with values in [0, 1] to logits of shape
(B, n_classes). :func:`build_net` makes one from a name, and its initial weights are a pure function
of ``seed`` (the global torch RNG is left untouched).

* ``"mlp"`` — flatten (6144 inputs), ``depth`` hidden layers of ``width`` ReLU units, linear read-out.
* ``"cnn"`` — the small CNN of pattern-learning sweeps: one 5×5 convolution with ``width`` channels, ReLU,
  4×4 max-pooling (to 16×8), then two linear layers (``hidden`` ReLU units, then the logits).
* ``"resnet"`` — ResNet-8 style (He et al. 2016, "Deep residual learning for image recognition"): a 3×3 stem,
  three stages of ``depth`` basic blocks (two 3×3 convolutions and an identity or 1×1 projection shortcut)
  with ``width``, 2·``width``, 4·``width`` channels and strides 1, 2, 2, global average pooling, linear
  read-out. ``depth=1`` gives 8 weight layers. GroupNorm instead of BatchNorm (Wu & He 2018): the output of an
  example does not depend on the rest of its batch, so evaluation on a split is batch-independent, and the
  network has no running-statistics buffers, which lets :mod:`dominoes.ensemble` vmap it.
"""

from __future__ import annotations

import torch
from torch import nn

from dominoes.dataset import IMAGE_SHAPE

NETS = ("mlp", "cnn", "resnet")
# default width / depth per network (depth of the CNN is fixed: one conv layer)
DEFAULTS = {"mlp": (256, 2), "cnn": (32, 1), "resnet": (16, 1)}
_INPUTS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]


class MLP(nn.Module):
    def __init__(self, n_classes: int, width: int = 256, depth: int = 2):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        fan_in = _INPUTS
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        layers.append(nn.Linear(fan_in, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class SmallCNN(nn.Module):
    POOL = 4

    def __init__(self, n_classes: int, width: int = 32, hidden: int = 128):
        super().__init__()
        self.conv = nn.Conv2d(IMAGE_SHAPE[0], width, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(self.POOL)
        pooled = (IMAGE_SHAPE[1] // self.POOL) * (IMAGE_SHAPE[2] // self.POOL)
        self.fc1 = nn.Linear(width * pooled, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.conv(x)))
        return self.fc2(torch.relu(self.fc1(h.flatten(start_dim=-3))))


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.norm1 = _norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.norm2 = _norm(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), _norm(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.norm1(self.conv1(x)))
        return torch.relu(self.norm2(self.conv2(h)) + self.shortcut(x))


class SmallResNet(nn.Module):
    def __init__(self, n_classes: int, width: int = 16, depth: int = 1):
        super().__init__()
        stem_conv = nn.Conv2d(IMAGE_SHAPE[0], width, 3, padding=1, bias=False)
        self.stem = nn.Sequential(stem_conv, _norm(width), nn.ReLU())
        blocks: list[nn.Module] = []
        c_in = width
        for stage, stride in enumerate((1, 2, 2)):
            c_out = width * 2**stage
            for b in range(depth):
                blocks.append(BasicBlock(c_in, c_out, stride if b == 0 else 1))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))
        return self.head(h.mean(dim=(-2, -1)))


def build_net(name: str, n_classes: int, *, width: int | None = None, depth: int | None = None,
              seed: int = 0) -> nn.Module:
    """A network by name (``"mlp"``, ``"cnn"``, ``"resnet"``), initialised deterministically from ``seed``.

    ``width``: hidden units (mlp) or channels of the first convolution (cnn, resnet); ``depth``: hidden layers
    (mlp) or blocks per stage (resnet); the CNN has one convolution, so ``depth`` must be 1 or None there.
    The same (name, n_classes, width, depth, seed) always gives the same weights.
    """
    if name not in NETS:
        raise ValueError(f"unknown net {name!r}; choose one of {', '.join(NETS)}")
    if int(n_classes) < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    w0, d0 = DEFAULTS[name]
    width = w0 if width is None else int(width)
    depth = d0 if depth is None else int(depth)
    if width < 1 or depth < 1:
        raise ValueError(f"width and depth must be positive, got width={width}, depth={depth}")
    if name == "cnn" and depth != 1:
        raise ValueError(f"the small CNN has exactly one convolution layer; depth={depth} is not supported")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "mlp":
            return MLP(n_classes, width, depth)
        if name == "cnn":
            return SmallCNN(n_classes, width)
        return SmallResNet(n_classes, width, depth)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
