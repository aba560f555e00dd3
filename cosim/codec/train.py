"""Training: pre-train the backbone once, freeze it, then Feature-augmentation Learning in two stages.

Stage 1 (denoising): encoder + centres + decoder learn to rebuild the clean stem features (MSE) from
symbols corrupted on a random channel. Stage 2 (task): cross-entropy through the frozen tail under the
same corruption, + 2 x MSE(centre-usage histogram, uniform), + the XAI asymmetry loss (`xai.py`).
Channel per batch: with probability `clean_fraction` error-free, else SNR ~ U(-6, 7) dB and
BER = 0.5 erfc(sqrt(SNR)) (BPSK). Default corruption flips the packed bits (as the simulated link
does); `corruption="symbols"` is the authors' model (between BER*N and 3*BER*N of the N symbols of the
batch replaced by random centres). Corrupted symbols carry no gradient, as in the authors' code.

Deliberate differences from the official code (`AUTHORS_PRESET` switches them all back: clipped-
identity quantizer gradient, fixed random centres, gradient-free usage counts, symbol replacement,
integer SNR draws, no error-free batches, attribution of the cross-entropy): the quantizer's gradient is
the soft assignment's and the centres train (`quantize.py`); the usage histogram is the hard count with
the soft assignment's gradient (the authors' count has none); 20 % error-free batches; Adam with lr 1e-2 for the codec stages and 2e-3 for the
backbone (authors: 1e-4 on ImageNet-scale nets) with the authors' schedule (x0.2 at 50 % and 85 % of
each stage); small shift augmentation. The centres learn at 1e-4 (the authors' rate): at 1e-2, under
bit-flip FAL, they merge into two groups and the codec degenerates to one bit per symbol. Through the
ResNet-8 tail a task-stage rate of 1e-2 kills the decoder (constant output): use `stage2_lr=1e-3`.

`task="detection"` trains the grid detector of `cosim.tasks.detection.model` on the data set's boxes with the same
recipe: its detection loss replaces cross-entropy, flips/transposes replace shifts, and the XAI term
attributes the true classes' scores at the objects' centre cells.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cosim.codec import xai
from cosim.codec.model import (
    CodecConfig,
    SplitModel,
    build_split_model,
    channel_state,
    snr_db_to_ber,
)
from cosim.codec.quantize import bits_to_indices, indices_to_bits
from cosim.tasks.base import get_task

CALIBRATION_SAMPLES = 2048  # training images that set the int8 device side's activation ranges
Progress = Callable[[str, int, int, float], None]  # (stage, steps done, steps total, last loss)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (stored in the checkpoint)."""

    dataset: str = "digits"
    backbone: str = "small-cnn"
    bits: int = 3
    channels: int = 8
    kernel: int | None = None  # encoder kernel = stride; None: 2 if the stem output is <= 16 px, else 4
    decoder_width: int = 32
    epochs: int = 60  # per Feature-augmentation Learning stage
    pretrain_epochs: int = 30
    batch_size: int = 64
    pretrain_lr: float = 2e-3
    lr: float = 1e-2  # encoder/decoder stages
    stage2_lr: float | None = None  # task stage learning rate (None: lr); 1e-3 for the ResNet-8 tail
    centre_lr_scale: float = 0.01  # quantizer centres learn at lr * centre_lr_scale (1e-4)
    seed: int = 0
    fal: bool = True
    xai: bool = True
    ber_aware: bool = True
    gray: bool = False
    corruption: str = "bits"  # "bits" (default) or "symbols" (the authors' replacement model)
    snr_db_min: float = -6.0
    snr_db_max: float = 7.0
    clean_fraction: float = 0.2
    sigma: float = 1.0
    sigma_end: float | None = None  # anneal sigma geometrically to this value (issue's variant)
    hist_weight: float = 2.0
    hist_mode: str = "hard"  # centre-usage histogram: "hard" (value) with soft gradient, or "soft"
    xai_weight: float = 1.0
    augment: bool = True
    max_train_samples: int | None = None  # for quick tests
    name: str = ""
    task: str = "classification"  # or "detection" (needs a data set with boxes)
    # the switches that differ between cosim's recipe and the authors' code (`AUTHORS_PRESET`)
    preset: str = "cosim"  # "cosim" or "authors" (a label: the fields below carry the behaviour)
    quantizer_gradient: str = "soft"  # "soft" (Mentzer soft assignment) or "clip" (authors' STE)
    fixed_centres: bool = False  # True: the authors' random centres (seed 666), never trained
    snr_integer: bool = False  # True: SNR ~ integer uniform on [min, max] dB (Python randint)
    xai_of: str = "logit"  # attribute the target logit, or "loss" (the cross-entropy, as the authors)
    backbone_weights: str | None = None  # torchvision state dict file for a standard backbone
    root: str | None = None  # folder of a file-based data set (CIFAR, MNIST, image folders)
    erasure_frames: int = 0  # > 0: FAL also erases whole frames (payload cut into this many), see erasure.py
    erasure_max: float = 0.5  # per erasing batch, frame loss probability ~ U(0, erasure_max)
    single_stage: bool = False  # skip the denoising stage (the "no FAL as one stage" ablation)
    recipe: str = "semanticnn"  # or "deepcod", "adjscc", "agilenn" (`RECIPES`)
    local_channels: int | None = None  # agilenn: channels kept on the device (None: channels // 4, at least 1)
    agile_rho: float = 0.8  # agilenn: share of the attribution the local channels must hold
    tune_tail: bool = False  # fine-tune a copy of the tail with the decoder in the task stage (model.py)
    xai_floor: float = 1.0  # the XAI term's 1/sum(A>0) uses max(sum, floor) (xai.asymmetry_loss)


# What the official code does differently (SEMANTICNN.md); `TrainConfig(**AUTHORS_PRESET)` follows it.
AUTHORS_PRESET = {
    "preset": "authors", "quantizer_gradient": "clip", "fixed_centres": True, "hist_mode": "count",
    "corruption": "symbols", "snr_integer": True, "clean_fraction": 0.0, "xai_of": "loss", "xai_floor": 0.0,
}
PRESETS = {"cosim": {}, "authors": AUTHORS_PRESET}
# "deepcod" (Yao et al., SenSys 2020, as the SemanticNN authors re-implement it for comparison): the same
# encoder, quantizer, decoder and channel draws, trained in one stage by `distillation_loss` (no
# denoising stage, no usage loss, no XAI term). "adjscc" (`adjscc.py`): ADJSCC's SNR-conditioned encoder,
# both stages, task stage cross-entropy only. "agilenn" (`agilenn.py`): AgileNN's local/remote split, one
# stage of cross-entropy + xai_weight x its skewness loss.
RECIPES = ("semanticnn", "deepcod", "adjscc", "agilenn")
KIND_OF_RECIPE = {"semanticnn": "semanticnn", "deepcod": "semanticnn", "adjscc": "adjscc", "agilenn": "agilenn"}


def with_preset(cfg: TrainConfig, preset: str) -> TrainConfig:
    """`cfg` with the fields of `preset` ("cosim": unchanged, "authors": `AUTHORS_PRESET`)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown training preset {preset!r}; known: {', '.join(PRESETS)}")
    return dataclasses.replace(cfg, **PRESETS[preset])


@dataclass(frozen=True)
class TrainResult:
    """A trained model and what training measured."""

    model: SplitModel
    config: TrainConfig
    backbone_test_accuracy: float  # of the uncompressed backbone; detection: its mAP@0.5


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random translation of each image by up to H/8 pixels (at least 1), zero-filled."""
    n, _, h, w = x.shape
    s = max(1, h // 8)
    padded = F.pad(x, (s, s, s, s))
    dy = torch.randint(0, 2 * s + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * s + 1, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))  # (n, h)
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))  # (n, w)
    idx_n = torch.arange(n).view(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[idx_n, rows.view(n, h, 1), cols.view(n, 1, w)]
    return out.permute(0, 3, 1, 2).contiguous()


class ClassificationTask:
    """What training needs for classification: shifted batches, cross-entropy, the label's logit for XAI."""

    name = "classification"

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x = x
        self.y = y

    def __len__(self) -> int:
        return self.x.shape[0]

    def batch(self, idx: torch.Tensor, augment_on: bool, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (randomly shifted if asked) and labels of rows `idx`."""
        xb = self.x[idx]
        return (_augment(xb, gen) if augment_on else xb), self.y[idx]

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of logits."""
        return F.cross_entropy(out, target)

    def attribution(self, forward: Callable[[torch.Tensor], torch.Tensor], target: torch.Tensor):
        """(forward giving logits, label indices) for `xai.attributions`."""
        return forward, target


def _batches(n: int, batch: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    for start in range(0, n, batch):
        yield order[start:start + batch]


def _schedule(opt: torch.optim.Optimizer, epochs: int) -> torch.optim.lr_scheduler.MultiStepLR:
    return torch.optim.lr_scheduler.MultiStepLR(
        opt, milestones=[max(1, int(epochs * 0.5)), max(1, int(epochs * 0.85))], gamma=0.2)


def default_kernel(stem_hw: int) -> int:
    """Encoder kernel/stride: 2 for small stems (<= 16 px), else 4 (as the authors')."""
    return 2 if stem_hw <= 16 else 4


def draw_ber(cfg: TrainConfig, rng: np.random.Generator) -> float:
    """One batch's channel: 0 with probability clean_fraction, else BPSK BER at SNR ~ U(min, max) dB
    (integer dB, both ends included, if `snr_integer`, as the authors' `random.randint(-6, 7)`)."""
    if not cfg.fal or rng.random() < cfg.clean_fraction:
        return 0.0
    if cfg.snr_integer:
        snr = rng.integers(math.ceil(cfg.snr_db_min), math.floor(cfg.snr_db_max) + 1)
    else:
        snr = rng.uniform(cfg.snr_db_min, cfg.snr_db_max)
    return float(snr_db_to_ber(snr))


def corrupt(indices: torch.Tensor, ber: float, bits: int, gray: bool, mode: str,
            gen: torch.Generator) -> torch.Tensor:
    """Level indices after the training channel: bit flips at `ber`, or the authors' symbol replacement."""
    if ber <= 0:
        return indices
    if mode == "bits":
        b = indices_to_bits(indices, bits, gray)
        flips = (torch.rand(b.shape, generator=gen) < ber).to(torch.uint8)
        return bits_to_indices(b ^ flips, gray)
    if mode == "symbols":
        flat = indices.flatten().clone()
        low = int(ber * flat.numel())
        count = int(torch.randint(low, 3 * low + 1, (1,), generator=gen)) if low > 0 else 0
        if count:
            where = torch.randperm(flat.numel(), generator=gen)[:count]
            flat[where] = torch.randint(0, 2 ** bits, (count,), generator=gen)
        return flat.view_as(indices)
    raise ValueError(f"unknown corruption {mode!r} (bits or symbols)")


def centre_usage(probs: torch.Tensor, indices: torch.Tensor, levels: int, mode: str) -> torch.Tensor:
    """Fraction of symbols per centre: "hard" counts with the soft assignment's gradient (default),
    "soft" (mean soft assignment, which can look uniform while only two centres are used), or "count"
    (hard counts, no gradient: the authors' usage term, which then trains nothing)."""
    soft = probs.reshape(-1, levels).mean(0)
    if mode == "soft":
        return soft
    hard = torch.bincount(indices.flatten(), minlength=levels).to(soft.dtype) / indices.numel()
    if mode == "count":
        return hard
    if mode != "hard":
        raise ValueError(f"unknown usage histogram mode {mode!r} (hard, soft or count)")
    return hard + (soft - soft.detach())


def pretrain_backbone(model: SplitModel, task, cfg: TrainConfig, gen: torch.Generator,
                      progress: Progress | None) -> None:
    """Train stem + tail on the task (cross-entropy, or the detection loss), then freeze them."""
    backbone = model.backbone
    opt = torch.optim.Adam(backbone.parameters(), lr=cfg.pretrain_lr, weight_decay=1e-4)
    sched = _schedule(opt, cfg.pretrain_epochs)
    steps = cfg.pretrain_epochs * math.ceil(len(task) / cfg.batch_size)
    done = 0
    backbone.train()
    for _ in range(cfg.pretrain_epochs):
        for idx in _batches(len(task), cfg.batch_size, gen):
            xb, tb = task.batch(idx, cfg.augment, gen)
            loss = task.loss(backbone(xb), tb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if progress:
                progress("pretrain", done, steps, loss.item())
        sched.step()
    freeze_backbone(model)


def freeze_backbone(model: SplitModel) -> None:
    """Eval mode (BatchNorm statistics fixed) and no gradients for stem and tail."""
    model.backbone.eval()
    for p in model.backbone.parameters():
        p.requires_grad_(False)


def calibrate_int8(model: SplitModel, x: torch.Tensor) -> None:
    """Per-tensor scale of the int8 split baseline: the largest training stem feature maps to 255."""
    with torch.no_grad():
        peak = max(float(model.backbone.stem(x[i:i + 512]).max()) for i in range(0, len(x), 512))
    model.int8_scale.fill_(max(peak, 1e-6) / 255.0)


def load_standard_weights(model: SplitModel, path: str) -> list[str]:
    """Load a torchvision weights file into a standard backbone (`backbones.py`); keys skipped (a
    classifier of another class count is left to pre-training: give --pretrain-epochs > 0)."""
    from cosim.codec.backbones import load_weights_into
    from cosim.codec.model import STANDARD_BACKBONES
    from cosim.errors import CosimError

    c = model.config
    if c.backbone not in STANDARD_BACKBONES:
        raise CosimError(f"backbone weights need a standard backbone ({', '.join(STANDARD_BACKBONES)}), "
                         f"not {c.backbone!r}")
    return load_weights_into(c.backbone, model.backbone, c.image_shape[0], c.num_classes, path)


def calibrate_device_int8(model: SplitModel, x: torch.Tensor, samples: int = CALIBRATION_SAMPLES) -> None:
    """Activation scales of the int8 device side from the first `samples` training images."""
    from cosim.codec.int8 import calibrate

    with torch.no_grad():
        model.device_act_scales.copy_(calibrate(model.backbone.stem, model.encoder, x[:samples]))


def _fal_stage(model: SplitModel, task, cfg: TrainConfig, stage: int,
               gen: torch.Generator, rng: np.random.Generator, progress: Progress | None,
               sigma_steps: tuple[int, int]) -> None:
    """One Feature-augmentation Learning stage (1 = denoising MSE, 2 = task loss)."""
    params = [p for m in model.codec_modules() for p in m.parameters()]
    lr = cfg.stage2_lr if stage == 2 and cfg.stage2_lr is not None else cfg.lr
    groups = [{"params": params}]
    centres = [p for p in model.quantizer.parameters() if p.requires_grad]
    if centres:
        groups.append({"params": centres, "lr": lr * cfg.centre_lr_scale})
    opt = torch.optim.Adam(groups, lr=lr)
    sched = _schedule(opt, cfg.epochs)
    steps = cfg.epochs * math.ceil(len(task) / cfg.batch_size)
    done = 0
    for m in model.codec_modules():
        m.train()
    quant = model.quantizer
    levels = quant.levels
    start_step, total_sigma_steps = sigma_steps
    for _ in range(cfg.epochs):
        for idx in _batches(len(task), cfg.batch_size, gen):
            if cfg.sigma_end is not None:
                frac = (start_step + done) / max(1, total_sigma_steps - 1)
                quant.sigma = cfg.sigma * (cfg.sigma_end / cfg.sigma) ** min(1.0, frac)
            xb, tb = task.batch(idx, cfg.augment, gen)
            with torch.no_grad():
                feats = model.backbone.stem(xb)
            ber = draw_ber(cfg, rng)
            state_value = float(channel_state(ber)) if model.config.ber_aware else 0.0
            state = torch.full((len(idx),), state_value)
            q = quant(model.encode_features(feats, state))
            received = corrupt(q.indices, ber, cfg.bits, cfg.gray, cfg.corruption, gen)
            changed = received != q.indices
            values = torch.where(changed, quant.sorted_centres().detach()[received], q.values)
            values = _erase(values, cfg, gen)
            if stage == 1:
                loss = F.mse_loss(model.decode_features(values, state), feats)
            elif cfg.recipe == "deepcod":
                loss = distillation_loss(model, feats, model.decoder(values, state), task, tb)
            elif cfg.recipe == "agilenn":
                from cosim.codec.agilenn import skewness_loss
                loss = task.loss(model.decode_logits(values, state), tb)
                loss = loss + cfg.xai_weight * skewness_loss(model, feats, state, tb, cfg.agile_rho)
            elif cfg.recipe == "adjscc":
                loss = task.loss(model.decode_logits(values, state), tb)
            else:
                loss = task.loss(model.decode_logits(values, state), tb)
                usage = centre_usage(q.probs, q.indices, levels, cfg.hist_mode)
                loss = loss + cfg.hist_weight * F.mse_loss(usage, torch.full_like(usage, 1.0 / levels))
                if cfg.xai:
                    def forward(s: torch.Tensor, state: torch.Tensor = state) -> torch.Tensor:
                        return model.decode_logits(s, state)
                    score, target = task.attribution(forward, tb)
                    with _frozen_statistics(model.codec_tail):
                        attr = xai.attributions(score, q.values, target, cfg.xai_of)
                    loss = loss + cfg.xai_weight * xai.asymmetry_loss(attr, cfg.xai_floor)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if progress:
                progress(f"stage{stage}", done, steps, loss.item())
        sched.step()
    model.eval()


@contextlib.contextmanager
def _frozen_statistics(module: torch.nn.Module | None):
    """Eval mode inside the block: the attribution passes (one at the zero baseline) must not move the
    fine-tuned tail's BatchNorm statistics."""
    if module is None or not module.training:
        yield
        return
    module.eval()
    try:
        yield
    finally:
        module.train()


def _erase(values: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """With erasure training on, half the batches lose frames (probability ~ U(0, erasure_max) each)."""
    if cfg.erasure_frames <= 0 or not cfg.fal or float(torch.rand((), generator=gen)) < 0.5:
        return values
    from cosim.codec.erasure import ERASED_VALUE, random_frame_erasures

    p = float(torch.rand((), generator=gen)) * cfg.erasure_max
    mask = random_frame_erasures(values.shape[0], values[0].numel(), cfg.bits, cfg.erasure_frames, p, gen)
    return torch.where(mask.view_as(values), torch.full_like(values, ERASED_VALUE), values)


def _tail_outputs(tail: torch.nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Outputs of every child of the frozen tail (the last one is the logits)."""
    outs = []
    for layer in tail:
        x = layer(x)
        outs.append(x)
    return outs


def distillation_loss(model: SplitModel, clean: torch.Tensor, decoded: torch.Tensor, task,
                      target: torch.Tensor) -> torch.Tensor:
    """DeepCOD-style loss, as the SemanticNN authors train their DeepCOD baseline (`knowledge_distill`):
    MSE between the frozen tail's intermediate feature maps on the clean stem features (teacher) and
    on the decoded ones (student), + MSE of the logits + the task loss. (Their 1e-4 orthogonality
    regulariser of the conv kernels is left out.)"""
    with torch.no_grad():
        teacher = _tail_outputs(model.backbone.tail, clean)
    student = _tail_outputs(model.backbone.tail, decoded)
    loss = task.loss(student[-1], target) + F.mse_loss(student[-1], teacher[-1])
    for s_map, t_map in zip(student[:-1], teacher[:-1]):
        if s_map.dim() == 4:
            loss = loss + F.mse_loss(s_map, t_map)
    return loss


def train_codec(cfg: TrainConfig, progress: Progress | None = None,
                backbone_state: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Train a codec on `cfg.dataset`; reuse a pre-trained backbone (stem, tail, int8 scale) if given."""
    from cosim.data import load_dataset

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data = load_dataset(cfg.dataset, root=cfg.root)
    x = torch.from_numpy(np.array(data.x_train, dtype=np.float32))
    y = torch.from_numpy(np.array(data.y_train, dtype=np.int64))
    if cfg.max_train_samples is not None:
        x, y = x[:cfg.max_train_samples], y[:cfg.max_train_samples]
    probe = SplitModel(CodecConfig(name="probe", dataset=data.name, backbone=cfg.backbone,
                                   image_shape=data.image_shape, num_classes=data.num_classes, kernel=1,
                                   task=cfg.task))
    _, stem_h, _ = probe.stem_shape()
    if cfg.recipe not in RECIPES:
        raise ValueError(f"unknown training recipe {cfg.recipe!r}; known: {', '.join(RECIPES)}")
    agile = cfg.recipe == "agilenn"
    if agile and not get_task(cfg.task).scalar_accuracy:
        raise ValueError("recipe agilenn combines class scores: it needs task classification")
    local = (cfg.local_channels if cfg.local_channels is not None else max(1, cfg.channels // 4)) if agile else 0
    codec_cfg = CodecConfig(
        name=cfg.name or f"{data.name}-{cfg.backbone}-b{cfg.bits}", dataset=data.name,
        backbone=cfg.backbone, image_shape=data.image_shape, num_classes=data.num_classes,
        bits=cfg.bits, channels=cfg.channels, kernel=cfg.kernel or default_kernel(stem_h),
        decoder_width=cfg.decoder_width, gray=cfg.gray, ber_aware=cfg.ber_aware and not agile, fal=cfg.fal,
        xai=cfg.xai and cfg.recipe == "semanticnn", task=cfg.task, erasures=cfg.erasure_frames > 0 and cfg.fal,
        kind=KIND_OF_RECIPE[cfg.recipe], local_channels=local, tune_tail=cfg.tune_tail)
    if cfg.xai_of == "loss" and not get_task(cfg.task).scalar_accuracy:
        raise ValueError("xai_of='loss' (the authors' attribution) is defined for classification only")
    model = build_split_model(codec_cfg)
    model.quantizer.sigma = cfg.sigma
    model.quantizer.gradient = cfg.quantizer_gradient
    if cfg.fixed_centres:
        model.quantizer.use_authors_centres()
    task = _make_task(cfg, data, model, x, y)
    if backbone_state is not None:
        model.backbone.load_state_dict({k[len("backbone."):]: v for k, v in backbone_state.items()
                                        if k.startswith("backbone.")})
        model.int8_scale.copy_(backbone_state["int8_scale"])
        freeze_backbone(model)
    else:
        if cfg.backbone_weights is not None:
            load_standard_weights(model, cfg.backbone_weights)
        pretrain_backbone(model, task, cfg, gen, progress)
        calibrate_int8(model, x)
    if model.codec_tail is not None:  # starts as the pre-trained tail, then trains with the decoder
        model.codec_tail.load_state_dict(model.backbone.tail.state_dict())
        for p in model.codec_tail.parameters():
            p.requires_grad_(True)
    steps_per_stage = cfg.epochs * math.ceil(len(x) / cfg.batch_size)
    if not (cfg.single_stage or cfg.recipe == "deepcod"):
        _fal_stage(model, task, cfg, 1, gen, rng, progress, (0, 2 * steps_per_stage))
    _fal_stage(model, task, cfg, 2, gen, rng, progress, (steps_per_stage, 2 * steps_per_stage))
    model.quantizer.sigma = cfg.sigma_end if cfg.sigma_end is not None else cfg.sigma
    model.eval()
    if model.int8_device:
        calibrate_device_int8(model, x)
    with torch.no_grad():
        xt = torch.from_numpy(np.array(data.x_test, dtype=np.float32))
        acc = get_task(cfg.task).test_score(model, xt, data)
    return TrainResult(model=model, config=cfg, backbone_test_accuracy=acc)


def _make_task(cfg: TrainConfig, data, model: SplitModel, x: torch.Tensor, y: torch.Tensor):
    """The training task of `cfg.task` (classification; detection: targets on the head's grid)."""
    return get_task(cfg.task).training(data, model, x, y)


def config_dict(cfg: TrainConfig) -> dict:
    """The training config as a plain dict (checkpoint metadata)."""
    return dataclasses.asdict(cfg)
