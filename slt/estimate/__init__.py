"""Numerical learning coefficients: the LLC by SGLD, volume scaling, free energy (design.md §4).

* :func:`llc` — λ̂(w*) = nβ(E_β[L] − L(w*)) over the localised tempered posterior (Lau et al. 2023);
* :func:`volume_scaling` — λ, m from V(ε) = P_φ(K < ε) by subset simulation;
* :func:`free_energy` — F_n by thermodynamic integration (any d) or quadrature (d ≤ 2), WBIC, λ from
the slope;
* :mod:`slt.estimate.quadrature` — Z(n) = ∫ e^{−nK} φ in one and two dimensions.
"""

from slt.estimate.free_energy import free_energy, quadrature_free_energy
from slt.estimate.llc import llc, localized_llc_exact
from slt.estimate.results import FreeEnergyResult, LLCDiagnostics, LLCResult, VolumeResult
from slt.estimate.sweep import llc_sweep, plot_llc_sweep
from slt.estimate.volume import volume_scaling

__all__ = ["llc", "localized_llc_exact", "volume_scaling", "free_energy", "quadrature_free_energy",
           "LLCResult", "LLCDiagnostics",
           "VolumeResult", "FreeEnergyResult", "llc_sweep", "plot_llc_sweep"]
