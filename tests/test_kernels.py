"""The random streams and the compiled kernels against an independent plain-Python reference."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit
from reference_updates import Stream, reference_run
from scipy import stats

import slt
from slt import kernels, rng

EXPR = "(x*y)**2 + x**4/4 + y**2/10"


def grad_reference(w):
    x, y = w
    loss = (x * y) ** 2 + x**4 / 4 + y**2 / 10
    return loss, np.array([2 * x * y * y + x**3, 2 * x * x * y + y / 5])


def model_grad(w, x, y):
    """ℓ = ½ (a b x − y)² for the toy model f(x; a, b) = a b x."""
    a, b = w
    r = a * b * x[0] - y[0]
    return 0.5 * r * r, np.array([r * b * x[0], r * a * x[0]])


# --- the generator and the normal sampler ------------------------------------------------------------
def test_ziggurat_constants_match_marsaglia_tsang():
    # Marsaglia & Tsang (2000), 256-layer normal ziggurat: r = 3.6541528853610088, v = 0.00492867323399
    r = rng.ZIG_R
    v = r * math.exp(-r * r / 2) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    assert r == pytest.approx(3.6541528853610088, rel=1e-14)
    assert v == pytest.approx(0.00492867323399, rel=1e-11)
    assert rng.ZIG_K[-1] == 0 and rng.ZIG_F[-1] == 1.0


def test_xoshiro256starstar_known_answer():
    # reference C implementation (Blackman & Vigna) from the state {1, 2, 3, 4}
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    words = [int(rng.next_u64(state)) for _ in range(4)]
    assert words == [11520, 0, 1509978240, 1215971899390074240]


def test_numba_stream_matches_python_reference():
    states = rng.chain_states(7, 3)
    out = np.empty((3, 2000))
    rng.fill_standard_normal(states.copy(), out)
    for c in range(3):
        stream = Stream(states[c])
        expected = [stream.normal() for _ in range(2000)]
        np.testing.assert_array_equal(out[c], expected)


def test_ziggurat_draws_are_standard_normal():
    out = np.empty((8, 50_000))
    rng.fill_standard_normal(rng.chain_states(1, 8), out)
    x = out.ravel()
    n = x.size
    assert abs(x.mean()) < 5 / math.sqrt(n)
    assert abs(x.var() - 1) < 5 * math.sqrt(2 / n)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    # the tail branch (|x| > r) must carry exactly the normal tail mass 2(1 − Φ(r))
    tail = np.mean(np.abs(x) > rng.ZIG_R)
    p = 2 * stats.norm.sf(rng.ZIG_R)
    assert abs(tail - p) < 5 * math.sqrt(p / n)


def test_chain_streams_depend_only_on_seed_and_index():
    big = rng.chain_states(3, 100)
    np.testing.assert_array_equal(rng.chain_states(3, 10), big[:10])
    np.testing.assert_array_equal(rng.chain_states(3, 5, first_chain=20), big[20:25])
    other = rng.chain_states(4, 100)
    assert not np.intersect1d(big.ravel(), other.ravel()).size  # no shared words between seeds
    assert len({tuple(row) for row in big}) == 100


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed"):
        rng.chain_states(seed, 2)


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=0, max_value=2**64 - 1))
def test_shuffle_is_a_permutation(n, word):
    perm = np.empty(n, dtype=np.intp)
    kernels.shuffle_indices(perm, np.uint64(word))
    assert sorted(perm.tolist()) == list(range(n))


@given(st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=50))
def test_running_loss_moments_equal_numpy(values):
    acc = (0.0, 0.0, 0.0, 0.0)
    for x in values:
        acc = kernels.push_loss(acc, x)
    mean, var = kernels.loss_moments(np.array([acc]))
    assert mean[0] == pytest.approx(np.mean(values), abs=1e-9)
    assert var[0] == pytest.approx(np.var(values, ddof=1), abs=1e-7)


# --- kernels step by step against the reference ------------------------------------------------------
def _close(actual, expected):
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale)


W0 = np.array([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.9]])


@pytest.mark.parametrize(
    "method, params",
    [
        ("gd", {}),
        ("gd", {"momentum": 0.9}),
        ("langevin", {"temperature": 0.3}),
        ("sgld", {"n_beta": 50.0, "gamma": 20.0, "w_star": [0.1, -0.1]}),
        # a step large enough that about half the proposals are rejected and the drift cap is reached
        ("mala", {"n_beta": 50.0, "gamma": 20.0, "w_star": [0.1, -0.1], "step_size": 0.05}),
        ("mala", {"n_beta": 50.0, "gamma": 2.0, "drift_cap": 0.5, "step_size": 0.02}),
    ],
)
def test_potential_kernels_match_reference(method, params):
    params = dict(params)
    steps, eps = 60, params.pop("step_size", 1e-3)
    result = slt.run(EXPR, method=method, chains=3, steps=steps, step_size=eps, init=W0, seed=11,
                     record_every=1, record=("positions", "loss"), **params)
    traj, losses = reference_run(method, W0, steps, 11, grad=grad_reference, eps=eps, **params)
    _close(result.positions, traj[:-1])
    _close(result.final, traj[-1])
    _close(result.loss, losses)


@pytest.mark.parametrize(
    "method, params",
    [
        ("sgd", {"batch_size": 7}),
        ("sgd", {"batch_size": 5, "replace": True, "momentum": 0.5}),
        ("sgld", {"n_beta": 30.0, "gamma": 5.0, "batch_size": 8}),
        ("sgld", {"n_beta": 30.0}),
        ("gd", {}),
    ],
)
def test_toy_model_kernels_match_reference(method, params):
    model = slt.ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=40, true_w=[1, 2], noise=0.5, seed=3)
    steps, eps = 40, 1e-2
    init = np.array([[0.5, 0.5], [1.5, 1.0]])
    result = slt.run(model, method=method, chains=2, steps=steps, step_size=eps, init=init, seed=5,
                     record_every=1, record=("positions", "loss"), **params)
    traj, losses = reference_run(method, init, steps, 5, X=model.X, Y=model.Y, sample_grad=model_grad,
                                 eps=eps, **params)
    _close(result.positions, traj[:-1])
    _close(result.final, traj[-1])
    _close(result.loss, losses)


def test_chunked_run_equals_one_call():
    """A progress bar splits the run into chunks; epochs in flight must be rebuilt exactly."""
    model = slt.ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=30, true_w=[1, 2], noise=0.5, seed=3)
    kw = dict(method="sgd", chains=3, steps=250, step_size=1e-2, init=[0.5, 0.5], seed=2, batch_size=7,
              record_every=10, record=("positions", "loss", "grad_norm"))
    one = slt.run(model, progress=False, **kw)
    chunked = slt.run(model, progress=True, **kw)
    for name in ("positions", "loss", "grad_norm", "final", "loss_mean", "loss_var"):
        np.testing.assert_array_equal(getattr(one, name), getattr(chunked, name))


@njit(cache=True)
def _quartic_grad(w, out):
    out[0] = 4.0 * w[0] ** 3
    return w[0] ** 4


def test_custom_compiled_object_runs_and_uses_the_disk_cache():
    quartic = SimpleNamespace(grad=_quartic_grad, dim=1)  # anything with .grad and .dim
    result = slt.run(quartic, method="gd", chains=2, steps=10, step_size=0.1, init=[[1.0], [-0.5]],
                     record_every=1, record=("positions",))
    w = np.array([1.0, -0.5])
    for s in range(10):
        np.testing.assert_allclose(result.positions[s, :, 0], w, rtol=1e-15)
        w = w - 0.1 * 4 * w**3
    module = kernels.kernels_for(_quartic_grad)
    assert module.__file__.endswith(".py") and "kernels_" in module.__file__


def test_in_memory_kernels_for_functions_without_a_file():
    @njit
    def grad(w, out):
        out[0] = w[0]
        return 0.5 * w[0] ** 2

    module = kernels.kernels_for(grad)
    assert module.__name__ == "slt_kernels_in_memory"


def test_non_numba_gradient_is_rejected():
    with pytest.raises(ValueError, match="Numba"):
        kernels.kernels_for(lambda w, out: 0.0)
