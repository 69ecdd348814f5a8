"""Exact learning coefficients (real log canonical thresholds) λ and multiplicities m.

``slt.rlct(K, at=None, prior_exponents=None, taylor_order=None)`` tries, in order: the
reduced-rank-regression closed form, normal crossing, the Newton polyhedron with a real-torus
non-degeneracy proof, 2-D resolution by blow-ups, and splitting over separate variables; it returns an
:class:`RLCTResult` that names the method and its certificate, and answers ``exact=False`` with the
Newton upper bound when no method decides. ``slt.rlct.reduced_rank(M, N, H, r)`` is the closed form
of Aoyagi & Watanabe (2005).

The package itself is callable, so ``slt.rlct(K)`` and ``slt.rlct.reduced_rank(...)`` both work
whether ``slt.rlct`` names the package or the function.

>>> import slt
>>> slt.rlct("(x - y)**2")
RLCT(lam=1/2, m=1, exact=True, method='blowup')
"""

import sys
import types

from slt.rlct.dispatch import rlct
from slt.rlct.result import RLCTResult
from slt.rlct.rrr import reduced_rank

__all__ = ["RLCTResult", "reduced_rank", "rlct"]


class _CallablePackage(types.ModuleType):
    """Lets ``slt.rlct(...)`` call :func:`rlct` even after ``import slt.rlct`` bound the package."""

    def __call__(self, *args, **kwargs):
        return rlct(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
