"""Split model: shapes, BER-aware decoding, fast inference rewrites, MAC counting."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cosim.codec import costs
from cosim.codec.fast import optimise_for_inference
from cosim.codec.model import (
    GDN,
    CodecConfig,
    SplitModel,
    ber_to_snr_db,
    channel_state,
    snr_db_to_ber,
)

torch.set_num_threads(1)


def _model(shape=(1, 8, 8), backbone="small-cnn", **kw) -> SplitModel:
    torch.manual_seed(0)
    cfg = CodecConfig(name="t", dataset="d", backbone=backbone, image_shape=shape, num_classes=10, **kw)
    m = SplitModel(cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m


@pytest.mark.parametrize("shape,backbone,kernel,sym", [
    ((1, 8, 8), "small-cnn", 2, (8, 4, 4)),
    ((1, 28, 28), "small-cnn", 2, (8, 7, 7)),
    ((3, 32, 32), "resnet8", 4, (8, 8, 8)),
])
def test_shapes_round_trip_to_stem(shape, backbone, kernel, sym):
    m = _model(shape, backbone, kernel=kernel)
    assert m.symbol_shape() == sym
    x = torch.rand(3, *shape)
    f = m.backbone.stem(x)
    z = m.encoder(f)
    assert z.shape[1:] == sym
    rms = z.flatten(1).pow(2).mean(1).sqrt()
    assert torch.allclose(rms, torch.full_like(rms, 0.5), atol=1e-5)
    out = m.decoder(m.quantizer(z).values, torch.zeros(3))
    assert out.shape == f.shape and (out >= 0).all()
    assert m.decode_logits(m.quantizer(z).values, torch.zeros(3)).shape == (3, 10)


def test_decoder_output_changes_with_ber():
    m = _model()
    v = m.quantizer(m.encoder(m.backbone.stem(torch.rand(4, 1, 8, 8)))).values
    with torch.no_grad():
        clean = m.decoder(v, torch.from_numpy(channel_state(np.zeros(4))))
        noisy = m.decoder(v, torch.from_numpy(channel_state(np.full(4, 0.1))))
    assert not torch.allclose(clean, noisy)


def test_channel_state_is_bpsk_snr_equivalent():
    for snr in (-6.0, 0.0, 4.0, 7.0):
        assert ber_to_snr_db(snr_db_to_ber(snr)) == pytest.approx(snr, abs=1e-6)
    assert snr_db_to_ber(0.0) == pytest.approx(0.0786, abs=1e-3)
    assert channel_state(0.0) == pytest.approx(channel_state(1e-6))  # floor at 1e-6
    assert channel_state(1e-2) > channel_state(0.1)


def test_gdn_matches_definition():
    g = GDN(4)
    with torch.no_grad():
        g.gamma.add_(0.1 * torch.rand(4, 4))
    x = torch.randn(2, 4, 3, 3)
    gamma = (g.gamma ** 2)
    norm = torch.einsum("oc,bchw->bohw", gamma, x * x) + (g.beta ** 2 + g.beta_min).view(1, 4, 1, 1)
    assert torch.allclose(g(x), x / norm.sqrt(), atol=1e-6)


@pytest.mark.parametrize("shape,backbone,kernel", [((1, 8, 8), "small-cnn", 2),
                                                   ((3, 32, 32), "resnet8", 4)])
def test_fast_inference_decoder_is_equal(shape, backbone, kernel):
    m = _model(shape, backbone, kernel=kernel)
    fast = optimise_for_inference(copy.deepcopy(m.decoder))
    assert not any(isinstance(x, nn.ConvTranspose2d) for x in fast.modules())
    v = torch.randn(5, *m.symbol_shape())
    s = torch.rand(5)
    with torch.inference_mode():
        ref = m.decoder(v, s)
        out = fast(v.contiguous(memory_format=torch.channels_last), s)
    assert torch.allclose(ref, out, atol=1e-5)


def test_mac_counting_matches_hand_count():
    conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 2, 2))
    x = torch.zeros(1, 3, 8, 8)
    assert costs.count_macs(conv, lambda: conv(x)) == 8 * 64 * 3 * 9 + 4 * 16 * 8 * 4
    deconv = nn.ConvTranspose2d(4, 6, 2, 2)
    assert costs.count_macs(deconv, lambda: deconv(torch.zeros(1, 4, 3, 3))) == 9 * 4 * 6 * 4
    lin = nn.Linear(10, 7)
    assert costs.count_macs(lin, lambda: lin(torch.zeros(1, 10))) == 70
    gdn = GDN(5)
    assert costs.count_macs(gdn, lambda: gdn(torch.zeros(1, 5, 2, 2))) == 5 * 5 * 4


def test_codec_meta_sizes_by_hand():
    from cosim.codec.service import Codec

    codec = Codec(_model(decoder_width=8), name="t")
    m = codec.meta
    # digits: stem conv 1->16 (3x3) at 8x8, encoder conv 16->8 (2x2, stride 2) to 4x4, GDN(8) at 4x4
    assert m.stem_macs == 16 * 64 * 9
    assert m.device_macs == m.encoder_macs == 16 * 64 * 9 + 8 * 16 * 16 * 4 + 8 * 8 * 16
    assert m.payload_bits == 8 * 16 * 3 and m.payload_bytes == 48
    assert m.split_feature_bits_float32 == 16 * 64 * 32
    # int8 weights + int32 biases (BN folded) + float32 GDN/PReLU/centres
    assert m.flash_bytes_int8 == (144 + 16 * 4) + (512 + 8 * 4) + 4 * (8 + 64) + 4 + 4 * 8
    # largest layer input + output: the encoder conv (16x8x8 in, 8x4x4 out), plus the payload
    assert m.peak_activation_bytes_int8 == 1024 + 128 + 48
    assert m.full_model_macs == m.stem_macs + m.split_int8_edge_macs
