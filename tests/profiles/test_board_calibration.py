"""Board power calibrated to MLPerf Tiny v1.0: the board model reproduces the measured ResNet-8 runs."""

from __future__ import annotations

import pytest
import torch

from cosim.codec.costs import count_macs
from cosim.codec.model import build_backbone
from cosim.config.profiles import list_profiles, load_board

# MLPerf Tiny v1.0 closed division, STMicroelectronics, X-CUBE-AI 7.3.0, IC (ResNet-8) results
# (github.com/mlcommons/tiny_results_v1.0 @abb8e49a; /work/shared/hw_facts.md 2a): latency ms, energy uJ.
MLPERF_V1_0_IC = {
    "stm32l4r5": (226.9, 10681.6),  # NUCLEO-L4R5ZI
    "stm32u575": (139.7, 3642.0),  # NUCLEO-U575ZI-Q
    "stm32h7a3": (54.2, 8707.3),  # NUCLEO-H7A3ZI-Q
}


@pytest.fixture(scope="module")
def resnet8_macs() -> int:
    """MACs of MLPerf Tiny's IC ResNet-8 (32x32x3, 16/32/64 channels, 10 classes), counted from torch."""
    net = build_backbone("resnet8", (3, 32, 32), 10).eval()
    x = torch.zeros(1, 3, 32, 32)
    return count_macs(net, lambda: net(x))


def test_resnet8_mac_count_is_mlperfs(resnet8_macs):
    assert resnet8_macs == 12_501_632


@pytest.mark.parametrize("name", sorted(MLPERF_V1_0_IC))
def test_board_model_predicts_mlperf_resnet8_latency_and_energy(name, resnet8_macs):
    board = load_board(name)
    latency_ms, energy_uj = MLPERF_V1_0_IC[name]
    assert board.compute_time_s(resnet8_macs) * 1e3 == pytest.approx(latency_ms, rel=0.25)
    assert board.compute_energy_mj(resnet8_macs) * 1e3 == pytest.approx(energy_uj, rel=0.25)
    assert board.calibration.startswith("measured")


def test_core_only_figure_alone_would_miss_the_u575_measurement(resnet8_macs):
    # the reason for calibrating: the datasheet core-only current gives -60 % on the U575
    board = load_board("stm32u575")
    core_mj = board.supply_v * board.core_current_ma * board.compute_time_s(resnet8_macs)
    assert core_mj * 1e3 < 0.5 * MLPERF_V1_0_IC["stm32u575"][1]


def test_every_board_states_its_calibration_rule():
    for info in list_profiles(kind="board"):
        board = load_board(info.path)
        if board.calibration.startswith("closest sibling: "):
            sibling = board.calibration.removeprefix("closest sibling: ").split()[0]
            assert sibling in MLPERF_V1_0_IC, (board.name, sibling)
            ref = load_board(sibling)
            ratio = ref.run_current_ma / ref.core_current_ma
            assert board.run_current_ma == pytest.approx(board.core_current_ma * ratio, rel=0.01)
        else:
            assert board.name in MLPERF_V1_0_IC and board.calibration.startswith("measured: MLPerf Tiny v1.0")
        assert board.wake_mj == pytest.approx(board.supply_v * board.core_current_ma * board.wakeup_us / 1e6)
