"""slt — singular learning theory on toy loss landscapes.

Write a potential K(w), get its derivatives, its exact learning coefficient where mathematics
allows, numerical estimates everywhere, and fast ensemble dynamics (GD / SGD / Langevin / SGLD).

The public names below are imported lazily, so ``import slt`` stays cheap (no Numba compilation,
never torch).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("slt-toolkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_EXPORTS = {
    "Potential": "slt.potential",
    "Prior": "slt.potential",
    "library": "slt.library",
    "ToyModel": "slt.models",
    "rlct": "slt.rlct",
    "run": "slt.dynamics",
    "estimate": "slt.estimate",
    "llc": "slt.estimate",
    "volume_scaling": "slt.estimate",
    "free_energy": "slt.estimate",
    "phases": "slt.phases",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'slt' has no attribute {name!r}")
    module = import_module(_EXPORTS[name])
    value = module if module.__name__ == f"slt.{name}" else getattr(module, name)
    globals()[name] = value
    return value
