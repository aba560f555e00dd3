"""The `adjscc` and `agilenn` strategies: payload bits and device MACs of their checkpoints, the ADJSCC
device's channel state from the BER fed back, kinds refused by the wrong strategy, and end-to-end runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategy_fixtures import group, scenario, world

from cosim.codec.checkpoint import read_checkpoint, save_checkpoint
from cosim.codec.model import snr_db_to_ber
from cosim.codec.train import TrainConfig, train_codec
from cosim.config.profiles import load_board
from cosim.config.scenario import DeviceGroup
from cosim.errors import ScenarioError
from cosim.inference import DELIVERED
from cosim.strategies.base import get_strategy
from cosim.strategies.baselines import DEVICE_SNR_GRID_DB, DeviceChannelState

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, str]:
    """Tiny ADJSCC and AgileNN checkpoints on the frozen backbone of builtin:digits."""
    backbone = read_checkpoint("builtin:digits").state_dict
    out = {}
    for recipe, epochs in (("adjscc", 4), ("agilenn", 2)):  # seeded tiny trainings that learn
        cfg = TrainConfig(dataset="digits", recipe=recipe, epochs=epochs, batch_size=32, augment=False,
                          decoder_width=16, seed=1, name=recipe)
        path = tmp_path_factory.mktemp(recipe) / f"{recipe}.pt"
        save_checkpoint(path, train_codec(cfg, backbone_state=backbone).model, {}, {})
        out[recipe] = str(path)
    return out


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return world(scenario([group("g", "semanticnn", count=1)]), tmp_path_factory.mktemp("ctx")).services


def setup_of(ctx, strategy: str, spec: str, **options):
    g = DeviceGroup.model_validate({"name": "g", "count": 1, "strategy": strategy, "strategy_options": options})
    return get_strategy(strategy).setup(ctx, spec, g)


def test_adjscc_sends_its_payload_with_one_variant_per_device_snr(ctx, ckpts):
    s = setup_of(ctx, "adjscc", ckpts["adjscc"])
    meta = ctx.codec(ckpts["adjscc"]).meta
    assert len(s.variants) == len(DEVICE_SNR_GRID_DB) + 1  # + the error-free state
    for v in s.variants:
        assert v.payload_bits == meta.payload_bits == 384 and not v.arq and not v.exact
        assert v.device_macs == meta.device_macs == 28944 and v.edge_macs == meta.edge_macs
    assert len({v.evaluator_key for v in s.variants}) == len(s.variants)
    # the device encodes for the SNR it believes: -6 dB and error-free payload tables differ
    codec = ctx.codec(ckpts["adjscc"])
    x = ctx.dataset.x_test
    assert (codec.encode(x, ber=snr_db_to_ber(-6.0)) != codec.encode(x, ber=0.0)).any()


def test_device_channel_state_follows_the_fed_back_ber():
    grid = tuple(float(s) for s in DEVICE_SNR_GRID_DB) + (11.3,)
    policy = DeviceChannelState(grid)
    assert policy.choose(None, 0) == grid.index(-6.0)  # no report yet: the most robust state
    for snr in (-6, -2, 0, 3, 7):
        for off in (-0.45, 0.0, 0.45):  # the nearest grid SNR, exactly
            assert policy.choose(float(snr_db_to_ber(snr + off)), 0) == grid.index(float(snr)), (snr, off)
    assert policy.choose(float(snr_db_to_ber(9.0)), 0) == grid.index(7.0)
    assert policy.choose(float(snr_db_to_ber(9.3)), 0) == len(grid) - 1
    assert policy.choose(0.0, 0) == len(grid) - 1  # an error-free report: the clean state
    assert policy.choose(0.45, 0) == 0  # beyond the grid: its ends


def test_agilenn_counts_the_local_predictor_on_the_device(ctx, ckpts):
    s = setup_of(ctx, "agilenn", ckpts["agilenn"])
    assert s.payload_bits == (6 * 16 + 10) * 3 and not s.arq and not s.variants
    assert s.device_macs == 16 * 64 * 9 + 128 * 64 + 128 * 8 + 32 * 10
    assert setup_of(ctx, "agilenn", ckpts["agilenn"], arq=True).arq


@pytest.mark.parametrize("strategy, kind, hint", [("semanticnn", "adjscc", "adjscc"),
                                                  ("adjscc", "agilenn", "agilenn"),
                                                  ("agilenn", "semanticnn", "semanticnn")])
def test_a_checkpoint_of_another_kind_is_refused(ctx, ckpts, strategy, kind, hint):
    spec = ckpts.get(kind, "builtin:digits")
    with pytest.raises(ScenarioError, match=rf"strategy {strategy!r} needs .* \(use strategy {hint!r}\)"):
        setup_of(ctx, strategy, spec)


def test_both_strategies_run_end_to_end(tmp_path, simulate, ckpts):
    ber = float(snr_db_to_ber(6.0))  # 2.4e-3: most headers survive (no ARQ)
    data = scenario([group("adj", "adjscc", count=5, codec=ckpts["adjscc"]),
                     group("agile", "agilenn", count=5, codec=ckpts["agilenn"])],
                    channel={"kind": "constant", "ber": ber}, duration_s=8.0)
    summary, c = simulate(data, tmp_path)
    board = load_board("stm32l476")
    macs = {"adj": 28944, "agile": 18752}  # hand counts (tests/codec/test_codec_baselines.py)
    for gi, name, bits in ((0, "adj", 384), (1, "agile", 318)):
        m = c["group"] == gi
        assert m.sum() > 10 and summary["groups"][name]["inferences"] == int(m.sum())
        delivered = c["lost"][m] == DELIVERED
        assert delivered.mean() > 0.5
        assert (c["pred"][m][delivered] >= 0).all()
        assert c["correct"][m].mean() > 0.3  # above chance (0.1)
        assert (c["bits_on_air"][m] > bits).all()  # payload + headers
        np.testing.assert_allclose(c["compute_mj"][m], board.compute_energy_mj(macs[name]), rtol=1e-12)
    # ADJSCC devices encode for the BER the gateway fed back: -6 dB before the first report, then 6 dB
    variants = c["codec_variant"][c["group"] == 0]
    assert set(np.unique(variants)) <= {0, 12} and (variants == 12).mean() > 0.5
    assert (c["codec_variant"][c["group"] == 1] == 0).all()
