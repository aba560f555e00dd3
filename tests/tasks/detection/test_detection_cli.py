"""`cosim codec eval` and `cosim train` with detection codecs."""

import json

import pytest
import torch

from cosim.cli import main
from cosim.codec.checkpoint import load_codec, save_checkpoint
from cosim.codec.model import CodecConfig, SplitModel

torch.set_num_threads(1)
KEYS = {"payload_bits", "split_feature_bits_float32", "compression_ratio", "map50_by_ber", "map50_95_by_ber",
        "encoder_macs", "boards", "int8_map50_by_ber", "int8_map50_95_by_ber"}


def test_eval_json_reports_map_per_ber(tmp_path, capsys):
    torch.manual_seed(0)
    model = SplitModel(CodecConfig(name="tiny-det", dataset="shapes", backbone="small-cnn", image_shape=(3, 32, 32),
                                   num_classes=6, kernel=2, decoder_width=8, task="detection")).eval()
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, model)
    assert load_codec(path).meta.task == "detection"
    assert main(["codec", "eval", str(path), "--ber", "0", "1e-2", "--realisations", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert KEYS <= set(report) and report["task"] == "detection"
    for key in ("map50_by_ber", "map50_95_by_ber", "int8_map50_by_ber"):
        assert set(report[key]) == {"0", "0.01"}
        assert all(set(s) == {"mean", "ci95"} and 0 <= s["mean"] <= 1 for s in report[key].values())
    assert report["compression_ratio"] == pytest.approx(report["split_feature_bits_float32"] / report["payload_bits"])
    assert main(["codec", "eval", str(path), "--ber", "0", "--realisations", "1", "--no-baseline"]) == 0
    assert "mAP@0.5" in capsys.readouterr().out


def test_builtin_detector_reports_its_figures(capsys):
    assert main(["codec", "eval", "builtin:shapes-det", "--ber", "0", "--realisations", "1", "--no-baseline",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["map50_by_ber"]["0"]["mean"] >= 0.7
    assert report["payload_bits"] == 1536


def test_train_detection_needs_boxes(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--backbone", "small-cnn", "--task", "detection",
                 "--out", str(tmp_path / "x.pt"), "--no-progress"])
    assert code == 2
    assert "has no boxes" in capsys.readouterr().err
