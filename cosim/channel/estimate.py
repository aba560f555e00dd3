"""Receiver-side BER estimation from pilot (known) bits: what the BER-aware decoder is told.

With k errors among n pilot bits the estimate is (k + 0.5) / (n + 1): the posterior mean under a
Jeffreys Beta(1/2, 1/2) prior. It is never 0 (the decoder always hears some uncertainty; with no
errors in n bits it says ~1/(2n)) and tends to k/n for large n.
"""

from __future__ import annotations

import random

from cosim.channel.errors import error_positions


def ber_from_pilot_errors(errors: int, pilot_bits: int) -> float:
    """Jeffreys estimate (errors + 0.5) / (pilot_bits + 1) of the BER from errors among known bits."""
    if pilot_bits < 1 or not 0 <= errors <= pilot_bits:
        raise ValueError(f"need 0 <= errors <= pilot_bits and pilot_bits >= 1, got {errors}, {pilot_bits}")
    return (errors + 0.5) / (pilot_bits + 1)


def estimate_ber_pilot(rng: random.Random, true_ber: float, pilot_bits: int) -> float:
    """Draw the errors among `pilot_bits` known bits at `true_ber` and return the receiver's estimate."""
    errors = len(error_positions(rng, pilot_bits, true_ber))
    return ber_from_pilot_errors(errors, pilot_bits)
