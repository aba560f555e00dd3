"""AgileNN baseline: XAI-guided split of the device's features into a local part and an offloaded part.

Follows K. Huang and W. Gao, "Real-time Neural Network Inference on Extremely Weak Devices: Agile
Offloading with Explainable AI", ACM MobiCom 2022 (cited by SemanticNN as a baseline):
the device's feature extractor output is split by channel; the top-k most important channels (by
Integrated-Gradients attribution) feed a small local NN on the device, the others are compressed and
offloaded to a remote NN, and the two predictions are combined by a learned weighted sum. Training
makes importance *skewed*: the first k channels must carry at least a fraction rho of it, so the split
positions are fixed after training (AgileNN's skewness loss max(0, rho - share of the top k); its
ordering loss among the top k is left out). A small version on cosim's split and bit pipe:

- device (stem, then): SemanticNN's feature extractor (k x k / stride-k conv -> GDN -> PReLU) to
  `channels` channels; channels [0, local_channels) -> local NN (flatten, one linear layer to the class
  scores, tanh); the other channels -> per-sample power normalisation; both quantised by the same
  quantizer, packed and sent (the local scores are `num_classes` extra symbols after the features, so
  the server can combine: AgileNN combines where the remote result arrives).
- server: SemanticNN's decoder (no channel state: AgileNN has no channel input) + the frozen tail ->
  remote logits; logits = a * s * local + (1 - a) * remote, a = sigmoid(learned), s learned.

Training (`cosim train --recipe agilenn`): the same loop and channel draws as SemanticNN, one stage of
cross-entropy + `xai_weight` x the skewness loss (attribution of the target logit, two-point IG with a
zero baseline as `xai.py`, of the extractor's output through local NN + remote path). AgileNN itself
compresses with a learned quantiser over a reliable link; our bit-flip training is the shared loop's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cosim.codec import xai
from cosim.codec.model import CODEC_KINDS, Decoder, Encoder, SplitModel

DEFAULT_RHO = 0.8  # skewness target: share of the importance the local channels must hold


class AgileEncoder(Encoder):
    """Feature extractor + split: (B, C_remote*h*w) power-normalised remote features, then the local
    NN's `num_classes` tanh scores."""

    def __init__(self, stem_channels: int, channels: int, kernel: int, power_rms: float, local_channels: int,
                 symbol_hw: tuple[int, int], num_classes: int) -> None:
        super().__init__(stem_channels, channels, kernel, power_rms)
        self.local_channels = local_channels
        self.local = nn.Linear(local_channels * symbol_hw[0] * symbol_hw[1], num_classes)

    def extract(self, features: torch.Tensor) -> torch.Tensor:
        """The extractor's output (B, channels, h, w), before the split."""
        return self.act(self.gdn(self.conv(features)))

    def remote_gain(self, extracted: torch.Tensor) -> torch.Tensor:
        """Per-sample factor (B, 1, 1, 1) of the remote channels' power normalisation."""
        remote = extracted[:, self.local_channels:]
        norm = remote.flatten(1).norm(dim=1).clamp_min(1e-8).view(-1, 1, 1, 1)
        return self.power_rms * math.sqrt(remote[0].numel()) / norm

    def split(self, extracted: torch.Tensor, gain: torch.Tensor | None = None) -> torch.Tensor:
        """Flat values to quantise: normalised remote channels (times `gain`, default `remote_gain`),
        then the local NN's scores."""
        k = self.local_channels
        gain = self.remote_gain(extracted) if gain is None else gain
        remote = (extracted[:, k:] * gain).flatten(1)
        local = torch.tanh(self.local(extracted[:, :k].flatten(1)))
        return torch.cat([remote, local], dim=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """The device's payload values (B, num_symbols)."""
        return self.split(self.extract(features))


class LearnedCombination(nn.Module):
    """AgileNN's combination of the two predictions: a * s * local + (1 - a) * remote, a = sigmoid(m)."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = nn.Parameter(torch.zeros(()))
        self.local_scale = nn.Parameter(torch.tensor(4.0))  # tanh scores in (-1, 1) -> logit range

    def forward(self, local: torch.Tensor, remote: torch.Tensor) -> torch.Tensor:
        """Combined logits (B, classes)."""
        a = torch.sigmoid(self.mix)
        return a * self.local_scale * local + (1.0 - a) * remote


@CODEC_KINDS.register("agilenn")
class AgileModel(SplitModel):
    """cosim's split with AgileNN's local/remote feature split and learned combination."""

    int8_device = False  # `int8.py` covers SemanticNN's encoder only: float32 device side

    def __init__(self, config) -> None:
        if not 1 <= config.local_channels < config.channels:
            raise ValueError(f"agilenn: local_channels must be in 1..channels-1 ({config.channels - 1}), "
                             f"got {config.local_channels}")
        super().__init__(config)
        self.combine = LearnedCombination()

    def _make_encoder(self, stem_channels: int, kernel: int) -> nn.Module:
        _, h, w = self.stem_shape()
        c = self.config
        return AgileEncoder(stem_channels, c.channels, kernel, c.power_rms, c.local_channels,
                            (h // kernel, w // kernel), c.num_classes)

    def _make_decoder(self, stem_channels: int, kernel: int) -> nn.Module:
        c = self.config
        return Decoder(c.channels - c.local_channels, stem_channels, c.decoder_width, int(math.log2(kernel)))

    def symbol_shape(self) -> tuple[int, int, int]:
        """Shape (C, h, w) of the offloaded feature symbols (the local scores follow them)."""
        c, h, w = super().symbol_shape()
        return (c - self.config.local_channels, h, w)

    def num_symbols(self) -> int:
        """Offloaded feature symbols + one symbol per class score of the local NN."""
        return super().num_symbols() + self.config.num_classes

    def codec_modules(self) -> list[nn.Module]:
        return [self.encoder, self.decoder, self.combine]

    def edge_forward(self, values: torch.Tensor, state: torch.Tensor, decoder: nn.Module, tail: nn.Module,
                     memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
        """Combined logits from received values (B, num_symbols): remote path + the local scores."""
        n = values.shape[0]
        values = values.reshape(n, -1)
        r = values.shape[1] - self.config.num_classes
        remote = values[:, :r].reshape(n, *self.symbol_shape()).contiguous(memory_format=memory_format)
        return self.combine(values[:, r:], tail(decoder(remote, state)))

    def decode_features(self, values: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The decoder's rebuilt stem features from the offloaded part of received values."""
        n = values.shape[0]
        remote = values.reshape(n, -1)[:, :-self.config.num_classes]
        return self.decoder(remote.reshape(n, *self.symbol_shape()), state)

    def logits_of_extracted(self, extracted: torch.Tensor, state: torch.Tensor,
                            gain: torch.Tensor | None = None) -> torch.Tensor:
        """Combined logits of the extractor's output without quantisation (for attribution)."""
        return self.decode_logits(self.encoder.split(extracted, gain), state)


def channel_importance(model: AgileModel, features: torch.Tensor, state: torch.Tensor,
                       target: torch.Tensor) -> torch.Tensor:
    """|two-point IG attribution| of the extractor's output summed per channel (B, channels);
    differentiable through the extractor's output only (gradients are constants, as `xai.py`).

    The remote channels' power normalisation is held at the sample's own gain along the path, so the
    zero baseline is the zero signal (the normalisation itself is undefined at zero)."""
    extracted = model.encoder.extract(features)
    gain = model.encoder.remote_gain(extracted).detach()
    grads = xai.two_point_gradients(lambda e: model.logits_of_extracted(e, state, gain), extracted, target)
    return (grads * extracted).abs().sum(dim=(2, 3))


def local_share(importance: torch.Tensor, local_channels: int) -> torch.Tensor:
    """Share (B,) of each sample's importance held by the first `local_channels` channels."""
    return importance[:, :local_channels].sum(1) / importance.sum(1).clamp_min(1e-12)


def skewness_loss(model: AgileModel, features: torch.Tensor, state: torch.Tensor, target: torch.Tensor,
                  rho: float = DEFAULT_RHO) -> torch.Tensor:
    """AgileNN's skewness loss: mean over the batch of max(0, rho - local share of the importance)."""
    share = local_share(channel_importance(model, features, state, target), model.config.local_channels)
    return F.relu(rho - share).mean()
