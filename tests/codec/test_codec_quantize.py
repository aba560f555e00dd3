"""Soft quantization: hard symbols are the nearest centres, gradients flow; bit packing round-trips."""

import itertools

import numpy as np
import pytest
import torch

from cosim.codec.quantize import (
    SoftQuantizer,
    bits_to_indices,
    gray_decode,
    gray_encode,
    indices_to_bits,
    pack_symbols,
    payload_bytes,
    unpack_symbols,
)

torch.set_num_threads(1)


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_hard_symbols_are_nearest_centres(bits):
    q = SoftQuantizer(bits)
    with torch.no_grad():
        q.centres.add_(0.05 * torch.randn(q.levels, generator=torch.Generator().manual_seed(bits)))
    x = torch.randn(4, 3, 5, 5)
    out = q(x)
    centres = q.sorted_centres().detach()
    nearest = (x.unsqueeze(-1) - centres).abs().argmin(-1)
    assert torch.equal(out.indices, nearest)
    assert torch.allclose(out.values, centres[nearest])
    assert out.probs.shape == (*x.shape, q.levels)
    assert torch.allclose(out.probs.sum(-1), torch.ones_like(x))


def test_default_centres_uniform_in_minus_one_one():
    q = SoftQuantizer()
    assert q.levels == 8 and q.sigma == 1.0
    assert torch.allclose(q.centres, torch.linspace(-1, 1, 8))


def test_gradients_flow_to_input_and_centres_and_are_clipped():
    q = SoftQuantizer(3)
    x = torch.randn(2, 4, 3, 3, requires_grad=True)
    (100.0 * q(x).values).sum().backward()  # incoming gradient 100 is clipped to 1
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert q.centres.grad is not None and q.centres.grad.abs().sum() > 0
    # |d soft / d x| = sigma * |Cov(c, sign(x - c))| <= 1 for centres in [-1, 1], so the clipped
    # incoming gradient (1) bounds the input gradient by 1
    assert x.grad.abs().max() <= 1.0 + 1e-6


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("gray", [False, True])
def test_packing_round_trip(bits, gray):
    rng = np.random.default_rng(bits)
    for num_symbols in (1, 7, 128):
        idx = rng.integers(0, 2 ** bits, size=(5, num_symbols))
        packed = pack_symbols(idx, bits, gray)
        assert packed.dtype == np.uint8 and packed.shape == (5, payload_bytes(num_symbols, bits))
        assert np.array_equal(unpack_symbols(packed, num_symbols, bits, gray), idx)
        t = torch.from_numpy(idx)
        assert torch.equal(bits_to_indices(indices_to_bits(t, bits, gray), gray), t)


def test_bit_order_is_msb_first_c_order_zero_padded():
    packed = pack_symbols(np.array([[5, 1, 7]]), 3)  # 101 001 111 -> 10100111 1(0000000)
    assert packed.tolist() == [[0b10100111, 0b10000000]]
    # torch bits agree with the packed bit order
    bits = indices_to_bits(torch.tensor([[5, 1, 7]]), 3).flatten().numpy()
    assert np.array_equal(np.unpackbits(packed, axis=1, count=9)[0], bits)


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_gray_neighbours_differ_in_one_bit(bits):
    codes = gray_encode(np.arange(2 ** bits))
    assert all(int(a ^ b).bit_count() == 1 for a, b in itertools.pairwise(codes))
    assert np.array_equal(gray_decode(codes, bits), np.arange(2 ** bits))
    # a torch bit flip in a Gray code moves by one level when it hits the least significant bit
    t = torch.arange(2 ** bits)
    b = indices_to_bits(t, bits, gray=True)
    b[:, -1] ^= 1
    assert torch.all((bits_to_indices(b, gray=True) - t).abs() == 1)


def test_clip_gradient_is_the_clipped_upstream_gradient_and_centres_get_none():
    """The authors' STE: d values / d x = clip(upstream, -1, 1) elementwise, no gradient to centres."""
    q = SoftQuantizer(3, gradient="clip")
    x = torch.randn(2, 4, 3, 3, requires_grad=True)
    upstream = torch.linspace(-3, 3, x.numel()).view_as(x)
    out = q(x)
    assert torch.equal(out.values.detach(), q.sorted_centres().detach()[out.indices])
    out.values.backward(upstream)
    assert torch.allclose(x.grad, upstream.clamp(-1, 1))
    assert q.centres.grad is None


def test_authors_centres_are_fixed_seed_666_draws():
    q = SoftQuantizer(3)
    q.use_authors_centres()
    expected = torch.rand(8, generator=torch.Generator().manual_seed(666)) * 2 - 1
    assert torch.equal(q.centres.detach(), expected) and not q.centres.requires_grad
    with pytest.raises(ValueError, match="gradient"):
        SoftQuantizer(3, gradient="nope")
