"""Soft Quantization (SQ) of encoder outputs to 2^b scalar centres, and symbol <-> bit packing.

Forward: hard nearest-centre assignment (both modes). Backward, two modes:
- `gradient="soft"` (cosim's default, *not* the authors'): the gradient of the soft assignment
  softmax(-sigma * |x - c|) . c (Mentzer et al., CVPR 2018) to the input and to the centres, with the
  incoming gradient clipped to [-1, 1]; the centres are trainable.
- `gradient="clip"` (the official SemanticNN code, `quanti_STE` in STE_optimizer.py): a straight-through
  estimator whose input gradient is the upstream gradient clipped to [-1, 1]; the centres get no
  gradient (they keep their initial values).
Level index i always names the i-th smallest centre, so Gray coding of the index makes a single bit
error move a symbol to a neighbouring level.

Bit order (the codec contract): symbols in C order (c, h, w); each symbol's b bits MSB first;
numpy `packbits` order (bit k of a row is bit 7 - k % 8 of byte k // 8); zero-padded to whole bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


class _ClipGrad(torch.autograd.Function):
    """Identity forward; clips the gradient to [-1, 1] on the way back."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.clamp(-1.0, 1.0)


@dataclass(frozen=True)
class Quantized:
    """Output of the quantizer: symbol values (hard forward, soft gradient), level indices, soft probs."""

    values: torch.Tensor  # same shape as the input, float
    indices: torch.Tensor  # same shape as the input, int64 level index (0 = smallest centre)
    probs: torch.Tensor  # input shape + (levels,), soft assignment (for the usage histogram)


GRADIENTS = ("soft", "clip")
AUTHORS_CENTRE_SEED = 666  # the official code draws its centres after torch.manual_seed(666)


class SoftQuantizer(nn.Module):
    """2^bits scalar centres, evenly spaced over [-1, 1]; sigma = softness (default 1); `gradient` mode.

    `sigma` and `gradient` are plain attributes (training sets them; inference does not use them).
    """

    def __init__(self, bits: int = 3, sigma: float = 1.0, gradient: str = "soft") -> None:
        super().__init__()
        if not 1 <= bits <= 8:
            raise ValueError(f"bits must be in 1..8, got {bits}")
        if gradient not in GRADIENTS:
            raise ValueError(f"quantizer gradient must be one of {GRADIENTS}, got {gradient!r}")
        self.bits = int(bits)
        self.sigma = float(sigma)
        self.gradient = gradient
        self.centres = nn.Parameter(torch.linspace(-1.0, 1.0, 2 ** self.bits))

    def use_authors_centres(self) -> None:
        """Fixed centres as the official code draws them: uniform in [-1, 1) from torch seed 666,
        no gradient (a private generator: the global torch stream is left alone)."""
        gen = torch.Generator().manual_seed(AUTHORS_CENTRE_SEED)
        with torch.no_grad():
            self.centres.copy_(torch.rand(self.levels, generator=gen) * 2.0 - 1.0)
        self.centres.requires_grad_(False)

    @property
    def levels(self) -> int:
        """Number of centres, 2^bits."""
        return 2 ** self.bits

    def sorted_centres(self) -> torch.Tensor:
        """Centres in increasing order (differentiable); index i of a symbol refers to this order."""
        return torch.sort(self.centres).values

    def forward(self, x: torch.Tensor) -> Quantized:
        """Quantize `x` elementwise: hard values forward; backward per `self.gradient` (module docstring)."""
        centres = self.sorted_centres()
        dist = (x.unsqueeze(-1) - centres).abs()
        probs = torch.softmax(-self.sigma * dist, dim=-1)
        indices = dist.argmin(-1)
        hard = centres.detach()[indices]
        if self.gradient == "clip":
            values = hard + (_ClipGrad.apply(x) - x.detach())
        else:
            soft = (probs * centres).sum(-1)
            values = _ClipGrad.apply(soft + (hard - soft).detach())
        return Quantized(values=values, indices=indices, probs=probs)


def gray_encode(index: np.ndarray) -> np.ndarray:
    """Binary-reflected Gray code of non-negative integers."""
    index = np.asarray(index)
    return index ^ (index >> 1)


def gray_decode(code: np.ndarray, bits: int) -> np.ndarray:
    """Inverse of `gray_encode` for `bits`-bit codes."""
    table = np.empty(2 ** bits, dtype=np.int64)
    table[gray_encode(np.arange(2 ** bits))] = np.arange(2 ** bits)
    return table[np.asarray(code)]


def payload_bytes(num_symbols: int, bits: int) -> int:
    """Bytes of a packed payload of `num_symbols` symbols of `bits` bits (zero-padded)."""
    return (num_symbols * bits + 7) // 8


def pack_symbols(indices: np.ndarray, bits: int, gray: bool = False) -> np.ndarray:
    """Pack level indices (N, S) -> uint8 (N, ceil(S*bits/8)) in the contract's bit order."""
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 2:
        raise ValueError(f"indices must be (N, S), got shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= 2 ** bits):
        raise ValueError(f"indices outside 0..{2 ** bits - 1}")
    codes = gray_encode(idx) if gray else idx
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    bit_array = ((codes[:, :, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bit_array.reshape(idx.shape[0], -1), axis=1)


def unpack_symbols(packed: np.ndarray, num_symbols: int, bits: int, gray: bool = False) -> np.ndarray:
    """Unpack uint8 (N, nbytes) -> level indices (N, num_symbols) int64; padding bits are ignored."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim != 2 or packed.shape[1] != payload_bytes(num_symbols, bits):
        raise ValueError(f"packed must be (N, {payload_bytes(num_symbols, bits)}) uint8, "
                         f"got shape {packed.shape}")
    bit_array = np.unpackbits(packed, axis=1, count=num_symbols * bits)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.int64)
    codes = bit_array.reshape(packed.shape[0], num_symbols, bits).astype(np.int64) @ weights
    return gray_decode(codes, bits) if gray else codes


def indices_to_bits(indices: torch.Tensor, bits: int, gray: bool = False) -> torch.Tensor:
    """Torch: level indices (...) -> bits (..., bits) as uint8, MSB first, optionally Gray coded."""
    codes = indices ^ (indices >> 1) if gray else indices
    shifts = torch.arange(bits - 1, -1, -1, device=indices.device)
    return ((codes.unsqueeze(-1) >> shifts) & 1).to(torch.uint8)


def bits_to_indices(bit_tensor: torch.Tensor, gray: bool = False) -> torch.Tensor:
    """Torch: bits (..., b) MSB first -> level indices (...) int64 (inverse of `indices_to_bits`)."""
    bits = bit_tensor.shape[-1]
    weights = 1 << torch.arange(bits - 1, -1, -1, device=bit_tensor.device)
    codes = (bit_tensor.long() * weights).sum(-1)
    if not gray:
        return codes
    out = codes.clone()
    shift = codes >> 1
    while bool(shift.any()):
        out ^= shift
        shift = shift >> 1
    return out
