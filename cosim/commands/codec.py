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
    ev.add_argument("ckpt", metavar="CKPT", help="checkpoint path or builtin:NAME")
    ev.add_argument("--ber", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 5e-2, 0.1],
                    help="bit error rates (default: 0 1e-3 1e-2 5e-2 0.1)")
    ev.add_argument("--realisations", type=int, default=5, help="error realisations per BER (default 5)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--root", default=None, help="data directory for file-based data sets")
    ev.add_argument("--no-baseline", action="store_true", help="skip the int8 split baseline")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ev.set_defaults(func=run_eval)

    info = sub.add_parser("info", help="architecture, sizes, MACs, training config and metrics")
    info.add_argument("ckpt", metavar="CKPT", help="checkpoint path or builtin:NAME")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)

    ls = sub.add_parser("list", help="the built-in checkpoints")
    ls.set_defaults(func=run_list)


def _stat(s) -> dict:
    return {"mean": s.mean, "ci95": None if math.isnan(s.ci95) else s.ci95}


def _boards(meta) -> dict:
    from cosim.codec.costs import board_costs
    return {b.board: {"fits": b.fits, "encoder_latency_ms": b.encoder_latency_ms,
                      "encoder_energy_mj": b.encoder_energy_mj, "flash_kb": b.flash_kb, "sram_kb": b.sram_kb}
            for b in board_costs(meta.device_macs, meta.flash_bytes_int8, meta.peak_activation_bytes_int8)}


def _by_ber(bers, stats) -> dict:
    return {format(b, "g"): _stat(s) for b, s in zip(bers, stats)}


def _report(codec, ev, metrics: dict, named: dict) -> dict:
    """The JSON report of `cosim codec eval`: the issue keys (the task's `metrics` after the payload
    figures) first, then `named` (e.g. the task), the codec's other figures and the evaluation's size."""
    m = codec.meta
    return {
        "payload_bits": m.payload_bits,
        "split_feature_bits_float32": m.split_feature_bits_float32,
        "compression_ratio": m.compression_ratio,
        **metrics,
        "encoder_macs": m.encoder_macs,
        "boards": _boards(m),
        "codec": m.name,
        **named,
        "dataset": m.dataset,
        "payload_bytes": m.payload_bytes,
        "split_feature_bits_int8": m.split_feature_bits_int8,
        "edge_macs": m.edge_macs,
        "realisations": ev.realisations,
        "samples": ev.samples,
    }


def eval_report(codec, ev) -> dict:
    """The JSON report of `cosim codec eval` (issue keys first, then the int8 baseline and extras)."""
    report = _report(codec, ev, {"accuracy_by_ber": _by_ber(ev.bers, ev.semantic)}, {})
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
    codec = load_codec(args.ckpt)
    data = load_dataset(codec.meta.dataset, root=args.root)
    if not get_task(codec.meta.task).scalar_accuracy:  # detection: mAP per BER instead of accuracy
        return _eval_detection(args, codec, data)
    ev = evaluate_codec(codec, data.x_test, data.y_test, bers=args.ber, realisations=args.realisations,
                        seed=args.seed, int8=not args.no_baseline)
    m = codec.meta
    columns = [("SemanticNN", ev.semantic)]
    if ev.int8 is not None:
        columns.append(("int8 split (no ARQ)", ev.int8))
    return _show(args, codec, eval_report(codec, ev), ev.bers, columns,
                 f"codec {m.name} on {m.dataset} test split ({ev.samples} samples, {ev.realisations} "
                 f"realisations, oracle BER estimate)")


def _show(args: argparse.Namespace, codec, report: dict, bers, columns: list[tuple[str, list]],
          heading: str) -> int:
    """Print `report` as JSON (--json), or the heading, payload, per-BER table and board costs."""
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(heading)
    _print_payload(codec.meta)
    _print_table(bers, columns)
    _print_boards(report["boards"])
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
    report = _report(codec, ev, {"map50_by_ber": _by_ber(ev.bers, ev.map50),
                                 "map50_95_by_ber": _by_ber(ev.bers, ev.map50_95)}, {"task": codec.meta.task})
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
    m = codec.meta
    columns = [("mAP@0.5", ev.map50), ("mAP@0.5:0.95", ev.map50_95)]
    if ev.int8_map50 is not None:
        columns.append(("int8 mAP@0.5 (no ARQ)", ev.int8_map50))
    return _show(args, codec, detection_report(codec, ev), ev.bers, columns,
                 f"detection codec {m.name} on {m.dataset} test split ({ev.samples} images, "
                 f"{ev.realisations} realisations, oracle BER estimate)")


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
