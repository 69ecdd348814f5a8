"""The shared style of the ``slt`` and ``dominoes`` command lines.

We use the standard library's argparse: no dependency, sub-commands, and ``--help`` for free. Each
command is a module in a ``cli`` package with ``register(subparsers)``; the package discovers its
modules, so adding a command never touches a shared list.

Conventions every command follows:

* ``--json`` prints one JSON document on stdout and nothing else there (progress goes to stderr);
* bad input raises ``ValueError`` (or ``FileNotFoundError``) in the Python API; the CLI turns it
  into one line ``<prog>: error: <message>`` on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import sys
from fractions import Fraction
from importlib import import_module
from pathlib import Path

import numpy as np

from slt import __version__

USER_ERRORS = (ValueError, FileNotFoundError, KeyError, TypeError, ArithmeticError)


def build_parser(prog: str, description: str, package: str) -> argparse.ArgumentParser:
    """A parser with ``--version`` and one sub-command per module of ``package``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"{prog} (slt-toolkit) {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    pkg = import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        import_module(f"{package}.{info.name}").register(subparsers)
    return parser


def run_main(parser: argparse.ArgumentParser, argv=None) -> int:
    """Parse, dispatch to the command's ``func(args)``, and map user errors to exit status 2."""
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _default(obj):
    if isinstance(obj, Fraction):
        return f"{obj.numerator}/{obj.denominator}" if obj.denominator != 1 else str(obj.numerator)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def print_json(obj) -> None:
    """Print ``obj`` as strict JSON (Fractions as exact strings, numpy scalars and arrays as numbers,
    NaN and ±inf as null, which strict parsers require)."""
    json.dump(_finite(json.loads(json.dumps(obj, default=_default, allow_nan=True))), sys.stdout, indent=2,
              allow_nan=False)
    sys.stdout.write("\n")


def _finite(obj):
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def parse_assignments(text: str | None, what: str = "point") -> dict[str, str]:
    """Parse ``"x=1,y=3/10"`` into ``{"x": "1", "y": "3/10"}`` (values stay text; callers convert)."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(
                f"bad {what} {text!r}: expected name=value pairs separated by commas, e.g. x=1,y=0"
            )
        if name in out:
            raise ValueError(f"bad {what} {text!r}: {name!r} is given twice")
        out[name] = value
    return out


def parse_number(text: str, what: str) -> Fraction:
    """An exact rational from ``"3/10"``, ``"0.3"`` or ``"2"``; a clear error otherwise."""
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{what} must be a number such as 1, 0.3 or 3/10, got {text!r}") from None


def parse_float(text: str, what: str) -> float:
    """:func:`parse_number` as a float, refusing numbers beyond the float range."""
    value = parse_number(text, what)
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{what} = {text} is beyond the range of a float") from None


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


def check_output_path(path, what: str = "output file", suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> Path:
    """Check, before any work is done, that a picture can be written at ``path``; return it as a Path.

    Refuses an empty name, a folder, a name without one of ``suffixes`` (matplotlib would silently add
    ``.png`` and write somewhere else), and a parent that exists but is not a folder. Missing parent
    folders are fine: :func:`save_figure` creates them.
    """
    if path is None or not str(path).strip():
        raise ValueError(f"{what}: empty file name")
    out = Path(path).expanduser()
    if str(path).endswith(("/", "\\")) or out.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder; give a file name such as {out / 'figure.png'}")
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{what} {str(path)!r} needs one of the extensions {', '.join(suffixes)}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{what} {str(path)!r}: {parent} is not a folder")
            break
    return out


def save_figure(fig, path, what: str = "output file", **kwargs) -> Path:
    """``fig.savefig(path)`` after :func:`check_output_path`, making parent folders; OSError -> ValueError."""
    out = check_output_path(path, what)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, **kwargs)
    except OSError as exc:
        raise ValueError(f"cannot write {what} {str(path)!r}: {exc.strerror or exc}") from None
    return out
