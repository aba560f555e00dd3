"""ADJSCC baseline: deep joint source-channel coding with SNR-conditioned attention in encoder AND decoder.

Follows J. Xu et al., "Wireless Image Transmission Using Deep Source Channel Coding With Attention
Modules", IEEE Trans. Circuits Syst. Video Technol., 2022 (arXiv 2012.00533): feature-learning (FL) modules (conv ->
GDN -> PReLU) each followed by an attention-feature (AF) module that scales the channels by a factor
predicted from their means and the channel SNR, on both sides of the channel, power-normalised output.
SemanticNN's authors compare with it; here it is a small version on cosim's split and bit pipe:

- device (stem, then): FL(k x k, stride k) -> AF -> FL(3 x 3) -> AF -> per-sample power normalisation,
  the AF modules fed the channel state the device knows (SNR-equivalent of the BER / 10, as the
  decoder's, `model.channel_state`). ADJSCC uses five 5 x 5 FL modules on images; two suffice for a
  split after the stem, and cost about twice SemanticNN's encoder (which takes no channel input).
- then the same quantizer, bit packing and bit flips as SemanticNN (the symbols are digital, where
  ADJSCC sends analogue channel symbols), and SemanticNN's AF-conditioned decoder + frozen tail.

Training (`cosim train --recipe adjscc`): the same loop and channel draws as SemanticNN, the denoising
stage (feature MSE, ADJSCC's reconstruction objective) then the task stage (cross-entropy only: no
usage-histogram and no XAI term, which are SemanticNN's). The engine's `adjscc` strategy gives the
encoder the BER the gateway last fed back (`cosim.strategies.adjscc`).
"""

from __future__ import annotations

import torch
from torch import nn

from cosim.codec.model import CODEC_KINDS, GDN, AttentionFeature, Encoder, SplitModel


class AttentionEncoder(Encoder):
    """ADJSCC-style device encoder: FL(k x k / k) -> AF -> FL(3 x 3) -> AF -> power normalisation."""

    def __init__(self, stem_channels: int, channels: int, kernel: int, power_rms: float) -> None:
        super().__init__(stem_channels, channels, kernel, power_rms)
        self.af = AttentionFeature(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.gdn2 = GDN(channels)
        self.act2 = nn.PReLU()
        self.af2 = AttentionFeature(channels)

    def forward(self, features: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Power-normalised encoder output for channel state(s) `state` (B,) (`model.channel_state`)."""
        state = state.view(-1, 1).to(features.dtype)
        y = self.af(self.act(self.gdn(self.conv(features))), state)
        y = self.af2(self.act2(self.gdn2(self.conv2(y))), state)
        return self.normalise(y)


@CODEC_KINDS.register("adjscc")
class AdjsccModel(SplitModel):
    """SemanticNN's split, quantizer and decoder with ADJSCC's channel-conditioned encoder."""

    encoder_uses_state = True
    int8_device = False  # `int8.py` covers SemanticNN's one-conv encoder only: float32 device side

    def _make_encoder(self, stem_channels: int, kernel: int) -> nn.Module:
        return AttentionEncoder(stem_channels, self.config.channels, kernel, self.config.power_rms)

    def encode_features(self, features: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Encoder output given the channel state the device knows."""
        return self.encoder(features, state)
