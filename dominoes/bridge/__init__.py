"""The bridge from dominoes experiments to toy pattern-learning theory simulated by ``slt``.

* :mod:`~dominoes.bridge.closed_form` — Saxe et al. (2014) learning dynamics of one deep-linear mode;
* :mod:`~dominoes.bridge.theory` — the two-mode dominoes potential and its simulation on :func:`slt.run`;
* :mod:`~dominoes.bridge.sigmoid` — the phenomenological model of Davies, Langosco & Krueger (2023);
* :mod:`~dominoes.bridge.curves` — measured curves averaged over seeds, learning times;
* :mod:`~dominoes.bridge.fit` — fit on designated sweep points, predict the rest, agreement metrics;
* :mod:`~dominoes.bridge.report` — report.md and figures.

The main job that ties them together is :mod:`dominoes.validate` (``dominoes validate``).
"""
