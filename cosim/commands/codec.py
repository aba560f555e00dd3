"""`cosim codec eval|info|list`: accuracy versus BER, sizes and device costs of codec checkpoints."""

from __future__ import annotations

import argparse
import json
import math


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `codec` command group."""
    p = subparsers.add_parser("codec", help="evaluate and describe codec checkpoints")
    sub = p.add_subparsers(dest="codec_command", metavar="SUBCOMMAND", required=True)

    ev = sub.add_parser("eval", help="accuracy (detection: mAP@0.5 and mAP@0.5:0.95) versus BER (mean and "
                        "95%% interval), sizes, board costs")
    ev.add_argument("ckpt", metavar="CKPT", nargs="+", help="checkpoint path or builtin:NAME; several "
                    "(same data set): side by side, e.g. SemanticNN and its baselines")
    ev.add_argument("--ber", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 5e-2, 0.1],
                    help="bit error rates (default: 0 1e-3 1e-2 5e-2 0.1)")
    ev.add_argument("--realisations", type=int, default=5, help="error realisations per BER (default 5)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--root", default=None, help="data directory for file-based data sets")
    ev.add_argument("--no-baseline", action="store_true", help="skip the int8 split baseline")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ev.add_argument("--frames", type=int, default=0, metavar="F",
                    help="also evaluate frame losses: the payload cut into F frames (erased symbols vs "
                    "losing the whole inference)")
    ev.add_argument("--frame-loss", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.3],
                    help="frame loss probabilities for --frames (default 0.05 0.1 0.2 0.3)")
    ev.set_defaults(func=run_eval)

    info = sub.add_parser("info", help="architecture, sizes, MACs, training config and metrics")
    info.add_argument("ckpt", metavar="CKPT", help="checkpoint path or builtin:NAME")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)

    ls = sub.add_parser("list", help="the built-in checkpoints")
    ls.set_defaults(func=run_list)

    ab = sub.add_parser("ablate", help="retrain the full method and each ablation over seeds on a checkpoint's "
                        "frozen backbone; accuracy versus BER with 95%% intervals over seeds")
    ab.add_argument("ckpt", metavar="CKPT", help="checkpoint whose backbone and training config are reused")
    ab.add_argument("--variants", nargs="+", default=["full", "no-fal", "ber-unaware", "no-xai", "no-usage"])
    ab.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ab.add_argument("--epochs", type=int, default=None, help="epochs per stage (default: the checkpoint's)")
    ab.add_argument("--ber", type=float, nargs="+", default=[0.0, 1e-2, 5e-2, 0.1])
    ab.add_argument("--realisations", type=int, default=3, help="error realisations per BER (default 3)")
    ab.add_argument("--root", default=None, help="data directory for file-based data sets")
    ab.add_argument("--json-out", default=None, metavar="FILE", help="also write the results as JSON (new file)")
    ab.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ab.set_defaults(func=run_ablate)


def _stat(s) -> dict:
    return {"mean": s.mean, "ci95": None if math.isnan(s.ci95) else s.ci95}


def _boards(meta) -> dict:
    from cosim.codec.costs import board_costs
    return {b.board: {"fits": b.fits, "encoder_latency_ms": b.encoder_latency_ms,
                      "encoder_energy_mj": b.encoder_energy_mj, "flash_kb": b.flash_kb, "sram_kb": b.sram_kb}
            for b in board_costs(meta.device_macs, meta.flash_bytes_int8, meta.peak_activation_bytes_int8)}


def _by_ber(bers, stats) -> dict:
    """{BER as text: its statistic} of one metric."""
    return {format(b, "g"): _stat(s) for b, s in zip(bers, stats)}


def _report(m, ev, by_ber: dict, task: bool = False) -> dict:
    """The keys every `cosim codec eval` JSON report has, with the task's metric-by-BER tables."""
    return {
        "payload_bits": m.payload_bits,
        "split_feature_bits_float32": m.split_feature_bits_float32,
        "compression_ratio": m.compression_ratio,
        **by_ber,
        "encoder_macs": m.encoder_macs,
        "boards": _boards(m),
        "codec": m.name,
        **({"task": m.task} if task else {}),
        "dataset": m.dataset,
        "payload_bytes": m.payload_bytes,
        "split_feature_bits_int8": m.split_feature_bits_int8,
        "edge_macs": m.edge_macs,
        "realisations": ev.realisations,
        "samples": ev.samples,
    }


def eval_report(codec, ev) -> dict:
    """The JSON report of `cosim codec eval` (issue keys first, then the int8 baseline and extras)."""
    report = _report(codec.meta, ev, {"accuracy_by_ber": _by_ber(ev.bers, ev.semantic)})
    report["device_int8"] = codec.meta.device_int8
    if ev.float_device is not None:
        report["float_device_accuracy_by_ber"] = _by_ber(ev.bers, ev.float_device)
    if ev.int8 is not None:
        report["int8_accuracy_by_ber"] = _by_ber(ev.bers, ev.int8)
    return report


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint on its data set's test split."""
    import torch

    from cosim.codec.checkpoint import load_codec
    from cosim.codec.evaluate import evaluate_codec
    from cosim.data import load_dataset
    from cosim.errors import CosimError
    from cosim.tasks.base import get_task

    if args.realisations < 1:
        raise CosimError("--realisations must be at least 1")
    if any(not 0.0 <= b <= 1.0 for b in args.ber):
        raise CosimError("--ber values must lie in [0, 1]")
    torch.set_num_threads(max(1, args.threads))
    if len(args.ckpt) > 1:
        return _eval_side_by_side(args)
    args.ckpt = args.ckpt[0]
    codec = load_codec(args.ckpt)
    data = load_dataset(codec.meta.dataset, root=args.root, test_only=True)
    if not get_task(codec.meta.task).scalar_accuracy:  # detection: mAP per BER instead of accuracy
        return _eval_detection(args, codec, data)
    ev = evaluate_codec(codec, data.x_test, data.y_test, bers=args.ber, realisations=args.realisations,
                        seed=args.seed, int8=not args.no_baseline)
    report = eval_report(codec, ev)
    erasures = None
    if args.frames > 0:
        from cosim.codec.evaluate import evaluate_erasures
        if any(not 0.0 <= p <= 1.0 for p in args.frame_loss):
            raise CosimError("--frame-loss values must lie in [0, 1]")
        erasures = evaluate_erasures(codec, data.x_test, data.y_test, args.frames, args.frame_loss,
                                     args.realisations, args.seed)
        report["frame_loss"] = {"frames": erasures.frames, "erased_symbols_accuracy": {
            format(p, "g"): _stat(s) for p, s in zip(erasures.loss_probs, erasures.erased)},
            "whole_inference_lost_accuracy": {format(p, "g"): _stat(s) for p, s in
                                              zip(erasures.loss_probs, erasures.whole_inference_lost)}}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    m = codec.meta
    print(f"codec {m.name} on {m.dataset} test split ({ev.samples} samples, {ev.realisations} realisations, "
          f"oracle BER estimate)")
    _print_payload(m)
    columns = [("SemanticNN (int8 device)" if m.device_int8 else "SemanticNN", ev.semantic)]
    if ev.float_device is not None:
        columns.append(("float32 device", ev.float_device))
    if ev.int8 is not None:
        columns.append(("int8 split (no ARQ)", ev.int8))
    _print_table(ev.bers, columns)
    if erasures is not None:
        print(f"frame losses ({erasures.frames} frames per payload, no bit errors; codec "
              f"{'trained' if m.erasures else 'NOT trained'} with erasures):")
        print(f"{'loss p':>8}  {'erased symbols':>17}  {'inference lost':>17}")
        for p, a, b in zip(erasures.loss_probs, erasures.erased, erasures.whole_inference_lost):
            print(f"{p:>8g}  {a.mean:8.4f} ± {_ci(a):6}  {b.mean:8.4f} ± {_ci(b):6}")
    _print_boards(report["boards"])
    return 0


KIND_LABELS = {"semanticnn": "SemanticNN", "adjscc": "ADJSCC", "agilenn": "AgileNN"}


def _eval_side_by_side(args: argparse.Namespace) -> int:
    """Several classification codecs of one data set on its test split: one accuracy column each (same
    BERs, realisations and error streams), their sizes and device costs, then the int8 split baseline
    of the first."""
    from cosim.codec.checkpoint import load_codec
    from cosim.codec.evaluate import evaluate_codec
    from cosim.data import load_dataset
    from cosim.errors import CosimError
    from cosim.tasks.base import get_task

    if args.frames > 0:
        raise CosimError("--frames: evaluates one checkpoint at a time")
    codecs = [load_codec(spec) for spec in args.ckpt]
    first = codecs[0].meta
    for spec, codec in zip(args.ckpt, codecs):
        if codec.meta.dataset != first.dataset:
            raise CosimError(f"{spec}: trained on {codec.meta.dataset!r}, {args.ckpt[0]} on {first.dataset!r}: "
                             f"side by side needs one data set")
        if not get_task(codec.meta.task).scalar_accuracy:
            raise CosimError(f"{spec}: a {codec.meta.task} codec: side by side compares classification "
                             f"accuracy (evaluate it alone)")
    data = load_dataset(first.dataset, root=args.root, test_only=True)
    evs = [evaluate_codec(c, data.x_test, data.y_test, bers=args.ber, realisations=args.realisations,
                          seed=args.seed, int8=not args.no_baseline and i == 0, float_device=False)
           for i, c in enumerate(codecs)]
    reports = [eval_report(c, ev) | {"kind": c.meta.kind, "device_macs": c.meta.device_macs}
               for c, ev in zip(codecs, evs)]
    if args.json:
        print(json.dumps({"codecs": reports}, indent=2))
        return 0
    print(f"{len(codecs)} codecs on {first.dataset} test split ({evs[0].samples} samples, {args.realisations} "
          f"realisations, oracle BER estimate at the edge and, for ADJSCC, at the device)")
    print(f"{'codec':<24} {'kind':<11} {'payload bits':>12} {'device MACs':>12} {'edge MACs':>12}")
    for c in codecs:
        m = c.meta
        print(f"{m.name[:24]:<24} {KIND_LABELS.get(m.kind, m.kind):<11} {m.payload_bits:>12} "
              f"{m.device_macs:>12} {m.edge_macs:>12}")
    columns = [(f"{c.meta.name[:18]} ({KIND_LABELS.get(c.meta.kind, c.meta.kind)})", ev.semantic)
               for c, ev in zip(codecs, evs)]
    if evs[0].int8 is not None:
        columns.append(("int8 split (no ARQ)", evs[0].int8))
    _print_table(evs[0].bers, columns)
    return 0


def _print_table(bers, columns: list[tuple[str, list]]) -> None:
    """One row per BER, one `mean ± ci95` column per (header, stats per BER)."""
    widths = [max(17, len(name)) for name, _ in columns]
    print(f"{'BER':>8}" + "".join(f"  {name:>{w}}" for (name, _), w in zip(columns, widths)))
    for i, b in enumerate(bers):
        print(f"{b:>8g}" + "".join(f"  {stats[i].mean:{w - 9}.4f} ± {_ci(stats[i]):6}"
                                   for (_, stats), w in zip(columns, widths)))


def _print_payload(m) -> None:
    """The payload and compression line of a codec's metadata."""
    print(f"payload {m.payload_bits} bits ({m.payload_bytes} B); split features {m.split_feature_bits_float32} "
          f"bits float32, {m.split_feature_bits_int8} bits int8; compression {m.compression_ratio:.1f}x "
          f"vs float32; encoder {m.encoder_macs} MACs")


def _print_boards(boards: dict) -> None:
    """The per-board device-side costs of a report."""
    if boards:
        print("device side (stem + encoder) per board:")
        for name, b in boards.items():
            print(f"  {name:<24} {'fits' if b['fits'] else 'does NOT fit':<12} "
                  f"{b['encoder_latency_ms']:8.3f} ms  {b['encoder_energy_mj']:8.4f} mJ")
    else:
        print("device side: no board profiles found")


def detection_report(codec, ev) -> dict:
    """The JSON report of `cosim codec eval` for a detection codec (mAP instead of accuracy)."""
    report = _report(codec.meta, ev, {"map50_by_ber": _by_ber(ev.bers, ev.map50),
                                      "map50_95_by_ber": _by_ber(ev.bers, ev.map50_95)}, task=True)
    if ev.int8_map50 is not None:
        report["int8_map50_by_ber"] = _by_ber(ev.bers, ev.int8_map50)
        report["int8_map50_95_by_ber"] = _by_ber(ev.bers, ev.int8_map50_95)
    return report


def _eval_detection(args: argparse.Namespace, codec, data) -> int:
    """`codec eval` of a detection codec: mAP@0.5 and mAP@0.5:0.95 per BER."""
    from cosim.errors import CosimError
    from cosim.tasks.detection.evaluate import evaluate_detector

    if data.boxes_test is None:
        raise CosimError(f"{args.ckpt}: detection codec, but data set {data.name!r} has no boxes")
    ev = evaluate_detector(codec, data.x_test, data.boxes_test, bers=args.ber, realisations=args.realisations,
                           seed=args.seed, int8=not args.no_baseline)
    report = detection_report(codec, ev)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    m = codec.meta
    print(f"detection codec {m.name} on {m.dataset} test split ({ev.samples} images, {ev.realisations} "
          f"realisations, oracle BER estimate)")
    _print_payload(m)
    columns = [("mAP@0.5", ev.map50), ("mAP@0.5:0.95", ev.map50_95)]
    if ev.int8_map50 is not None:
        columns.append(("int8 mAP@0.5 (no ARQ)", ev.int8_map50))
    _print_table(ev.bers, columns)
    _print_boards(report["boards"])
    return 0


def _ci(s) -> str:
    return "  n/a " if math.isnan(s.ci95) else f"{s.ci95:.4f}"


def run_info(args: argparse.Namespace) -> int:
    """Describe a checkpoint."""
    import dataclasses

    from cosim.codec.checkpoint import load_codec

    codec = load_codec(args.ckpt)
    meta = dataclasses.asdict(codec.meta)
    out = {"meta": meta, "train_config": codec.train_config, "metrics": codec.metrics}
    if args.json:
        print(json.dumps(out, indent=2, default=list))
        return 0
    for key, value in meta.items():
        print(f"{key:<28} {value}")
    print("training:", ", ".join(f"{k}={v}" for k, v in codec.train_config.items()))
    print("metrics:", json.dumps(codec.metrics))
    return 0


def run_list(args: argparse.Namespace) -> int:
    """List the built-in checkpoints."""
    from cosim.codec.checkpoint import list_builtin

    for name in list_builtin():
        print(f"builtin:{name}")
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    """Train and evaluate each ablation over seeds; print the table (and write JSON if asked)."""
    import dataclasses
    import sys
    from pathlib import Path

    import torch

    from cosim.codec.ablate import run_ablation
    from cosim.codec.checkpoint import read_checkpoint
    from cosim.codec.train import TrainConfig
    from cosim.errors import CosimError

    if args.realisations < 1 or not args.seeds or (args.epochs is not None and args.epochs < 1):
        raise CosimError("--realisations and --epochs must be at least 1, --seeds non-empty")
    out = Path(args.json_out) if args.json_out else None
    if out is not None and out.exists():
        raise CosimError(f"{out}: already exists (cosim does not overwrite files it did not write)")
    torch.set_num_threads(max(1, args.threads))
    src = read_checkpoint(args.ckpt)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    base = TrainConfig(**{k: v for k, v in src.train_config.items() if k in fields})
    if base.dataset != src.config.dataset:
        raise CosimError(f"{src.path}: training config names data set {base.dataset!r} but the codec "
                         f"{src.config.dataset!r}")
    base = dataclasses.replace(base, root=args.root or base.root,
                               epochs=args.epochs or base.epochs)
    try:
        result = run_ablation(base, args.variants, args.seeds, args.ber, args.realisations, src.state_dict,
                              log=lambda line: print(line, file=sys.stderr))
    except ValueError as exc:
        raise CosimError(str(exc)) from None
    print(f"ablations of {src.path.name} ({base.dataset}, {base.epochs} epochs per stage, seeds "
          f"{' '.join(map(str, args.seeds))}, {args.realisations} error realisations; mean over seeds "
          f"± 95% interval over seeds)")
    header = f"{'variant':<12}" + "".join(f"  {'BER ' + format(b, 'g'):>17}" for b in result.bers) + "  train s"
    print(header)
    for v in result.variants:
        print(f"{v.name:<12}" + "".join(f"  {s.mean:8.4f} ± {_ci(s):6}" for s in v.summary)
              + f"  {v.train_seconds:7.0f}")
    if out is not None:
        report = {"checkpoint": str(src.path), "dataset": base.dataset, "epochs": base.epochs,
                  "bers": list(result.bers), "realisations": result.realisations,
                  "variants": {v.name: {"seeds": list(v.seeds), "per_seed": [list(r) for r in v.per_seed],
                                        "accuracy_by_ber": {format(b, "g"): _stat(s)
                                                            for b, s in zip(result.bers, v.summary)},
                                        "train_seconds": v.train_seconds} for v in result.variants}}
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "x") as f:
            json.dump(report, f, indent=2)
    return 0
