import subprocess
import sys
from importlib.metadata import version

import pytest


@pytest.mark.parametrize("prog", ["slt", "dominoes"])
def test_version_matches_distribution(prog):
    out = subprocess.run([prog, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == version("slt-toolkit")


@pytest.mark.parametrize("prog", ["slt", "dominoes"])
def test_help_lists_commands(prog):
    out = subprocess.run([prog, "--help"], capture_output=True, text=True, check=True).stdout
    assert "usage:" in out


def test_import_slt_does_not_import_torch():
    # the whole slt surface: every lazy export and every CLI command module
    code = (
        "import sys, slt\n"
        "from slt.clikit import build_parser\n"
        "[getattr(slt, name) for name in slt.__all__]\n"
        "build_parser('slt', '', 'slt.cli')\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_parse_assignments_rejects_duplicates():
    from slt.clikit import parse_assignments

    assert parse_assignments("x=1, y=3/10") == {"x": "1", "y": "3/10"}
    with pytest.raises(ValueError, match="given twice"):
        parse_assignments("x=1,x=2")
    with pytest.raises(ValueError, match="name=value"):
        parse_assignments("x")
