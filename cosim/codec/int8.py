"""Post-training int8 quantisation of the device side (stem + encoder convolution), as an MCU runs it.

Convention (TensorFlow Lite Micro / CMSIS-NN int8): BatchNorm folded into the preceding convolution;
weights int8, symmetric, one scale per output channel (max |w| / 127); biases int32 at scale
s_in * s_w; activations int8 with one calibrated scale per tensor: the input image is its 8-bit
pixels (scale 1/255; behind a leading `backbones.Normalize`, the normalised pixels as symmetric int8
over their exact range), a ReLU (ReLU6) output spans 256 levels [0, 255] * s (int8 with zero point
-128), the encoder convolution's signed output [-127, 127] * s. Scales come from the min/max of a calibration
batch (TFLite's default calibrator). Max-pooling runs on the integers. Requantisation rounds in float64
where the MCU uses a fixed-point multiplier (differences of at most one level, rarely).
GDN, PReLU, power normalisation and the nearest-centre search stay float32 on the device, as
`costs.flash_bytes_int8` counts them (their parameters stored float32).

The integer convolutions are computed exactly (float64 accumulation of integer products).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

RELU_LEVELS = 255.0  # non-negative activations: 256 levels (int8, zero point -128)
SIGNED_LEVELS = 127.0  # signed activations and weights: symmetric [-127, 127]
INPUT_LEVELS = 255.0  # 8-bit camera pixels


@dataclass(frozen=True)
class _ConvStep:
    """One convolution of the integer pipeline: int8 weights, their per-channel scales, int32 bias."""

    conv: nn.Conv2d  # geometry only (stride, padding, dilation, groups)
    weight_q: torch.Tensor  # float64 integers in [-127, 127]
    weight_scale: torch.Tensor  # (Cout,) float64
    bias: torch.Tensor  # (Cout,) float64, real units (quantised at run time with the input scale)
    relu: bool
    cap: float | None = None  # ReLU6: 6.0


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias (float64) of `conv` with eval-mode `bn` folded in."""
    w = conv.weight.detach().double()
    b = conv.bias.detach().double() if conv.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    if bn is None:
        return w, b
    gamma = bn.weight.detach().double() if bn.affine else torch.ones_like(b)
    beta = bn.bias.detach().double() if bn.affine else torch.zeros_like(b)
    inv = gamma / torch.sqrt(bn.running_var.detach().double() + bn.eps)
    return w * inv.view(-1, 1, 1, 1), (b - bn.running_mean.detach().double()) * inv + beta


def quantise_weight(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel symmetric int8: (integers as float64, scales (Cout,))."""
    peak = w.abs().flatten(1).max(dim=1).values.clamp_min(1e-12)
    scale = peak / SIGNED_LEVELS
    return torch.clamp(torch.round(w / scale.view(-1, 1, 1, 1)), -SIGNED_LEVELS, SIGNED_LEVELS), scale


def _steps(stem: nn.Sequential, encoder_conv: nn.Conv2d) -> list[_ConvStep | nn.MaxPool2d]:
    """The integer pipeline of a stem (Conv2d [BatchNorm2d] [ReLU|ReLU6] and MaxPool2d layers, after an
    optional leading `Normalize`, which is the input quantisation's job) + encoder conv."""
    from cosim.codec.backbones import Normalize

    layers = [m for k, m in enumerate(stem) if not (k == 0 and isinstance(m, Normalize))]
    steps: list[_ConvStep | nn.MaxPool2d] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, nn.MaxPool2d):
            steps.append(layer)
            i += 1
            continue
        if not isinstance(layer, nn.Conv2d):
            raise ValueError(f"int8 device side: unsupported stem layer {type(layer).__name__} "  # noqa: TRY004 (a config error)
                             f"(only Conv2d, BatchNorm2d, ReLU, MaxPool2d)")
        bn = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d) else None
        i += 2 if bn is not None else 1
        relu = i < len(layers) and isinstance(layers[i], (nn.ReLU, nn.ReLU6))
        cap = 6.0 if relu and isinstance(layers[i], nn.ReLU6) else None
        i += int(relu)
        w, b = fold_batchnorm(layer, bn)
        wq, ws = quantise_weight(w)
        steps.append(_ConvStep(layer, wq, ws, b, relu, cap))
    w, b = fold_batchnorm(encoder_conv, None)
    wq, ws = quantise_weight(w)
    steps.append(_ConvStep(encoder_conv, wq, ws, b, False))
    return steps


def num_activation_scales(stem: nn.Sequential) -> int:
    """How many calibrated activation scales the device side needs: one per stem conv + the encoder's."""
    return sum(isinstance(m, nn.Conv2d) for m in stem) + 1


def _conv(step: _ConvStep, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    c = step.conv
    return F.conv2d(x, weight, bias, c.stride, c.padding, c.dilation, c.groups)


class Int8Device(nn.Module):
    """The device side in int8: images in [0, 1] -> encoder output (before the quantizer), float32.

    `act_scales` (one per convolution, see `num_activation_scales`) come from `calibrate`.
    """

    def __init__(self, stem: nn.Sequential, encoder: nn.Module, act_scales: torch.Tensor) -> None:
        super().__init__()
        self.steps = _steps(stem, encoder.conv)
        n_conv = sum(isinstance(s, _ConvStep) for s in self.steps)
        if act_scales.numel() != n_conv or not bool((act_scales > 0).all()):
            raise ValueError(f"int8 device side needs {n_conv} positive activation scales, got "
                             f"{act_scales.tolist()}")
        self.act_scales = act_scales.detach().double().clone()
        self.encoder = encoder
        from cosim.codec.backbones import Normalize
        first = stem[0] if len(stem) else None
        self.normalize = first if isinstance(first, Normalize) else None

    def _input(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Integer input and its scale: 8-bit pixels (1/255), or, behind a `Normalize`, the normalised
        image as symmetric int8 with the scale that fits its exact range (pixels in [0, 1])."""
        x = x.double().clamp(0.0, 1.0)
        if self.normalize is None:
            return torch.round(x * INPUT_LEVELS), torch.tensor(1.0 / INPUT_LEVELS, dtype=torch.float64)
        mean, std = self.normalize.mean.double(), self.normalize.std.double()
        peak = torch.maximum(mean.abs(), (1.0 - mean).abs()) / std
        scale = peak.max() / SIGNED_LEVELS
        real = (torch.round(x * INPUT_LEVELS) / INPUT_LEVELS - mean) / std  # from the 8-bit pixels
        return torch.clamp(torch.round(real / scale), -SIGNED_LEVELS, SIGNED_LEVELS), scale

    def encoder_conv_output(self, x: torch.Tensor) -> torch.Tensor:
        """Dequantised int8 output of the encoder convolution (float32)."""
        return self._run(x, stop_at=None).float()

    def _run(self, x: torch.Tensor, stop_at: int | None) -> torch.Tensor:
        """The integer pipeline on images x; the real (pre-requantisation, post-ReLU) output of conv
        number `stop_at`, or, if None, the dequantised output of the last conv (float64)."""
        q, scale_in = self._input(x)
        k = 0
        for step in self.steps:
            if isinstance(step, nn.MaxPool2d):
                q = step(q)
                continue
            acc_scale = scale_in * step.weight_scale  # (Cout,)
            bias_q = torch.round(step.bias / acc_scale)  # int32 bias
            real = _conv(step, q, step.weight_q, bias_q) * acc_scale.view(1, -1, 1, 1)  # exact integer sums
            if step.relu:
                real = real.clamp(0.0, step.cap) if step.cap is not None else real.clamp_min(0.0)
            if k == stop_at:
                return real
            scale_in = self.act_scales[k]
            levels = (0.0, RELU_LEVELS) if step.relu else (-SIGNED_LEVELS, SIGNED_LEVELS)
            q = torch.clamp(torch.round(real / scale_in), *levels)
            k += 1
        return q * scale_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder output from int8 stem + encoder conv, then float GDN, PReLU, power normalisation."""
        y = self.encoder.act(self.encoder.gdn(self.encoder_conv_output(x)))
        return self.encoder.normalise(y)


def calibrate(stem: nn.Sequential, encoder: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Activation scales (float32, one per conv) from the float model's ranges on calibration images x.

    Scales are set layer by layer on the already-quantised upstream (so each range is that of the int8
    pipeline): ReLU outputs max / 255, signed outputs max |.| / 127.
    """
    n = num_activation_scales(stem)
    scales = torch.ones(n, dtype=torch.float64)
    for k in range(n):
        device = Int8Device(stem, encoder, scales)
        peak = 0.0
        with torch.no_grad():
            for i in range(0, x.shape[0], batch):
                peak = max(peak, float(device._run(x[i:i + batch], stop_at=k).abs().max()))
        step = [s for s in device.steps if isinstance(s, _ConvStep)][k]
        scales[k] = max(peak, 1e-8) / (RELU_LEVELS if step.relu else SIGNED_LEVELS)
    return scales.float()
