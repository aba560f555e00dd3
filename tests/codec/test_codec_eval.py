"""`cosim codec eval` JSON, and the shipped builtin:digits codec meets the issue's targets."""

import json

import numpy as np
import pytest
import torch

from cosim.cli import main
from cosim.codec.checkpoint import load_codec, save_checkpoint
from cosim.codec.evaluate import evaluate_codec, summarise
from cosim.codec.model import CodecConfig, SplitModel
from cosim.data import load_dataset

torch.set_num_threads(1)
ISSUE_KEYS = {"payload_bits", "split_feature_bits_float32", "compression_ratio", "accuracy_by_ber",
              "encoder_macs", "boards"}


def test_eval_json_keys(tmp_path, capsys):
    torch.manual_seed(0)
    model = SplitModel(CodecConfig(name="tiny", dataset="digits", backbone="small-cnn",
                                   image_shape=(1, 8, 8), num_classes=10, decoder_width=8)).eval()
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, model)
    assert main(["codec", "eval", str(path), "--ber", "0", "1e-2", "--realisations", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert ISSUE_KEYS <= set(report)
    assert set(report["accuracy_by_ber"]) == {"0", "0.01"}
    for stat in (*report["accuracy_by_ber"].values(), *report["int8_accuracy_by_ber"].values()):
        assert set(stat) == {"mean", "ci95"} and 0 <= stat["mean"] <= 1
    assert report["compression_ratio"] == pytest.approx(
        report["split_feature_bits_float32"] / report["payload_bits"])
    for board in report["boards"].values():
        assert {"fits", "encoder_latency_ms", "encoder_energy_mj"} <= set(board)


def test_ci95_is_student_t():
    s = summarise([0.9, 0.92, 0.94])
    assert s.mean == pytest.approx(0.92)
    assert s.ci95 == pytest.approx(4.302653 * 0.02 / np.sqrt(3), rel=1e-5)


def test_builtin_digits_meets_clean_accuracy_and_compression():
    codec = load_codec("builtin:digits")
    data = load_dataset("digits")
    ev = evaluate_codec(codec, data.x_test, data.y_test, bers=(0.0,), realisations=1, int8=False)
    assert ev.semantic[0].mean >= 0.95
    assert codec.meta.split_feature_bits_float32 / codec.meta.payload_bits >= 50
    assert codec.meta.bits == 3 and codec.meta.fal and codec.meta.ber_aware


@pytest.mark.slow
def test_builtin_digits_robustness_targets():
    data = load_dataset("digits")
    full = evaluate_codec(load_codec("builtin:digits"), data.x_test, data.y_test,
                          bers=(0.0, 1e-2, 5e-2, 0.1), realisations=5, int8=False)
    nofal = evaluate_codec(load_codec("builtin:digits-nofal"), data.x_test, data.y_test,
                           bers=(5e-2, 0.1), realisations=5, int8=False)
    assert full.semantic[0].mean - full.semantic[1].mean <= 0.03
    assert full.semantic[2].mean >= nofal.semantic[0].mean
    assert full.semantic[3].mean >= nofal.semantic[1].mean
