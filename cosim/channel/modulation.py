"""Uncoded bit error rate of each radio modulation in AWGN, as a function of the measured SNR.

SNR vs Eb/N0: a receiver measures SNR = signal power / noise power in its noise bandwidth B (Hz).
A bit lasts 1/Rb s, so Eb/N0 = SNR * B / Rb (Rb = bitrate_bps, B = noise_bandwidth_hz). Every formula
below has a *native* SNR measure (Eb/N0 for most); pass `bitrate_bps` and `noise_bandwidth_hz` (both
or neither) to convert a measured SNR into it, or neither to give the native measure directly:

| name         | native measure of `snr_db`             | bit error rate                                     |
| ------------ | -------------------------------------- | -------------------------------------------------- |
| bpsk, qpsk   | Eb/N0                                  | 0.5 erfc(sqrt(Eb/N0)) (QPSK Gray: same per bit)    |
| gfsk         | Eb/N0                                  | 0.5 exp(-Eb/N0 / 2) (noncoherent BFSK)             |
| oqpsk-dsss   | SINR of IEEE 802.15.4-2006 Annex E     | (8/15)(1/16) sum_k=2..16 (-1)^k C(16,k) e^(20 SINR (1/k - 1)) |
| lora         | SNR in the LoRa bandwidth `bw_hz`      | 0.5 Q(sqrt(2^(SF+1) SNR) - sqrt(1.386 SF + 1.154)) |
| ofdm-qpsk    | SNR of a subcarrier (= SNR in B)       | 0.5 erfc(sqrt(SNR / 2)) (QPSK, Es/N0 = SNR)        |

Choices and sources (Proakis & Salehi, Digital Communications 5th ed. §4.3, §4.5):
- gfsk: BLE GFSK (h = 0.5, BT = 0.5) is modelled by the noncoherent BFSK curve, the pessimistic end of
  the usual range (MSK ~ coherent BPSK is the optimistic end; ~7 dB better at BER 1e-5).
- oqpsk-dsss: 16-ary orthogonal noncoherent detection of 4-bit symbols (32 chips), verbatim as in
  ns-3 `LrWpanErrorModel`. Its exponent is Es/N0 = 20 SINR; since Es = 4 Eb, a measured SNR converts as
  SINR = (Eb/N0) / 5. (ns-3 feeds its SINR in directly, i.e. noise_bandwidth_hz = 5 * bitrate_bps.)
- lora: Elshabrawy & Robert, "Closed-Form Approximation of LoRa Modulation BER Performance", IEEE
  Commun. Lett. 22(9), 2018: the correct FFT bin against the largest of 2^SF - 1 noise bins, with
  2 H(2^SF - 1) ~= 1.386 SF + 1.154 (H = harmonic number) and BER ~= SER / 2. Needs `sf`; the SNR is the
  one Semtech quotes (in the bandwidth `bw_hz`, default: `noise_bandwidth_hz`); `bitrate_bps` is unused.
  It ignores the spread of the largest noise bin, so it is slightly optimistic in the tail: against a
  Monte-Carlo FFT demodulator (SF7) it needs ~0.1 dB less SNR at BER 5e-3 and ~0.4 dB less at 1e-4.
- ofdm-qpsk: QPSK on each subcarrier, whose SNR equals the SNR in the occupied bandwidth; the profile's
  bitrate is a coded data rate, so it is unused. FEC is not modelled (uncoded BER: pessimistic).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cosim.registry import Registry

#: BER curves by modulation name (a radio profile's `modulation`); plug-ins: entry points `cosim.radios`.
MODULATIONS: Registry[type[BerCurve]] = Registry("radio", builtins=("cosim.channel.modulation",
                                                                    "cosim.channel.dbpsk"))


class _Scalar:
    """Plain-float maths for the hot path (~0.3-2 µs a call)."""

    erfc, exp, sqrt = staticmethod(math.erfc), staticmethod(math.exp), staticmethod(math.sqrt)

    @staticmethod
    def clip(x: float, lo: float, hi: float) -> float:
        return min(max(x, lo), hi)


class _Vector:
    """Array maths (numpy, scipy's erfc) for whole traces and curves."""

    exp, sqrt, clip = staticmethod(np.exp), staticmethod(np.sqrt), staticmethod(np.clip)

    @staticmethod
    def erfc(x):
        from scipy.special import erfc

        return erfc(x)


class BerCurve:
    """One modulation's uncoded BER in AWGN: `ber(lin)` of the linear measured SNR, written once for
    floats and arrays (`xp` is `_Scalar` or `_Vector`).

    The constructor checks the radio parameters and sets `scale`, the factor turning the measured SNR
    into the curve's native measure; the default is Eb/N0 = SNR·B/Rb (both given) or SNR itself (neither).
    """

    def __init__(self, bitrate_bps: float | None = None, noise_bandwidth_hz: float | None = None,
                 sf: int | None = None, bw_hz: float | None = None) -> None:
        self.scale = self.native_scale(bitrate_bps, noise_bandwidth_hz, sf, bw_hz)

    def native_scale(self, bitrate_bps, noise_bandwidth_hz, sf, bw_hz) -> float:
        if (bitrate_bps is None) != (noise_bandwidth_hz is None):
            raise ValueError("give both bitrate_bps and noise_bandwidth_hz, or neither (snr_db is then Eb/N0)")
        if bitrate_bps is None:
            return 1.0
        _positive(bitrate_bps=bitrate_bps, noise_bandwidth_hz=noise_bandwidth_hz)
        return noise_bandwidth_hz / bitrate_bps

    def ber(self, lin, xp):
        """BER at linear measured SNR `lin` (float or array)."""
        raise NotImplementedError


@MODULATIONS.register("bpsk")
class Bpsk(BerCurve):
    """Coherent BPSK: 0.5 erfc(sqrt(Eb/N0))."""

    def ber(self, lin, xp):
        return 0.5 * xp.erfc(xp.sqrt(self.scale * lin))


@MODULATIONS.register("qpsk")
class Qpsk(Bpsk):
    """Gray-coded QPSK: the same BER per bit as BPSK at equal Eb/N0."""


@MODULATIONS.register("gfsk")
class Gfsk(BerCurve):
    """BLE GFSK as noncoherent BFSK: 0.5 exp(-Eb/N0 / 2)."""

    def ber(self, lin, xp):
        return 0.5 * xp.exp(-0.5 * self.scale * lin)


@MODULATIONS.register("ofdm-qpsk")
class OfdmQpsk(BerCurve):
    """QPSK per OFDM subcarrier, Es/N0 = SNR in the occupied bandwidth: 0.5 erfc(sqrt(SNR / 2))."""

    def native_scale(self, bitrate_bps, noise_bandwidth_hz, sf, bw_hz) -> float:
        return 1.0

    def ber(self, lin, xp):
        return 0.5 * xp.erfc(xp.sqrt(0.5 * lin))


_ANNEX_E_COEF = tuple(
    (k, (8.0 / 15.0) * (1.0 / 16.0) * (-1) ** k * math.comb(16, k), 20.0 * (1.0 / k - 1.0))
    for k in range(2, 17)
)


@MODULATIONS.register("oqpsk-dsss")
class OqpskDsss(BerCurve):
    """IEEE 802.15.4 O-QPSK DSSS, Annex E: 16-ary orthogonal noncoherent detection; SINR = (Eb/N0) / 5."""

    def native_scale(self, bitrate_bps, noise_bandwidth_hz, sf, bw_hz) -> float:
        scale = super().native_scale(bitrate_bps, noise_bandwidth_hz, sf, bw_hz)
        return scale / 5.0 if bitrate_bps is not None else 1.0

    def ber(self, lin, xp):
        s = self.scale * lin
        total = 0.0
        for _, c, e in _ANNEX_E_COEF:
            total = total + c * xp.exp(e * s)
        return xp.clip(total, 0.0, 0.5)


@MODULATIONS.register("lora")
class Lora(BerCurve):
    """LoRa CSS (Elshabrawy & Robert 2018): 0.5 Q(sqrt(2^(SF+1) SNR) - sqrt(1.386 SF + 1.154))."""

    def native_scale(self, bitrate_bps, noise_bandwidth_hz, sf, bw_hz) -> float:
        if sf is None or not 5 <= int(sf) <= 12:
            raise ValueError(f"lora needs a spreading factor sf in 5..12, got {sf!r}")
        self.a = math.sqrt(2.0 ** (int(sf) + 1))
        self.off = math.sqrt(1.386 * int(sf) + 1.154)
        if noise_bandwidth_hz is None or bw_hz is None:
            return 1.0
        _positive(noise_bandwidth_hz=noise_bandwidth_hz, bw_hz=bw_hz)
        return noise_bandwidth_hz / bw_hz

    def ber(self, lin, xp):
        z = self.a * xp.sqrt(self.scale * lin) - self.off
        return 0.25 * xp.erfc(z * _R2)


_R2 = 1.0 / math.sqrt(2.0)


def _positive(**values: float | None) -> None:
    for name, v in values.items():
        if not (v is not None and v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def ber_curve(modulation: str, **params) -> BerCurve:
    """The registered curve of `modulation` with its radio parameters checked (ValueError if bad)."""
    if modulation not in MODULATIONS:
        raise ValueError(f"unknown modulation {modulation!r}; known: {', '.join(MODULATIONS)}")
    return MODULATIONS.get(modulation)(**params)


def ber_function(
    modulation: str,
    *,
    bitrate_bps: float | None = None,
    noise_bandwidth_hz: float | None = None,
    sf: int | None = None,
    bw_hz: float | None = None,
) -> Callable[[float], float]:
    """A scalar `snr_db -> ber` function (plain floats) for hot paths; parameters checked once here."""
    curve = ber_curve(modulation, bitrate_bps=bitrate_bps, noise_bandwidth_hz=noise_bandwidth_hz, sf=sf,
                      bw_hz=bw_hz)
    ber, xp = curve.ber, _Scalar

    def f(snr_db: float) -> float:
        return ber(10.0 ** (0.1 * snr_db), xp)

    return f


def ber_from_snr_db(
    modulation: str,
    snr_db: float | np.ndarray,
    *,
    bitrate_bps: float | None = None,
    noise_bandwidth_hz: float | None = None,
    sf: int | None = None,
    bw_hz: float | None = None,
) -> float | np.ndarray:
    """Bit error rate at `snr_db` (dB, scalar or array; see the module notes for its meaning).

    Returns a float for a scalar input, else an array of the input's shape. Unknown modulation or
    missing LoRa `sf` → ValueError.
    """
    curve = ber_curve(modulation, bitrate_bps=bitrate_bps, noise_bandwidth_hz=noise_bandwidth_hz, sf=sf,
                      bw_hz=bw_hz)
    x = np.asarray(snr_db, dtype=np.float64)
    out = np.asarray(curve.ber(np.power(10.0, 0.1 * x), _Vector), dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def ebn0_db(snr_db: float | np.ndarray, bitrate_bps: float, noise_bandwidth_hz: float) -> float | np.ndarray:
    """Eb/N0 (dB) from an SNR (dB) measured in `noise_bandwidth_hz`: SNR + 10 log10(B / Rb)."""
    _positive(bitrate_bps=bitrate_bps, noise_bandwidth_hz=noise_bandwidth_hz)
    return snr_db + 10.0 * math.log10(noise_bandwidth_hz / bitrate_bps)


def snr_db_for_ber(
    modulation: str,
    ber: float,
    *,
    lo_db: float = -60.0,
    hi_db: float = 80.0,
    tol_db: float = 1e-6,
    **params: float | None,
) -> float:
    """The SNR (dB, same meaning and parameters as `ber_from_snr_db`) at which the BER equals `ber`.

    Bisection on the monotone decreasing curve; ValueError if `ber` is not reached in [lo_db, hi_db].
    """
    f = ber_function(modulation, **params)
    if not 0.0 < ber < f(lo_db) or f(hi_db) > ber:
        raise ValueError(
            f"ber={ber!r} is outside the {modulation} curve on [{lo_db}, {hi_db}] dB "
            f"({f(hi_db):.3g} .. {f(lo_db):.3g})"
        )
    lo, hi = lo_db, hi_db
    while hi - lo > tol_db:
        mid = 0.5 * (lo + hi)
        if f(mid) > ber:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def radio_ber_params(radio) -> dict:
    """Keyword parameters of `ber_from_snr_db` / `ber_function` for a RadioProfile (duck-typed)."""
    return {
        "bitrate_bps": float(radio.bitrate_bps),
        "noise_bandwidth_hz": float(radio.noise_bandwidth_hz),
        "sf": getattr(radio, "lora_sf", None),
        "bw_hz": getattr(radio, "lora_bw_hz", None),
    }
