"""Training: a tiny run learns; the training channel flips bits at the asked BER."""

import numpy as np
import pytest
import torch

from cosim.codec.evaluate import evaluate_codec
from cosim.codec.quantize import indices_to_bits
from cosim.codec.service import Codec
from cosim.codec.train import TrainConfig, corrupt, draw_ber, train_codec
from cosim.data import load_dataset

torch.set_num_threads(1)


def test_tiny_training_learns_above_chance():
    cfg = TrainConfig(dataset="digits", pretrain_epochs=10, epochs=10, batch_size=32, max_train_samples=400,
                      augment=False, decoder_width=16, xai=False, seed=3)
    result = train_codec(cfg)
    codec = Codec(result.model, name="tiny")
    data = load_dataset("digits")
    ev = evaluate_codec(codec, data.x_test[:200], data.y_test[:200], bers=(0.0,), realisations=1, int8=False)
    assert result.backbone_test_accuracy > 0.5
    assert ev.semantic[0].mean > 0.3  # chance is 0.1
    # the backbone is frozen: training never changed the stem/tail BatchNorm statistics mode
    assert not result.model.backbone.training


def test_training_with_xai_and_variants_runs():
    losses = []
    cfg = TrainConfig(dataset="digits", pretrain_epochs=1, epochs=1, max_train_samples=64, decoder_width=8,
                      gray=True, corruption="symbols", sigma_end=5.0, ber_aware=False)
    result = train_codec(cfg, progress=lambda stage, done, total, loss: losses.append((stage, loss)))
    assert {s for s, _ in losses} == {"pretrain", "stage1", "stage2"}
    assert all(np.isfinite(loss) for _, loss in losses)
    assert result.model.quantizer.sigma == 5.0 and not result.model.config.ber_aware


@pytest.mark.parametrize("gray", [False, True])
def test_training_bit_flips_match_ber(gray):
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 8, (64, 8, 4, 4), generator=gen)
    ber = 0.03
    out = corrupt(idx, ber, 3, gray, "bits", gen)
    flipped = (indices_to_bits(out, 3, gray) ^ indices_to_bits(idx, 3, gray)).sum().item()
    n = idx.numel() * 3
    assert abs(flipped - ber * n) < 4 * np.sqrt(n * ber * (1 - ber))


def test_symbol_replacement_counts_follow_authors():
    gen = torch.Generator().manual_seed(1)
    idx = torch.zeros(10, 100, dtype=torch.long)
    out = corrupt(idx, 0.05, 3, False, "symbols", gen)
    changed = int((out != idx).sum())
    assert changed <= 3 * 50  # at most 3*BER*N replaced (a replacement may redraw the same centre)
    assert changed >= 25  # at least BER*N replaced, about 7/8 of them changing the centre


def test_ber_draws_cover_the_snr_range_and_clean_batches():
    cfg = TrainConfig()
    rng = np.random.default_rng(0)
    bers = np.array([draw_ber(cfg, rng) for _ in range(2000)])
    assert 0.1 < np.mean(bers == 0) < 0.3
    noisy = bers[bers > 0]
    assert noisy.max() <= 0.24 and noisy.min() >= 7e-4  # SNR in [-6, 7] dB under BPSK
    assert all(draw_ber(TrainConfig(fal=False), rng) == 0.0 for _ in range(20))


def test_authors_preset_sets_every_switch_and_trains_without_touching_centres():
    from cosim.codec.train import AUTHORS_PRESET, centre_usage, with_preset

    cfg = with_preset(TrainConfig(dataset="digits", pretrain_epochs=1, epochs=1, max_train_samples=64,
                                  decoder_width=8), "authors")
    assert {k: getattr(cfg, k) for k in AUTHORS_PRESET} == AUTHORS_PRESET
    assert with_preset(cfg, "cosim") == cfg  # cosim changes nothing
    rng = np.random.default_rng(0)
    snrs = {round(float(10 * np.log10(_snr_of(draw_ber(cfg, rng)))), 6) for _ in range(400)}
    assert snrs == set(range(-6, 8))  # integer SNR draws, both ends, no clean batches
    result = train_codec(cfg)
    expected = torch.rand(8, generator=torch.Generator().manual_seed(666)) * 2 - 1
    assert torch.equal(result.model.quantizer.centres.detach(), expected)
    probs = torch.rand(10, 8, requires_grad=True)
    assert not centre_usage(probs, torch.randint(0, 8, (10,)), 8, "count").requires_grad


def _snr_of(ber: float) -> float:
    from scipy.special import erfcinv
    return float(erfcinv(2 * ber) ** 2)


@pytest.mark.parametrize("variant", [{"recipe": "deepcod"}, {"single_stage": True}])
def test_one_stage_variants_skip_the_denoising_stage(variant):
    stages = set()
    cfg = TrainConfig(dataset="digits", pretrain_epochs=1, epochs=1, max_train_samples=64, decoder_width=8,
                      **variant)
    train_codec(cfg, progress=lambda stage, done, total, loss: stages.add(stage))
    assert stages == {"pretrain", "stage2"}


def test_distillation_loss_is_zero_for_a_perfect_decoder_and_grows_with_error():
    from cosim.codec.model import CodecConfig, SplitModel
    from cosim.codec.train import ClassificationTask, distillation_loss

    torch.manual_seed(0)
    model = SplitModel(CodecConfig(name="t", dataset="digits", backbone="small-cnn", image_shape=(1, 8, 8),
                                   num_classes=10)).eval()
    x = torch.rand(8, 1, 8, 8)
    feats = model.backbone.stem(x).detach()
    task = ClassificationTask(x, torch.zeros(8, dtype=torch.long))
    logits = model.backbone.tail(feats)
    target = logits.argmax(1)
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert torch.allclose(distillation_loss(model, feats, feats, task, target), ce)
    assert distillation_loss(model, feats, feats + 0.5, task, target) > ce


def test_ablate_command_trains_each_variant_per_seed(tmp_path, capsys):
    import json

    from cosim.cli import main
    from cosim.codec.checkpoint import save_checkpoint
    from cosim.codec.train import config_dict

    cfg = TrainConfig(dataset="digits", pretrain_epochs=2, epochs=1, max_train_samples=96, decoder_width=8)
    result = train_codec(cfg)
    ckpt = tmp_path / "base.pt"
    save_checkpoint(ckpt, result.model, config_dict(cfg))
    out = tmp_path / "ablate.json"
    argv = ["codec", "ablate", str(ckpt), "--variants", "full", "no-fal", "--seeds", "0", "1",
            "--ber", "0", "0.1", "--realisations", "2", "--json-out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "full" in text and "no-fal" in text
    report = json.loads(out.read_text())
    assert set(report["variants"]) == {"full", "no-fal"}
    full = report["variants"]["full"]
    assert len(full["per_seed"]) == 2 and full["accuracy_by_ber"]["0"]["mean"] == pytest.approx(
        np.mean([r[0] for r in full["per_seed"]]))
    assert main(argv) == 2  # never overwrites the JSON it would write


def test_tune_tail_trains_a_copy_and_leaves_the_backbone_tail_for_the_baselines():
    cfg = TrainConfig(dataset="digits", pretrain_epochs=2, epochs=1, max_train_samples=96, decoder_width=8,
                      tune_tail=True)
    model = train_codec(cfg).model
    assert model.config.tune_tail and model.codec_tail is not None
    assert model.semantic_tail is model.codec_tail
    tuned = model.codec_tail.state_dict()
    frozen = model.backbone.tail.state_dict()
    assert any(not torch.equal(tuned[k], frozen[k]) for k in frozen)  # the copy moved
    assert not any(p.requires_grad for p in model.backbone.parameters())  # the baselines' tail did not
    codec = Codec(model, name="t")
    x = np.zeros((3, 1, 8, 8), dtype=np.float32)
    feats = model.backbone.stem(torch.from_numpy(x))
    with torch.no_grad():
        expected = model.edge_forward(model.quantizer(model.encode_features(feats, torch.zeros(3))).values,
                                      torch.zeros(3), model.decoder, model.codec_tail)
    assert np.array_equal(codec.decode_classify(codec.encode(x, float_device=True), 0.0),
                          expected.argmax(1).numpy())
    assert np.array_equal(codec.classify_full(x), model.backbone(torch.from_numpy(x)).argmax(1).numpy())
