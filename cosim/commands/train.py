"""`cosim train`: train a SemanticNN codec (backbone pre-training + Feature-augmentation Learning)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train` command."""
    from cosim.tasks.base import DEFAULT_TASK, TASKS

    p = subparsers.add_parser("train", help="train a SemanticNN codec and write a checkpoint",
                              description="Pre-train the backbone, freeze it, then train encoder, "
                              "quantizer and BER-aware decoder with Feature-augmentation Learning.")
    p.add_argument("--dataset", required=True, help="data set name (see `cosim data list`)")
    p.add_argument("--backbone", required=True, choices=("small-cnn", "resnet8"))
    p.add_argument("--task", choices=TASKS.names(), default=DEFAULT_TASK,
                   help="classification (default) or detection (a grid detector on the data set's boxes)")
    p.add_argument("--bits", type=int, default=3, choices=(1, 2, 3, 4), help="bits per symbol (default 3)")
    p.add_argument("--channels", type=int, default=8, help="encoder output channels (default 8)")
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
    from cosim.codec.train import TrainConfig, train_codec
    from cosim.data import load_dataset
    from cosim.errors import CosimError, DataError
    from cosim.tasks.base import get_task

    if args.channels < 1 or args.epochs < 1 or args.pretrain_epochs < 0 or args.decoder_width < 1:
        raise CosimError("--channels, --epochs and --decoder-width must be positive, "
                         "--pretrain-epochs non-negative")
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
        corruption=args.corruption, sigma_end=args.anneal, name=args.name or args.out.stem, task=args.task)
    task = get_task(cfg.task)
    data = load_dataset(cfg.dataset)  # fail early (DataError) before any work
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


def _save_and_report(args, cfg, result, codec, seconds: float, metrics: dict, metric: str, bers, stats) -> None:
    """Save the trained codec with its metrics and print what was written and how well it does."""
    from cosim.codec.checkpoint import save_checkpoint
    from cosim.codec.train import config_dict

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
