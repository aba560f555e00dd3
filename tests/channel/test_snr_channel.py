"""SNR channel: log-distance path loss, shadowing, block fading and the radio's BER curve."""

import math
import random
from dataclasses import dataclass

import numpy as np
import pytest

from cosim.channel.modulation import ber_from_snr_db
from cosim.channel.processes import SnrChannel, free_space_path_loss_db


@dataclass(frozen=True)
class Radio:
    modulation: str = "bpsk"
    bitrate_bps: float = 1e6
    noise_bandwidth_hz: float = 1e6
    noise_figure_db: float = 6.0
    tx_power_dbm: float = 0.0
    frequency_mhz: float = 2440.0
    lora_sf: int | None = None
    lora_bw_hz: float | None = None


RADIO = Radio()
NOISE_DBM = -174 + 60 + 6.0


def test_mean_path_loss_vs_distance():
    cfg = SnrChannel(pl_d0_db=40.0, exponent=3.0, sigma_db=0.0, fading="none")
    for d in (1.0, 10.0, 100.0, 350.0):
        link = cfg.make_link(random.Random(0), RADIO, d)
        expect = 0.0 - (40.0 + 30.0 * math.log10(d)) - NOISE_DBM
        assert link.snr_db_at(0.0) == pytest.approx(expect)
        assert link.ber_at(5.0) == pytest.approx(ber_from_snr_db("bpsk", expect))
    # below d0 the loss stays at its d0 value
    assert cfg.path_loss_db(RADIO, 0.1) == pytest.approx(40.0)


def test_free_space_default_and_tx_override():
    assert free_space_path_loss_db(1.0, 2440.0) == pytest.approx(40.2, abs=0.05)
    cfg = SnrChannel(sigma_db=0.0, fading="none", exponent=2.0, tx_power_dbm=8.0)
    link = cfg.make_link(random.Random(0), RADIO, 10.0)
    assert link.snr_db_at(0.0) == pytest.approx(8.0 - free_space_path_loss_db(10.0, 2440.0) - NOISE_DBM)


def test_shadowing_one_draw_per_link():
    cfg = SnrChannel(pl_d0_db=40.0, sigma_db=6.0, fading="none")
    snr = np.array([cfg.make_link(random.Random(s), RADIO, 20.0).snr_db_at(0.0) for s in range(4000)])
    mean = cfg.mean_snr_db(RADIO, 20.0)
    assert snr.mean() == pytest.approx(mean, abs=0.3)
    assert snr.std() == pytest.approx(6.0, rel=0.05)


def test_rayleigh_power_mean_one_and_exponential():
    link = SnrChannel(fading="rayleigh").make_link(random.Random(1), RADIO, 10.0)
    g = np.array([link.fading_gain(b) for b in range(200_000)])
    assert g.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean(g < 0.1) == pytest.approx(1 - math.exp(-0.1), abs=0.003)


def test_rician_power_moments():
    k = 4.0
    link = SnrChannel(fading="rician", k_factor=k).make_link(random.Random(2), RADIO, 10.0)
    g = np.array([link.fading_gain(b) for b in range(200_000)])
    assert g.mean() == pytest.approx(1.0, abs=0.01)
    assert g.var() == pytest.approx((1 + 2 * k) / (1 + k) ** 2, rel=0.03)


def test_block_fading_is_constant_within_a_block_and_query_independent():
    cfg = SnrChannel(fading="rayleigh", coherence_time_s=0.5)
    a = cfg.make_link(random.Random(5), RADIO, 30.0)
    b = cfg.make_link(random.Random(5), RADIO, 30.0)
    assert a.snr_db_at(1.01) == a.snr_db_at(1.49)
    assert a.snr_db_at(1.5) != a.snr_db_at(1.49 + 0.5 + 0.02)
    for t in np.arange(3.0, 60.0, 0.37):
        b.ber_at(t - 0.1)
        assert a.ber_at(t) == b.ber_at(t)  # gain of a block is a function of the link and block only


def test_rayleigh_average_ber_matches_closed_form():
    # pl chosen so that the mean Eb/N0 (B = Rb) is 10 dB; BPSK in Rayleigh: 0.5 (1 - sqrt(g / (1 + g)))
    pl = 0.0 - NOISE_DBM - 10.0
    cfg = SnrChannel(pl_d0_db=pl, sigma_db=0.0, fading="rayleigh", coherence_time_s=1.0)
    link = cfg.make_link(random.Random(9), RADIO, 1.0)
    mean_ber = np.mean([link.ber_at(t + 0.5) for t in range(100_000)])
    g = 10.0
    assert mean_ber == pytest.approx(0.5 * (1 - math.sqrt(g / (1 + g))), rel=0.03)


def test_lora_radio_uses_its_spreading_factor():
    radio = Radio(modulation="lora", bitrate_bps=5469, noise_bandwidth_hz=125e3, lora_sf=7, lora_bw_hz=125e3,
                  frequency_mhz=868.1, tx_power_dbm=14.0)
    link = SnrChannel(sigma_db=0.0, fading="none").make_link(random.Random(0), radio, 2000.0)
    assert link.ber_at(0.0) == pytest.approx(ber_from_snr_db("lora", link.snr_db_at(0.0), sf=7))
