"""Exact learning coefficients: reference values from the literature, via the API and the CLI."""

import json
from fractions import Fraction

import pytest
import sympy

import slt
from slt.cli import main as slt_main
from slt.potential import Potential
from slt.rlct import RLCTResult, reduced_rank, rlct
from slt.rlct.newton import NewtonPolyhedron

# The reference file ../shared/cases/rlct.json, copied so the suite runs anywhere.
REFERENCE = [
    # name, K, at, prior exponents, lambda, m  -- source
    ("regular_2d", "x**2 + y**2", None, None, "1", 1),  # regular: d/2 (Watanabe 2009)
    ("regular_3d", "x**2 + y**2 + z**2", None, None, "3/2", 1),
    ("monomial_1d", "x**4", None, None, "1/4", 1),  # normal crossing
    ("normal_crossing_11", "x**2*y**2", None, None, "1/2", 2),  # Watanabe 2009: zeta = 1/(2z+1)^2
    ("normal_crossing_12", "x**2*y**4", None, None, "1/4", 1),
    ("nc_with_jacobian", "x**2*y**4", None, {"x": 1}, "1/4", 1),  # min((1+1)/2, 1/4)
    ("quasi_homogeneous", "x**2 + y**4", None, None, "3/4", 1),  # 1/2 + 1/4
    ("squared_norm_squared", "(x**2 + y**2)**2", None, None, "1/2", 1),  # polar: r^4, Jacobian r
    ("line_squared", "(x - y)**2", None, None, "1/2", 1),  # u = x - y
    ("squared_cusp", "(x**2 - y**3)**2", None, None, "5/12", 1),  # lct(cusp) = 5/6, halved
    ("line_dot_origin", "(x - 1)**2*(x**2 + y**2)**4", None, None, "1/4", 1),  # Lau et al. 2023
    ("line_dot_line", "(x - 1)**2*(x**2 + y**2)**4", {"x": 1, "y": "3/10"}, None, "1/2", 1),
]
RRR = [((5, 5, 3, 0), "13/2", 2), ((3, 4, 8, 0), "6", 1), ((1, 1, 1, 0), "1/2", 2)]  # Aoyagi & Watanabe 2005


@pytest.mark.parametrize("name, K, at, prior, lam, m", REFERENCE, ids=[c[0] for c in REFERENCE])
def test_reference_case_api(name, K, at, prior, lam, m):
    result = rlct(K, at=at, prior_exponents=prior)
    assert (result.lam, result.m, result.exact) == (Fraction(lam), m, True), result.certificate


@pytest.mark.parametrize("name, K, at, prior, lam, m", REFERENCE, ids=[c[0] for c in REFERENCE])
def test_reference_case_cli_json(name, K, at, prior, lam, m, capsys):
    argv = ["rlct", K, "--json"]
    if at:
        argv += ["--at", ",".join(f"{k}={v}" for k, v in at.items())]
    if prior:
        argv += ["--prior-exponents", ",".join(f"{k}={v}" for k, v in prior.items())]
    assert slt_main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lambda"], out["m"], out["exact"]) == (lam, m, True)
    assert out["method"] and out["certificate"]


@pytest.mark.parametrize("args, lam, m", RRR)
def test_reduced_rank_regression_aoyagi_watanabe(args, lam, m, capsys):
    result = reduced_rank(*args)
    assert (result.lam, result.m, result.exact, result.method) == (Fraction(lam), m, True, "reduced_rank")
    assert slt_main(["rlct", "--rrr", *map(str, args), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lambda"], out["m"], out["exact"]) == (lam, m, True)


def test_reduced_rank_cases_2_to_4_and_rank_clamp():
    # case 2: M+H < N+r -> (HM - Hr + Nr)/2 ; case 3 symmetric ; r > H is read as r = H
    assert reduced_rank(1, 5, 1, 1).lam == Fraction(1 * 1 - 1 * 1 + 5 * 1, 2)
    assert reduced_rank(5, 1, 1, 1).lam == Fraction(1 * 1 - 1 * 1 + 5 * 1, 2)
    clamped, direct = reduced_rank(3, 3, 2, 5), reduced_rank(3, 3, 2, 2)
    assert (clamped.lam, clamped.m) == (direct.lam, direct.m)
    # the regular case: full rank H = min(M, N) = r gives d/2 with d = H(M + N - H) free parameters
    assert reduced_rank(3, 2, 2, 2).lam == Fraction(2 * (3 + 2 - 2), 2)


@pytest.mark.parametrize("bad", [(0, 1, 1, 0), (1, 1, 1, -1), (1.5, 1, 1, 0), (True, 1, 1, 0)])
def test_reduced_rank_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="reduced-rank regression"):
        reduced_rank(*bad)


def test_reduced_rank_recognised_from_potential_meta():
    potential = Potential("a**2*b**2", meta={"rrr": (5, 5, 3, 0)})
    result = rlct(potential)
    assert (result.lam, result.m, result.method) == (Fraction(13, 2), 2, "reduced_rank")


def test_newton_bound_not_reported_as_exact_for_degenerate_K():
    # design §4: (x-y)^2 has lambda 1/2 (Newton says 1); (y-x^2)^2 has 1/2 (Newton 3/4)
    line = rlct("(x - y)**2")
    assert (line.lam, line.bound, line.exact, line.method) == (Fraction(1, 2), Fraction(1), True, "blowup")
    parabola = rlct("(y - x**2)**2")
    assert (parabola.lam, parabola.bound, parabola.exact) == (Fraction(1, 2), Fraction(3, 4), True)


def test_multiplicity_trap_two_lines_squared():
    # (x^2 - y^2)^2: lambda 1/2 with m = 2, while the Newton polyhedron says m = 1 (design §4)
    result = rlct("(x**2 - y**2)**2")
    assert (result.lam, result.m, result.exact, result.method) == (Fraction(1, 2), 2, True, "blowup")


@pytest.mark.parametrize(
    "K, lam, m",
    [
        # n distinct lines through 0: lct = min(2/n, 1), halved for the square (Kollár 1997, §8)
        ("(x*y*(x + y))**2", "1/3", 1),
        ("(x*y*(x - y)*(x + y))**2", "1/4", 1),
        ("(x**2 - 2*y**2)**2", "1/2", 2),  # two lines with irrational slopes (+-1/sqrt 2)
        # Lin (2011) / Watanabe (2009, §7): cusp y^2 = x^3 squared -> 5/12 whatever the chart
        ("(y**2 - x**3)**2", "5/12", 1),
        ("(y**2 - x**3)**2 + x**8", "5/12", 1),  # x^8 has weighted degree 16 > 12: does not matter
    ],
)
def test_blowup_matches_log_canonical_thresholds(K, lam, m):
    result = rlct(K)
    assert (result.lam, result.m, result.exact) == (Fraction(lam), m, True), result.certificate


def test_irrational_blowup_centre_is_handled_exactly():
    # (x^2 - 2y^2)^2 + y^6 becomes (x^2 - y'^2)^2 + y'^6/8 under y' = sqrt(2) y, a linear change that
    # keeps lambda; near x = y, u = x - y gives 4u^2y^2 + y^6, whose Newton vertex (2, 2) is hit:
    # lambda = 1/2 with m = 2, for both forms
    rational, irrational = rlct("(x**2 - y**2)**2 + y**6"), rlct("(x**2 - 2*y**2)**2 + y**6")
    assert (rational.lam, rational.m, rational.exact) == (Fraction(1, 2), 2, True)
    assert (irrational.lam, irrational.m, irrational.exact) == (Fraction(1, 2), 2, True)


def test_degenerate_three_variable_K_is_not_exact():
    # (x + y + z)^2 has lambda = 1/2 (one linear coordinate), but it is degenerate for its Newton
    # polyhedron in 3 variables: the engine must answer with the bound 3/2 and a reason
    result = rlct("(x + y + z)**2")
    assert not result.exact
    assert result.method == "newton_bound"
    assert result.lam == result.bound == Fraction(3, 2)
    assert "degenerate" in result.reason and "upper bound" in result.reason


def test_degenerate_part_resolved_by_separable_variables():
    # (x - y)^2 + z^2 = 1/2 + 1/2 (Newton alone says 3/2)
    result = rlct("(x - y)**2 + z**2")
    assert (result.lam, result.m, result.exact, result.method) == (Fraction(1), 1, True, "separable")
    assert result.bound == Fraction(3, 2)


def test_separable_multiplicities_add():
    # x^2 y^2 (1/2, m=2) + z^2 w^2 (1/2, m=2): lambda = 1, m = 2 + 2 - 1 = 3
    result = rlct("x**2*y**2 + z**2*w**2")
    assert (result.lam, result.m, result.exact) == (Fraction(1), 3, True)


def test_prior_exponent_drops_out_where_the_coordinate_is_nonzero():
    # at (1, 3/10) the prior factor |x|^3 is a smooth unit: lambda stays 1/2
    result = rlct("(x - 1)**2*(x**2 + y**2)**4", at={"x": 1, "y": "3/10"}, prior_exponents={"x": 3})
    assert result.lam == Fraction(1, 2)


def test_prior_exponent_in_blowup():
    # integral of |x| |x - y|^{2z} near 0: the line u = x - y gives 1/2, the origin's E1 gives 3/2
    assert rlct("(x - y)**2", prior_exponents={"x": 1}).lam == Fraction(1, 2)
    # prior |x|^1 and |y|^1 on (x^2 + y^2)^2: polar r^4 with Jacobian r^3 -> (3 + 1)/4 = 1
    assert rlct("(x**2 + y**2)**2", prior_exponents=[1, 1]).lam == Fraction(1)


def test_potential_and_sympy_inputs_agree_with_strings():
    x, y = sympy.symbols("x y", real=True)
    assert rlct((x - y) ** 2).lam == Fraction(1, 2)
    assert rlct(Potential("x**2*y**4", prior=slt.Prior(exponents=(1, 0)))).lam == Fraction(1, 4)


def test_taylor_truncation_on_request_only():
    with pytest.raises(ValueError, match="taylor_order"):
        rlct("tanh(x)**2")
    result = rlct("tanh(x)**2 + tanh(y)**4", taylor_order=4)
    assert (result.lam, result.exact) == (Fraction(3, 4), True)
    assert "Taylor polynomial of degree 4" in result.certificate
    # terms of degree > 4 of tanh(x*y)^2 are not provably inside the Newton polyhedron of x^2 y^2
    unsure = rlct("tanh(x*y)**2", taylor_order=4)
    assert not unsure.exact and "Taylor" in unsure.reason


@pytest.mark.parametrize(
    "K, kwargs, message",
    [
        ("x**2 + 1", {}, "not 0"),
        ("x**2 - y**4", {}, "negative"),
        ("x**3 + y**2", {}, "negative"),
        ("x**2*y - y**4 + x**4", {}, "negative"),
        ("x**2", {"at": {"x": "sqrt(2)"}}, "not 0|rational"),
        ("(x**2 - 2)**2", {"at": {"x": "sqrt(2)"}}, "rational"),
        ("x**2", {"at": {"q": 1}}, "unknown"),
        ("x**2", {"prior_exponents": {"x": -1}}, "integer >= 0"),
        ("x**2", {"prior_exponents": [1, 2]}, "2 prior exponents"),
        ("x**2", {"taylor_order": 0}, "taylor_order"),
        ("pi*x**2 + y**2*x", {}, "rational|negative"),
    ],
)
def test_bad_input_gives_clear_error(K, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rlct(K, **kwargs)


def test_cli_errors_are_one_line_exit_2(capsys):
    assert slt_main(["rlct", "x**2 + 1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not 0" in err[0]
    assert slt_main(["rlct"]) == 2
    assert slt_main(["rlct", "x**2", "--rrr", "1", "1", "1", "0"]) == 2
    assert slt_main(["rlct", "x**2", "--prior-exponents", "x=a"]) == 2


def test_cli_text_output_marks_bounds(capsys):
    assert slt_main(["rlct", "(x + y + z)**2"]) == 0
    out = capsys.readouterr().out
    assert "NOT exact" in out and "lambda <= 3/2" in out


def test_result_record():
    result = rlct("x**2 + y**4")
    assert repr(result) == "RLCT(lam=3/4, m=1, exact=True, method='newton')"
    data = result.to_dict()
    assert data["lambda"] == "3/4" and data["m"] == 1 and data["exact"] is True
    json.dumps(data)
    assert isinstance(result, RLCTResult)
    with pytest.raises(AttributeError):
        result.lam = Fraction(1)


def test_slt_rlct_is_callable_and_a_package():
    import slt.rlct as package  # binds the package on slt; it must stay callable

    assert slt.rlct("x**2").lam == Fraction(1, 2)
    assert package("x**4").lam == Fraction(1, 4)
    assert slt.rlct.reduced_rank(1, 1, 1, 0).lam == Fraction(1, 2)


def test_library_entries_match_their_stated_values():
    from slt import library

    for name in library.names():
        entry = library.get(name)
        result = rlct(entry)
        assert (result.lam, result.m, result.exact) == (entry.lam, entry.m, True), name


def test_newton_polyhedron_is_exact():
    # K = x^2 + y^4: facets a2 >= 0, a1 >= 0, 2 a1 + a2 >= 4; t0 = 4/3 for tau = (1, 1)
    P = NewtonPolyhedron([(2, 0), (0, 4), (1, 3)])
    assert {(f.normal, f.offset) for f in P.facets} == {((1, 0), 0), ((0, 1), 0), ((2, 1), 4)}
    assert P.distance((1, 1)) == Fraction(4, 3)
    assert P.codimension((Fraction(4, 3), Fraction(4, 3))) == 1
    assert P.contains((1, 3)) and not P.contains((1, 1))
    # a single monomial: its vertex is the only compact face and has codimension 2
    Q = NewtonPolyhedron([(2, 2)])
    assert Q.compact_faces == (frozenset({(2, 2)}),)
    assert Q.codimension((2, 2)) == 2


def test_three_variable_faces_decided_over_the_reals():
    # (x^2+y^2+z^2)^2: the face polynomial has complex but no real torus zeros -> Newton is exact,
    # lambda = 3/4 (polar coordinates: r^4 with Jacobian r^2, (2+1)/4)
    result = rlct("(x**2 + y**2 + z**2)**2")
    assert (result.lam, result.m, result.exact, result.method) == (Fraction(3, 4), 1, True, "newton")
    # the cone x^2 + y^2 = 2 z^2 meets the real torus: degenerate, only the bound
    cone = rlct("(x**2 + y**2 - 2*z**2)**2")
    assert not cone.exact and cone.bound == Fraction(3, 4) and "degenerate" in cone.reason


@pytest.mark.parametrize(
    "h, expected",
    [
        ("u**2 + v**2 + 1", False),
        ("u**2 + v**2 - 1", True),
        ("(u - 1)**2 + (v - 1)**2", True),
        ("u**2 + v**2", False),
        ("u**2*(v**2 + 1)", False),
        ("(u - 2)*(v**2 + 3)", True),
        ("(u**2 + v**2 - 1)**2 + 5", False),
    ],
)
def test_plane_curve_torus_points(h, expected):
    from slt.rlct.torus import plane_curve_torus_point

    u, v = sympy.symbols("u v")
    found = plane_curve_torus_point(sympy.Poly(sympy.sympify(h), u, v, domain="QQ"))
    assert bool(found) is expected
