"""Phase transitions and path dependence: predicted from (L, λ, m), measured in posteriors and dynamics.

Modules: :mod:`~slt.phases.basins` (basins given or found), :mod:`~slt.phases.bayes` (local free
energies, predicted and measured crossovers n_c, posterior basin masses), :mod:`~slt.phases.dynamics`
(occupancy, plateau/jump detection, LLC along a trajectory), :mod:`~slt.phases.path` (twin trajectories,
distance growth), :mod:`~slt.phases.plots` (figures).
"""

from slt.phases.basins import Basin, basins_at, find_basins
from slt.phases.bayes import Phase, Transition, crossover, phases, predict_transitions
from slt.phases.diagram import PhaseDiagram, phase_diagram
from slt.phases.dynamics import endpoints, llc_along, occupancy
from slt.phases.local_form import LocalForm, local_form
from slt.phases.masses import BasinMasses, masses_quadrature, masses_smc
from slt.phases.path import distance, growth_rates, twin_run
from slt.phases.stages import Stages, detect_stages

__all__ = [
    "Basin",
    "BasinMasses",
    "LocalForm",
    "Phase",
    "PhaseDiagram",
    "Stages",
    "Transition",
    "basins_at",
    "crossover",
    "detect_stages",
    "distance",
    "endpoints",
    "find_basins",
    "growth_rates",
    "llc_along",
    "local_form",
    "masses_quadrature",
    "masses_smc",
    "occupancy",
    "phase_diagram",
    "phases",
    "predict_transitions",
    "twin_run",
]
