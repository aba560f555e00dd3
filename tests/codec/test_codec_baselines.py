"""The paper's baselines: ADJSCC (SNR-conditioned encoder) and AgileNN (local/remote split) train with the
shared loop, learn, load as checkpoints, count their device MACs by hand, and compare side by side."""

from __future__ import annotations

import json

import pytest
import torch

from cosim.cli import main
from cosim.codec.agilenn import local_share, skewness_loss
from cosim.codec.checkpoint import (
    content_sha256,
    load_codec,
    read_checkpoint,
    save_checkpoint,
)
from cosim.codec.evaluate import evaluate_codec
from cosim.codec.model import CodecConfig, build_split_model, channel_state
from cosim.codec.service import Codec
from cosim.codec.train import TrainConfig, train_codec
from cosim.data import load_dataset
from cosim.errors import CheckpointError

torch.set_num_threads(1)
BACKBONE = read_checkpoint("builtin:digits").state_dict


# a few seconds of training each (seeded; tiny budgets can leave a task stage at chance, as SemanticNN's)
TINY = {"adjscc": {"epochs": 4}, "agilenn": {"epochs": 2}}


def tiny(recipe: str) -> Codec:
    """A tiny training on the frozen backbone of builtin:digits."""
    cfg = TrainConfig(dataset="digits", recipe=recipe, batch_size=32, augment=False, decoder_width=16, seed=1,
                      name=recipe, **TINY[recipe])
    return Codec(train_codec(cfg, backbone_state=BACKBONE).model, name=recipe)


@pytest.fixture(scope="module")
def codecs(tmp_path_factory) -> dict[str, str]:
    """Checkpoint paths of a tiny ADJSCC and AgileNN codec."""
    out = {}
    for recipe in ("adjscc", "agilenn"):
        codec = tiny(recipe)
        path = tmp_path_factory.mktemp(recipe) / f"{recipe}.pt"
        save_checkpoint(path, codec.model, {"recipe": recipe}, {})
        out[recipe] = str(path)
    return out


def test_each_baseline_learns_above_chance(codecs):
    data = load_dataset("digits")
    for recipe, path in codecs.items():
        codec = load_codec(path)
        assert codec.meta.kind == recipe
        ev = evaluate_codec(codec, data.x_test, data.y_test, bers=(0.0,), realisations=1, int8=False)
        assert ev.semantic[0].mean > 0.4, recipe  # chance is 0.1


def test_payloads_have_the_counted_sizes(codecs):
    x = load_dataset("digits").x_test[:7]
    adj, agile = load_codec(codecs["adjscc"]), load_codec(codecs["agilenn"])
    # ADJSCC: 8 channels x 4 x 4 symbols of 3 bits, as SemanticNN
    assert adj.meta.payload_bits == 8 * 4 * 4 * 3 and adj.encode(x).shape == (7, 48)
    # AgileNN: (8 - 2) offloaded channels x 4 x 4 symbols + 10 local class scores, 3 bits each
    assert agile.meta.num_symbols == 6 * 16 + 10
    assert agile.meta.payload_bits == 318 and agile.encode(x).shape == (7, 40)
    assert agile.meta.symbol_shape == (6, 4, 4)


def test_adjscc_encoder_output_depends_on_the_snr(codecs):
    codec = load_codec(codecs["adjscc"])
    assert codec.meta.encoder_uses_ber
    m = codec.model
    feats = m.backbone.stem(torch.from_numpy(load_dataset("digits").x_test[:16].copy()))
    with torch.no_grad():
        low = m.encode_features(feats, torch.full((16,), float(channel_state(0.1))))
        high = m.encode_features(feats, torch.full((16,), float(channel_state(1e-4))))
    assert (low - high).abs().max() > 1e-3
    x = load_dataset("digits").x_test[:64]
    assert (codec.encode(x, ber=0.1) != codec.encode(x, ber=0.0)).any()
    # SemanticNN's encoder has no channel input: the believed BER changes nothing
    sem = load_codec("builtin:digits")
    assert not sem.meta.encoder_uses_ber
    assert (sem.encode(x, ber=0.1) == sem.encode(x)).all()


def test_device_macs_match_a_hand_count(codecs):
    stem = 16 * 8 * 8 * 1 * 3 * 3  # conv 1 -> 16, 3x3, on 8x8
    conv = 8 * 4 * 4 * 16 * 2 * 2  # encoder conv 16 -> 8, 2x2 stride 2 -> 8x4x4
    gdn = 8 * 4 * 4 * 8  # GDN: C x C per position
    af = (8 + 1) * 8 + 8 * 8  # attention module: FC(C + 1 -> C), FC(C -> C)
    conv2 = 8 * 4 * 4 * 8 * 3 * 3  # ADJSCC's second FL module, 3x3 8 -> 8
    local = 2 * 4 * 4 * 10  # AgileNN's local predictor: linear over 2 channels x 4 x 4 -> 10 classes
    assert load_codec("builtin:digits").meta.device_macs == stem + conv + gdn
    assert load_codec(codecs["adjscc"]).meta.device_macs == stem + conv + gdn + af + conv2 + gdn + af
    assert load_codec(codecs["agilenn"]).meta.device_macs == stem + conv + gdn + local


def test_agilenn_split_sizes_and_skewness():
    cfg = CodecConfig(name="a", dataset="digits", backbone="small-cnn", image_shape=(1, 8, 8), num_classes=10,
                      channels=8, kind="agilenn", local_channels=3)
    m = build_split_model(cfg).eval()
    assert m.encoder.local.in_features == 3 * 4 * 4 and m.encoder.local.out_features == 10
    assert m.decoder.blocks[0].deconv.in_channels == 5
    feats = torch.rand(4, 16, 8, 8)
    values = m.encode_features(feats, torch.zeros(4))
    assert values.shape == (4, 5 * 16 + 10)
    # the offloaded part is power-normalised to RMS power_rms, the local scores lie in (-1, 1)
    rms = values[:, :80].pow(2).mean(1).sqrt()
    torch.testing.assert_close(rms, torch.full((4,), cfg.power_rms))
    assert values[:, 80:].abs().max() < 1
    assert m.decode_logits(values, torch.zeros(4)).shape == (4, 10)
    imp = torch.tensor([[3.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    torch.testing.assert_close(local_share(imp, 1), torch.tensor([0.75, 0.25]))
    assert float(skewness_loss(m, feats, torch.zeros(4), torch.zeros(4, dtype=torch.long), rho=0.0).detach()) == 0.0
    assert float(skewness_loss(m, feats, torch.zeros(4), torch.zeros(4, dtype=torch.long), rho=1.0).detach()) > 0.0
    with pytest.raises(ValueError, match="local_channels"):
        build_split_model(CodecConfig(**{**cfg.__dict__, "local_channels": 8}))


def test_checkpoints_validate_the_kind(codecs, tmp_path):
    raw = torch.load(codecs["agilenn"], weights_only=True)
    for field, value, message in (("kind", "bogus", "kind must be one of"),
                                  ("local_channels", 8, "weights do not fit|local_channels")):
        bad = dict(raw, config=dict(raw["config"], **{field: value}))
        bad["content_sha256"] = content_sha256(bad["weights_sha256"], bad["config"], bad["train_config"],
                                               bad["metrics"])
        torch.save(bad, tmp_path / "bad.pt")
        with pytest.raises(CheckpointError, match=message):
            load_codec(tmp_path / "bad.pt")
    edited = dict(raw, config=dict(raw["config"], kind="semanticnn"))  # settings hash no longer matches
    torch.save(edited, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_codec(tmp_path / "edited.pt")


def test_codec_eval_prints_codecs_side_by_side(codecs, capsys):
    argv = ["codec", "eval", "builtin:digits", codecs["adjscc"], codecs["agilenn"], "--ber", "0", "0.1",
            "--realisations", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "digits (SemanticNN)" in out and "adjscc (ADJSCC)" in out and "agilenn (AgileNN)" in out
    assert "28944" in out and "18752" in out and "int8 split" in out
    assert main([*argv, "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)["codecs"]
    assert [r["kind"] for r in reports] == ["semanticnn", "adjscc", "agilenn"]
    assert [r["payload_bits"] for r in reports] == [384, 384, 318]
    # each column is what evaluating that checkpoint alone gives (same error streams)
    assert main(["codec", "eval", codecs["agilenn"], "--ber", "0", "0.1", "--realisations", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy_by_ber"] == reports[2]["accuracy_by_ber"]


def test_bad_baseline_options_exit_2(tmp_path, capsys):
    out = str(tmp_path / "x.pt")
    assert main(["train", "--dataset", "digits", "--backbone", "small-cnn", "--recipe", "agilenn",
                 "--channels", "2", "--local-channels", "2", "--out", out]) == 2
    assert "--local-channels 2" in capsys.readouterr().err
    assert main(["train", "--dataset", "digits", "--backbone", "small-cnn", "--local-channels", "2",
                 "--out", out]) == 2
    assert "only used by --recipe agilenn" in capsys.readouterr().err
    with pytest.raises(ValueError, match="classification"):
        train_codec(TrainConfig(dataset="shapes", backbone="resnet8", recipe="agilenn", task="detection",
                                epochs=1, pretrain_epochs=0, max_train_samples=8))
