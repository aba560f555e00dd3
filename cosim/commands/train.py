"""`cosim train`: train a SemanticNN codec (backbone pre-training + Feature-augmentation Learning)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

RECIPES = ("semanticnn", "deepcod", "adjscc", "agilenn")  # = cosim.codec.train.RECIPES (no torch import here)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train` command."""
    from cosim.tasks.base import DEFAULT_TASK, TASKS

    p = subparsers.add_parser("train", help="train a SemanticNN codec and write a checkpoint",
                              description="Pre-train the backbone, freeze it, then train encoder, "
                              "quantizer and BER-aware decoder with Feature-augmentation Learning.")
    p.add_argument("--dataset", required=True, help="data set name (see `cosim data list`)")
    p.add_argument("--backbone", required=True, choices=("small-cnn", "resnet8", "resnet8-s4", "resnet18", "resnet50",
                                                            "mobilenet_v2"))
    p.add_argument("--backbone-weights", default=None, metavar="FILE",
                   help="torchvision state dict (.pth) for resnet18/resnet50/mobilenet_v2, read with "
                   "torch.load(weights_only=True); with --pretrain-epochs 0 the backbone is used as given")
    p.add_argument("--task", choices=TASKS.names(), default=DEFAULT_TASK,
                   help="classification (default) or detection (a grid detector on the data set's boxes)")
    p.add_argument("--bits", type=int, default=3, choices=(1, 2, 3, 4), help="bits per symbol (default 3)")
    p.add_argument("--channels", type=int, default=8, help="encoder output channels (default 8)")
    p.add_argument("--root", default=None, help="data directory for file-based data sets")
    p.add_argument("--out", required=True, type=Path, help="checkpoint file to write")
    p.add_argument("--epochs", type=int, default=60, help="epochs of each FAL stage (default 60)")
    p.add_argument("--pretrain-epochs", type=int, default=30, help="backbone epochs (default 30)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-fal", action="store_true", help="train on clean bits only")
    p.add_argument("--no-xai", action="store_true", help="without XAI asymmetry compensation")
    p.add_argument("--ber-unaware", action="store_true", help="feed the decoder a constant, not the BER")
    p.add_argument("--gray", action="store_true", help="Gray-code the level index")
    p.add_argument("--corruption", choices=("bits", "symbols"), default="bits",
                   help="training channel: flip packed bits (default) or the authors' symbol replacement")
    p.add_argument("--kernel", type=int, default=None, help="encoder kernel = stride (default: 2 for "
                   "stems of at most 16 px, else 4)")
    p.add_argument("--decoder-width", type=int, default=32, help="decoder channels (default 32)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2, help="codec learning rate (default 1e-2)")
    p.add_argument("--stage2-lr", type=float, default=None,
                   help="learning rate of the task stage (default: --lr; use 1e-3 for resnet8)")
    p.add_argument("--pretrain-lr", type=float, default=2e-3, help="backbone learning rate (default 2e-3)")
    p.add_argument("--centre-lr-scale", type=float, default=0.01,
                   help="quantizer centres learn at lr x this (default 0.01)")
    p.add_argument("--anneal", type=float, default=None, metavar="SIGMA_END",
                   help="anneal the soft-assignment sigma from 1 to SIGMA_END (default: no annealing)")
    p.add_argument("--preset", choices=("cosim", "authors"), default="cosim",
                   help="cosim (default) or authors: the official code's quantizer gradient (clipped "
                   "identity), fixed centres, gradient-free usage loss, symbol replacement, integer SNR "
                   "draws, no error-free batches, cross-entropy attribution (overrides --corruption)")
    p.add_argument("--recipe", choices=RECIPES, default="semanticnn",
                   help="semanticnn (two FAL stages, default), or a baseline of the paper: deepcod (one stage "
                   "of distillation from the frozen backbone), adjscc (SNR-conditioned attention in encoder "
                   "and decoder; both stages, cross-entropy only), agilenn (XAI-guided local/remote feature "
                   "split, one stage with the skewness loss)")
    p.add_argument("--local-channels", type=int, default=None, metavar="K",
                   help="agilenn: feature channels kept for the device's local predictor (default "
                   "channels // 4, at least 1)")
    p.add_argument("--rho", type=float, default=0.8,
                   help="agilenn: share of the attribution the local channels must hold (default 0.8)")
    p.add_argument("--erasure-frames", type=int, default=0, metavar="F",
                   help="also train with lost frames: the payload cut into F frames, erased symbols fed "
                   "as 0 (default 0: off)")
    p.add_argument("--tune-tail", action="store_true",
                   help="give the codec its own copy of the tail and fine-tune it with the decoder in the "
                   "task stage (a departure from the authors' frozen tail, for small backbones)")
    p.add_argument("--single-stage", action="store_true",
                   help="skip the denoising stage (train the task stage only)")
    p.add_argument("--backbone-from", default=None, metavar="CKPT",
                   help="reuse the pre-trained backbone of this checkpoint (path or builtin:NAME)")
    p.add_argument("--name", default="", help="codec name stored in the checkpoint")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, evaluate briefly on the test split, and save the checkpoint."""
    import torch
    from tqdm import tqdm

    from cosim.codec.checkpoint import read_checkpoint
    from cosim.codec.evaluate import evaluate_codec
    from cosim.codec.service import Codec
    from cosim.codec.train import TrainConfig, train_codec, with_preset
    from cosim.data import load_dataset
    from cosim.errors import CosimError, DataError
    from cosim.tasks.base import get_task

    check_options(args)
    torch.set_num_threads(max(1, args.threads))
    backbone_state = None
    if args.backbone_from:
        src = read_checkpoint(args.backbone_from)
        if (src.config.backbone != args.backbone or src.config.dataset != args.dataset
                or src.config.task != args.task):
            raise CosimError(f"{src.path}: backbone {src.config.backbone!r} ({src.config.task}) on "
                             f"{src.config.dataset!r} does not match --backbone {args.backbone} "
                             f"--task {args.task} --dataset {args.dataset}")
        backbone_state = src.state_dict
    cfg = TrainConfig(
        dataset=args.dataset, backbone=args.backbone, bits=args.bits, channels=args.channels,
        kernel=args.kernel, decoder_width=args.decoder_width, epochs=args.epochs,
        pretrain_epochs=args.pretrain_epochs, batch_size=args.batch_size, lr=args.lr,
        pretrain_lr=args.pretrain_lr, stage2_lr=args.stage2_lr, centre_lr_scale=args.centre_lr_scale, seed=args.seed,
        fal=not args.no_fal, xai=not args.no_xai, ber_aware=not args.ber_unaware, gray=args.gray,
        corruption=args.corruption, sigma_end=args.anneal, name=args.name or args.out.stem, task=args.task,
        backbone_weights=args.backbone_weights, root=args.root, recipe=args.recipe,
        single_stage=args.single_stage, erasure_frames=args.erasure_frames,
        local_channels=args.local_channels, agile_rho=args.rho, tune_tail=args.tune_tail)
    task = get_task(args.task)
    if args.preset == "authors" and not task.scalar_accuracy:
        raise CosimError("--preset authors is defined for --task classification only")
    cfg = with_preset(cfg, args.preset)
    data = load_dataset(cfg.dataset, root=cfg.root)  # fail early (DataError) before any work
    try:
        task.check_data(data)
    except DataError as exc:
        raise CosimError(f"--task {cfg.task}: {exc}") from None
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int, loss: float) -> None:
        if args.no_progress:
            return
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="batch", file=sys.stderr, leave=False)
        bar.update(done - bar.n)
        if done % 20 == 0 or done == total:
            bar.set_postfix(loss=f"{loss:.4f}")

    start = time.perf_counter()
    try:
        result = train_codec(cfg, progress, backbone_state=backbone_state)
    finally:
        for bar in bars.values():
            bar.close()
    seconds = time.perf_counter() - start
    codec = Codec(result.model, name=cfg.name)
    if not task.scalar_accuracy:  # detection: mAP per BER instead of accuracy
        return _finish_detection(args, cfg, result, codec, data, seconds)
    ev = evaluate_codec(codec, data.x_test, data.y_test, bers=(0.0, 1e-2, 0.1), realisations=3,
                        seed=cfg.seed, int8=False)
    metrics = {"backbone_test_accuracy": result.backbone_test_accuracy, "train_seconds": seconds,
               "test_accuracy_by_ber": {format(b, "g"): s.mean for b, s in zip(ev.bers, ev.semantic)},
               "realisations": ev.realisations}
    _save_and_report(args, cfg, result, codec, seconds, metrics, "accuracy", ev.bers, ev.semantic)
    return 0


INT_RANGES = {"local_channels": (1, 1023), "channels": (1, 1024), "epochs": (1, 100_000), "pretrain_epochs": (0, 100_000),
              "decoder_width": (1, 4096), "batch_size": (1, 65_536), "kernel": (1, 64), "threads": (1, 256),
              "seed": (0, 2**63 - 1)}
FLOAT_RANGES = {"lr": (0.0, 10.0), "stage2_lr": (0.0, 10.0), "pretrain_lr": (0.0, 10.0),
                "centre_lr_scale": (0.0, 100.0), "anneal": (0.0, 100.0), "rho": (0.0, 1.0)}


def check_options(args: argparse.Namespace) -> None:
    """Every option in range and the output writable, before any training (CosimError naming the option)."""
    import math

    from cosim.errors import CosimError
    from cosim.io import check_user_path, probe_writable

    for name, (lo, hi) in INT_RANGES.items():
        v = getattr(args, name)
        if v is not None and not lo <= v <= hi:
            raise CosimError(f"--{name.replace('_', '-')} {v}: must be in {lo}..{hi}")
    for name, (lo, hi) in FLOAT_RANGES.items():
        v = getattr(args, name)
        if v is not None and not (math.isfinite(v) and lo < v <= hi):
            raise CosimError(f"--{name.replace('_', '-')} {v}: must be a finite number in ({lo:g}, {hi:g}]")
    if args.recipe == "agilenn":
        local = args.local_channels if args.local_channels is not None else max(1, args.channels // 4)
        if local >= args.channels:
            raise CosimError(f"--local-channels {local}: must be smaller than --channels {args.channels} "
                             f"(the rest is offloaded)")
    elif args.local_channels is not None:
        raise CosimError("--local-channels: only used by --recipe agilenn")
    if len(args.name) > 200:
        raise CosimError("--name: longer than 200 characters")
    out = check_user_path(args.out, "--out")
    if out.is_dir():
        raise CosimError(f"--out {out}: is a folder, expected a checkpoint file name")
    probe_writable(out, "--out")  # before the training, not after it


def _refuse_non_finite(model, metrics: dict, out: Path) -> None:
    """A diverged training (NaN or infinite weights) is refused, never saved."""
    import torch

    from cosim.errors import CosimError

    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CosimError(f"--out {out}: training diverged ({len(bad)} weight tensors hold NaN or infinite "
                         f"values, e.g. {bad[0]}); nothing saved: lower --lr or change --seed")


def _save_and_report(args, cfg, result, codec, seconds: float, metrics: dict, metric: str, bers, stats) -> None:
    """Save the trained codec with its metrics and print what was written and how well it does."""
    from cosim.codec.checkpoint import save_checkpoint
    from cosim.codec.train import config_dict

    _refuse_non_finite(result.model, metrics, args.out)

    save_checkpoint(args.out, result.model, config_dict(cfg), metrics)
    m = codec.meta
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB) in {seconds:.0f} s: "
          f"{m.payload_bits} payload bits ({m.compression_ratio:.0f}x smaller than float32 features), "
          f"backbone {metric} {result.backbone_test_accuracy:.4f}")
    print(f"test {metric}: " + ", ".join(f"BER {b:g}: {s.mean:.4f}" for b, s in zip(bers, stats)))


def _finish_detection(args: argparse.Namespace, cfg, result, codec, data, seconds: float) -> int:
    """Evaluate a trained detector briefly (mAP per BER), save it and print the figures."""
    from cosim.tasks.detection.evaluate import evaluate_detector

    ev = evaluate_detector(codec, data.x_test, data.boxes_test, bers=(0.0, 1e-2, 0.1), realisations=3,
                           seed=cfg.seed, int8=False)
    metrics = {"backbone_test_map50": result.backbone_test_accuracy, "train_seconds": seconds,
               "test_map50_by_ber": {format(b, "g"): s.mean for b, s in zip(ev.bers, ev.map50)},
               "test_map50_95_by_ber": {format(b, "g"): s.mean for b, s in zip(ev.bers, ev.map50_95)},
               "realisations": ev.realisations}
    _save_and_report(args, cfg, result, codec, seconds, metrics, "mAP@0.5", ev.bers, ev.map50)
    return 0
