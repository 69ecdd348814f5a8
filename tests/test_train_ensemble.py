"""vmapped ensembles: member e follows the same trajectory as a single run with seed e."""

import numpy as np
import pytest
import torch
from test_train import FAST, tiny_data

from dominoes.ensemble import train_ensemble
from dominoes.store import Store
from dominoes.train import TrainConfig, train

torch.set_num_threads(1)


@pytest.mark.parametrize("net,optimizer,layout", [("mlp", "sgd", "auto"), ("cnn", "adam", "vmap"),
                                                  ("cnn", "sgd", "loop")])
def test_ensemble_members_match_sequential_runs(net, optimizer, layout):
    data = tiny_data(n_classes=3)
    config = TrainConfig(**{**FAST, "net": net, "width": 8}, optimizer=optimizer,
                         lr=0.05 if optimizer == "sgd" else 1e-3, steps=12)
    seeds = [4, 9]
    members = train_ensemble(data, config, seeds, progress=False, layout=layout)
    for seed, member in zip(seeds, members, strict=True):
        single = train(data, TrainConfig(**{**config.to_dict(), "seed": seed}), progress=False)
        assert member.seed == seed
        assert list(member.curves.columns) == list(single.curves.columns)
        assert (member.curves[["step", "split", "metric"]].to_numpy()
                == single.curves[["step", "split", "metric"]].to_numpy()).all()
        # same arithmetic up to floating-point reassociation in the batched kernels
        np.testing.assert_allclose(member.curves.value, single.curves.value, rtol=1e-4, atol=1e-5)


def test_ensemble_logs_each_member_as_its_own_run(tmp_path):
    data = tiny_data()
    config = TrainConfig(**FAST, steps=6)
    with Store(tmp_path / "runs.sqlite") as store:
        members = train_ensemble(data, config, [0, 1], store=store, progress=False)
        assert {m.run_id for m in members} == set(store.statuses())
        assert set(store.statuses().values()) == {"done"}
        for m in members:
            logged = store.metrics(m.run_id)
            assert len(logged) == len(m.curves)
            assert not logged.duplicated(["step", "split", "metric"]).any()


@pytest.mark.parametrize("seeds,match", [([], "empty"), ([1, 1], "distinct")])
def test_bad_seed_lists_are_rejected(seeds, match):
    with pytest.raises(ValueError, match=match):
        train_ensemble(tiny_data(), TrainConfig(**FAST, steps=1), seeds)


def test_unknown_layout_is_rejected():
    with pytest.raises(ValueError, match="layout"):
        train_ensemble(tiny_data(), TrainConfig(**FAST, steps=1), [0], layout="pmap")
