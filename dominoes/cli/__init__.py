"""The ``dominoes`` command line: one module per sub-command (see :mod:`slt.clikit`)."""

from slt.clikit import build_parser, run_main


def main(argv=None) -> int:
    parser = build_parser(
        "dominoes",
        "MNIST-CIFAR dominoes: build mixtures with controlled prevalence, reliability and simplicity, "
        "train networks, record per-pattern learning curves, sweep, and validate slt's theory.",
        "dominoes.cli",
    )
    return run_main(parser, argv)
