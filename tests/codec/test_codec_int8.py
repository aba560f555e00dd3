"""The int8 device side: BN folding, per-channel weights, calibrated activations, and the Codec using it."""

import numpy as np
import pytest
import torch
from torch import nn

from cosim.codec.checkpoint import load_codec, save_checkpoint
from cosim.codec.int8 import (
    Int8Device,
    calibrate,
    fold_batchnorm,
    num_activation_scales,
    quantise_weight,
)
from cosim.codec.model import CodecConfig, SplitModel
from cosim.codec.service import Codec

torch.set_num_threads(1)


def _model(seed: int = 0) -> SplitModel:
    torch.manual_seed(seed)
    model = SplitModel(CodecConfig(name="t", dataset="scenes", backbone="resnet8-s4", image_shape=(3, 64, 64),
                                   num_classes=6, channels=8, kernel=4, decoder_width=8)).eval()
    bn = model.backbone.stem[1]
    with torch.no_grad():  # non-trivial BatchNorm statistics, as after training
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.1, 0.1)
    return model


def test_fold_batchnorm_matches_conv_then_bn():
    model = _model()
    conv, bn = model.backbone.stem[0], model.backbone.stem[1]
    x = torch.rand(4, 3, 16, 16)
    w, b = fold_batchnorm(conv, bn)
    folded = nn.functional.conv2d(x.double(), w, b, conv.stride, conv.padding)
    np.testing.assert_allclose(folded.numpy(), bn(conv(x)).detach().double().numpy(), atol=1e-5)


def test_weights_per_channel_symmetric_int8():
    w = torch.randn(5, 3, 3, 3, dtype=torch.float64) * torch.tensor([1e-3, 0.1, 1, 10, 100]).view(-1, 1, 1, 1)
    q, scale = quantise_weight(w)
    assert torch.equal(q, q.round()) and q.abs().max() == 127
    assert torch.equal(q.abs().flatten(1).max(1).values, torch.full((5,), 127.0, dtype=torch.float64))
    assert bool(((q * scale.view(-1, 1, 1, 1) - w).abs() <= scale.view(-1, 1, 1, 1) / 2 + 1e-15).all())


def test_int8_device_is_on_the_integer_grid_and_close_to_float():
    model = _model()
    x = torch.rand(64, 3, 64, 64)
    scales = calibrate(model.backbone.stem, model.encoder, x)
    assert scales.numel() == num_activation_scales(model.backbone.stem) == 2 and bool((scales > 0).all())
    device = Int8Device(model.backbone.stem, model.encoder, scales)
    with torch.no_grad():
        conv_out = device.encoder_conv_output(x)
        levels = conv_out.double() / scales[-1].double()
        assert torch.allclose(levels, levels.round(), atol=1e-3)
        # calibrated on x itself: the peak maps to the top level
        assert float(levels.abs().max()) == pytest.approx(127, abs=1e-3)
        ref = model.encoder.conv(model.backbone.stem(x))
        assert float((conv_out - ref).abs().max()) < 0.05 * float(ref.abs().max())
        out = device(x)
        ref_out = model.encoder(model.backbone.stem(x))
        assert float((out - ref_out).pow(2).mean() / ref_out.pow(2).mean()) < 1e-3


def test_uncalibrated_scales_are_refused():
    model = _model()
    with pytest.raises(ValueError, match="positive activation scales"):
        Int8Device(model.backbone.stem, model.encoder, torch.zeros(2))


def test_codec_encodes_with_int8_device_once_calibrated(tmp_path):
    model = _model()
    x = np.random.default_rng(0).random((32, 3, 64, 64), dtype=np.float32)
    plain = Codec(model, "plain")
    assert not plain.meta.device_int8
    np.testing.assert_array_equal(plain.encode(x), plain.encode(x, float_device=True))
    with torch.no_grad():
        model.device_act_scales.copy_(calibrate(model.backbone.stem, model.encoder, torch.from_numpy(x)))
    path = tmp_path / "q.pt"
    save_checkpoint(path, model)
    codec = load_codec(path)
    assert codec.meta.device_int8
    device = Int8Device(model.backbone.stem, model.encoder, model.device_act_scales)
    with torch.no_grad():
        expected = model.quantizer(device(torch.from_numpy(x))).indices.flatten(1).numpy()
    np.testing.assert_array_equal(codec.symbol_indices(x), expected)
    np.testing.assert_array_equal(codec.symbol_indices(x, float_device=True), plain.symbol_indices(x))
    agree = (codec.symbol_indices(x) == plain.symbol_indices(x)).mean()
    assert 0.8 < agree  # int8 moves only symbols near a decision boundary


def test_checkpoint_without_int8_scales_keeps_float_device(tmp_path):
    model = _model()
    path = tmp_path / "old.pt"
    save_checkpoint(path, model)
    raw = torch.load(path, weights_only=True)
    del raw["state_dict"]["device_act_scales"]
    from cosim.codec.checkpoint import content_sha256, weights_sha256
    raw["weights_sha256"] = weights_sha256(raw["state_dict"])
    raw["content_sha256"] = content_sha256(raw["weights_sha256"], raw["config"], raw["train_config"],
                                           raw["metrics"])
    torch.save(raw, path)
    assert not load_codec(path).meta.device_int8
