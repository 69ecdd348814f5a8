"""The ``slt`` command line: one module per sub-command (see :mod:`slt.clikit`)."""

from slt.clikit import build_parser, run_main


def main(argv=None) -> int:
    parser = build_parser(
        "slt",
        "Singular learning theory on toy loss landscapes: potentials, exact and estimated learning "
        "coefficients, ensemble dynamics, phase transitions.",
        "slt.cli",
    )
    return run_main(parser, argv)
