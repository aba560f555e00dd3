"""LoRa reception on hand-worked frame sets: capture, preamble lock, SF rejection, sensitivity, gateways."""

from types import SimpleNamespace

import pytest

from cosim.net.medium.base import UNHEARD
from cosim.net.medium.lora import LoraAir, LoraGateway, load_rule

NOISE_DBM = -117.0  # 125 kHz, NF 6 dB: -174 + 51 + 6 (only differences of powers matter below)


class FixedLink:
    """A link with a constant SNR, dB."""

    def __init__(self, snr_db):
        self.snr_db = snr_db

    def snr_db_at(self, t_s):
        return self.snr_db


def radio(sf):
    return SimpleNamespace(name=f"lora-sf{sf}", lora_sf=sf, lora_bw_hz=125_000.0)


def network(n_gateways=1, **rule):
    air = LoraAir(load_rule(**rule))
    gws = [LoraGateway(air, g) for g in range(n_gateways)]
    return air, gws


def attach(gws, device, sf, snrs, distances=None):
    """Device `device` on SF `sf`, heard at gateway g with SNR snrs[g] (dB)."""
    distances = distances or [100.0 * (g + 1) for g in range(len(snrs))]
    links = [(g, FixedLink(s), NOISE_DBM, distances[g]) for g, s in enumerate(snrs)]
    gws[0].attach(device, radio(sf), links)


def send(gws, frames):
    """frames: (device, start s, airtime s) in start order; returns each frame's receiving gateway."""
    tokens = []
    for device, start, air in frames:
        tokens.append((start + air, device, gws[0].begin(start, air, SimpleNamespace(index=device))))
    return [gws[0].end(tok, None) for _, _, tok in tokens]


SYMBOL_SF7_S = 2**7 / 125_000  # 1.024 ms
CRITICAL_SF7_S = 3 * SYMBOL_SF7_S  # 8-symbol preamble, the last 5 must be intact: 3.072 ms


def test_same_sf_equal_power_overlap_loses_both():
    _, gws = network()
    attach(gws, 0, 7, [10.0])
    attach(gws, 1, 7, [10.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [None, None]
    assert gws[0].collisions == 2


def test_capture_6_db_stronger_survives_weaker_lost():
    _, gws = network()
    attach(gws, 0, 7, [4.0])
    attach(gws, 1, 7, [10.5])  # 6.5 dB stronger, starts second
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [None, 0]
    _, gws = network()
    attach(gws, 0, 7, [10.5])  # stronger first, the later weaker frame is lost
    attach(gws, 1, 7, [4.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [0, None]


def test_capture_within_threshold_loses_both_and_threshold_is_configurable():
    _, gws = network()
    attach(gws, 0, 7, [5.0])
    attach(gws, 1, 7, [10.0])  # 5 dB < 6 dB
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [None, None]
    _, gws = network(capture_db=3.0)
    attach(gws, 0, 7, [5.0])
    attach(gws, 1, 7, [10.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [None, 0]


def test_preamble_lock_earlier_frame_ending_before_critical_section_harms_nobody():
    _, gws = network()
    attach(gws, 0, 7, [10.0])
    attach(gws, 1, 7, [10.0])
    # frame 0 ends 1 ms after frame 1 starts: inside frame 1's first 3 preamble symbols (3.072 ms)
    assert send(gws, [(0, 0.0, 0.05), (1, 0.049, 0.05)]) == [0, 0]
    _, gws = network()
    attach(gws, 0, 7, [10.0])
    attach(gws, 1, 7, [10.0])
    # frame 0 ends 3.2 ms after frame 1 starts: in frame 1's critical section, equal powers: both lost
    assert send(gws, [(0, 0.0, 0.05), (1, 0.05 - 0.0032, 0.05)]) == [None, None]


def test_without_capture_any_same_sf_overlap_loses_both():
    _, gws = network(capture=False)
    attach(gws, 0, 7, [0.0])
    attach(gws, 1, 7, [30.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.049, 0.05)]) == [None, None]


def test_frames_that_do_not_overlap_are_both_received():
    _, gws = network(capture=False)
    attach(gws, 0, 7, [0.0])
    attach(gws, 1, 7, [0.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.05, 0.05)]) == [0, 0]


@pytest.mark.parametrize("margin_db, expect", [
    (-5.0, [0, 0]),  # SF7 wanted 5 dB weaker than SF12: -5 >= -9 (Croce SF7 vs SF12), SF12: +5 >= -25
    (-10.0, [None, 0]),  # SF7 10 dB weaker: -10 < -9, lost; SF12 survives
    (26.0, [0, None]),  # SF12 26 dB weaker than SF7: -26 < -25, lost
])
def test_different_sfs_croce_rejection_thresholds(margin_db, expect):
    _, gws = network()
    attach(gws, 0, 7, [10.0 + margin_db])
    attach(gws, 1, 12, [10.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.5)]) == expect


def test_perfect_orthogonality_never_destroys_other_sfs():
    _, gws = network(sf_rejection="perfect")
    attach(gws, 0, 7, [-7.0])
    attach(gws, 1, 12, [40.0])
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.5)]) == [0, 0]


def test_below_sensitivity_is_unheard_and_does_not_interfere():
    _, gws = network()
    attach(gws, 0, 10, [-15.5])  # SF10 demodulator limit -15 dB
    attach(gws, 1, 10, [-14.0])
    assert send(gws, [(0, 0.0, 0.3), (1, 0.1, 0.3)]) == [UNHEARD, 0]


def test_second_gateway_rescues_a_frame_collided_at_the_first():
    _, gws = network(n_gateways=2)
    attach(gws, 0, 7, [10.0, 10.0], distances=[100.0, 900.0])
    attach(gws, 1, 7, [10.0, -6.0], distances=[100.0, 2000.0])
    # gateway 0: equal powers, both lost; gateway 1: frame 0 is 16 dB stronger and captures
    assert send(gws, [(0, 0.0, 0.05), (1, 0.01, 0.05)]) == [1, None]
    assert gws[0].collisions == 2 and gws[1].collisions == 1


def test_a_frame_heard_by_two_gateways_is_received_once_by_the_nearest():
    _, gws = network(n_gateways=2)
    attach(gws, 0, 7, [10.0, 12.0], distances=[800.0, 300.0])
    assert send(gws, [(0, 0.0, 0.05)]) == [1]
    assert gws[0].frames == 1 and gws[1].frames == 1


def test_airtime_stats_hand_worked_with_a_warmup_cut():
    """One SF, no capture: A [0, 1) and B [0.5, 1.5) overlap (both lost), C [3, 4) is alone. Counting
    from 0: 3 frames, 2 collided, busy 1.5 + 1 = 2.5 s. Counting from 0.2 (A is before the cut): B and
    C, 1 collided, busy (1.5 - 1.0) + 1 = 1.5 s (the part of B under A is the warm-up's)."""
    for count_from_s, expected in ((0.0, (3, 2, 2.5)), (0.2, (2, 1, 1.5))):
        _, gws = network(capture=False)
        gws[0].count_from_s = count_from_s
        for d in range(3):
            attach(gws, d, 7, [10.0])
        assert send(gws, [(0, 0.0, 1.0), (1, 0.5, 1.0), (2, 3.0, 1.0)]) == [None, None, 0]
        frames, collided, busy_s = gws[0].airtime_stats()
        assert (frames, collided) == expected[:2] and busy_s == pytest.approx(expected[2])
        assert gws[0].collisions == 2  # the medium's own count is not cut


def test_airtime_stats_per_gateway_count_only_frames_heard_there():
    """Gateway 1 does not hear device 1 (SNR below SF7's limit): it counts one frame, not collided;
    gateway 0 hears both overlapping equal-power frames and loses both."""
    _, gws = network(n_gateways=2, capture=False)
    attach(gws, 0, 7, [10.0, 10.0])
    attach(gws, 1, 7, [10.0, -30.0])
    assert send(gws, [(0, 0.0, 1.0), (1, 0.25, 1.0)]) == [1, None]
    assert gws[0].airtime_stats() == (2, 2, pytest.approx(1.25))
    assert gws[1].airtime_stats() == (1, 0, pytest.approx(1.0))
