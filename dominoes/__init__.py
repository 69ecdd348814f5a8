"""dominoes — MNIST-CIFAR dominoes: controlled data, real training, per-pattern learning curves,
sweeps, and the bridge that compares measured curves with toy pattern-learning theory from ``slt``."""

from slt import __version__

__all__ = ["__version__"]
