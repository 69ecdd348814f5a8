"""One call for a Bayesian phase diagram: basins → (L, λ, m, c) → predicted and measured crossovers.

>>> from slt import library
>>> d = phase_diagram(library.get("two_basin").potential,
...                   {"accurate": "x=1,y=0", "simple": "x=-1,y=0"}, n_range=(1e2, 1e5))   # doctest: +SKIP
>>> d.transitions[0].predicted_n_c, d.transitions[0].measured_n_c                        # doctest: +SKIP
(6515.5..., 6516.6...)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from slt.phases.basins import _as_potential, basins_at, find_basins
from slt.phases.bayes import Phase, Transition, phases, predict_transitions
from slt.phases.masses import (
    BasinMasses,
    masses_quadrature,
    masses_smc,
    measured_crossover,
    refine_crossover_quadrature,
)


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    """Basins with their free-energy coefficients, the transitions (predicted and measured), the masses."""

    phases: tuple[Phase, ...]
    transitions: tuple[Transition, ...]
    masses: BasinMasses | None

    def predicted_masses(self, n, with_constant: bool = True) -> np.ndarray:
        """(N, B) softmax(−F_n(W_α)) over the basins: the masses the local free energies predict."""
        F = np.stack(
            [p.free_energy(np.asarray(n, dtype=np.float64), with_constant) for p in self.phases], axis=-1
        )
        F = F - F.min(axis=-1, keepdims=True)
        w = np.exp(-F)
        return w / w.sum(axis=-1, keepdims=True)

    def __repr__(self) -> str:
        return f"PhaseDiagram(basins={[p.name for p in self.phases]}, transitions={list(self.transitions)})"

    def to_dict(self) -> dict:
        return {
            "basins": [p.to_dict() for p in self.phases],
            "transitions": [t.to_dict() for t in self.transitions],
            "masses": None if self.masses is None else self.masses.to_dict(),
        }


def phase_diagram(
    target,
    basins=None,
    n_range=(10.0, 1e6),
    points: int = 25,
    measure: str | None = "auto",
    regions=None,
    seed: int = 0,
    **smc_params,
) -> PhaseDiagram:
    """Predict the Bayesian transitions between ``basins`` over ``n_range`` and measure them.

    target : a Potential (or library entry / formula).  basins : name → point, a sequence of Basin, or None
    (found by :func:`slt.phases.basins.find_basins`).  points : the number of log-spaced n for the masses.
    measure : "quadrature" (d ≤ 2), "smc" (any d, box prior), None (predict only) or "auto" (quadrature
    when d ≤ 2, else SMC). With quadrature the measured n_c is refined by Brent's method.
    """
    potential = _as_potential(target)
    if basins is None:
        found = find_basins(potential, seed=seed)
    elif isinstance(basins, dict):
        found = basins_at(potential, basins)
    else:
        found = tuple(basins)
    if len(found) < 2:
        raise ValueError(f"a phase diagram needs at least two basins, got {len(found)}")
    ph = phases(potential, found)
    transitions = predict_transitions(ph, n_range)
    if measure == "auto":
        measure = "quadrature" if potential.dim <= 2 else "smc"
    if measure is None:
        return PhaseDiagram(ph, transitions, None)
    n = np.geomspace(float(n_range[0]), float(n_range[1]), points)
    if measure == "quadrature":
        masses = masses_quadrature(potential, found, n, regions=regions)
    elif measure == "smc":
        masses = masses_smc(potential, found, n, seed=seed, **smc_params)
    else:
        raise ValueError(f"measure must be 'quadrature', 'smc', 'auto' or None, got {measure!r}")
    measured = []
    for t in transitions:
        near = t.predicted_n_c or t.predicted_n_c_leading
        n_c = measured_crossover(masses, t.source, t.target, near=near)
        if n_c is not None and measure == "quadrature":
            i = int(np.searchsorted(n, n_c))
            n_c = refine_crossover_quadrature(
                potential,
                found,
                t.source,
                t.target,
                (n[max(i - 1, 0)], n[min(i, len(n) - 1)]),
                regions=regions,
            )
        measured.append(replace(t, measured_n_c=n_c, measured_by=measure))
    # a crossing the masses show but the prediction missed is reported too
    names = [p.name for p in ph]
    winner = np.argmax(masses.mass, axis=1)
    known = {(t.source, t.target) for t in measured}
    for i in np.flatnonzero(winner[1:] != winner[:-1]):
        pair = (names[winner[i]], names[winner[i + 1]])
        if pair not in known:
            n_c = measured_crossover(masses, *pair, near=float(np.sqrt(n[i] * n[i + 1])))
            measured.append(Transition(pair[0], pair[1], None, None, n_c, measure))
            known.add(pair)
    return PhaseDiagram(ph, tuple(measured), masses)
