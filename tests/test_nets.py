"""Networks: output shapes, parameter counts from the architecture's formulas, seeded initialisation."""

import pytest
import torch

from dominoes.dataset import IMAGE_SHAPE
from dominoes.nets import NETS, build_net, count_parameters

INPUTS = 3 * 64 * 32


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("n_classes", [2, 10])
def test_logits_have_shape_batch_by_classes(name, n_classes):
    net = build_net(name, n_classes, width=8)
    x = torch.rand(5, *IMAGE_SHAPE)
    assert net(x).shape == (5, n_classes)


@pytest.mark.parametrize("width,depth", [(16, 1), (7, 3)])
def test_mlp_parameter_count(width, depth):
    # first layer (6144+1)w, then (depth-1) layers (w+1)w, read-out (w+1)·C
    expected = (INPUTS + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * 10
    assert count_parameters(build_net("mlp", 10, width=width, depth=depth)) == expected


@pytest.mark.parametrize("width", [4, 32])
def test_cnn_parameter_count(width):
    # conv 5×5×3→w (+bias), 4×4 pooling leaves 16×8 positions, fc to 128 hidden units, fc to C classes
    conv = (5 * 5 * 3 + 1) * width
    fc1 = (width * 16 * 8 + 1) * 128
    fc2 = (128 + 1) * 2
    assert count_parameters(build_net("cnn", 2, width=width)) == conv + fc1 + fc2


def test_resnet8_parameter_count():
    # bias-free convolutions, GroupNorm with a scale and shift per channel, widths w, 2w, 4w
    w, c = 4, 10

    def conv(k, a, b):
        return k * k * a * b

    def norm(ch):
        return 2 * ch

    stem = conv(3, 3, w) + norm(w)
    def block(a, b):  # two 3×3 convolutions, plus a 1×1 projection shortcut when the width changes
        projection = conv(1, a, b) + norm(b) if a != b else 0
        return conv(3, a, b) + norm(b) + conv(3, b, b) + norm(b) + projection

    blocks = block(w, w) + block(w, 2 * w) + block(2 * w, 4 * w)
    head = (4 * w + 1) * c
    net = build_net("resnet", c, width=w, depth=1)
    assert count_parameters(net) == stem + blocks + head
    # ResNet-8: stem + 3 blocks × 2 convolutions + the linear head carry weights (shortcut projections aside)
    main_path = [m for name, m in net.named_modules()
                 if isinstance(m, torch.nn.Conv2d | torch.nn.Linear) and "shortcut" not in name]
    assert len(main_path) == 8


@pytest.mark.parametrize("name", NETS)
def test_initialisation_is_a_function_of_the_seed_only(name):
    torch.manual_seed(123)
    a = build_net(name, 3, width=4, seed=7)
    state = torch.get_rng_state()
    b = build_net(name, 3, width=4, seed=7)
    c = build_net(name, 3, width=4, seed=8)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is untouched
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="vgg", n_classes=2), "unknown net"),
    (dict(name="cnn", n_classes=1), "n_classes"),
    (dict(name="mlp", n_classes=2, width=0), "width"),
    (dict(name="cnn", n_classes=2, depth=2), "one convolution"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_net(**kwargs)


def test_resnet_output_of_an_example_does_not_depend_on_its_batch():
    # GroupNorm normalises per example: evaluation of a split is independent of how it is chunked
    net = build_net("resnet", 2, width=8).eval()
    x = torch.rand(6, *IMAGE_SHAPE)
    with torch.no_grad():
        torch.testing.assert_close(net(x)[:2], net(x[:2]))
