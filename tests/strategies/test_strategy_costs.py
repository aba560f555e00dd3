"""Each strategy's cost model: MACs, payload bits, frames, ARQ transmissions and energy vs formulas."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from strategy_fixtures import group, scenario, within, world

from cosim.codec import costs
from cosim.codec.checkpoint import load_codec
from cosim.config.profiles import load_board, load_radio
from cosim.config.scenario import DeviceGroup
from cosim.inference import DELIVERED, LOST_RETRIES, Inference
from cosim.net.frames import fragment
from cosim.strategies.base import get_strategy
from cosim.strategies.imaging import MAX_SIZE_PLANS, bucket_sizes, pixels_uint8

torch.set_num_threads(1)
CODEC = "builtin:digits"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return world(scenario([group("g", "semanticnn", count=1)]), tmp_path_factory.mktemp("ctx")).services


def setup_of(ctx, strategy: str, **options):
    g = DeviceGroup.model_validate({"name": "g", "count": 1, "strategy": strategy, "strategy_options": options})
    return get_strategy(strategy).setup(ctx, CODEC, g)


def macs(module, *shape) -> int:
    return costs.count_macs(module, lambda: module(torch.zeros(1, *shape)))


def test_semanticnn_sends_the_codec_payload_without_arq(ctx):
    codec = ctx.codec(CODEC)
    m = codec.model
    s = setup_of(ctx, "semanticnn")
    stem_shape = m.stem_shape()
    device = costs.count_macs(torch.nn.ModuleList([m.backbone.stem, m.encoder]),
                              lambda: m.encoder(m.backbone.stem(torch.zeros(1, *codec.meta.image_shape))))
    assert s.payload_bits == int(np.prod(m.symbol_shape())) * codec.config.bits
    assert s.device_macs == device
    assert s.edge_macs == costs.count_macs(m.decoder, lambda: m.decoder(torch.zeros(1, *m.symbol_shape()),
                                                                        torch.zeros(1))) + macs(m.backbone.tail, *stem_shape)
    assert not s.arq and not s.variants


def test_split_int8_sends_one_byte_per_stem_feature_bit_exact(ctx):
    codec = ctx.codec(CODEC)
    m = codec.model
    s = setup_of(ctx, "split-int8")
    stem_shape = m.stem_shape()
    assert s.payload_bits == 8 * int(np.prod(stem_shape))
    assert s.device_macs == macs(m.backbone.stem, *codec.meta.image_shape)
    assert s.edge_macs == macs(m.backbone.tail, *stem_shape)
    assert s.arq and s.max_retries == 7
    assert not setup_of(ctx, "split-int8", arq=False).arq
    assert setup_of(ctx, "split-int8", max_retries=2).max_retries == 2


def test_raw_sends_8_bit_pixels_and_runs_the_whole_model_on_the_edge(ctx):
    codec = ctx.codec(CODEC)
    shape = codec.meta.image_shape
    s = setup_of(ctx, "raw")
    assert s.payload_bits == 8 * int(np.prod(shape))
    assert s.device_macs == 0
    assert s.edge_macs == macs(codec.model.backbone, *shape)
    assert s.arq


def test_raw_jpeg_sends_each_samples_own_file(ctx):
    s = setup_of(ctx, "raw", jpeg_quality=60)
    pixels = pixels_uint8(ctx.dataset.x_test)
    sizes = []
    for row in pixels:
        buf = io.BytesIO()
        Image.fromarray(row.reshape(8, 8), "L").save(buf, format="JPEG", quality=60, optimize=True)
        sizes.append(buf.tell())
    sizes = np.asarray(sizes)
    assert len(np.unique(sizes)) <= MAX_SIZE_PLANS  # so the per-sample sizes are exact, not bucketed
    sent = [s.variants[s.choose(None, i)].payload_bits for i in range(len(sizes))]
    assert sent == (8 * sizes).tolist()
    assert s.payload_bits == round(8 * sizes.mean())
    assert all(v.arq and v.edge_macs == s.edge_macs for v in s.variants)


def test_bucket_sizes_caps_the_number_of_link_plans():
    rng = np.random.default_rng(0)
    sizes = rng.integers(400, 1300, 2000)
    padded = bucket_sizes(sizes, max_plans=64)
    assert len(np.unique(padded)) <= 64
    assert np.all(padded >= sizes)
    g = math.gcd(*np.unique(padded).tolist())
    assert np.all(padded - sizes < g)
    few = np.array([5, 9, 9, 12])
    assert bucket_sizes(few).tolist() == few.tolist()


def test_local_runs_the_whole_model_and_sends_the_class_byte(ctx):
    codec = ctx.codec(CODEC)
    s = setup_of(ctx, "local")
    assert s.device_macs == macs(codec.model.backbone, *codec.meta.image_shape)
    assert s.payload_bits == 8 and s.edge_macs == 0 and s.arq
    got = []
    ev = s.make_evaluator(got.append, 64)
    labels = ctx.dataset.y_test.astype(int).tolist()
    for i in range(len(labels)):
        ev.submit(Inference(0, 0, i, labels[i], 0.0))
    ev.flush()
    assert [inf.pred for inf in got] == codec.classify_full(ctx.dataset.x_test).tolist()


def _truncated_geometric(q: float, retries: int) -> tuple[float, float]:
    """(expected attempts, loss probability) of one frame whose attempts fail with probability q."""
    return (1 - q ** (retries + 1)) / (1 - q), q ** (retries + 1)


def test_arq_transmissions_energy_and_losses_follow_the_formulas(tmp_path, simulate):
    p = 1e-3
    data = scenario([group("raw", "raw"), group("raw-r1", "raw", strategy_options={"max_retries": 1}),
                     group("split", "split-int8"), group("local", "local")],
                    channel={"kind": "constant", "ber": p}, duration_s=60.0)
    summary, c = simulate(data, tmp_path)
    radio, board = load_radio("ble-1m"), load_board("stm32l476")
    codec = load_codec(CODEC)
    ack_bits = radio.ack_bytes * 8
    tx_mw = radio.tx_current_ma * radio.supply_v
    rx_mw = radio.rx_current_ma * radio.supply_v
    ack_rx_s = radio.ack_airtime_s() + radio.turnaround_us / 1e6
    payloads = {"raw": 512, "raw-r1": 512, "split": codec.meta.split_feature_bits_int8, "local": 8}
    retries = {"raw": 7, "raw-r1": 1, "split": 7, "local": 7}
    device_macs = {"raw": 0, "raw-r1": 0, "split": codec.meta.full_model_macs - codec.meta.split_int8_edge_macs,
                   "local": codec.meta.full_model_macs}
    for gi, name in enumerate(["raw", "raw-r1", "split", "local"]):
        m = c["group"] == gi
        n = int(m.sum())
        plan = fragment(payloads[name], radio)
        # per frame k: attempts fail if the frame or its ACK has an error
        qs = [1 - (1 - p) ** (plan.header_bits + b + ack_bits) for b in plan.payload_bits]
        reach, expected_attempts, p_deliver = 1.0, 0.0, 1.0
        for q in qs:
            e, lost = _truncated_geometric(q, retries[name])
            expected_attempts += reach * e
            reach *= 1 - lost
        p_deliver = reach
        attempts = c["tx_attempts"][m].astype(float)
        assert within(attempts.mean(), expected_attempts, attempts.std(), n), name
        lost = c["lost"][m]
        assert set(np.unique(lost)) <= {DELIVERED, LOST_RETRIES}
        assert within(float((lost == DELIVERED).mean()), p_deliver, math.sqrt(p_deliver * (1 - p_deliver)), n), name
        delivered = lost == DELIVERED
        assert np.all(c["frames"][m][delivered] == plan.n_frames)
        # energy and bits on air per record, exactly
        if plan.n_frames == 1:
            air = plan.airtime_s[0]
            np.testing.assert_allclose(c["tx_mj"][m], attempts * air * tx_mw, rtol=1e-9)
            assert np.all(c["bits_on_air"][m] == attempts * (plan.header_bits + payloads[name]))
        np.testing.assert_allclose(c["rx_mj"][m], attempts * ack_rx_s * rx_mw, rtol=1e-9)
        np.testing.assert_allclose(c["compute_mj"][m], board.compute_energy_mj(device_macs[name]), rtol=1e-12)
    assert summary["groups"]["raw-r1"]["lost"]["retries"] > summary["groups"]["raw"]["lost"]["retries"]
    assert (tmp_path / "out" / "figures" / "group_comparison.png").stat().st_size > 0
