"""SemanticNN split model: backbone split after its stem, tiny device encoder, BER-aware edge decoder.

Device side: stem (first conv, BN, ReLU[, max-pool]) + encoder (k x k conv, stride k -> GDN -> PReLU ->
per-sample power normalisation; no channel information). Edge side: BER-aware decoder (four blocks of
transposed conv -> inverse GDN -> PReLU -> ADJSCC attention-feature module conditioned on the channel
state) + the frozen backbone tail.

Channel state fed to the decoder: the SNR-equivalent of the BER estimate under BPSK,
10*log10(erfcinv(2*BER)^2) dB (the inverse of BER = 0.5*erfc(sqrt(SNR)), as SemanticNN's training
draws SNR), BER clipped to [1e-6, 0.4], divided by 10 so the input is O(1).

Deliberate differences from the authors' code: the decoder ends in ReLU, not sigmoid, because our
stems end in ReLU with values above 1; the power normalisation targets an RMS of `power_rms` (0.5, so
most values fall inside the [-1, 1] span of the initial centres) instead of a fixed norm.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import erfcinv
from torch import nn

from cosim.codec.quantize import SoftQuantizer
from cosim.registry import Registry

BACKBONES = ("small-cnn", "resnet8", "resnet8-s4", "resnet18", "resnet50", "mobilenet_v2")
STANDARD_BACKBONES = ("resnet18", "resnet50", "mobilenet_v2")  # torchvision layouts, `backbones.py`
BER_FLOOR = 1e-6
BER_CEIL = 0.4


def ber_to_snr_db(ber: float | np.ndarray) -> np.ndarray:
    """SNR (dB) at which BPSK has bit error rate `ber` (clipped to [1e-6, 0.4])."""
    p = np.clip(np.asarray(ber, dtype=np.float64), BER_FLOOR, BER_CEIL)
    return 10.0 * np.log10(erfcinv(2.0 * p) ** 2)


def snr_db_to_ber(snr_db: float | np.ndarray) -> np.ndarray:
    """BPSK bit error rate 0.5*erfc(sqrt(SNR)) at `snr_db` (the SemanticNN training channel)."""
    from scipy.special import erfc
    return 0.5 * erfc(np.sqrt(10.0 ** (np.asarray(snr_db, dtype=np.float64) / 10.0)))


def channel_state(ber: float | np.ndarray) -> np.ndarray:
    """Decoder conditioning input for BER estimate(s): SNR-equivalent dB / 10, float32."""
    return (ber_to_snr_db(ber) / 10.0).astype(np.float32)


@dataclass(frozen=True)
class CodecConfig:
    """Architecture and coding options of one codec; stored in its checkpoint."""

    name: str
    dataset: str
    backbone: str
    image_shape: tuple[int, int, int]
    num_classes: int
    bits: int = 3
    channels: int = 8
    kernel: int = 2
    decoder_width: int = 32
    power_rms: float = 0.5
    gray: bool = False
    ber_aware: bool = True
    fal: bool = True
    xai: bool = True
    task: str = "classification"  # a registered `cosim.tasks` name: the tail ends in that task's head
    erasures: bool = False  # trained with erased frames (`erasure.py`): decode partial payloads
    kind: str = "semanticnn"  # a registered `CODEC_KINDS` name: SemanticNN or a baseline (`adjscc`, `agilenn`)
    local_channels: int = 0  # agilenn: feature channels kept on the device for its local predictor
    tune_tail: bool = False  # the codec path has its own copy of the tail, fine-tuned in the task stage


class GDN(nn.Module):
    """Generalised divisive normalisation (Balle et al.): x / sqrt(beta + gamma * x^2); inverse multiplies.

    beta and gamma are kept non-negative by squaring their stored parameters.
    """

    def __init__(self, channels: int, inverse: bool = False, beta_min: float = 1e-6,
                 gamma_init: float = 0.1) -> None:
        super().__init__()
        self.channels = channels
        self.inverse = inverse
        self.beta_min = beta_min
        self.beta = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(math.sqrt(gamma_init) * torch.eye(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise (or de-normalise) across channels at every position."""
        # the 1x1 channel mixing as one matmul over positions (channels last): much faster than
        # conv2d on small maps, and copy-free when x is in channels_last memory format
        xp = x.permute(0, 2, 3, 1)
        norm = F.linear(xp * xp, self.gamma ** 2, self.beta ** 2 + self.beta_min)
        out = xp * torch.sqrt(norm) if self.inverse else xp * torch.rsqrt(norm)
        return out.permute(0, 3, 1, 2)


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv + BN, identity or 1x1-conv shortcut, ReLU."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Backbone(nn.Module):
    """A classifier split after its stem: `tail(stem(x))` are the logits."""

    def __init__(self, stem: nn.Sequential, tail: nn.Sequential) -> None:
        super().__init__()
        self.stem = stem
        self.tail = tail

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the uncompressed model."""
        return self.tail(self.stem(x))


def build_backbone(name: str, image_shape: tuple[int, int, int], num_classes: int) -> Backbone:
    """`small-cnn` (grey 8x8 / 28x28; 16-channel stem), `resnet8` (MLPerf-Tiny-style, 32x32 RGB) or
    `resnet8-s4` (resnet8 widened x2 behind a stride-4 stem, for 64x64 camera-scale images), or one of
    the torchvision-compatible `STANDARD_BACKBONES` (`backbones.py`)."""
    cin, height, _ = image_shape
    if name == "small-cnn":
        stem: list[nn.Module] = [nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        if height >= 16:
            stem.append(nn.MaxPool2d(2))
        tail = [nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes)]
        return Backbone(nn.Sequential(*stem), nn.Sequential(*tail))
    if name == "resnet8":
        stem = [nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        tail = [BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes)]
        return Backbone(nn.Sequential(*stem), nn.Sequential(*tail))
    if name in STANDARD_BACKBONES:
        from cosim.codec.backbones import build_split
        return Backbone(*build_split(name, cin, num_classes))
    if name == "resnet8-s4":
        # ResNet-8 behind an ImageNet-style stride-4 stem (3x3 stride-2 conv, BN, ReLU, 3x3 stride-2
        # max-pool): for camera-scale images (64x64 -> 32x16x16 split features), as ResNet-18/50 are split
        stem = [nn.Conv2d(cin, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        tail = [BasicBlock(32, 32, 1), BasicBlock(32, 64, 2), BasicBlock(64, 128, 2),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, num_classes)]
        return Backbone(nn.Sequential(*stem), nn.Sequential(*tail))
    raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}")


class Encoder(nn.Module):
    """Device encoder: conv k x k stride k -> GDN -> PReLU -> per-sample power normalisation."""

    def __init__(self, stem_channels: int, channels: int, kernel: int, power_rms: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(stem_channels, channels, kernel, kernel)
        self.gdn = GDN(channels)
        self.act = nn.PReLU()
        self.power_rms = power_rms

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Encoder output scaled so that each sample's RMS equals `power_rms`."""
        return self.normalise(self.act(self.gdn(self.conv(features))))

    def normalise(self, y: torch.Tensor) -> torch.Tensor:
        """Per-sample power normalisation to an RMS of `power_rms`."""
        norm = y.flatten(1).norm(dim=1).clamp_min(1e-8).view(-1, 1, 1, 1)
        return y * (self.power_rms * math.sqrt(y[0].numel()) / norm)


class AttentionFeature(nn.Module):
    """ADJSCC attention-feature module: channel means + channel state -> FC, ReLU, FC, sigmoid -> scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels + 1, channels)
        self.fc2 = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Scale each channel of `x` by a factor predicted from its mean and the state (B, 1)."""
        context = torch.cat([x.mean(dim=(2, 3)), state], dim=1)
        scale = torch.sigmoid(self.fc2(F.relu(self.fc1(context))))
        return x * scale[:, :, None, None]


class DecoderBlock(nn.Module):
    """Transposed conv (3x3, or 2x2 stride 2 when upsampling) -> inverse GDN -> PReLU -> AF."""

    def __init__(self, cin: int, cout: int, upsample: bool) -> None:
        super().__init__()
        self.deconv = (nn.ConvTranspose2d(cin, cout, 2, 2) if upsample
                       else nn.ConvTranspose2d(cin, cout, 3, 1, 1))
        self.igdn = GDN(cout, inverse=True)
        self.act = nn.PReLU()
        self.af = AttentionFeature(cout)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One decoder stage conditioned on the channel state."""
        return self.af(self.act(self.igdn(self.deconv(x))), state)


def _he_init(deconv: nn.ConvTranspose2d) -> None:
    """He-normal init by the inputs feeding each output (cin*k*k/stride^2), zero bias.

    PyTorch's default leaves a deep transposed-conv/AF chain with a vanishing output at the start;
    this makes the denoising stage converge several times faster.
    """
    kh, kw = deconv.kernel_size
    fan_in = deconv.in_channels * kh * kw / (deconv.stride[0] * deconv.stride[1])
    nn.init.normal_(deconv.weight, 0.0, math.sqrt(2.0 / fan_in))
    if deconv.bias is not None:
        nn.init.zeros_(deconv.bias)


class Decoder(nn.Module):
    """BER-aware decoder: 4 AF-conditioned blocks, then transposed conv -> inverse GDN -> ReLU.

    Each x2 upsampling is a 2x2 stride-2 transposed conv (a matmul + pixel shuffle at inference, see
    `fast.py`). For speed the final layer does the last x2 and the blocks do the rest (the last ones),
    so most blocks run at the symbol resolution; the authors upsample with 3x3 stride-2 layers in
    blocks 3 and 4 and end with a 2x2 stride-1 layer.
    """

    def __init__(self, channels: int, stem_channels: int, width: int, upsample_steps: int) -> None:
        super().__init__()
        if not 0 <= upsample_steps <= 5:
            raise ValueError(f"upsample_steps must be 0..5, got {upsample_steps}")
        in_blocks = max(0, upsample_steps - 1)
        blocks = []
        for i in range(4):
            blocks.append(DecoderBlock(channels if i == 0 else width, width, upsample=i >= 4 - in_blocks))
        self.blocks = nn.ModuleList(blocks)
        self.final = (nn.ConvTranspose2d(width, stem_channels, 2, 2) if upsample_steps
                      else nn.ConvTranspose2d(width, stem_channels, 3, 1, 1))
        self.final_igdn = GDN(stem_channels, inverse=True)
        for m in self.modules():
            if isinstance(m, nn.ConvTranspose2d):
                _he_init(m)

    def forward(self, symbols: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Rebuild stem features from received symbol values (B, C, h, w) and state (B,)."""
        state = state.view(-1, 1).to(symbols.dtype)
        x = symbols
        for block in self.blocks:
            x = block(x, state)
        return F.relu(self.final_igdn(self.final(x)))


# Architectures by `CodecConfig.kind`: the SemanticNN split model and the paper's baselines
# (`adjscc.py`, `agilenn.py`), each a `SplitModel` subclass registered next to its class.
CODEC_KINDS: Registry[type] = Registry("codec kind", builtins=("cosim.codec.adjscc", "cosim.codec.agilenn"))


def build_split_model(config: CodecConfig) -> SplitModel:
    """The split model of `config.kind` (UnknownNameError lists the known kinds)."""
    return CODEC_KINDS.get(config.kind, "kind")(config)


@CODEC_KINDS.register("semanticnn")
class SplitModel(nn.Module):
    """Backbone + encoder + quantizer + decoder of one codec, plus the int8 split baseline's scale and
    the int8 device side's activation scales.

    Hooks a baseline overrides: `_make_encoder`, `_make_decoder`, `encode_features` (device side, the
    values the quantizer sees), `edge_forward` and `decode_features` (edge side), `num_symbols`,
    `codec_modules`.
    """

    encoder_uses_state = False  # the device encoder takes the channel state (ADJSCC)
    int8_device = True  # the device side can run the int8 pipeline of `int8.py`

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.config = config
        from cosim.tasks.base import get_task

        self.backbone = get_task(config.task).build_network(config.backbone, config.image_shape,
                                                            config.num_classes)
        stem_shape = self.stem_shape()
        stem_channels, stem_h, stem_w = stem_shape
        k = config.kernel
        if k < 1 or k & (k - 1) or stem_h % k or stem_w % k:
            raise ValueError(f"encoder kernel {k} must be a power of two dividing the stem output "
                             f"{stem_h}x{stem_w}")
        self.encoder = self._make_encoder(stem_channels, k)
        self.quantizer = SoftQuantizer(config.bits)
        self.decoder = self._make_decoder(stem_channels, k)
        # a departure from the authors (frozen tail), for small backbones whose tail is not robust to
        # rebuilt features: the codec path gets its own tail, fine-tuned with the decoder in the task
        # stage; the backbone's tail stays as pre-trained for the int8 split, raw and local baselines
        self.codec_tail = copy.deepcopy(self.backbone.tail) if config.tune_tail else None
        self.register_buffer("int8_scale", torch.ones(()))
        # activation scales of the int8 device side (`int8.py`); zeros = not calibrated (float device)
        from cosim.codec.int8 import num_activation_scales
        self.register_buffer("device_act_scales", torch.zeros(num_activation_scales(self.backbone.stem)))

    def _make_encoder(self, stem_channels: int, kernel: int) -> nn.Module:
        """SemanticNN's device encoder (no channel information)."""
        return Encoder(stem_channels, self.config.channels, kernel, self.config.power_rms)

    def _make_decoder(self, stem_channels: int, kernel: int) -> nn.Module:
        """SemanticNN's BER-aware decoder, from the symbol channels back to the stem's features."""
        return Decoder(self.config.channels, stem_channels, self.config.decoder_width, int(math.log2(kernel)))

    def stem_shape(self) -> tuple[int, int, int]:
        """Shape (C, H, W) of the stem's output (the split features)."""
        with torch.no_grad():
            was_training = self.backbone.training
            self.backbone.eval()
            out = self.backbone.stem(torch.zeros(1, *self.config.image_shape))
            self.backbone.train(was_training)
        return tuple(int(s) for s in out.shape[1:])  # type: ignore[return-value]

    def symbol_shape(self) -> tuple[int, int, int]:
        """Shape (C, h, w) of the transmitted feature symbols."""
        _, h, w = self.stem_shape()
        k = self.config.kernel
        return (self.config.channels, h // k, w // k)

    def num_symbols(self) -> int:
        """Symbols per payload."""
        return int(np.prod(self.symbol_shape()))

    def codec_modules(self) -> list[nn.Module]:
        """The modules training updates besides the quantizer's centres (the backbone stays frozen)."""
        return [self.encoder, self.decoder] + ([self.codec_tail] if self.codec_tail is not None else [])

    @property
    def semantic_tail(self) -> nn.Module:
        """The tail after the decoder: the frozen backbone tail, or the codec's fine-tuned copy."""
        return self.codec_tail if self.codec_tail is not None else self.backbone.tail

    def encode_features(self, features: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Device side after the stem: the values the quantizer sees (`state` (B,) unused here)."""
        return self.encoder(features)

    def decode_features(self, values: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """The decoder's rebuilt stem features from received values (the denoising stage's output)."""
        return self.decoder(values.reshape(values.shape[0], *self.symbol_shape()), state)

    def decode_logits(self, values: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Logits (a detector: its head output) from received symbol values: decoder, then the frozen tail."""
        return self.edge_forward(values, state, self.decoder, self.semantic_tail)

    def edge_forward(self, values: torch.Tensor, state: torch.Tensor, decoder: nn.Module, tail: nn.Module,
                     memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
        """Head outputs from received values (B, num_symbols) or (B, *symbol_shape) with the given
        decoder and tail (the service passes its inference-optimised copies and channels_last)."""
        x = values.reshape(values.shape[0], *self.symbol_shape()).contiguous(memory_format=memory_format)
        return tail(decoder(x, state))
