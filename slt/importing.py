"""Import a generated source file as a module (how cached Numba code is reused across processes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_path(name: str, path: str | Path) -> ModuleType:
    """Import the file at ``path`` as module ``name`` (registered in ``sys.modules``; removed on failure).

    Numba can cache only functions defined in real files, so generated code is written to the disk cache
    and imported from there rather than ``exec``-ed.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {name!r} from {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
