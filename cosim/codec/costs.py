"""Compute and memory costs of codec parts, counted from the real torch modules with forward hooks.

MACs: Conv2d (output elements x Cin/groups x kh x kw), ConvTranspose2d (input elements x Cout/groups x
kh x kw), Linear (rows x in x out), GDN (its 1x1 channel mixing, C x C per position). BatchNorm is folded
into the preceding conv; elementwise ops are not counted.
int8 deployment size (model data only, no runtime code): conv/linear weights 1 byte, biases int32
(4 bytes per output channel, BN folded into them), GDN/PReLU parameters and quantization centres float32.
Peak activation RAM: the largest input + output of any conv/linear/GDN/pool layer at 1 byte per element
(BatchNorm folded, activations in place), plus the packed payload buffer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from cosim.codec.model import GDN

log = logging.getLogger(__name__)
COUNTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, GDN)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def _macs_of(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """MACs of one call of a counted module on a batch of one."""
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return inp.numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return (inp.numel() // module.in_features) * module.in_features * module.out_features
    if isinstance(module, GDN):
        return inp.numel() * module.channels
    return 0


def _run_hooked(layers: list[nn.Module], hook: Callable, run: Callable[[], object]) -> None:
    """`run()` without gradients while `hook` sees every forward of `layers` (hooks removed after)."""
    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()


def count_macs(root: nn.Module, run: Callable[[], object]) -> int:
    """MACs per sample of the counted modules under `root` while `run()` executes on one sample."""
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += _macs_of(module, args[0], out)

    _run_hooked([m for m in root.modules() if isinstance(m, COUNTED)], hook, run)
    return int(total)


def peak_activation_bytes(root: nn.Module, run: Callable[[], object], extra_bytes: int = 0) -> int:
    """Largest (input + output) elements of any conv/linear/GDN/pool layer under `root` during `run()`,
    at 1 byte each, + `extra_bytes` (BatchNorm is folded and activations run in place)."""
    peak = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal peak
        if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
            peak = max(peak, args[0].numel() + out.numel())

    _run_hooked([m for m in root.modules() if isinstance(m, (*COUNTED, *POOLS))], hook, run)
    return int(peak + extra_bytes)


def flash_bytes_int8(modules: list[nn.Module], extra_float_params: int = 0) -> int:
    """Bytes of the int8 deployment of `modules` (see module docstring) plus `extra_float_params`."""
    total = 4 * extra_float_params
    for root in modules:
        for m in root.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                out_ch = m.out_features if isinstance(m, nn.Linear) else m.out_channels
                total += m.weight.numel() + 4 * out_ch
            elif isinstance(m, (GDN, nn.PReLU)):
                total += 4 * sum(p.numel() for p in m.parameters(recurse=False))
    return int(total)


def param_count(modules: list[nn.Module]) -> int:
    """Trainable-or-not parameters of `modules` (BatchNorm affine included, running stats not)."""
    return int(sum(p.numel() for m in modules for p in m.parameters()))


@dataclass(frozen=True)
class BoardCost:
    """Encoder (device side) cost on one board profile."""

    board: str
    fits: bool
    flash_kb: float
    sram_kb: float
    encoder_latency_ms: float
    encoder_energy_mj: float


def board_costs(device_macs: int, flash_bytes: int, peak_ram_bytes: int) -> tuple[BoardCost, ...]:
    """Latency, energy and fit of the device side on every board profile (empty without profiles).

    A board fits if the int8 model data fits its flash and the peak activation RAM fits its SRAM.
    """
    try:
        from cosim.config.profiles import list_profiles, load_board
    except ImportError:
        log.info("cosim.config.profiles is not available: no per-board costs")
        return ()
    from cosim.errors import CosimError

    out = []
    for info in list_profiles(kind="board"):
        try:
            board = load_board(info.path)
        except CosimError as exc:  # a broken profile must not make codecs unusable
            log.warning("skipping board profile: %s", exc)
            continue
        fits = flash_bytes <= board.flash_kb * 1024 and peak_ram_bytes <= board.sram_kb * 1024
        out.append(BoardCost(
            board=board.name, fits=bool(fits), flash_kb=float(board.flash_kb), sram_kb=float(board.sram_kb),
            encoder_latency_ms=1e3 * float(board.compute_time_s(device_macs, kind="conv")),
            encoder_energy_mj=float(board.compute_energy_mj(device_macs, kind="conv"))))
    return tuple(out)
