"""Acceptance tests of the domino mixture (issue 8): prevalence solver, reliability, splits, determinism."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.data.sources import load_procedural
from dominoes.dataset import BOTH, CIFAR_ONLY, EMPTY, EVAL_SPLITS, HALF, MNIST_ONLY
from dominoes.mixture import (
    TASKS,
    MixtureSpec,
    _demand,
    _layout,
    _wrong_orders,
    build,
    largest_size,
)

PER_CLASS = 12  # small procedural pools keep property tests fast
OFFLINE = dict(mnist_source="glyphs", cifar_source="textures", procedural_per_class=PER_CLASS, n_test=60)


@st.composite
def prevalences(draw):
    """Feasible (p_m, p_c, p_b): p_b in [max(0, p_m + p_c − 1), min(p_m, p_c)], not both sides absent."""
    # a prevalence below 5 % asks for tens of thousands of mostly empty dominoes from the small test pools
    pm = draw(st.one_of(st.just(0.0), st.floats(0.05, 1.0)))
    pc = draw(st.one_of(st.just(0.0), st.floats(0.05, 1.0)))
    if pm == 0 and pc == 0:
        pm = 0.5
    lo, hi = max(0.0, pm + pc - 1.0), min(pm, pc)
    pb = draw(st.floats(lo, hi)) if hi > lo else hi
    return pm, pc, pb


def _pool_labels(name, spec):
    """Source label of every pool index (procedural pools: train images, then held-out images)."""
    per_test = round(spec.procedural_per_class * spec.test_fraction / (1 - spec.test_fraction))
    train, test = load_procedural(name, spec.procedural_per_class, max(1, per_test))
    return np.concatenate([train.labels, test.labels]), len(train)


def _check_set(ds, spec, k):
    """Structural invariants of any built set: halves present iff the kind says so, zeros where absent."""
    has_m = np.isin(ds.kind, (MNIST_ONLY, BOTH))
    has_c = np.isin(ds.kind, (CIFAR_ONLY, BOTH))
    assert np.array_equal(ds.mnist_class >= 0, has_m) and np.array_equal(ds.mnist_index >= 0, has_m)
    assert np.array_equal(ds.cifar_class >= 0, has_c) and np.array_equal(ds.cifar_index >= 0, has_c)
    assert not ds.images[~has_m, :, :HALF].any() and not ds.images[~has_c, :, HALF:].any()
    assert ds.labels.min() >= 0 and ds.labels.max() < k
    halves = (("mnist", ds.mnist_index, ds.mnist_class), ("cifar", ds.cifar_index, ds.cifar_class))
    for side, idx, shown in halves:
        name = spec.mnist_source if side == "mnist" else spec.cifar_source
        pool_labels, _ = _pool_labels(name, spec)
        classes = np.array(TASKS[spec.task][0 if side == "mnist" else 1])
        present = idx >= 0
        # the image really is of the class the record says the half shows
        assert np.array_equal(pool_labels[idx[present]], classes[shown[present]])


@given(prevalences(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.sampled_from(["tenclass", "binary"]),
       st.integers(0, 3))
def test_built_mixture_satisfies_every_constraint(prev, rho_m, rho_c, task, seed):
    pm, pc, pb = prev
    spec = MixtureSpec(pm, pc, pb, rho_mnist=rho_m, rho_cifar=rho_c, task=task, **OFFLINE)
    data = build(spec, seed=seed)
    train, k = data.train, spec.n_classes
    n = len(train)
    assert n == data.info["N"] and n >= 1
    _check_set(train, spec, k)

    # fractions match the request within the rounding of integer counts (each count within 1 of N·r)
    counts = {name: int(np.sum(train.kind == code))
              for name, code in (("empty", EMPTY), ("mnist_only", MNIST_ONLY), ("cifar_only", CIFAR_ONLY),
                                 ("both", BOTH))}
    for name, r in spec.fractions.items():
        assert abs(counts[name] - n * r) <= 1 + 1e-9, (name, counts[name], n * r)
    n_m, n_c = counts["mnist_only"] + counts["both"], counts["cifar_only"] + counts["both"]
    assert abs(n_m - n * pm) <= 1 and abs(n_c - n * pc) <= 2  # N p_m = N_m1 + N_2, N p_c = N_c1 + N_2

    # class balance: labels, and each kind, spread over classes within one
    assert np.ptp(np.bincount(train.labels, minlength=k)) <= 1
    for code in (EMPTY, MNIST_ONLY, CIFAR_ONLY, BOTH):
        assert np.ptp(np.bincount(train.labels[train.kind == code], minlength=k)) <= 1

    # reliability: the flags (shown class != label) match the requested rates within rounding
    wrong_m = np.sum((train.mnist_class >= 0) & (train.mnist_class != train.labels))
    wrong_c = np.sum((train.cifar_class >= 0) & (train.cifar_class != train.labels))
    assert abs(wrong_m - n_m * (1 - rho_m)) <= 1 + 1e-9
    assert abs(wrong_c - n_c * (1 - rho_c)) <= 2 + 1e-9

    # no source image twice in training, none in both train and any evaluation split
    for idx_name in ("mnist_index", "cifar_index"):
        used = getattr(train, idx_name)
        used = used[used >= 0]
        assert len(np.unique(used)) == len(used)
        for ds in data.evals.values():
            held = getattr(ds, idx_name)
            assert not np.intersect1d(used, held[held >= 0]).size

    # N is maximal: the layout of N + 1 dominoes needs an image some source class does not have
    avail_m, avail_c = (np.array(data.info["available"][s]) for s in ("mnist", "cifar"))
    perms_m, perms_c = (np.array(data.info["wrong_orders"][s]).reshape(k, k - 1) for s in ("mnist", "cifar"))
    bigger = _layout(n + 1, pm, pc, pb, rho_m, rho_c, perms_m, perms_c)
    need_m = np.bincount(bigger.shown_m[bigger.shown_m >= 0], minlength=k)
    need_c = np.bincount(bigger.shown_c[bigger.shown_c >= 0], minlength=k)
    assert np.any(need_m > avail_m) or np.any(need_c > avail_c)
    # ... and the layout of N itself is exactly what was built
    same = _layout(n, pm, pc, pb, rho_m, rho_c, perms_m, perms_c)
    assert np.array_equal(np.bincount(same.shown_m[same.shown_m >= 0], minlength=k),
                          np.bincount(train.mnist_class[train.mnist_class >= 0], minlength=k))


@given(prevalences(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(2, 10), st.integers(0, 5000))
def test_demand_closed_form_equals_layout_counts(prev, rho_m, rho_c, k, n):
    rng = np.random.default_rng(n)
    perms_m, perms_c = _wrong_orders(k, rng), _wrong_orders(k, rng)
    need_m, need_c = _demand(np.array([n]), *prev, rho_m, rho_c, perms_m, perms_c)
    lay = _layout(n, *prev, rho_m, rho_c, perms_m, perms_c)
    assert np.array_equal(need_m[0], np.bincount(lay.shown_m[lay.shown_m >= 0], minlength=k))
    assert np.array_equal(need_c[0], np.bincount(lay.shown_c[lay.shown_c >= 0], minlength=k))


@given(prevalences(), st.floats(0.0, 1.0), st.floats(0.0, 1.0),
       st.lists(st.integers(0, 60), min_size=10, max_size=10),
       st.lists(st.integers(0, 60), min_size=10, max_size=10))
def test_largest_size_is_maximal_and_near_the_linear_program_optimum(prev, rho_m, rho_c, a_m, a_c):
    pm, pc, pb = prev
    k = 10
    a_m, a_c = np.array(a_m), np.array(a_c)
    rng = np.random.default_rng(1)
    perms_m, perms_c = _wrong_orders(k, rng), _wrong_orders(k, rng)
    n = largest_size(a_m, a_c, pm, pc, pb, rho_m, rho_c, perms_m, perms_c)
    def fits(sizes):
        need_m, need_c = _demand(np.asarray(sizes), pm, pc, pb, rho_m, rho_c, perms_m, perms_c)
        return np.all(need_m <= a_m, axis=1) & np.all(need_c <= a_c, axis=1)

    if n > 0:
        assert fits([n])[0]
    # every larger size up to the counting bound (each half needs its own image) fails
    bound = min(math.floor((a.sum() + 1) / p) for a, p in ((a_m, pm), (a_c, pc)) if p > 0)
    assert n <= bound
    assert not fits(np.arange(n + 1, bound + 1)).any()
    # with reliable halves the continuous optimum is N* = min_s min_j K·A_{s,j}/p_s; rounding costs < K/p + 1
    if rho_m == 1 and rho_c == 1:
        n_star = min(k * a.min() / p for a, p in ((a_m, pm), (a_c, pc)) if p > 0)
        assert n <= n_star + k / min(p for p in (pm, pc) if p > 0) + 1
        assert n >= n_star - k / min(p for p in (pm, pc) if p > 0) - 1


def test_same_seed_same_data_and_different_seed_different_data():
    spec = MixtureSpec(0.6, 0.7, rho_mnist=0.8, **OFFLINE)
    a, b, c = build(spec, seed=3), build(spec, seed=3), build(spec, seed=4)
    assert np.array_equal(a.train.images, b.train.images) and np.array_equal(a.train.labels, b.train.labels)
    for name in a.evals:
        assert np.array_equal(a.evals[name].images, b.evals[name].images)
    assert not np.array_equal(a.train.images, c.train.images)


def test_evaluation_splits_have_their_defining_structure():
    spec = MixtureSpec(0.5, 0.5, rho_mnist=0.5, rho_cifar=0.5, covariate=(1.0, 0.0),
                       label_shift=(1, 0, 0, 0, 0, 0, 0, 0, 0, 3), concept="cifar", **OFFLINE)
    data = build(spec, seed=1)
    assert set(EVAL_SPLITS) <= set(data.evals) and {"covariate", "label_shift", "concept"} <= set(data.evals)
    ev = data.evals
    assert np.all(ev["both"].kind == BOTH) and np.all(ev["mnist_only"].kind == MNIST_ONLY)
    assert np.all(ev["cifar_only"].kind == CIFAR_ONLY) and np.all(ev["covariate"].kind == MNIST_ONLY)
    for name in ("both", "mnist_only", "cifar_only", "covariate", "label_shift"):  # eval halves are reliable
        ds = ev[name]
        for shown in (ds.mnist_class, ds.cifar_class):
            assert np.all((shown < 0) | (shown == ds.labels))
        _check_set(ds, spec, 10)
    # randomized: the same dominoes as "both" with one half permuted across examples
    for side in ("mnist", "cifar"):
        r = ev[f"{side}_randomized"]
        other = "cifar" if side == "mnist" else "mnist"
        assert np.array_equal(getattr(r, f"{other}_class"), r.labels)
        assert sorted(getattr(r, f"{side}_index")) == sorted(getattr(ev["both"], f"{side}_index"))
        agreement = np.mean(getattr(r, f"{side}_class") == r.labels)
        assert agreement < 0.5  # ~1/K by chance
    # label shift: class 9 three times as frequent as class 0, the others absent
    counts = np.bincount(ev["label_shift"].labels, minlength=10)
    assert counts[1:9].sum() == 0 and abs(counts[9] - 3 * counts[0]) <= 1
    # concept: the CIFAR half shows π(label) for a derangement π
    pi = np.array(data.info["concept_map"])
    assert np.all(pi != np.arange(10)) and sorted(pi) == list(range(10))
    assert np.array_equal(ev["concept"].cifar_class, pi[ev["concept"].labels])
    assert np.array_equal(ev["concept"].mnist_class, ev["concept"].labels)


def test_n_max_caps_the_training_set_and_keeps_fractions():
    spec = MixtureSpec(0.5, 0.5, n_max=101, **OFFLINE)
    data = build(spec)
    assert len(data.train) == 101
    for name, r in spec.fractions.items():
        assert abs(data.info["train"]["kinds"][name] - 101 * r) <= 1


def test_binary_task_uses_digits_0_1_and_automobile_truck():
    spec = MixtureSpec(1.0, 1.0, task="binary", **OFFLINE)
    data = build(spec)
    assert data.n_classes == 2 and set(np.unique(data.train.labels)) == {0, 1}
    _check_set(data.train, spec, 2)  # shown class 0 <-> source 0 / 1 (automobile), 1 <-> source 1 / 9 (truck)
    assert TASKS["binary"] == ((0, 1), (1, 9))


@pytest.mark.parametrize("kwargs, message", [
    (dict(p_mnist=0.5, p_cifar=0.5, p_both=0.7), "p_both=0.7 exceeds min(p_mnist, p_cifar)=0.5"),
    (dict(p_mnist=0.9, p_cifar=0.9, p_both=0.5), "exceeds 1"),
    (dict(p_mnist=0.0, p_cifar=0.0), "unbounded"),
    (dict(p_mnist=1.5), "p_mnist must be a probability"),
    (dict(rho_cifar=-0.1), "rho_cifar"),
    (dict(task="three"), "task"),
    (dict(mnist_source="svhn"), "mnist_source"),
    (dict(label_shift=(1, 2)), "label_shift"),
    (dict(concept="both"), "concept"),
    (dict(covariate=(0.9, 0.9, 0.1)), "covariate"),
    (dict(n_max=0), "n_max"),
])
def test_infeasible_or_bad_specs_are_refused_with_the_violated_constraint(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MixtureSpec(**kwargs)


def test_default_p_both_is_the_product():
    assert MixtureSpec(0.3, 0.6).p_both_resolved == pytest.approx(0.18)
    assert MixtureSpec(0.3, 0.6).fractions["empty"] == pytest.approx(0.7 * 0.4)


def test_offline_default_says_which_source_is_in_use(tmp_path, monkeypatch):
    monkeypatch.setenv("DOMINOES_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = build(MixtureSpec(procedural_per_class=PER_CLASS, n_test=20), data_dir=tmp_path)
    assert "procedural" in data.source and "glyphs" in data.source and "textures" in data.source
    with pytest.raises(FileNotFoundError, match="no mnist files found"):
        build(MixtureSpec(mnist_source="mnist"), data_dir=tmp_path)


def test_simplicity_dial_changes_the_pixels_not_the_layout():
    plain = build(MixtureSpec(1.0, 1.0, **OFFLINE), seed=2)
    noisy = build(MixtureSpec(1.0, 1.0, noise_cifar=0.3, contrast_cifar=0.5, **OFFLINE), seed=2)
    assert np.array_equal(plain.train.labels, noisy.train.labels)
    assert np.array_equal(plain.train.images[:, :, :HALF], noisy.train.images[:, :, :HALF])
    assert not np.array_equal(plain.train.images[:, :, HALF:], noisy.train.images[:, :, HALF:])


def test_cli_build_json_reports_counts_fractions_and_source(capsys, tmp_path):
    import json

    from dominoes.cli import main

    png = tmp_path / "grid.png"
    status = main(["build", "--mnist-source", "glyphs", "--cifar-source", "textures",
                   "--procedural-per-class", str(PER_CLASS), "--n-test", "40",
                   "--p-mnist", "0.5", "--p-cifar", "0.5", "--json", "--preview", str(png)])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and png.stat().st_size > 0
    assert out["source"] == "glyphs (procedural, offline) + textures (procedural, offline)"
    assert sum(out["train"]["kinds"].values()) == out["N"]
    assert out["fractions_requested"] == {"empty": 0.25, "mnist_only": 0.25, "cifar_only": 0.25, "both": 0.25}
    status = main(["build", "--p-mnist", "0.5", "--p-cifar", "0.5", "--p-both", "0.7"])
    err = capsys.readouterr().err
    assert status == 2 and "p_both=0.7 exceeds min(p_mnist, p_cifar)=0.5" in err
