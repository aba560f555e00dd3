"""XAI asymmetry compensation: two-point IG agrees with captum's IntegratedGradients; the loss behaves."""

import pytest
import torch

from cosim.codec import xai
from cosim.codec.model import CodecConfig, SplitModel

torch.set_num_threads(1)


def _forward():
    torch.manual_seed(1)
    m = SplitModel(CodecConfig(name="t", dataset="d", backbone="small-cnn", image_shape=(1, 8, 8),
                               num_classes=10)).eval()
    return m, (lambda s: m.decode_logits(s, torch.zeros(s.shape[0])))  # captum stacks the IG steps


def test_two_point_ig_matches_captum():
    captum = pytest.importorskip("captum.attr")
    m, forward = _forward()
    symbols = m.quantizer(torch.randn(6, 8, 4, 4) * 0.5).values.detach()
    target = torch.arange(6) % 10
    ours = xai.attributions(forward, symbols, target)
    ig = captum.IntegratedGradients(forward)
    ref = ig.attribute(symbols, baselines=torch.zeros_like(symbols), target=target, n_steps=2,
                       method="riemann_trapezoid")
    # captum's trapezoid weights are 1/n per point, halved at both ends (they sum to (n-1)/n), so with
    # n_steps=2 it returns exactly half of the two-point trapezoid 1/2 (grad f(s) + grad f(0)) * s
    assert torch.allclose(ours, 2 * ref, rtol=1e-5, atol=1e-9)
    assert ours.abs().max() > 1e-7


def test_loss_reaches_symbols_and_rewards_positive_attribution():
    _, forward = _forward()
    symbols = (torch.randn(6, 8, 4, 4) * 0.5).requires_grad_(True)
    attr = xai.attributions(forward, symbols, torch.zeros(6, dtype=torch.long))
    loss = xai.asymmetry_loss(attr)
    positive = attr > 0
    expected = attr.numel() / positive.sum() + 1 / attr[positive].sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert symbols.grad is not None and symbols.grad.abs().sum() > 0
    assert xai.asymmetry_loss(-attr.detach().abs() - 1).item() == attr.numel()  # nothing positive


def test_floor_bounds_the_gradient_when_few_attributions_are_positive():
    # one tiny positive attribution among many: the authors' 1/sum has a gradient of 1/sum^2 (1e12 here)
    symbols = torch.full((2, 8, 4, 4), -1.0)
    symbols[0, 0, 0, 0] = 1e-6
    symbols.requires_grad_(True)
    plain = xai.asymmetry_loss(symbols * 1.0)
    plain.backward()
    assert symbols.grad.abs().max() > 1e11
    symbols.grad = None
    floored = xai.asymmetry_loss(symbols * 1.0, floor=1.0)
    floored.backward()
    assert symbols.grad.abs().max() == 0  # below the floor the term is constant
    assert floored.item() == pytest.approx(symbols.numel() + 1.0)
    big = torch.rand(2, 8, 4, 4) + 1  # every attribution positive, sum far above the floor: unchanged
    assert xai.asymmetry_loss(big, 1.0).item() == xai.asymmetry_loss(big).item()
