"""Differential BPSK (e.g. the 1 Mb/s DSSS rate of IEEE 802.11): Pb = 0.5 exp(-Eb/N0).

Binary DPSK detected differentially against the previous symbol; Proakis & Salehi, Digital
Communications 5th ed., §4.5 (binary DPSK). About 1 dB worse than coherent BPSK at BER 1e-5.
"""

from __future__ import annotations

from cosim.channel.modulation import MODULATIONS, BerCurve


@MODULATIONS.register("dbpsk")
class Dbpsk(BerCurve):
    """0.5 exp(-Eb/N0); the measured SNR converts to Eb/N0 as SNR·B/Rb (the default)."""

    def ber(self, lin, xp):
        return 0.5 * xp.exp(-self.scale * lin)
