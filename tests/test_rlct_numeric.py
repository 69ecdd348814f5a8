"""The exact λ against an independent numerical method: the scaling of Z(n) = ∫ e^{−nK} φ (slow)."""

import numpy as np
import pytest

from slt.rlct import rlct

quadrature = pytest.importorskip("slt.estimate.quadrature")


@pytest.mark.slow
@pytest.mark.parametrize(
    "K", ["x**2 + y**4", "(x - y)**2", "(x**2 - y**3)**2", "(x**2 - y**2)**2", "(x*y*(x + y))**2"]
)
def test_exact_lambda_matches_partition_function_scaling(K):
    # log Z(n) = c − λ log n + (m − 1) log log n + o(1) (Watanabe 2009): the local slope between
    # n = 1e6 and 1e8, corrected for the log log term, estimates λ; the o(1) terms decay like
    # n^{−(λ' − λ)} (λ' the next pole), which for the cusp (5/12 vs 1/2) is slow, hence 0.02
    result = rlct(K)
    n = np.array([1e6, 1e8])
    log_z = quadrature.log_partition_function(K, n)
    loglog = (result.m - 1) * np.log(np.log(n[1]) / np.log(n[0]))
    slope = -(log_z[1] - log_z[0] - loglog) / np.log(n[1] / n[0])
    assert abs(slope - float(result.lam)) < 0.02
